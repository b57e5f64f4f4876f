// Dashboard: progressive enhancement only. Handlers are bound here, never in on*= attributes or
// inline <script>, which the Content-Security-Policy refuses (see app/security_headers.py).
(function () {
  "use strict";

  // 409/422 rows swap in through htmx-config's responseHandling (base.html).
  // A fragment request made after the session expired: go to the login page.
  document.addEventListener("htmx:responseError", function (e) {
    if (e.detail.xhr.status === 401 && e.detail.xhr.getResponseHeader("HX-Redirect")) window.location = e.detail.xhr.getResponseHeader("HX-Redirect");
  });

  // Copy buttons (hidden without JavaScript, where the read-only input selects itself on focus).
  // Shown on load and on every htmx swap; clicks are delegated, so swapped-in buttons work too.
  function showCopyButtons(root) {
    (root.querySelectorAll ? root : document).querySelectorAll(".copy-button").forEach(function (button) { button.hidden = false; });
  }
  document.addEventListener("DOMContentLoaded", function () { showCopyButtons(document); });
  document.addEventListener("htmx:load", function (e) { showCopyButtons(e.detail.elt.parentNode || document); });

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest(".copy-button");
    if (!button) return;
    var input = document.getElementById(button.dataset.copy);
    var status = button.closest("div").nextElementSibling;
    function done(ok) { status.textContent = ok ? "Copied." : "Press Ctrl+C (⌘C) to copy the selected text."; }
    input.focus(); input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () { done(true); }, function () { done(false); });
    } else {
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (err) {}
      done(ok);
    }
  });

  // The menu is a <details>: a "Menu" button on phones, always open from 1024 px (CSS does it
  // where ::details-content is supported; this covers the others).
  var wide = window.matchMedia("(min-width: 1024px)");
  function openMenuWhenWide() {
    var menu = document.getElementById("dash-menu");
    if (menu && wide.matches) menu.open = true;
  }
  document.addEventListener("DOMContentLoaded", openMenuWhenWide);
  if (wide.addEventListener) wide.addEventListener("change", openMenuWhenWide);
  // A phone's menu closes when a link in it is followed, or on Escape.
  document.addEventListener("keydown", function (e) {
    var menu = document.getElementById("dash-menu");
    if (e.key === "Escape" && menu && menu.open && !wide.matches) { menu.open = false; menu.querySelector("summary").focus(); }
  });

  // Weekly hours: "Add interval" / "Remove" buttons (hidden without JavaScript, where each day
  // shows a spare blank pair to fill in, and clearing a pair's times removes it).
  function renumber(list) {
    var dayName = list.dataset.dayName, day = list.dataset.day;
    list.querySelectorAll("[data-interval]").forEach(function (row, index) {
      var n = index + 1;
      row.querySelectorAll("input").forEach(function (input) {
        var side = input.name.slice(-5) === "start" ? "start" : "end";
        input.id = "day-" + day + "-" + side + "-" + n;
      });
      var labels = row.querySelectorAll("label");
      labels[0].htmlFor = "day-" + day + "-start-" + n;
      labels[0].textContent = dayName + ", interval " + n + ": from";
      labels[1].htmlFor = "day-" + day + "-end-" + n;
      labels[1].textContent = dayName + ", interval " + n + ": until";
      var hidden = row.querySelector(".remove-interval .visually-hidden");
      if (hidden) hidden.textContent = " " + dayName + " interval " + n;
    });
    var dayOff = list.parentNode.querySelector("[data-day-off]");
    if (dayOff) dayOff.hidden = list.querySelector("[data-interval]") !== null;
  }
  function setUpHours(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("ul.intervals").forEach(function (list) {
      if (list.dataset.ready) return;
      list.dataset.ready = "1";
      var spare = list.querySelector("[data-spare]");
      if (spare) {
        var blank = Array.prototype.every.call(spare.querySelectorAll("input"), function (i) { return !i.value; });
        // Keep it as the template for "Add interval"; drop it from the form when blank.
        list._template = spare.cloneNode(true);
        list._template.removeAttribute("data-spare");
        list._template.querySelectorAll("input").forEach(function (i) { i.value = ""; i.removeAttribute("value"); });
        if (blank) spare.remove(); else spare.removeAttribute("data-spare");
      }
      list.querySelectorAll("[data-remove-interval]").forEach(function (b) { b.hidden = false; });
      var add = list.parentNode.querySelector("[data-add-interval]");
      if (add) add.hidden = false;
      renumber(list);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { setUpHours(document); });
  document.addEventListener("htmx:load", function (e) { setUpHours(e.detail.elt); });
  document.addEventListener("click", function (e) {
    var add = e.target.closest && e.target.closest("[data-add-interval]");
    if (add) {
      var list = add.closest(".day-intervals").querySelector("ul.intervals");
      var row = list._template.cloneNode(true);
      row.querySelector("[data-remove-interval]").hidden = false;
      list.appendChild(row);
      renumber(list);
      row.querySelector("input").focus();
      return;
    }
    var remove = e.target.closest && e.target.closest("[data-remove-interval]");
    if (remove) {
      var item = remove.closest("[data-interval]"), owner = item.parentNode;
      var focusTarget = owner.parentNode.querySelector("[data-add-interval]");
      item.remove();
      renumber(owner);
      if (focusTarget) focusTarget.focus();
    }
  });
})();
