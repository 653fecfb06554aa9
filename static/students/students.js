// Students pages. No inline script (CSP): behaviour hangs on data attributes.
(function () {
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest("[data-print]");
    if (button) {
      evt.preventDefault();
      window.print();
    }
  });
  // The whole roster (?print=1) opens in a tab of its own and prints at once.
  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("[data-autoprint]")) {
      window.print();
    }
  });
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      evt.preventDefault();
    }
  });
})();
