// Public booking flow: progressive enhancement only. Every step works without this file.
(function () {
  "use strict";
  var zone = null;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { /* old browser */ }
  if (zone && zone.indexOf("/") === -1 && zone !== "UTC") zone = null;

  function stepBox() { return document.getElementById("booking-step"); }

  // A page that picked its zone by default re-requests with the browser's zone.
  function useBrowserZone() {
    var box = stepBox();
    var step = box && box.querySelector("[data-tz-auto='1']");
    if (!step || !zone || zone === step.getAttribute("data-tz")) return;
    // Only a zone the picker lists, by its name or an old one (Asia/Calcutta: Asia/Kolkata).
    var select = box.querySelector("#tz");
    var option = select && window.flowkeyZoneOption ? window.flowkeyZoneOption(select, zone) : null;
    if (select && !option) return;
    var wanted = option ? option.value : zone;
    if (wanted === step.getAttribute("data-tz")) return;
    var url = new URL(window.location.href);
    if (url.searchParams.has("tz")) return;
    url.searchParams.set("tz", wanted);
    var path = url.pathname + url.search;
    if (window.htmx) {
      htmx.ajax("GET", path, { target: "#booking-step", swap: "innerHTML" }).then(function () {
        history.replaceState(history.state, "", path);
      });
    } else {
      window.location.replace(path);
    }
  }

  document.addEventListener("DOMContentLoaded", useBrowserZone);

  // Links inside the flow carry the browser's zone unless one was chosen.
  document.addEventListener("htmx:configRequest", function (evt) {
    var d = evt.detail;
    if (!zone || d.verb !== "get" || d.path.indexOf("/book/") !== 0) return;
    if (/[?&]tz=/.test(d.path) || d.parameters.tz || (d.parameters.get && d.parameters.get("tz"))) return;
    if (d.parameters instanceof FormData) d.parameters.set("tz", zone); else d.parameters.tz = zone;
  });

  // 409/422 responses are steps, swapped as they are (htmx-config in base.html). Any other error
  // is a whole error page: show just its message in the step box.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var status = evt.detail.xhr.status;
    if (evt.detail.target !== stepBox() || status < 400 || status === 409 || status === 422) return;
    var doc = new DOMParser().parseFromString(evt.detail.serverResponse, "text/html");
    var main = doc.querySelector("main");
    if (!main) return;
    var article = main.querySelector("article");
    evt.detail.serverResponse = article ? article.outerHTML.replace(/<h1/g, "<h2").replace(/<\/h1>/g, "</h2>") : main.innerHTML;
    evt.detail.shouldSwap = true;
    evt.detail.isError = false;
  });

  // Past the first step the business header is compact (the server renders full pages so; this
  // follows the steps swapped in). The service list and a manage link's first page keep it full.
  document.addEventListener("htmx:afterSwap", function (evt) {
    var box = stepBox();
    var header = document.querySelector(".biz-header");
    var step = box && evt.detail.target === box && box.querySelector("[data-step]");
    if (header && step) header.classList.toggle("compact", ["1", "manage", "manage-gone"].indexOf(step.getAttribute("data-step")) === -1);
  });

  // A day chosen in the calendar: its times, below the calendar on a phone, come into view
  // (scrolled only when the first one is not on screen, smoothly unless reduced motion is
  // asked for) and focus moves to their heading, which names the day.
  function showTimes(box) {
    var section = box.querySelector("#times");
    var heading = section && section.querySelector("h3");
    if (!heading) return false;
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
    var first = section.querySelector(".slot") || heading;
    var top = heading.getBoundingClientRect().top;
    if (top < 0 || first.getBoundingClientRect().bottom > window.innerHeight) {
      var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      section.scrollIntoView({ behavior: reduce ? "auto" : "smooth", block: "start" });
    }
    return true;
  }

  // After a step swap, move focus to the error summary or the step heading (announced).
  document.addEventListener("htmx:afterSettle", function (evt) {
    var box = stepBox();
    if (evt.detail.target !== box || !evt.detail.requestConfig || !evt.detail.requestConfig.triggeringEvent) return;
    var from = evt.detail.requestConfig.elt;
    if (from && from.classList && from.classList.contains("day") && !box.querySelector("#error-summary") && showTimes(box)) return;
    var target = (from && from.classList && from.classList.contains("tz-form") && box.querySelector("#tz")) ||
      box.querySelector("#error-summary") || box.querySelector("h2");
    if (target) {
      if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus();
    }
  });
})();

// Shown in a frame (the business's own site, through static/embed.js): a compact header, and the
// page tells its host how tall it is (so the frame grows and shrinks with each step), when a
// step changed (so the host can bring the frame's top into view) and when Escape was pressed
// (so a popup can close). Only sizes and these names are sent: never a URL, which may hold a
// confirmation token.
(function () {
  "use strict";
  var framed = false;
  try { framed = window.self !== window.top; } catch (e) { framed = true; }
  if (!framed) return;
  document.documentElement.classList.add("is-framed");

  function post(message) {
    try { window.parent.postMessage(message, "*"); } catch (e) { /* the host went away */ }
  }
  var last = 0;
  function sendHeight() {
    var body = document.body;
    if (!body) return;
    var style = window.getComputedStyle(body);
    var height = Math.ceil(body.getBoundingClientRect().height + parseFloat(style.marginTop) + parseFloat(style.marginBottom));
    if (height !== last) {
      last = height;
      post({ type: "flowkey:height", height: height });
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    sendHeight();
    if (window.ResizeObserver) new ResizeObserver(sendHeight).observe(document.body);
  });
  window.addEventListener("load", sendHeight);
  document.addEventListener("htmx:afterSettle", function (evt) {
    sendHeight();
    if (evt.detail.target && evt.detail.target.id === "booking-step") post({ type: "flowkey:step" });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !e.defaultPrevented) post({ type: "flowkey:escape" });
  });
})();

// The language switcher sits outside the swapped step, so its links name the page as it was first
// loaded: on a click, point the link at the page shown now (htmx may have pushed another URL).
document.addEventListener("click", function (e) {
  "use strict";
  var link = e.target && e.target.closest && e.target.closest(".lang-switch a[data-lang]");
  if (!link) return;
  var url = new URL(window.location.href);
  url.searchParams.set("lang", link.getAttribute("data-lang"));
  link.setAttribute("href", url.pathname + url.search + url.hash);
});
