// Shows the progress of running publish jobs (every 3 seconds) until they finish.
(function () {
  "use strict";
  var LABELS = {queued: "排队中", running: "进行中", live: "已上线", refused: "未上线", failed: "失败"};
  document.querySelectorAll(".job[data-finished=no]").forEach(function (box) {
    function poll() {
      fetch(box.dataset.url, {credentials: "same-origin"})
        .then(function (r) { if (!r.ok || r.redirected) throw new Error(r.status); return r.json(); })
        .then(function (job) {
          box.querySelector("progress").value = job.progress;
          box.querySelector(".job-progress").textContent = job.progress + "%";
          box.querySelector(".job-status").textContent = LABELS[job.status] || job.status;
          box.querySelector(".job-message").textContent = job.message;
          if (job.finished) { box.dataset.finished = "yes"; return; }
          setTimeout(poll, 3000);
        })
        .catch(function () { setTimeout(poll, 6000); });
    }
    poll();
  });
})();
