// No inline script or style anywhere (CSP): widths come from data attributes.
(function () {
  function applyWidths(root) {
    root.querySelectorAll("[data-width]").forEach(function (el) {
      el.style.width = Math.max(0, Math.min(100, parseInt(el.dataset.width, 10) || 0)) + "%";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { applyWidths(document); });
  document.addEventListener("htmx:load", function (evt) { applyWidths(evt.detail.elt); });
})();
