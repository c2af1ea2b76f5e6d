/* Tables wider than the screen scroll sideways (DSFR's responsive tables). A region
 * that scrolls must be reachable with the keyboard (RGAA 7.3, WCAG 2.1.1): while it
 * scrolls, it takes the focus (its caption names it), so that the arrows move it.
 * Loaded from 'self' by templates/partials/footer.html, as the CSP requires. */
(function () {
  "use strict";

  function update(region) {
    var scrolls = region.scrollWidth > region.clientWidth + 1;
    if (scrolls && !region.hasAttribute("tabindex")) {
      region.setAttribute("tabindex", "0");
      region.setAttribute("data-focusable-scroll", "");
    } else if (!scrolls && region.hasAttribute("data-focusable-scroll")) {
      region.removeAttribute("tabindex");
      region.removeAttribute("data-focusable-scroll");
    }
  }

  var regions = document.querySelectorAll(".fr-table > table, .fr-table__container");
  if ("ResizeObserver" in window) {
    var observer = new ResizeObserver(function (entries) {
      entries.forEach(function (entry) {
        update(entry.target);
      });
    });
    regions.forEach(function (region) {
      observer.observe(region);
    });
  } else {
    regions.forEach(update);
  }
})();
