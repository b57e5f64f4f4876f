"""The booking page on another site, in a real browser: a page served by a plain HTTP server on
another origin (``localhost`` rather than the app's ``127.0.0.1``: another *site*, so the app's
SameSite=Lax session cookie is not sent into the frame) embeds the demo's booking page both
ways, the inline frame and the popup button (static/embed.js), and a client books through each.

Checked: the booking arrives (with CSRF on, and no session cookie on the frame's requests), the
inline frame's height follows its content at every step, the popup closes with Escape and gives
focus back, no console error, axe-core finds no WCAG 2.1 A/AA violation on the host page or in
the frame, and screenshots at 390 x 844 and 1366 x 900 (into ``$BROWSER_SHOTS_DIR/embed`` when set).
"""
from __future__ import annotations

import functools
import http.server
import os
import re
import time
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)
pytest.importorskip("playwright.sync_api")

from playwright.sync_api import Frame, Page, expect  # noqa: E402

from tests.browser.conftest import shots_dir  # noqa: E402

AXE_JS = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SIZES = {"mobile": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
SERVICE = "Private Swimming Lesson"

HOST_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lakeside Leisure Centre</title><link rel="icon" href="data:,"></head>
<body style="margin:0;font-family:sans-serif;background:#fafaf7;color:#222">
<header style="padding:1rem 1.5rem;background:#234;color:#fff"><p style="margin:0;font-size:1.3rem">Lakeside Leisure Centre</p></header>
<main style="max-width:52rem;margin:0 auto;padding:1rem">
<h1>Swimming lessons</h1>
<p>Book a lesson with our partner swim school below.</p>
{snippet}
<p id="after">Opening hours: every day, 7 am to 9 pm.</p>
</main>
</body>
</html>
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002  (the base class's name)
        pass


@pytest.fixture
def other_site(tmp_path):
    """``serve(html) -> url``: a page on a plain HTTP server (another origin and site than the app)."""
    root = tmp_path / "site"
    root.mkdir()
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="other-site", daemon=True)
    thread.start()

    def serve(snippet: str) -> str:
        (root / "index.html").write_text(HOST_PAGE.format(snippet=snippet), encoding="utf-8")
        return f"http://localhost:{server.server_port}/index.html"

    yield serve
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def browser_page(new_context):
    """``open(size) -> (page, problems)``: a page with axe-core loaded in every frame (an init
    script, which no Content-Security-Policy blocks), collecting console errors and failed requests."""

    def _open(size: str):
        context = new_context(viewport=SIZES[size], timezone_id="Europe/London", is_mobile=size == "mobile", has_touch=size == "mobile")
        context.add_init_script(path=str(AXE_JS))
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        # Closing a popup aborts whatever its frame was still loading (net::ERR_ABORTED): expected.
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}") if "ERR_ABORTED" not in (r.failure or "") else None)
        return page, problems

    return _open


def snippet(live_server: str, slug: str, kind: str) -> str:
    """The snippet the dashboard's "Add to your website" page shows, for this server."""
    from flask import current_app

    from app.dashboard.views_branding import snippets
    from app.extensions import db
    from app.models import Business

    business = db.session.scalar(select(Business).where(Business.slug == slug))
    base = current_app.config["BASE_URL"]
    current_app.config["BASE_URL"] = live_server
    try:
        with current_app.test_request_context():
            code = snippets(business, "Book a lesson")[kind]
    finally:
        current_app.config["BASE_URL"] = base
        db.session.remove()
    return code


def run_axe(frame: Frame | Page) -> list[dict]:
    result = frame.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, iframes: false})", AXE_TAGS
    )
    assert result["passes"], "axe-core checked nothing"
    return [{"id": v["id"], "help": v["help"], "targets": [n["target"] for n in v["nodes"]]} for v in result["violations"]]


def settled(frame: Frame) -> None:
    frame.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')")


def heights_match(page: Page, frame: Frame, timeout: float = 10.0) -> None:
    """The inline frame becomes as tall as the page inside it (within a pixel or two of rounding).
    Both sides are measured afresh on each try: the content may still grow (a logo, a font) while
    the frame follows it."""
    deadline = time.monotonic() + timeout
    while True:
        content = frame.evaluate("() => Math.ceil(document.body.getBoundingClientRect().height)")
        outer = page.evaluate("() => document.querySelector('iframe[data-flowkey-embed]').getBoundingClientRect().height")
        if abs(outer - content) <= 2:
            return
        assert time.monotonic() < deadline, f"the frame is {outer}px tall, its content {content}px"
        page.wait_for_timeout(100)


def book_in(frame: Frame, page: Page, name: str, check_height=None) -> str:
    """Walk the booking flow inside ``frame``; returns the reference shown at the end."""
    expect(frame.get_by_role("heading", level=2, name="Choose a service")).to_be_visible()
    if check_height:
        check_height()
    frame.get_by_role("button", name=f"Choose {SERVICE}").click()
    expect(frame.get_by_role("heading", level=2, name="Pick a time")).to_be_visible()
    settled(frame)
    if check_height:
        check_height()
    days = frame.get_by_role("table").get_by_role("link", name=re.compile(r"\d+ free times?$"))
    for _ in range(3):
        if days.count():
            break
        frame.get_by_role("link", name=re.compile(r"^Next month")).click()
        settled(frame)
    days.first.click()
    times = frame.get_by_role("link", name=re.compile(r"^\d{1,2}:\d{2}"))
    expect(times.first).to_be_visible()
    settled(frame)
    if check_height:
        check_height()
    times.first.click()
    expect(frame.get_by_role("heading", level=2, name="Your details")).to_be_visible()
    settled(frame)
    if check_height:
        check_height()
    frame.get_by_label("Your name", exact=True).fill(name)
    frame.get_by_label("E-mail", exact=True).fill(f"{name.split()[0].lower()}@example.com")
    frame.get_by_role("button", name="Request booking").click()
    expect(frame.get_by_role("heading", level=2, name="Request sent")).to_be_visible()
    settled(frame)
    if check_height:
        check_height()
    return re.search(r"FK-[0-9A-Z]+", frame.content()).group(0)


