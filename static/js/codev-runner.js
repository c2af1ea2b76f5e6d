/* Countdowns of the co-development séance runner (codev/templates/codev/seance.html).
 *
 * The phase, its start and the séance's start live on the server: the page gives the
 * end of the current phase (data-phase-end, ISO 8601), the planned end of the séance
 * (data-seance-end) and the server's time when it was drawn (data-now), so that a
 * device whose clock is off still counts right. While the séance is paused
 * (data-paused) the clocks stay as drawn. Announcements (a minute left, an overrun) go
 * to a polite live region, once each. Loaded from 'self', as the
 * Content-Security-Policy requires: no inline script, no inline handler. */
(function () {
  "use strict";

  var ONE_MINUTE = 60 * 1000;

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  function format(seconds) {
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var rest = seconds % 60;
    return (hours ? hours + ":" + pad(minutes) : pad(minutes)) + ":" + pad(rest);
  }

  function show(output, left) {
    if (left > 0) {
      output.textContent = format(Math.ceil(left / 1000));
      output.classList.remove("fr-text-default--error");
    } else {
      output.textContent = "Temps écoulé (+" + format(Math.floor(-left / 1000)) + ")";
      output.classList.add("fr-text-default--error");
    }
  }

  function start(timer) {
    var end = Date.parse(timer.dataset.phaseEnd);
    if (isNaN(end)) {
      return;
    }
    var seanceEnd = Date.parse(timer.dataset.seanceEnd || "");
    var serverNow = Date.parse(timer.dataset.now);
    var skew = isNaN(serverNow) ? 0 : serverNow - Date.now();
    var phaseOutput = timer.querySelector("[data-countdown]");
    var seanceOutput = timer.querySelector("[data-countdown-seance]");
    var alert = timer.querySelector("[data-overrun-alert]");
    var live = timer.querySelector("[data-announce]");
    var label = timer.dataset.phaseLabel || "";
    // What the page already says when drawn is not announced again.
    var firstLeft = end - serverNow;
    var said = {
      minute: firstLeft <= ONE_MINUTE,
      phase: firstLeft <= 0,
      seance: !isNaN(seanceEnd) && seanceEnd <= serverNow,
    };

    function announce(key, message) {
      if (!said[key] && live) {
        said[key] = true;
        live.textContent = message;
      }
    }

    function tick() {
      var now = Date.now() + skew;
      var left = end - now;
      if (phaseOutput) {
        show(phaseOutput, left);
      }
      if (seanceOutput && !isNaN(seanceEnd)) {
        show(seanceOutput, seanceEnd - now);
      }
      if (left <= 0) {
        if (alert) {
          alert.hidden = false;
        }
        announce("phase", "La phase « " + label + " » dépasse le temps prévu.");
      } else if (left <= ONE_MINUTE) {
        announce("minute", "Plus qu'une minute pour la phase « " + label + " ».");
      }
      if (!isNaN(seanceEnd) && seanceEnd - now <= 0) {
        announce("seance", "La séance dépasse la durée prévue.");
      }
    }

    if (timer.hasAttribute("data-paused")) {
      return; // drawn by the server at the moment of the pause
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
