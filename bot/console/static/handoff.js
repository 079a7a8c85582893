// The conversation page: opens at the newest message, shows new ones without a reload (every 4
// seconds) and follows them only when the reader is already at the bottom; otherwise a button says
// there is something new. Resolving asks first (a <details> the cancel button closes).
// Text goes in through textContent only.
(function () {
  "use strict";
  var list = document.getElementById("messages");
  var box = document.getElementById("transcript");
  var fresh = document.getElementById("new-messages");
  var NEAR_BOTTOM = 40; // px: "at the bottom" despite rounding and a half-visible last line

  var resolve = document.getElementById("resolve");
  var cancel = document.getElementById("resolve-cancel");
  if (resolve && cancel) cancel.addEventListener("click", function () { resolve.open = false; });
  if (!list || !box) return;

  function atBottom() { return box.scrollHeight - box.scrollTop - box.clientHeight <= NEAR_BOTTOM; }
  function toBottom() { box.scrollTop = box.scrollHeight; fresh.hidden = true; }
  toBottom();
  fresh.addEventListener("click", toBottom);
  box.addEventListener("scroll", function () { if (atBottom()) fresh.hidden = true; });

  function item(m) {
    var li = document.createElement("li");
    li.className = "msg " + m.role;
    li.dataset.id = m.id;
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = m.role_label + (m.staff ? " " + m.staff : "");
    var at = document.createElement("span");
    at.className = "at";
    at.textContent = m.at;
    var text = document.createElement("div");
    text.className = "text";
    text.textContent = m.text;
    li.append(who, at, text);
    return li;
  }

  function poll() {
    fetch(list.dataset.url, {credentials: "same-origin"})
      .then(function (r) { if (!r.ok || r.redirected) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        var known = {};
        box.querySelectorAll("li[data-id]").forEach(function (li) { known[li.dataset.id] = true; });
        var following = atBottom();
        var added = 0;
        data.messages.forEach(function (m) {
          if (!known[m.id]) { list.appendChild(item(m)); added += 1; }
        });
        if (!added) return;
        if (following) toBottom();
        else fresh.hidden = false;
      })
      .catch(function () {})
      .finally(function () { setTimeout(poll, 4000); });
  }
  setTimeout(poll, 4000);
})();
