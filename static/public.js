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
    var select = box.querySelector("#tz");
    if (select && !select.querySelector("option[value='" + zone.replace(/'/g, "") + "']")) return;
    var url = new URL(window.location.href);
    if (url.searchParams.has("tz")) return;
    url.searchParams.set("tz", zone);
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

  // After a step swap, move focus to the error summary or the step heading (announced).
  document.addEventListener("htmx:afterSettle", function (evt) {
    var box = stepBox();
    if (evt.detail.target !== box || !evt.detail.requestConfig || !evt.detail.requestConfig.triggeringEvent) return;
    var from = evt.detail.requestConfig.elt;
    var target = (from && from.classList && from.classList.contains("tz-form") && box.querySelector("#tz")) ||
      box.querySelector("#error-summary") || box.querySelector("h2");
    if (target) {
      if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus();
    }
  });
})();
