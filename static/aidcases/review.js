// Duplicate review queue. No inline script (CSP): forms carry data-confirm.
(function () {
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      evt.preventDefault();
    }
  });
})();
