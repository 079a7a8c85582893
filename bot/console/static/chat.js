// Web chat for workers: Rasa's socket.io channel with a persistent session.
// The session id and the visible transcript live in localStorage, so a page reload
// continues the same conversation. All text is inserted with textContent (never HTML).
// A union staff member's reply carries an id: it is shown once, kept, then confirmed with
// "staff_ack"; the server sends unconfirmed replies again whenever the page connects. It shows
// the staff member's name above a bubble of its own; a notice ("工会的李干事已接入…") is a line
// in the middle of the log, confirmed the same way.
// Phone numbers in bubbles are tel: links; a filed complaint's ticket gets 复制 / 查询进度 and the
// question after a poor rating a box with 提交 / 跳过 (both from the bot's custom payload).
// A long reply is scrolled to its first line (the conclusion comes first), not to its end.
// A calculation's working and statutes (custom "details") are folded in its bubble behind "查看依据".
(function () {
  "use strict";
  var SESSION_KEY = "niangjia.session";
  var HISTORY_KEY = "niangjia.history";
  var MAX_HISTORY = 200;
  var MAX_CHARS = window.NIANGJIA.maxChars;  // the channel answers longer messages "消息太长了"
  var TICKET = /^NJ-\d{8}-[2-9A-HJKMNP-Z]{5}$/;
  var SKIP_COMMENT = "跳过";  // the bot reads it as "nothing to add" (service.yml comment_skip_words)
  // Hotlines (工会12351, 人社12333, 政务12345, 法律援助12348 …; 110/119/120/122), mobiles, landlines
  // with area code, 400 numbers. Group 1 is what precedes the number (no lookbehind: older Safari),
  // and what follows is not a digit or a unit (120天, 第120条 and money stay plain text).
  var PHONE = new RegExp("(^|[^\\d第])((?:\\+86[\\s-]?)?1[3-9]\\d[\\s-]?\\d{4}[\\s-]?\\d{4}" +
    "|0\\d{2,3}[\\s-]?\\d{7,8}|400[\\s-]?\\d{3}[\\s-]?\\d{4}" +
    "|123(?:51|33|45|48|15|20|38|55|56)|11[09]|12[02])(?![\\d%％元块万千百天日号条个月年周岁人次倍小分])", "g");

  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var statusEl = document.getElementById("status");
  var limitEl = document.getElementById("limit");
  var sendButton = document.getElementById("send");
  // Touch screens: Enter is a new line in a long story, the 发送 button sends.
  var touch = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;

  function load(key, fallback) {
    try { var v = JSON.parse(localStorage.getItem(key)); return v === null ? fallback : v; }
    catch (e) { return fallback; }
  }
  function save(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode */ }
  }

  var history = load(HISTORY_KEY, []);
  var sessionId = load(SESSION_KEY, null);
  var shownStaff = {};
  history.forEach(function (entry) { if (entry.staffId) shownStaff[entry.staffId] = true; });

  function remember(entry) {
    history.push(entry);
    if (history.length > MAX_HISTORY) history = history.slice(-MAX_HISTORY);
    save(HISTORY_KEY, history);
  }

  var latest = null;      // the newest bot message {entry, row, extras}: its custom payload follows it
  var replyStart = null;  // the first message of what answers the worker's last message

  function render(entry) {
    var row = document.createElement("div");
    row.className = "msg " + entry.from;
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    if (entry.from === "staff") {  // who is writing, above the bubble
      var name = document.createElement("div");
      name.className = "name";
      name.textContent = "工会工作人员" + (entry.staffName ? " · " + entry.staffName : "");
      row.appendChild(name);
    }
    appendText(bubble, entry.text);
    row.appendChild(bubble);
    log.appendChild(row);
    var shown = { entry: entry, row: row, extras: [] };
    addFold(shown);
    addExtras(shown);
    if (entry.from === "bot") latest = shown;
    return row;
  }

  // Text with its phone numbers as tel: links (text nodes and an <a> made here: never markup).
  function appendText(parent, text) {
    var at = 0, match;
    PHONE.lastIndex = 0;
    while ((match = PHONE.exec(text)) !== null) {
      var start = match.index + match[1].length;
      parent.appendChild(document.createTextNode(text.slice(at, start)));
      var link = document.createElement("a");
      link.href = "tel:" + match[2].replace(/[^\d+]/g, "");
      link.textContent = match[2];
      parent.appendChild(link);
      at = start + match[2].length;
    }
    parent.appendChild(document.createTextNode(text.slice(at)));
  }

  // The details under the conclusion, closed until the worker opens them (a <details> made here).
  function addFold(shown) {
    var details = shown.entry.details, bubble = shown.row.querySelector(".bubble");
    if (!details || !bubble || bubble.querySelector("details")) return;
    var fold = document.createElement("details");
    fold.className = "basis";
    var summary = document.createElement("summary");
    summary.textContent = details.label;
    var body = document.createElement("div");
    appendText(body, details.text);
    fold.appendChild(summary);
    fold.appendChild(body);
    bubble.appendChild(fold);
  }

  function button(title, type) {
    var btn = document.createElement("button");
    btn.type = type || "button";
    btn.textContent = title;
    return btn;
  }

  // Under a message: its quick replies, or the box for a comment on a poor rating (until the worker
  // answers); a filed complaint's 复制 / 查询进度.
  function addExtras(shown) {
    var entry = shown.entry, nodes = [], after = shown.row;
    shown.extras.forEach(function (node) { log.removeChild(node); });
    if (entry.ask === "rating_comment") {
      if (!entry.answered) nodes.push(commentBox());
    } else if (entry.buttons && entry.buttons.length) {
      nodes.push(quickReplies(entry.buttons));
    }
    if (entry.ticket) nodes.push(ticketTools(entry.ticket));
    nodes.forEach(function (node) { log.insertBefore(node, after.nextSibling); after = node; });
    shown.extras = nodes;
  }

  function quickReplies(buttons) {
    var quick = document.createElement("div");
    quick.className = "quick";
    buttons.forEach(function (b) {
      var btn = button(b.title);
      btn.addEventListener("click", function () { send(b.payload, b.title); });
      quick.appendChild(btn);
    });
    return quick;
  }

  function ticketTools(ticket) {
    var tools = document.createElement("div");
    tools.className = "tools";
    var copy = button("复制");
    copy.setAttribute("aria-label", "复制工单号 " + ticket);
    copy.addEventListener("click", function () {
      copyText(ticket).then(function () { flash(copy, "已复制"); },
                            function () { flash(copy, "复制失败，请长按工单号复制"); });
    });
    var progress = button("查询进度");
    progress.addEventListener("click", function () {
      // The bot shows the status of this sender's own tickets only (action_check_complaint).
      send("/check_complaint" + JSON.stringify({ ticket: ticket }), "查询进度 " + ticket);
    });
    tools.appendChild(copy);
    tools.appendChild(progress);
    return tools;
  }

  function flash(btn, text) {
    btn.textContent = text;
    setTimeout(function () { btn.textContent = "复制"; }, 2000);
  }

  // The clipboard API needs HTTPS (or localhost); elsewhere the older copy command.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "offscreen";
      document.body.appendChild(area);
      area.select();
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      document.body.removeChild(area);
      if (copied) resolve(); else reject(new Error("copy refused"));
    });
  }

  function commentBox() {
    var box = document.createElement("form");
    box.className = "comment";
    var area = document.createElement("textarea");
    area.rows = 3;
    area.placeholder = "哪里没做好？写下来帮我们改进（可以不写）";
    area.setAttribute("aria-label", "哪里没做好");
    var note = document.createElement("div");
    note.className = "note";
    var actions = document.createElement("div");
    actions.className = "actions";
    var skip = button("跳过");
    skip.addEventListener("click", function () { send(SKIP_COMMENT, SKIP_COMMENT); });
    actions.appendChild(skip);
    actions.appendChild(button("提交", "submit"));
    box.addEventListener("submit", function (e) {
      e.preventDefault();
      var text = area.value.trim();
      note.textContent = text ? tooLong(text) : "请先写下意见，不想写可以点“跳过”。";
      if (!note.textContent) send(text, text);
    });
    box.appendChild(area);
    box.appendChild(note);
    box.appendChild(actions);
    return box;
  }

  // What the bot sends after a message, about that message (custom): the ticket of the complaint
  // just filed, that it asks what went wrong with a poor rating, or a calculation's details.
  function attach(custom) {
    if (!latest || !custom || typeof custom !== "object") return;
    var details = custom.details, changed = true;
    if (details && typeof details === "object" && typeof details.text === "string" && details.text) {
      latest.entry.details = { label: typeof details.label === "string" && details.label || "查看依据",
                               text: details.text };
      addFold(latest);
    } else changed = false;
    if (typeof custom.ticket === "string" && TICKET.test(custom.ticket)) latest.entry.ticket = custom.ticket;
    else if (custom.ask === "rating_comment") latest.entry.ask = custom.ask;
    else if (!changed) return;
    save(HISTORY_KEY, history);
    addExtras(latest);
    reveal(latest.row);
  }

  // What answers the worker stays in view: all of it when it fits, else from its first line
  // (answers open with the conclusion), not scrolled to its end.
  function reveal(row) {
    if (!replyStart) replyStart = row;
    var top = Math.max(replyStart.offsetTop - 8, 0);
    log.scrollTop = log.scrollHeight - top <= log.clientHeight ? log.scrollHeight : top;
  }

  function show(entry) {
    remember(entry);
    var row = render(entry);
    if (entry.from === "user") {
      replyStart = null;
      log.scrollTop = log.scrollHeight;
      return;
    }
    if (entry.from === "staff") replyStart = null;  // a staff reply is read from its start too
    reveal(row);
  }

  history.forEach(render);
  log.scrollTop = log.scrollHeight;

  var socket = io(window.NIANGJIA.rasaUrl, { path: "/socket.io", transports: ["websocket"] });

  function setStatus(text) {
    statusEl.hidden = !text;
    statusEl.textContent = text || "";
  }

  socket.on("connect", function () {
    setStatus("");
    socket.emit("session_request", { session_id: sessionId });
  });
  socket.on("connect_error", function () { setStatus("暂时连不上服务，正在重试……也可拨打12351。"); });
  socket.on("disconnect", function () { setStatus("连接已断开，正在重连……"); });

  socket.on("session_confirm", function (id) {
    var isNew = id !== sessionId;
    sessionId = id;
    save(SESSION_KEY, id);
    log.setAttribute("data-state", "ready");
    if (isNew && history.length === 0) socket.emit("user_uttered", { message: "/greet", session_id: id });
  });

  socket.on("bot_uttered", function (msg) {
    if (typeof msg.staff_message_id === "number") { receiveStaff(msg); return; }
    var buttons = (msg.quick_replies || msg.buttons || []).map(function (b) {
      return { title: b.title, payload: b.payload };
    });
    if (msg.text) show({ from: "bot", text: msg.text, buttons: buttons });
    else if (msg.custom) attach(msg.custom);
  });

  function receiveStaff(msg) {
    var id = msg.staff_message_id;
    if (!shownStaff[id]) {
      shownStaff[id] = true;
      show({ from: msg.notice ? "notice" : "staff", text: msg.text || "", staffName: msg.staff_name || "",
             staffId: id });
    }
    socket.emit("staff_ack", { ids: [id] });  // kept on this page: the reply is delivered
  }

  function send(payload, shownText) {
    if (!sessionId) { setStatus("正在连接，请稍候再发。"); return false; }
    if (latest && latest.entry.ask && !latest.entry.answered) {  // whatever the worker sends answers it
      latest.entry.answered = true;
      addExtras(latest);
    }
    show({ from: "user", text: shownText });
    socket.emit("user_uttered", { message: payload, session_id: sessionId });
    return true;
  }

  // A message longer than the channel takes is never cut: the page says so and keeps the text.
  function tooLong(text) {
    var n = Array.from(text).length;
    return n > MAX_CHARS ? "这段话有" + n + "字，一次最多能发" + MAX_CHARS + "字，发不出去。请删短一些，或分几次发送。" : "";
  }

  function checkLength() {
    var text = input.value.trim(), problem = tooLong(text), left = MAX_CHARS - Array.from(text).length;
    limitEl.textContent = problem || (left < MAX_CHARS / 10 ? "还能输入" + left + "字" : "");
    limitEl.hidden = !limitEl.textContent;
    limitEl.classList.toggle("over", !!problem);
    sendButton.disabled = !!problem;
  }

  // The box grows with the text, up to its CSS max-height (then it scrolls), the length is checked,
  // and the newest message stays in view above them.
  function fit() {
    var atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 2;
    input.style.height = "auto";
    input.style.height = input.scrollHeight + input.offsetHeight - input.clientHeight + "px";
    checkLength();
    if (atEnd) log.scrollTop = log.scrollHeight;
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text || tooLong(text) || !send(text, text)) return;
    input.value = "";
    fit();
  });
  input.addEventListener("input", fit);
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && !touch) { e.preventDefault(); form.requestSubmit(); }
  });
})();
