// Batch screens. No inline script (CSP): behaviour hangs on data attributes.
(function () {
  function iso(d) {
    var m = d.getMonth() + 1, day = d.getDate();
    return d.getFullYear() + "-" + (m < 10 ? "0" : "") + m + "-" + (day < 10 ? "0" : "") + day;
  }
  // The same count as disbursements/workdays.py: weekends and holidays skipped, make-up days worked.
  function workdaysEnd(start, cfg) {
    function working(d) {
      var s = iso(d);
      if (cfg.makeup.indexOf(s) >= 0) return true;
      return d.getDay() !== 0 && d.getDay() !== 6 && cfg.holidays.indexOf(s) < 0;
    }
    var d = new Date(start.getTime());
    while (!working(d)) d.setDate(d.getDate() + 1);
    var left = cfg.days - 1;
    while (left > 0) {
      d.setDate(d.getDate() + 1);
      if (working(d)) left -= 1;
    }
    return d;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-workdays]");
    if (form) {
      var cfg = JSON.parse(form.dataset.workdays);
      var input = form.querySelector("input[name=starts]");
      var out = form.querySelector("[data-publicity-end]");
      input.addEventListener("change", function () {
        var parts = input.value.split("-");
        if (parts.length !== 3) return;
        var start = new Date(+parts[0], +parts[1] - 1, +parts[2]);
        out.textContent = iso(workdaysEnd(start, cfg));
      });
    }
    // Funds offered on the new-batch form: those of the chosen programme.
    var batchForm = document.querySelector("[data-fund-map]");
    if (batchForm) {
      var map = JSON.parse(batchForm.dataset.fundMap);
      var programme = batchForm.querySelector("select[name=programme]");
      var fund = batchForm.querySelector("select[name=fund]");
      var filter = function () {
        var allowed = map[programme.value] || null;
        Array.prototype.forEach.call(fund.options, function (o) {
          o.hidden = !!(o.value && allowed && allowed.indexOf(+o.value) < 0);
        });
        if (fund.selectedOptions[0] && fund.selectedOptions[0].hidden) fund.value = "";
      };
      programme.addEventListener("change", filter);
      filter();
    }
  });
  document.addEventListener("change", function (evt) {
    var all = evt.target.closest("[data-check-all]");
    if (!all) return;
    var table = all.closest("table");
    table.querySelectorAll("tbody input[type=checkbox]").forEach(function (box) {
      box.checked = all.checked;
    });
  });
  document.addEventListener("click", function (evt) {
    if (evt.target.closest("[data-print]")) {
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
