// Shows new worker messages in an open conversation without a reload (every 4 seconds).
// Text goes in through textContent only.
(function () {
  "use strict";
  var list = document.getElementById("messages");
  if (!list) return;

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
        list.querySelectorAll("li[data-id]").forEach(function (li) { known[li.dataset.id] = true; });
        data.messages.forEach(function (m) { if (!known[m.id]) list.appendChild(item(m)); });
      })
      .catch(function () {})
      .finally(function () { setTimeout(poll, 4000); });
  }
  setTimeout(poll, 4000);
})();
