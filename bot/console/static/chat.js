// Web chat for workers: Rasa's socket.io channel with a persistent session.
// The session id and the visible transcript live in localStorage, so a page reload
// continues the same conversation. All text is inserted with textContent (never HTML).
// A union staff member's reply carries an id: it is shown once, kept, then confirmed with
// "staff_ack"; the server sends unconfirmed replies again whenever the page connects.
(function () {
  "use strict";
  var SESSION_KEY = "niangjia.session";
  var HISTORY_KEY = "niangjia.history";
  var MAX_HISTORY = 200;

  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var statusEl = document.getElementById("status");

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

  function render(entry) {
    var row = document.createElement("div");
    row.className = "msg " + entry.from;
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    if (entry.from === "staff") {
      var name = document.createElement("div");
      name.className = "name";
      name.textContent = "工会工作人员" + (entry.staffName ? " · " + entry.staffName : "");
      bubble.appendChild(name);
    }
    bubble.appendChild(document.createTextNode(entry.text));
    row.appendChild(bubble);
    log.appendChild(row);
    if (entry.buttons && entry.buttons.length) {
      var quick = document.createElement("div");
      quick.className = "quick";
      entry.buttons.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.title;
        btn.addEventListener("click", function () { send(b.payload, b.title); });
        quick.appendChild(btn);
      });
      log.appendChild(quick);
    }
    log.scrollTop = log.scrollHeight;
  }

  function show(entry) { remember(entry); render(entry); }

  history.forEach(render);

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
  });

  function receiveStaff(msg) {
    var id = msg.staff_message_id;
    if (!shownStaff[id]) {
      shownStaff[id] = true;
      show({ from: "staff", text: msg.text || "", staffName: msg.staff_name || "", staffId: id });
    }
    socket.emit("staff_ack", { ids: [id] });  // kept on this page: the reply is delivered
  }

  function send(payload, shownText) {
    if (!sessionId) { setStatus("正在连接，请稍候再发。"); return; }
    show({ from: "user", text: shownText });
    socket.emit("user_uttered", { message: payload, session_id: sessionId });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text, text);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
})();
