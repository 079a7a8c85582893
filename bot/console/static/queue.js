// Refreshes the escalation queue every 5 seconds without reloading the page.
// Every value is set through textContent: a worker's "<script>" stays text.
(function () {
  "use strict";
  var body = document.querySelector("#queue tbody");
  var warnings = document.getElementById("warnings");
  var updated = document.getElementById("updated");

  function cell(row, text, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function render(data) {
    body.textContent = "";
    if (!data.handoffs.length) {
      var empty = document.createElement("tr");
      empty.className = "empty";
      var td = cell(empty, "队列是空的，没有等待人工的对话。");
      td.colSpan = 8;
      body.appendChild(empty);
    }
    data.handoffs.forEach(function (h) {
      var row = document.createElement("tr");
      row.className = "p" + h.priority + (h.overdue ? " overdue" : "");
      row.dataset.id = h.id;
      var link = document.createElement("a");
      link.href = h.url;
      link.textContent = "#" + h.id;
      cell(row, "").appendChild(link);
      var badge = document.createElement("span");
      badge.className = "badge p" + h.priority;
      badge.textContent = h.priority_label;
      cell(row, "").appendChild(badge);
      cell(row, h.reason);
      cell(row, h.status_label);
      cell(row, h.waiting_minutes + " 分钟");
      cell(row, h.unit);
      cell(row, h.claimed_by);
      cell(row, h.preview, "preview");
      body.appendChild(row);
    });
    warnings.textContent = "";
    data.warnings.forEach(function (w) {
      var div = document.createElement("div");
      div.className = "warning";
      div.textContent = "⚠ 预警：" + w.employer + " 近 " + w.days + " 天收到 " + w.count + " 件投诉";
      warnings.appendChild(div);
    });
    updated.textContent = " 最近更新 " + new Date().toLocaleTimeString("zh-CN");
  }

  function poll() {
    fetch(window.QUEUE_URL, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (r.redirected || !r.ok) throw new Error("status " + r.status);
        return r.json();
      })
      .then(render)
      .catch(function () { updated.textContent = " 更新失败，稍后重试"; })
      .finally(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 5000);
})();
