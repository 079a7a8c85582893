// Supervisors, on every console page: handoffs of their units left unclaimed past their limit (a
// crisis after CRISIS_CLAIM_MINUTES), asked for every 10 seconds; each links to the conversation.
// Text goes in through textContent only.
(function () {
  "use strict";
  var box = document.getElementById("alerts");
  if (!box) return;
  var shown = "";

  function render(alerts) {
    var key = JSON.stringify(alerts);
    if (key === shown) return;  // unchanged: screen readers are not told again
    shown = key;
    box.textContent = "";
    alerts.forEach(function (a) {
      var div = document.createElement("div");
      div.className = "alert p" + a.priority;
      div.dataset.id = a.id;
      var link = document.createElement("a");
      link.href = a.url;
      link.textContent = "⚠ " + a.text;
      div.appendChild(link);
      box.appendChild(div);
    });
    box.hidden = alerts.length === 0;
  }

  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (r.redirected || !r.ok) throw new Error("status " + r.status);
        return r.json();
      })
      .then(function (data) { render(data.alerts); })
      .catch(function () { /* the next poll tries again */ })
      .finally(function () { setTimeout(poll, 10000); });
  }
  poll();
})();
