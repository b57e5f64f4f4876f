// Progressive enhancement only: every page works without this file. Handlers are bound here,
// never in on*= attributes or inline <script>, which the Content-Security-Policy refuses.
(function () {
  "use strict";

  // <input data-select-on-focus>: a read-only value to copy selects itself.
  document.addEventListener("focusin", function (e) {
    if (e.target.matches && e.target.matches("input[data-select-on-focus]")) e.target.select();
  });

  // <select data-autosubmit>: choosing an option sends its form (a button does it without JS).
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("select[data-autosubmit]") && e.target.form) e.target.form.submit();
  });

  // <form data-browser-zone="ID">: pre-select the browser's time zone in the select #ID, when listed.
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-browser-zone]");
    if (!form) return;
    var zone = null;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (err) { /* old browser */ }
    var select = document.getElementById(form.getAttribute("data-browser-zone"));
    if (zone && select && Array.prototype.some.call(select.options, function (o) { return o.value === zone; })) select.value = zone;
  });
})();
