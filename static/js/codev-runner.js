/* Countdown of the co-development séance runner (codev/templates/codev/seance.html).
 *
 * The phase and its start live on the server: the page gives the end of the current
 * phase (data-phase-end, ISO 8601) and the server's time when it was drawn (data-now),
 * so that a device whose clock is off still counts right. Loaded from 'self', as the
 * Content-Security-Policy requires: no inline script. */
(function () {
  "use strict";

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  function format(seconds) {
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var rest = seconds % 60;
    return (hours ? hours + ":" + pad(minutes) : pad(minutes)) + ":" + pad(rest);
  }

  function start(timer) {
    var end = Date.parse(timer.dataset.phaseEnd);
    if (isNaN(end)) {
      return;
    }
    var serverNow = Date.parse(timer.dataset.now);
    var skew = isNaN(serverNow) ? 0 : serverNow - Date.now();
    var output = timer.querySelector("[data-countdown]") || timer;

    function tick() {
      var left = end - (Date.now() + skew);
      if (left > 0) {
        output.textContent = format(Math.ceil(left / 1000));
        output.classList.remove("fr-text-default--error");
      } else {
        output.textContent = "Temps écoulé (+" + format(Math.floor(-left / 1000)) + ")";
        output.classList.add("fr-text-default--error");
      }
    }

    tick();
    window.setInterval(tick, 1000);
  }

  document.querySelectorAll("[data-phase-end]").forEach(start);

  // Moving on with something typed but not saved would lose it: ask first.
  var phaseForm = document.querySelector("[data-phase-form]");
  if (phaseForm) {
    var unsaved = false;
    document.addEventListener("input", function (event) {
      var form = event.target.form;
      if (form && form !== phaseForm) {
        unsaved = true;
      }
    });
    phaseForm.addEventListener("submit", function (event) {
      if (
        unsaved &&
        !window.confirm(
          "Une saisie n'est pas enregistrée et sera perdue. Passer quand même à la suite ?"
        )
      ) {
        event.preventDefault();
      }
    });
  }

  // A page restored from the back-forward cache may show a phase that has moved on.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      window.location.reload();
    }
  });
})();
