// The verification page follows its job: poll the status, move the progress bar, reload when finished.
(function () {
  "use strict";
  var box = document.getElementById("verification");
  if (!box || box.dataset.state !== "running") { return; }
  var bar = document.getElementById("progress");
  var text = document.getElementById("progress-text");
  function poll() {
    fetch(box.dataset.status, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        bar.value = job.percent;
        text.textContent = text.dataset.text.replace("{done}", job.done).replace("{total}", job.total);
        if (job.state === "running") { setTimeout(poll, 700); } else { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 300);
}());
