// Refreshes the escalation queue every 5 seconds without reloading the page; the tab title counts
// the handoffs nobody has claimed. A crisis this browser tab has not announced yet rings a short
// chime (WebAudio, no sound file), shows a notice and, where the staff member allowed it, a desktop
// notification (without the worker's words: a desktop may be seen by others).
// Every value is set through textContent: a worker's "<script>" stays text.
(function () {
  "use strict";
  var body = document.querySelector("#queue tbody");
  var warnings = document.getElementById("warnings");
  var updated = document.getElementById("updated");
  var notice = document.getElementById("crisis-alert");
  var enable = document.getElementById("notify-enable");
  var CRISIS = 1, OPEN = "open", COLUMNS = 9;
  var ANNOUNCED = "niangjia.queue.announced"; // crisis ids this tab announced (kept across reloads)

  // -- announcing a new crisis --------------------------------------------------------------------
  var audio = null;
  function audioContext() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    if (!audio) audio = new Context();
    if (audio.state === "suspended") audio.resume().catch(function () {});
    return audio;
  }
  // Browsers start audio only after the user has interacted with the page: unlock it on the first click.
  document.addEventListener("pointerdown", audioContext, {once: true});

  function chime() {
    var ctx = audioContext();
    if (!ctx) return;
    [880, 660, 880].forEach(function (frequency, i) {
      var start = ctx.currentTime + i * 0.22;
      var tone = ctx.createOscillator();
      var volume = ctx.createGain();
      tone.type = "sine";
      tone.frequency.value = frequency;
      volume.gain.setValueAtTime(0.0001, start);
      volume.gain.exponentialRampToValueAtTime(0.3, start + 0.02);
      volume.gain.exponentialRampToValueAtTime(0.0001, start + 0.18);
      tone.connect(volume);
      volume.connect(ctx.destination);
      tone.start(start);
      tone.stop(start + 0.2);
    });
  }

  function announced() {
    try { return JSON.parse(sessionStorage.getItem(ANNOUNCED) || "[]"); } catch (e) { return []; }
  }
  function remember(ids) {
    try { sessionStorage.setItem(ANNOUNCED, JSON.stringify(ids.slice(-200))); } catch (e) { /* private mode */ }
  }

  function announce(handoffs) {
    var seen = announced();
    var fresh = handoffs.filter(function (h) {
      return h.priority === CRISIS && h.status === OPEN && seen.indexOf(h.id) < 0;
    });
    if (!fresh.length) return;
    remember(seen.concat(fresh.map(function (h) { return h.id; })));
    chime();
    notice.textContent = "⚠ 新的危急求助，请立即认领：";
    fresh.forEach(function (h) {
      var link = document.createElement("a");
      link.href = h.url;
      link.textContent = " #" + h.id;
      notice.appendChild(link);
      if ("Notification" in window && Notification.permission === "granted") {
        var shown = new Notification("危急求助 #" + h.id, {body: h.reason + " · 等待认领", tag: "crisis-" + h.id});
        shown.onclick = function () { window.focus(); window.location.href = h.url; };
      }
    });
    var dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.textContent = "知道了";
    dismiss.addEventListener("click", function () { notice.hidden = true; });
    notice.appendChild(dismiss);
    notice.hidden = false;
  }

  if ("Notification" in window && Notification.permission === "default") {
    enable.hidden = false;
    enable.addEventListener("click", function () {
      audioContext();
      Notification.requestPermission().then(function () { enable.hidden = Notification.permission !== "default"; });
    });
  }

  // -- the table ----------------------------------------------------------------------------------
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
      td.colSpan = COLUMNS;
      body.appendChild(empty);
    }
    data.handoffs.forEach(function (h) {
      var row = document.createElement("tr");
      row.className = "p" + h.priority + (h.overdue ? " overdue" : "");
      row.dataset.id = h.id;
      row.dataset.priority = h.priority;
      row.dataset.status = h.status;
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
      cell(row, h.channel);
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
    document.title = data.title;
    updated.textContent = " 最近更新 " + new Date().toLocaleTimeString("zh-CN");
    announce(data.handoffs);
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

  // The crises already waiting when the page opened are announced too (once per tab).
  announce(Array.prototype.map.call(body.querySelectorAll("tr[data-id]"), function (row) {
    return {id: Number(row.dataset.id), priority: Number(row.dataset.priority), status: row.dataset.status,
            reason: row.cells[2].textContent, url: row.querySelector("a").href};
  }));
  setTimeout(poll, 5000);
})();
