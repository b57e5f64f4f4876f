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
})();
