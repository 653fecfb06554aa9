// Students pages. No inline script (CSP): behaviour hangs on data attributes.
(function () {
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest("[data-print]");
    if (button) {
      evt.preventDefault();
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
