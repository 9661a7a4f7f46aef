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
  // The form: a small export comes back as the file, a large one as a job (202) whose
  // row the page then lists.
  var form = document.getElementById("ask");
  var message = document.getElementById("ask-message");
  function formatsFor() {
    var kind = form.elements.kind.selectedOptions[0];
    Array.prototype.forEach.call(form.elements.format.options, function (option) {
      option.disabled = option.dataset.needsGeometry === "1" && !kind.dataset.geometry;
    });
    if (form.elements.format.selectedOptions[0].disabled) { form.elements.format.value = "csv"; }
  }
  if (form) {
    form.elements.kind.addEventListener("change", formatsFor);
    formatsFor();
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var query = new URLSearchParams();
      ["area", "since", "until"].forEach(function (name) {
        if (form.elements[name].value) { query.set(name, form.elements[name].value); }
      });
      var name = form.elements.kind.value + "." + form.elements.format.value;
      var url = form.dataset.url + name + (query.toString() ? "?" + query : "");
      message.textContent = "Exporting…";
      fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (response.status === 202) {
          message.textContent = "A large export: it is being written, see below.";
          window.location.reload();
        } else if (response.ok) {
          return response.blob().then(function (blob) {
            var link = document.createElement("a");
            link.href = URL.createObjectURL(blob);
            link.download = name;
            document.body.appendChild(link);
            link.click();
            link.remove();
            message.textContent = "Downloaded " + name + ".";
          });
        } else {
          return response.json().then(function (problem) {
            message.textContent = problem.detail + " (" + problem.code + ")";
          });
        }
      });
    });
  }
  document.querySelectorAll("tr[data-status-url]").forEach(function (row) {
    if (row.dataset.status === "queued" || row.dataset.status === "running") { poll(row); }
  });
})();
