/*
 * Flowkey embed: put a booking page on your own site. Served by Flowkey itself; no other code.
 *
 * Inline: <iframe data-flowkey-embed src="https://BOOKING-HOST/book/SLUG?embed=1" ...></iframe>
 *   The frame grows and shrinks with the page inside it (the page posts its height).
 * Popup:  <a data-flowkey-popup href="https://BOOKING-HOST/book/SLUG">Book now</a>
 *   A click opens the booking page in an overlay (close button, Escape, a click outside);
 *   without this script, or with a modifier key held, the link opens the page as usual.
 *   data-flowkey-color / data-flowkey-text-color style it as a button (data-flowkey-style="none": leave it).
 *
 * Messages are accepted only from frames this script knows, showing pages of the origin this
 * script was loaded from; they carry sizes and names, nothing else.
 */
(function () {
  "use strict";
  if (window.FlowkeyEmbed) return; // the script was included twice
  var script = document.currentScript;
  var ORIGIN = script && script.src ? new URL(script.src, window.location.href).origin : null;
  if (!ORIGIN) return;

  function ours(url) {
    try { return new URL(url, window.location.href).origin === ORIGIN; } catch (e) { return false; }
  }

  function embedUrl(href) {
    var url = new URL(href, window.location.href);
    url.searchParams.set("embed", "1");
    return url.href;
  }

  // ------------------------------------------------------------ inline frames

  function inlineFrames() {
    return Array.prototype.filter.call(document.querySelectorAll("iframe[data-flowkey-embed]"), function (frame) {
      return ours(frame.src);
    });
  }

  function sourceFrame(event) {
    if (event.origin !== ORIGIN) return null;
    var frames = inlineFrames();
    if (popup.frame) frames.push(popup.frame);
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) return frames[i];
    }
    return null;
  }

  window.addEventListener("message", function (event) {
    var frame = sourceFrame(event);
    var data = event.data;
    if (!frame || !data || typeof data.type !== "string") return;
    if (frame === popup.frame) {
      if (data.type === "flowkey:escape") popup.close();
      return;
    }
    if (data.type === "flowkey:height" && typeof data.height === "number" && data.height > 0 && data.height < 100000) {
      frame.style.height = Math.ceil(data.height) + "px";
    } else if (data.type === "flowkey:step" && frame.getBoundingClientRect().top < 0) {
      frame.scrollIntoView({ block: "start" });
    }
  });

  // ------------------------------------------------------------ popup

  var popup = {
    dialog: null,
    frame: null,
    opener: null,
    overflow: "",
    open: function (link) {
      if (typeof HTMLDialogElement !== "function") { window.location.href = link.href; return; }
      this.close();
      this.opener = link;
      var dialog = document.createElement("dialog");
      dialog.setAttribute("aria-label", link.getAttribute("data-flowkey-title") || link.textContent.trim() || "Booking");
      css(dialog, {
        position: "fixed", inset: "0", width: "100%", height: "100%", maxWidth: "none", maxHeight: "none",
        margin: "0", padding: "0", border: "0", background: "rgba(15, 23, 42, 0.6)", overflow: "hidden",
      });
      var panel = document.createElement("div");
      var wide = window.innerWidth >= 640;
      css(panel, {
        position: "absolute", boxSizing: "border-box", display: "flex", flexDirection: "column",
        background: "#ffffff", overflow: "hidden", boxShadow: "0 20px 50px rgba(0, 0, 0, 0.35)",
        top: wide ? "2rem" : "0", bottom: wide ? "2rem" : "0", left: "50%", transform: "translateX(-50%)",
        width: wide ? "min(46rem, calc(100% - 4rem))" : "100%", borderRadius: wide ? "12px" : "0",
      });
      var bar = document.createElement("div");
      css(bar, { display: "flex", justifyContent: "flex-end", padding: "0.35rem", borderBottom: "1px solid #e5e7eb", flex: "none" });
      var close = document.createElement("button");
      close.type = "button";
      close.textContent = "\u00d7";
      close.setAttribute("aria-label", link.getAttribute("data-flowkey-close-label") || "Close");
      css(close, {
        width: "2.75rem", height: "2.75rem", border: "0", borderRadius: "50%", background: "transparent",
        color: "#1f2937", fontSize: "1.75rem", lineHeight: "1", cursor: "pointer", padding: "0",
      });
      close.addEventListener("click", function () { popup.close(); });
      var frame = document.createElement("iframe");
      frame.src = embedUrl(link.href);
      frame.title = dialog.getAttribute("aria-label");
      css(frame, { flex: "1 1 auto", width: "100%", border: "0", display: "block" });
      bar.appendChild(close);
      panel.appendChild(bar);
      panel.appendChild(frame);
      dialog.appendChild(panel);
      dialog.addEventListener("cancel", function (e) { e.preventDefault(); popup.close(); }); // Escape in this page
      dialog.addEventListener("click", function (e) { if (e.target === dialog) popup.close(); }); // outside the panel
      document.body.appendChild(dialog);
      this.dialog = dialog;
      this.frame = frame;
      this.overflow = document.documentElement.style.overflow;
      document.documentElement.style.overflow = "hidden";
      dialog.showModal();
      close.focus();
    },
    close: function () {
      if (!this.dialog) return;
      var opener = this.opener;
      if (this.dialog.open) this.dialog.close();
      this.dialog.remove();
      this.dialog = this.frame = this.opener = null;
      document.documentElement.style.overflow = this.overflow;
      if (opener && opener.focus) opener.focus();
    },
  };

  function css(element, styles) {
    for (var key in styles) element.style[key] = styles[key];
  }

  function styleButton(link) {
    if (link.getAttribute("data-flowkey-style") === "none" || link.hasAttribute("data-flowkey-styled")) return;
    link.setAttribute("data-flowkey-styled", "");
    css(link, {
      display: "inline-block", padding: "0.75rem 1.25rem", borderRadius: "8px", fontWeight: "600",
      fontFamily: "inherit", textDecoration: "none", lineHeight: "1.2",
      background: link.getAttribute("data-flowkey-color") || "#1f5fbf",
      color: link.getAttribute("data-flowkey-text-color") || "#ffffff",
      border: "2px solid " + (link.getAttribute("data-flowkey-border-color") || link.getAttribute("data-flowkey-color") || "#1f5fbf"),
    });
  }

  function styleButtons() {
    Array.prototype.forEach.call(document.querySelectorAll("a[data-flowkey-popup]"), function (link) {
      if (ours(link.href)) styleButton(link);
    });
  }

  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("a[data-flowkey-popup]");
    if (!link || !ours(link.href) || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    popup.open(link);
  });

  function watch() {
    styleButtons();
    // Buttons added later (a page that builds itself, a swapped fragment) are styled too.
    if (window.MutationObserver) new MutationObserver(styleButtons).observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
  else watch();

  window.FlowkeyEmbed = { open: function (link) { popup.open(link); }, close: function () { popup.close(); } };
})();
