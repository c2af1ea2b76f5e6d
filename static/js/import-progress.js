/* Progress bar of an import (cadres/templates/admin/cadres/import/job.html).
 *
 * Polls the job's state (data-url, a JSON document) every second, moves the bar, and
 * reloads the page when the status changes (analysis done, import done, failure), so
 * that the preview or the report appears. Loaded from 'self', as the
 * Content-Security-Policy requires: no inline script. */
(function () {
  "use strict";

  var box = document.querySelector("[data-import-progress]");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.dataset.url;
  var status = box.dataset.statut;
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-progress-text]");
  var number = new Intl.NumberFormat("fr-FR");

  function show(state) {
    if (bar) {
      bar.max = Math.max(state.total, 1);
      bar.value = state.traitees;
      bar.textContent = state.pourcentage + " %";
    }
    if (text) {
      text.textContent =
        number.format(state.traitees) + " / " + number.format(state.total) +
        " lignes (" + state.pourcentage + " %)";
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      })
      .then(function (state) {
        if (state.statut !== status) {
          window.location.reload();
          return;
        }
        show(state);
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        window.setTimeout(poll, 5000); // server busy or offline: try again, slower
      });
  }

  window.setTimeout(poll, 1000);
})();
