/* The phone visit form's enhancements. The form works without this file (plain POST).
 * Written for old WebViews (WeChat's built-in browser): ES5 only, everything
 * feature-detected; when something is missing, nothing breaks, it just does less.
 *  - keeps a draft of the typed fields (not the photos) in localStorage, restored after
 *    a reload or a dropped connection, cleared once the visit is saved;
 *  - shows the 特困 or 留守 block for the chosen person, the chosen team's members,
 *    the reason box when the person was not seen;
 *  - a second tap on 保存 while the first is on its way does nothing.
 */
(function () {
  "use strict";

  function storage() {
    try {
      var s = window.localStorage;
      s.setItem("visit-draft-test", "1");
      s.removeItem("visit-draft-test");
      return s;
    } catch (e) {
      return null;
    }
  }
  var store = storage();

  // After a successful save the visit page names the draft to forget.
  var saved = document.getElementById("visit-saved");
  if (saved && store && saved.getAttribute("data-clear-draft")) {
    store.removeItem(saved.getAttribute("data-clear-draft"));
  }

  var form = document.getElementById("visit-form");
  if (!form) return;
  var key = form.getAttribute("data-draft-key");
  var bound = !!form.querySelector("[data-testid=form-errors]") || form.elements.q.value !== "";

  function each(list, fn) {
    for (var i = 0; i < list.length; i++) fn(list[i], i);
  }

  function toggle(el, show) {
    if (!el) return;
    if (show) el.classList.remove("visit-hidden");
    else el.classList.add("visit-hidden");
  }

  function chosenCase() {
    return form.querySelector("input[name=case]:checked");
  }

  function showBlocks() {
    var chosen = chosenCase();
    var category = chosen ? chosen.getAttribute("data-category") : "";
    var blocks = form.querySelectorAll(".visit-block");
    if (blocks.length < 2) return;
    // Until a person is chosen neither block applies: a hint instead of two long blocks.
    each(blocks, function (b) {
      toggle(b, !!category && b.getAttribute("data-block") === category);
    });
    toggle(document.getElementById("pick-hint"), !category);
  }

  function showTeamMembers() {
    var team = form.elements.team;
    if (!team || !team.tagName || team.tagName.toLowerCase() !== "select") return;
    var groups = form.querySelectorAll(".visitor-group");
    each(groups, function (g) {
      var mine = g.getAttribute("data-team") === team.value;
      toggle(g, mine);
      if (!mine) {
        each(g.querySelectorAll("input[type=checkbox]"), function (c) { c.checked = false; });
      }
    });
  }

  function showReason() {
    var box = form.elements.not_seen;
    toggle(document.getElementById("not-seen-reason"), box && box.checked);
  }

  // --- the draft ---------------------------------------------------------------

  function collect() {
    var data = {};
    each(form.elements, function (el) {
      var name = el.name;
      if (!name || el.type === "file" || el.type === "submit" || name === "csrfmiddlewaretoken") return;
      if (el.type === "checkbox") {
        if (el.checked) (data[name] = data[name] || []).push(el.value);
      } else if (el.type === "radio") {
        if (el.checked) {
          data[name] = el.value;
          if (name === "case") {
            var label = el.parentNode;
            data._case_label = label ? label.textContent.replace(/\s+/g, " ").trim() : "";
            data._case_category = el.getAttribute("data-category");
          }
        }
      } else {
        data[name] = el.value;
      }
    });
    return data;
  }

  function save() {
    if (!store || !key) return;
    try {
      store.setItem(key, JSON.stringify(collect()));
    } catch (e) { /* full or refused: the form still works */ }
  }

  function ensureCaseRadio(value, label, category) {
    var radios = form.querySelectorAll("input[name=case]");
    for (var i = 0; i < radios.length; i++) if (radios[i].value === value) return;
    var list = document.getElementById("case-choices");
    if (!list) return;
    var wrap = document.createElement("label");
    wrap.className = "list-group-item d-flex gap-2 align-items-center";
    var input = document.createElement("input");
    input.type = "radio";
    input.name = "case";
    input.value = value;
    input.className = "form-check-input flex-shrink-0";
    input.setAttribute("data-category", category || "");
    var text = document.createElement("span");
    text.textContent = label || "";
    wrap.appendChild(input);
    wrap.appendChild(text);
    list.insertBefore(wrap, list.firstChild);
  }

  function restore() {
    if (!store || !key || bound) return false;
    var raw = store.getItem(key);
    if (!raw) return false;
    var data;
    try { data = JSON.parse(raw); } catch (e) { return false; }
    if (data["case"]) ensureCaseRadio(data["case"], data._case_label, data._case_category);
    each(form.elements, function (el) {
      var name = el.name;
      if (!name || el.type === "file" || el.type === "submit" || name === "csrfmiddlewaretoken") return;
      if (!(name in data)) {
        if (el.type === "checkbox") el.checked = false;
        return;
      }
      var value = data[name];
      if (el.type === "checkbox") el.checked = value.indexOf(el.value) >= 0;
      else if (el.type === "radio") el.checked = el.value === value;
      else el.value = value;
    });
    return true;
  }

  var restored = restore();
  var note = document.getElementById("draft-note");
  if (store && note) {
    note.classList.remove("d-none");
    if (restored) note.textContent = "已恢复上次未保存的草稿（照片需要重新选择）。草稿会随填写自动保存。";
  }

  form.addEventListener("input", save);
  form.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t.name === "case") showBlocks();
    if (t.name === "team") {
      // Many teams: only the chosen team's members are on the page; fetch the others'.
      var more = document.getElementById("show-members");
      if (more && t.value && !form.querySelector('.visitor-group[data-team="' + t.value + '"]')) {
        save();
        more.click();
        return;
      }
      showTeamMembers();
    }
    if (t.name === "not_seen") showReason();
    save();
  });
  // htmx replaced the list of people: keep the blocks in step with the choice.
  document.body.addEventListener("htmx:afterSwap", function () { showBlocks(); save(); });

  // Enter in a text box would press the first button (查找): with JS the search is live.
  form.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if ((ev.keyCode === 13 || ev.key === "Enter") && t.tagName && t.tagName.toLowerCase() === "input") {
      ev.preventDefault();
    }
  });

  var sending = false;
  form.addEventListener("submit", function (ev) {
    var button = ev.submitter || document.activeElement;
    var searching = button && button.name === "action" && button.value === "search";
    if (searching) return;
    if (sending) { ev.preventDefault(); return; }
    sending = true;
    save();
    var saveButton = document.getElementById("save-button");
    if (saveButton) saveButton.textContent = "正在保存……";
  });

  showBlocks();
  showTeamMembers();
  showReason();
})();
