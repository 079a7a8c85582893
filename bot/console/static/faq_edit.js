// The FAQ editor: the answer previewed as a worker will read it (as it is typed), and a sentence
// tried on the live model. The server builds both (/console/faqs/try); every value is set as text.
(function () {
  "use strict";
  var panel = document.getElementById("faq-try");
  var faqForm = document.getElementById("faq-form");
  var tryForm = document.getElementById("try-form");
  var sentence = document.getElementById("try-sentence");
  var result = document.getElementById("try-result");
  var preview = document.getElementById("faq-preview");
  var previewEmpty = document.getElementById("faq-preview-empty");
  var timer = null;

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function ask(withSentence) {
    var data = new FormData();
    data.append("csrf_token", faqForm.querySelector("[name=csrf_token]").value);
    data.append("answer", faqForm.querySelector("[name=answer]").value);
    data.append("basis", faqForm.querySelector("[name=basis]").value);
    if (withSentence) data.append("sentence", sentence.value);
    return fetch(panel.dataset.url, {method: "POST", body: data, credentials: "same-origin",
                                     headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (r.redirected) throw new Error("logged out");
        return r.json().then(function (body) { return body; }, function () { throw new Error("status " + r.status); });
      });
  }

  function showPreview(text) {
    preview.textContent = text || "";
    preview.hidden = !text;
    previewEmpty.hidden = !!text;
  }

  function showUnderstood(u) {
    result.textContent = "";
    var line = el("p");
    if (u.understood) {
      line.appendChild(document.createTextNode("线上机器人会把它当作："));
      line.appendChild(el("strong", u.label, "try-label"));
      line.appendChild(document.createTextNode("（把握 " + u.percent + "）"));
    } else {
      line.appendChild(el("strong", "线上机器人现在没听懂这句话", "try-label"));
      line.appendChild(document.createTextNode("：把它写进问法，审核发布后机器人就能学会。"));
    }
    result.appendChild(line);
    if (u.others.length) {
      result.appendChild(el("p", "其次可能是：" + u.others.map(function (o) {
        return o.label + "（" + o.percent + "）";
      }).join("、"), "hint"));
    }
  }

  function refreshPreview() {
    ask(false).then(function (body) { showPreview(body.preview); }, function () { /* keep the last preview */ });
  }

  ["answer", "basis"].forEach(function (name) {
    faqForm.querySelector("[name=" + name + "]").addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refreshPreview, 400);
    });
  });

  tryForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!sentence.value.trim()) return;
    result.textContent = "正在询问线上机器人…";
    ask(true).then(function (body) {
      showPreview(body.preview);
      if (body.error) result.textContent = body.error;
      else showUnderstood(body.understood);
    }, function () { result.textContent = "没有试成，请刷新页面后再试。"; });
  });
  showPreview(preview.textContent);
})();
