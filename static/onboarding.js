// Set-up wizard and overview checklist: progressive enhancement only (every control also works
// as a plain form post). Handlers are delegated, so parts swapped in by htmx work too.
(function () {
  "use strict";

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (err) { return ""; }
  }

  // Tell the server a checklist item happened (the link copied or shared); nothing waits for it.
  function record(url) {
    if (!url || !window.fetch) return;
    var body = new FormData();
    body.append("quiet", "1");
    fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } }).catch(function () {});
  }

  document.addEventListener("click", function (e) {
    var target = e.target.closest ? e.target : null;
    if (!target) return;

    var copy = target.closest(".copy-button[data-record]");
    if (copy) record(copy.dataset.record);  // dashboard.js copies the text

    // Share: the system share sheet where there is one (phones); else the form posts and the
    // server answers with a mailto: link.
    var share = target.closest(".share-button");
    if (share && navigator.share) {
      e.preventDefault();
      navigator.share({ title: share.dataset.shareTitle, url: share.dataset.shareUrl }).then(function () { record(share.dataset.record); }, function () {});
      return;
    }

    // Booking step: copy Monday's hours to Tuesday-Friday here, instead of a round trip.
    var copyHours = target.closest("[data-copy-hours]");
    if (copyHours) {
      var form = copyHours.form;
      e.preventDefault();
      var open = form.elements["day_0_open"].checked, start = form.elements["day_0_start"].value, end = form.elements["day_0_end"].value;
      for (var i = 1; i <= 4; i++) {
        form.elements["day_" + i + "_open"].checked = open;
        form.elements["day_" + i + "_start"].value = start;
        form.elements["day_" + i + "_end"].value = end;
      }
      form.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });

  // Booking step: choosing a template fills the service fields at once.
  document.addEventListener("change", function (e) {
    var radio = e.target;
    if (!radio.matches || !radio.matches('input[name="template"]')) return;
    var form = radio.form;
    if (radio.value === "none") return;
    form.elements["service_name"].value = radio.dataset.name;
    form.elements["duration_minutes"].value = radio.dataset.minutes;
    form.elements["price"].value = radio.dataset.price;
    form.elements["capacity"].value = radio.dataset.seats;
  });

  // CRM step: show the fields of the chosen way of signing in (both are shown without JavaScript).
  function showCrmFields(root) {
    var scope = root.querySelectorAll ? root : document;
    var chosen = scope.querySelector('input[name="auth"]:checked');
    if (!chosen) return;
    var key = scope.querySelector(".wizard-crm-key"), user = scope.querySelector(".wizard-crm-user");
    if (key) key.hidden = chosen.value !== "api_key";
    if (user) user.hidden = chosen.value !== "user";
  }
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches('input[name="auth"]')) showCrmFields(e.target.form);
  });

  // With JavaScript the "Use this template" button is not needed.
  function hideNoJs(root) {
    (root.querySelectorAll ? root : document).querySelectorAll(".wizard-nojs").forEach(function (el) { el.hidden = true; });
    showCrmFields(root.querySelectorAll ? root : document);
  }
  document.addEventListener("DOMContentLoaded", function () { hideNoJs(document); });
  document.addEventListener("htmx:load", function (e) { hideNoJs(e.detail.elt.parentNode || document); });

  // A swapped-in step: move focus to its heading so keyboard and screen reader users start there.
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "wizard" || (e.detail.elt && e.detail.elt.id === "wizard")) {
      var heading = document.getElementById("step-heading");
      if (heading) heading.focus();
    }
  });
})();
