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
    var option = select && zoneOption(select, zone);
    if (option) select.value = option.value;
  });

  // The option of a zone picker for an IANA name, or an alias the option lists in data-aliases
  // (browsers may report Asia/Calcutta for Asia/Kolkata); null when there is none.
  function zoneOption(select, zone) {
    if (!zone) return null;
    return Array.prototype.find.call(select.options, function (o) {
      return o.value === zone || (" " + (o.getAttribute("data-aliases") || "") + " ").indexOf(" " + zone + " ") !== -1;
    }) || null;
  }
  window.flowkeyZoneOption = zoneOption;

  // <select data-zone-filter>: a search box above the (long, grouped) zone list keeps only the
  // options whose city, zone name, old name, region or UTC offset contain every typed word, and
  // selects the first of them (or keeps the chosen zone while it matches); Enter chooses it (a
  // change event, which the booking page's form listens to). With no match the whole list stays.
  // Without JavaScript the plain grouped list works on its own.
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/\u2212/g, "-").replace(/_/g, " ").toLowerCase();
  }

  function enhanceZonePicker(select) {
    if (select.hasAttribute("data-zone-filter-ready")) return;
    select.setAttribute("data-zone-filter-ready", "");
    var groups = Array.prototype.map.call(select.children, function (node) {
      var options = node.tagName === "OPTGROUP" ? Array.prototype.slice.call(node.children) : [node];
      var label = node.tagName === "OPTGROUP" ? node.label : "";
      options.forEach(function (o) {
        var text = o.textContent + " " + o.value + " " + (o.getAttribute("data-aliases") || "") + " " + label;
        // "+5:30" finds "+05:30"
        o._zoneText = fold(text + " " + text.replace(/([+\u2212-])0(\d)/g, "$1$2"));
      });
      return { node: node, options: options };
    });
    var input = document.createElement("input");
    input.type = "search";
    input.id = select.id + "-filter";
    input.className = "zone-filter";
    input.autocomplete = "off";
    // A translated page gives its own texts in data-filter-* attributes (the public pages do).
    input.placeholder = select.getAttribute("data-filter-placeholder") || "Search: city or UTC offset";
    input.setAttribute("aria-label", select.getAttribute("data-filter-label") || "Filter the time zone list");
    input.setAttribute("aria-controls", select.id);
    var status = document.createElement("small");
    status.className = "zone-filter-status";
    status.setAttribute("role", "status");
    var anchor = select.closest("[role='group']") || select;
    anchor.parentNode.insertBefore(input, anchor);
    anchor.parentNode.insertBefore(status, anchor);

    var chosen = select.value;  // what a cleared filter, or one with no match, goes back to
    select.addEventListener("change", function () { chosen = select.value; });
    input.addEventListener("focus", function () { if (!input.value) chosen = select.value; });

    function show(words) {
      var count = 0, first = null, keep = false;
      var matches = function (o) { return words.every(function (w) { return o._zoneText.indexOf(w) !== -1; }); };
      var any = words.length === 0 || groups.some(function (g) { return g.options.some(matches); });
      select.textContent = "";
      groups.forEach(function (g) {
        var shown = any ? g.options.filter(function (o) { return words.length === 0 || matches(o); }) : g.options;
        if (!shown.length) return;
        if (g.node.tagName === "OPTGROUP") {
          g.node.textContent = "";
          shown.forEach(function (o) { g.node.appendChild(o); });
          select.appendChild(g.node);
        } else {
          select.appendChild(g.node);
        }
        count += shown.length;
        if (!first) first = shown[0];
        if (shown.some(function (o) { return o.value === chosen; })) keep = true;
      });
      if (!words.length || !any) {
        select.value = chosen;
        var none = select.getAttribute("data-filter-none") || "No time zone matches \u201c{query}\u201d.";
        status.textContent = words.length ? none.replace("{query}", input.value.trim()) : "";
      } else {
        select.value = keep ? chosen : first.value;  // the chosen zone while it matches
        status.textContent = count === 1 ? "1 time zone matches." : count + " time zones match.";
      }
    }

    input.addEventListener("input", function () {
      var words = fold(input.value).split(/\s+/).filter(Boolean);
      show(words);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key !== "Enter") return;
      e.preventDefault();  // not the whole sign-up or settings form
      chosen = select.value;
      select.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  function enhanceZonePickers(root) {
    (root && root.querySelectorAll ? root : document).querySelectorAll("select[data-zone-filter]").forEach(enhanceZonePicker);
  }
  document.addEventListener("DOMContentLoaded", function () { enhanceZonePickers(document); });
  document.addEventListener("htmx:load", function (e) { enhanceZonePickers(e.detail.elt); });
})();
