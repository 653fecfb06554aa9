// The 一人一档 page: print button, print time, confirmations. No inline script (CSP).
(function () {
  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function stampPrintTime() {
    var now = new Date();
    var text = now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate()) +
      " " + pad(now.getHours()) + ":" + pad(now.getMinutes());
    document.querySelectorAll("[data-print-time]").forEach(function (el) { el.textContent = text; });
  }

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest("[data-action='print']");
    if (button) {
      evt.preventDefault();
      stampPrintTime();
      window.print();
    }
  });

  // Ctrl+P too, not only the button.
  window.addEventListener("beforeprint", stampPrintTime);

  document.addEventListener("submit", function (evt) {
    var form = evt.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) {
      evt.preventDefault();
    }
  });
})();