def assert_booked(db, reference: str, name: str) -> None:
    from app.models import Booking

    db.session.remove()
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    assert booking is not None and booking.client_name == name and booking.status.value == "pending"
    db.session.remove()


def cookieless_posts(page: Page) -> list[tuple[str, str]]:
    """``(url, cookie header)`` of every POST the page makes (filled as they happen)."""
    posts: list[tuple[str, str]] = []
    page.on("request", lambda r: posts.append((r.url, r.all_headers().get("cookie", ""))) if r.method == "POST" else None)
    return posts


def test_inline_frame_books_and_follows_its_content(live_server, demo, db, other_site, browser_page, tmp_path):
    url = other_site(snippet(live_server, demo.slug, "inline"))
    page, problems = browser_page("desktop")
    posts = cookieless_posts(page)
    page.goto(url)
    iframe = page.locator("iframe[data-flowkey-embed]")
    frame = iframe.element_handle().content_frame()
    expect(frame.get_by_role("heading", level=1, name=demo.business_name)).to_be_visible()
    frame.wait_for_function("() => document.documentElement.classList.contains('is-framed')")
    shots = shots_dir("embed")
    if shots is not None:
        page.screenshot(path=shots / "inline-desktop-services.png", full_page=True)

    reference = book_in(frame, page, "Katherine Johnson", check_height=lambda: heights_match(page, frame))
    if shots is not None:
        page.screenshot(path=shots / "inline-desktop-confirmation.png", full_page=True)
    assert_booked(db, reference, "Katherine Johnson")
    booking_posts = [(u, c) for u, c in posts if "/details" in u]
    assert len(booking_posts) == 1 and "session=" not in booking_posts[0][1]  # no cookie reached the frame

    assert run_axe(page) == [] and run_axe(frame) == []
    page.set_viewport_size(SIZES["mobile"])
    frame.goto(f"{live_server}/book/{demo.slug}?embed=1")
    expect(frame.get_by_role("heading", level=2, name="Choose a service")).to_be_visible()
    heights_match(page, frame)
    if shots is not None:
        page.screenshot(path=shots / "inline-mobile-services.png", full_page=True)
    assert run_axe(frame) == []
    assert problems == []


def test_popup_button_books_and_closes(live_server, demo, db, other_site, browser_page, tmp_path):
    url = other_site(snippet(live_server, demo.slug, "popup"))
    page, problems = browser_page("mobile")
    posts = cookieless_posts(page)
    page.goto(url)
    button = page.get_by_role("link", name="Book a lesson")
    expect(button).to_be_visible()
    # embed.js (loaded async) paints the button in the business's colour.
    page.wait_for_function("() => document.querySelector('a[data-flowkey-popup]').style.backgroundColor === 'rgb(14, 116, 144)'")
    shots = shots_dir("embed")
    if shots is not None:
        page.screenshot(path=shots / "popup-mobile-button.png", full_page=True)
    assert run_axe(page) == []

    # Escape closes it and gives focus back to the button.
    button.click()
    dialog = page.get_by_role("dialog", name="Book a lesson")
    expect(dialog).to_be_visible()
    expect(page.get_by_role("button", name="Close")).to_be_focused()
    loading = page.locator("dialog iframe").element_handle().content_frame()
    expect(loading.get_by_role("heading", level=2, name="Choose a service")).to_be_visible()
    loading.wait_for_load_state("load")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(button).to_be_focused()

    button.click()
    expect(dialog).to_be_visible()
    frame = page.locator("dialog iframe").element_handle().content_frame()
    expect(frame.get_by_role("heading", level=2, name="Choose a service")).to_be_visible()
    if shots is not None:
        page.screenshot(path=shots / "popup-mobile-open.png")
    assert run_axe(frame) == []
    reference = book_in(frame, page, "Dorothy Vaughan")
    if shots is not None:
        page.screenshot(path=shots / "popup-mobile-confirmation.png")
    assert_booked(db, reference, "Dorothy Vaughan")
    booking_posts = [(u, c) for u, c in posts if "/details" in u]
    assert len(booking_posts) == 1 and "session=" not in booking_posts[0][1]

    # Escape pressed inside the booking page closes the popup too (the page tells its host).
    frame.get_by_role("heading", level=2, name="Request sent").click()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(button).to_be_focused()

    page.set_viewport_size(SIZES["desktop"])
    button.click()
    expect(dialog).to_be_visible()
    frame = page.locator("dialog iframe").element_handle().content_frame()
    expect(frame.get_by_role("heading", level=2, name="Choose a service")).to_be_visible()
    frame.wait_for_load_state("load")
    page.wait_for_timeout(300)  # let the frame paint before the picture
    if shots is not None:
        page.screenshot(path=shots / "popup-desktop-open.png")
    page.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)
    assert problems == []
