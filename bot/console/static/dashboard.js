// Draws the dashboard's charts from dashboard.json and reloads every figure when the period changes.
// The server renders the same figures as tables, so the page reads without this script.
// Every value is set through textContent: an employer typed as "<script>" stays text.
(function () {
  "use strict";
  var form = document.getElementById("period-form");
  var select = document.getElementById("period");
  var status = document.getElementById("status");
  var charts = {};
  var COLOR = "#b3261e";
  var BARS = [["topics", "次"], ["complaints_by_topic", "件"], ["complaints_by_employer", "件"],
              ["complaints_by_region", "件"]];

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function setText(id, text) {
    document.getElementById(id).textContent = String(text);
  }

  function tableRows(name, rows, cells) {
    var body = document.getElementById("rows-" + name);
    body.textContent = "";
    if (!rows.length) {
      var empty = el("tr", undefined, "empty");
      var td = el("td", "这段时间没有数据。");
      td.colSpan = cells(null).length;
      empty.appendChild(td);
      body.appendChild(empty);
    }
    rows.forEach(function (row) {
      var tr = el("tr");
      cells(row).forEach(function (value) { tr.appendChild(el("td", value)); });
      body.appendChild(tr);
    });
  }

  function renderCards(c) {
    setText("card-conversations", c.conversations);
    setText("card-fallback", c.fallback_rate.label);
    setText("card-fallback-note", c.fallback_rate.part + " / " + c.fallback_rate.whole + " 条消息");
    setText("card-handoff", c.handoff_rate.label);
    setText("card-handoff-note", c.handoff_rate.part + " / " + c.handoff_rate.whole + " 个对话转了人工");
    setText("card-rating", c.rating.label);
    setText("card-rating-note", "满分 5 分，共 " + c.rating.n + " 条评价");
    setText("card-claim", c.claim.label);
    setText("card-claim-note", c.claim.opened + " 次转人工中 " + c.claim.n + " 次已认领");
    setText("card-resolve", c.resolve.label);
    setText("card-resolve-note", c.resolve.n + " 次已解决");
  }

  function renderWarnings(warnings) {
    var list = document.getElementById("warning-list");
    list.textContent = "";
    if (!warnings.length) {
      list.appendChild(el("li", "没有预警：近 7 天没有单位被集中投诉。", "empty"));
    }
    warnings.forEach(function (w) {
      var item = el("li", "⚠ ", "warning");
      item.appendChild(el("strong", w.employer));
      item.appendChild(document.createTextNode(
        " 近 " + w.days + " 天收到 " + w.count + " 件投诉，最近一件 " + w.latest + "。 "));
      var tickets = el("span", "投诉单：", "tickets");
      w.tickets.forEach(function (t) {
        var node = el(t.url ? "a" : "span", t.ticket);
        if (t.url) node.href = t.url;
        tickets.appendChild(node);
      });
      item.appendChild(tickets);
      list.appendChild(item);
    });
  }

  // A chart of nothing (no rows, or only zeros) is not drawn: the section says 暂无数据 instead.
  function draw(name, type, labels, datasets, scales, horizontal) {
    var empty = !datasets.some(function (set) { return set.data.some(function (n) { return n > 0; }); });
    document.getElementById("empty-" + name).hidden = !empty;
    if (typeof Chart === "undefined") return;  // the tables stay open
    var canvas = document.getElementById("chart-" + name);
    if (charts[name]) charts[name].destroy();
    delete charts[name];
    canvas.parentNode.hidden = empty;
    canvas.closest(".chart").querySelector("details.data").open = false;
    if (empty) return;
    charts[name] = new Chart(canvas, {
      type: type,
      data: {labels: labels, datasets: datasets},
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        indexAxis: horizontal ? "y" : "x",
        plugins: {legend: {display: datasets.length > 1}},
        scales: scales
      }
    });
  }

  function axis(title, side) {
    var scale = {beginAtZero: true, ticks: {precision: 0}, title: {display: true, text: title}};
    if (side) {
      scale.position = side;
      scale.grid = {drawOnChartArea: side === "left"};
    }
    return scale;
  }

  function renderLive(live) {
    setText("card-waiting", live.waiting);
    setText("card-crisis-waiting", live.crisis);
    document.getElementById("card-live").classList.toggle("crisis", live.crisis > 0);
  }

  // The waiting handoffs change by the minute: counted from the queue every 30 seconds.
  function pollQueue() {
    fetch(window.QUEUE_URL, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (r.redirected || !r.ok) throw new Error("status " + r.status);
        return r.json();
      })
      .then(function (queue) {
        var open = queue.handoffs.filter(function (h) { return h.status === "open"; });
        renderLive({waiting: open.length,
                    crisis: open.filter(function (h) { return h.priority === 1; }).length});
      })
      .catch(function () { /* the counts shown stay; the next poll tries again */ });
  }

  function render(data) {
    setText("range", data.first_day + " 至 " + data.last_day);
    renderCards(data.cards);
    renderLive(data.live);
    renderWarnings(data.warnings);
    tableRows("daily", data.daily, function (d) {
      return d ? [d.day, d.conversations, d.messages] : [0, 0, 0];
    });
    // Conversations and messages differ tenfold: each on its own axis, or the conversations lie flat.
    draw("daily", "line", data.daily.map(function (d) { return d.day.slice(5); }), [
      {label: "对话数（左轴）", data: data.daily.map(function (d) { return d.conversations; }), yAxisID: "y",
       borderColor: COLOR, backgroundColor: COLOR, tension: 0.2},
      {label: "消息数（右轴）", data: data.daily.map(function (d) { return d.messages; }), yAxisID: "messages",
       borderColor: "#5f6670", backgroundColor: "#5f6670", borderDash: [6, 4], tension: 0.2}
    ], {y: axis("对话数", "left"), messages: axis("消息数", "right")}, false);
    var q = data.clarify;
    setText("clarify-summary", "共追问 " + q.asked + " 次：职工选了主题 " + q.chosen + " 次，点了“都不是” " +
      q.declined + " 次，没有选 " + q.abandoned + " 次。");
    tableRows("clarify", q.topics, function (t) {
      return t ? [t.label, t.offered, t.chosen, t.declined, t.abandoned] : [0, 0, 0, 0, 0];
    });
    BARS.forEach(function (bar) {
      var name = bar[0], rows = data[name];
      tableRows(name, rows, function (r) { return r ? [r.label, r.count] : [0, 0]; });
      draw(name, "bar", rows.map(function (r) { return r.label; }), [
        {label: bar[1], data: rows.map(function (r) { return r.count; }), backgroundColor: COLOR}
      ], {x: axis("数量（" + bar[1] + "）")}, true);
    });
  }

  function load(days) {
    status.textContent = "正在加载…";
    fetch(window.DASHBOARD_URL + "?days=" + encodeURIComponent(days),
          {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (r.redirected || !r.ok) throw new Error("status " + r.status);
        return r.json();
      })
      .then(function (data) { render(data); status.textContent = ""; })
      .catch(function () { status.textContent = "加载失败，请稍后刷新页面"; });
  }

  select.addEventListener("change", function () {
    var url = new URL(window.location.href);
    url.searchParams.set("days", select.value);
    window.history.replaceState(null, "", url);
    load(select.value);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    load(select.value);
  });
  load(select.value);
  window.setInterval(pollQueue, 30000);
})();
