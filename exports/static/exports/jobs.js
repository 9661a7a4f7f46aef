// Polls the status of the export jobs still queued or running, and updates their row.
(function () {
  "use strict";
  var WAIT_MS = 2000;
  function poll(row) {
    fetch(row.dataset.statusUrl, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        var bar = row.querySelector("progress");
        bar.max = job.total || 1;
        bar.value = job.rows;
        row.querySelector(".rows").textContent = job.rows;
        row.querySelector(".status").textContent = job.status;
        row.dataset.status = job.status;
        if (job.download_url) {
          var link = document.createElement("a");
          link.href = job.download_url;
          link.textContent = "Download";
          var cell = row.querySelector(".link");
          cell.textContent = "";
          cell.appendChild(link);
        }
        if (job.status === "queued" || job.status === "running") {
          setTimeout(function () { poll(row); }, WAIT_MS);
        }
      });
  }
  document.querySelectorAll("tr[data-status-url]").forEach(function (row) {
    if (row.dataset.status === "queued" || row.dataset.status === "running") { poll(row); }
  });
})();
