"""Real-browser walks of the booking link.

A client books a lesson on the demo business through every public step and sees the confirmation;
the owner logs in, approves the request in the queue and sees the booking confirmed. Once with
JavaScript (HTMX swaps, URL pushed at each step) and once without (plain links and forms). A third
test runs axe-core on every public step and fails on any WCAG 2.1 A/AA violation.

Screenshots of each step land in the test's ``tmp_path`` (run with ``--basetemp=DIR`` to keep them).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)
pytest.importorskip("playwright.sync_api")

from tests.browser.conftest import shots_dir  # noqa: E402
from playwright.sync_api import Page, expect  # noqa: E402

AXE_JS = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MOBILE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SERVICE = "Private Swimming Lesson"  # one of the demo's services (app/demo.py)


@dataclass(frozen=True)
class Client:
    name: str
    email: str
    phone: str
    notes: str
    phone_e164: str


GRACE = Client("Grace Hopper", "Grace.Hopper@Example.com", "+44 7911 123457", "Can swim a little; wants to learn front crawl.", "+447911123457")
ADA = Client("Ada Lovelace", "ada.lovelace@example.com", "+1 212 555 0123", "", "+12125550123")


# ------------------------------------------------------------------ helpers

class Shots:
    """Numbered full-page screenshots into ``$BROWSER_SHOTS_DIR/<name>`` when that is set
    (tests/browser/conftest.py ``shots_dir``); nothing otherwise."""

    def __init__(self, page: Page, directory: Path | str | None):
        if isinstance(directory, str):
            directory = shots_dir(directory)
        elif isinstance(directory, Path) and shots_dir(directory.name) != directory:
            directory = shots_dir(directory.name)  # a test's tmp_path: nobody looks there
        self.page, self.directory, self.n = page, directory, 0

    def __call__(self, name: str) -> None:
        self.n += 1
        if self.directory is not None:
            self.page.screenshot(path=self.directory / f"{self.n:02d}-{name}.png", full_page=True)


# Reports every Content-Security-Policy violation on the console, including ones in frames and
# ones the browser reports without a console line of its own.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("Content Security Policy violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
    " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


def watch(page: Page) -> list[str]:
    """Collect JavaScript errors, Content-Security-Policy violations (any console message that
    names the policy, whatever its level), 5xx responses and missing resources (the browser's own
    favicon probe aside); the test asserts the list stays empty. Call it before the first goto."""
    problems: list[str] = []
    page.add_init_script(REPORT_CSP_VIOLATIONS)

    def on_console(msg):
        if "Content Security Policy" in msg.text:
            problems.append(f"CSP violation ({msg.type}): {msg.text}")
        # A failed load is reported below with its URL; the console line repeats it without one.
        elif msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            problems.append(f"console error: {msg.text}")

    def on_response(response):
        if response.status >= 500 or (response.status == 404 and not response.url.endswith("/favicon.ico")):
            problems.append(f"{response.status} {response.request.method} {response.url}")

    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", on_console)
    page.on("response", on_response)
    return problems


def settled(page: Page, js: bool) -> None:
    """Wait until HTMX has finished requesting, swapping and settling."""
    if js:
        page.wait_for_function(
            "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
        )


def step_heading(page: Page, name: str):
    return page.get_by_role("heading", level=2, name=name, exact=True)


class StepCheck:
    """With JS, every step is an HTMX swap that pushes one history entry: the marker set on the
    first page survives and ``history.length`` grows by one per step."""

    def __init__(self, page: Page, js: bool):
        self.page, self.js = page, js
        if js:
            page.evaluate("() => { window.__flowkeyMarker = 'first-page'; }")
            self.length = page.evaluate("() => history.length")

    def __call__(self) -> None:
        if not self.js:
            return
        assert self.page.evaluate("() => window.__flowkeyMarker") == "first-page", "the step caused a full page load"
        self.length += 1
        assert self.page.evaluate("() => history.length") == self.length, "the step did not push its URL"


def choose_service(page: Page, slug: str, js: bool) -> None:
    page.get_by_role("button", name=f"Choose {SERVICE}").click()
    expect(step_heading(page, "Pick a time")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/book/{slug}/\d+(\?.*)?$"))
    settled(page, js)
    if js:  # the swapped-in step's heading takes focus, so screen readers announce it
        expect(step_heading(page, "Pick a time")).to_be_focused()


def free_days(page: Page):
    return page.get_by_role("table").get_by_role("link", name=re.compile(r"\d+ free times?$"))


def choose_first_free_day(page: Page, js: bool) -> str:
    """Click the first day with free times, moving to later months if needed; returns its date."""
    for _ in range(3):
        if free_days(page).count():
            break
        month = page.get_by_role("heading", level=3).first.inner_text()
        page.get_by_role("link", name=re.compile(r"^Next month")).click()
        expect(page.get_by_role("heading", level=3).first).not_to_have_text(month)
        settled(page, js)
    assert free_days(page).count(), "no day with free times in the bookable window"
    free_days(page).first.click()
    expect(page).to_have_url(re.compile(r"[?&]date=\d{4}-\d{2}-\d{2}"))
    expect(page.get_by_role("heading", level=3, name="Choose a day")).to_have_count(0)
    settled(page, js)
    return parse_qs(urlsplit(page.url).query)["date"][0]


def time_links(page: Page):
    return page.get_by_role("list").get_by_role("link", name=re.compile(r"^\d{2}:\d{2}"))


def choose_first_time(page: Page, js: bool) -> datetime:
    """Click the first free time; returns the chosen instant (UTC) from the pushed URL."""
    expect(time_links(page).first).to_be_visible()
    time_links(page).first.click()
    expect(step_heading(page, "Your details")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/details\?.*start="))
    settled(page, js)
    start = parse_qs(urlsplit(page.url).query)["start"][0]
    return datetime.fromisoformat(start.replace("Z", "+00:00")).astimezone(timezone.utc)


def fill_details(page: Page, client: Client) -> None:
    page.get_by_label("Your name", exact=True).fill(client.name)
    page.get_by_label("E-mail", exact=True).fill(client.email)
    page.get_by_label("Phone", exact=True).fill(client.phone)
    page.get_by_label("Notes for the business (optional)", exact=True).fill(client.notes)


def submit_request(page: Page, slug: str, js: bool) -> str:
    """Send the details form; returns the reference shown on the confirmation page."""
    page.get_by_role("button", name="Request booking").click()
    expect(step_heading(page, "Request sent")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/book/{slug}/confirmation/FK-[0-9A-Z]+\?"))
    settled(page, js)
    reference = re.search(r"/confirmation/(FK-[0-9A-Z]+)", page.url).group(1)
    expect(page.get_by_text(reference, exact=True).first).to_be_visible()
    expect(page.get_by_text("awaiting approval", exact=True)).to_be_visible()
    # A request is not in anyone's calendar yet: the invitation comes with the approval.
    expect(page.get_by_text(re.compile(r"We e-mailed you at \w…@\S+\. You'll get a calendar invitation when it is approved\."))).to_be_visible()
    expect(page.get_by_role("group", name="Add to calendar")).to_have_count(0)
    return reference


def book_as_client(page: Page, base: str, slug: str, client: Client, shot: Shots, js: bool) -> tuple[str, datetime]:
    """Walk the public flow; returns (reference, chosen start)."""
    page.goto(f"{base}/book/{slug}")
    expect(step_heading(page, "Choose a service")).to_be_visible()
    pushed = StepCheck(page, js)
    shot("services")

    choose_service(page, slug, js)
    pushed()
    shot("month")

    choose_first_free_day(page, js)
    pushed()
    shot("times")

    start = choose_first_time(page, js)
    pushed()
    shot("details")

    fill_details(page, client)
    reference = submit_request(page, slug, js)
    pushed()
    shot("confirmation")
    return reference, start


def log_in(page: Page, base: str, demo) -> None:
    page.goto(f"{base}/login")
    expect(page.get_by_role("heading", level=1, name="Log in")).to_be_visible()
    page.get_by_label("E-mail", exact=True).fill(demo.owner_email)
    page.get_by_label("Password", exact=True).fill(demo.owner_password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/?$"))


def dashboard_link(page: Page, name: str):
    return page.get_by_role("navigation", name="Dashboard").get_by_role("link", name=re.compile(rf"^{name}\b"))


def requests_badge(count: int) -> re.Pattern:
    """The Requests nav link's accessible name with its count badge (no badge at zero)."""
    return re.compile(rf"^Requests\s*{count} awaiting approval$" if count else r"^Requests$")


def approve_as_owner(page: Page, base: str, demo, client: Client, reference: str, shot: Shots, js: bool) -> None:
    log_in(page, base, demo)
    shot("owner-overview")

    dashboard_link(page, "Requests").click()
    expect(page.get_by_role("heading", level=1, name="Requests awaiting approval")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/dashboard/requests$"))
    # The demo's own pending requests plus ours.
    expect(dashboard_link(page, "Requests")).to_have_accessible_name(requests_badge(demo.pending + 1))
    row = page.get_by_role("article", name=f"{client.name} · {SERVICE}")
    expect(row).to_be_visible()
    expect(row).to_contain_text("Awaiting approval")
    expect(row).to_contain_text(client.email.lower())
    if js:
        page.evaluate("() => { window.__flowkeyMarker = 'requests'; }")
    shot("requests")

    row.get_by_role("button", name=f"Approve {client.name}").click()
    if js:
        # Swapped in place: same page, the row now says confirmed, the badge counts one less.
        expect(row.get_by_role("status")).to_have_text(re.compile(rf"Approved: {client.name}'s booking is confirmed\."))
        expect(row).to_contain_text("Confirmed")
        expect(row.get_by_role("button", name=f"Approve {client.name}")).to_have_count(0)
        expect(dashboard_link(page, "Requests")).to_have_accessible_name(requests_badge(demo.pending))
        assert page.evaluate("() => window.__flowkeyMarker") == "requests", "approving reloaded the page"
        settled(page, js)
        shot("approved-in-place")
        row.get_by_role("link", name=f"View booking {reference}").click()
    else:
        # A plain POST: redirected back to the queue with a flash; the request has left the queue.
        expect(page).to_have_url(re.compile(r"/dashboard/requests$"))
        expect(page.get_by_role("status").filter(has_text="Approved")).to_have_text(
            re.compile(rf"Approved: {client.name}'s booking is confirmed\.")
        )
        expect(row).to_have_count(0)
        expect(page.get_by_role("article")).to_have_count(demo.pending)
        shot("approved")
        dashboard_link(page, "Bookings").click()
        expect(page.get_by_role("heading", level=1, name="Bookings")).to_be_visible()
        booking_row = page.get_by_role("row").filter(has_text=client.name)
        expect(booking_row).to_have_count(1)
        expect(booking_row).to_contain_text(SERVICE)
        expect(booking_row).to_contain_text("Confirmed")
        shot("bookings")
        booking_row.get_by_role("link").first.click()

    expect(page.get_by_role("heading", level=1, name=f"Booking {reference}")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Confirmed")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    shot("booking-detail")


def assert_confirmed_in_db(db, demo, reference: str, start: datetime, client: Client, client_tz: str) -> None:
    from app.domain.booking_state import BookingStatus
    from app.models import Booking

    db.session.remove()  # a fresh session: the server threads wrote these rows
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    assert booking is not None
    assert (
        booking.status, booking.service.name, booking.start_at, booking.client_name, booking.client_email,
        booking.client_phone, booking.client_timezone, booking.notes, booking.seats, booking.approved_by_id,
    ) == (
        BookingStatus.CONFIRMED, SERVICE, start, client.name, client.email.lower(),
        client.phone_e164, client_tz, client.notes, 1, demo.owner_id,
    )
    assert booking.approved_at is not None
    assert [(e.from_status, e.to_status, e.actor_user_id) for e in booking.events] == [
        (None, BookingStatus.PENDING, None),
        (BookingStatus.PENDING, BookingStatus.CONFIRMED, demo.owner_id),
    ]


# ------------------------------------------------------------------ tests

@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_client_books_and_owner_approves(js, live_server, demo, db, new_context, tmp_path):
    client = GRACE if js else ADA
    # With JS the browser's zone (New York) is detected and used; without, the business's.
    client_tz = "America/New_York" if js else "Europe/London"

    page = new_context(java_script_enabled=js, viewport=MOBILE, timezone_id="America/New_York", is_mobile=True, has_touch=True).new_page()
    problems = watch(page)
    reference, start = book_as_client(page, live_server, demo.slug, client, Shots(page, tmp_path), js)
    assert parse_qs(urlsplit(page.url).query).get("tz") == [client_tz]

    owner_page = new_context(java_script_enabled=js, viewport=DESKTOP).new_page()
    problems += watch(owner_page)
    approve_as_owner(owner_page, live_server, demo, client, reference, Shots(owner_page, tmp_path / "owner"), js)

    assert_confirmed_in_db(db, demo, reference, start, client, client_tz)
    assert problems == []


def run_axe(page: Page) -> list[dict]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    assert result["passes"], "axe-core checked nothing: is the page empty?"
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "targets": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
    ]


def test_public_steps_pass_axe(live_server, demo, new_context, tmp_path):
    page = new_context(viewport=MOBILE, timezone_id="Europe/London", is_mobile=True, has_touch=True).new_page()
    # An init script, not a <script> tag added later: the page's Content-Security-Policy refuses
    # inline scripts without its nonce, and the browser runs init scripts outside the policy.
    page.add_init_script(path=str(AXE_JS))
    problems = watch(page)
    shot = Shots(page, tmp_path)
    found: dict[str, list[dict]] = {}

    def check(step: str) -> None:
        settled(page, True)
        found[step] = run_axe(page)
        shot(step)

    page.goto(f"{live_server}/book/{demo.slug}")
    expect(step_heading(page, "Choose a service")).to_be_visible()
    check("services")

    choose_service(page, demo.slug, True)
    check("month")

    choose_first_free_day(page, True)
    check("times")

    choose_first_time(page, True)
    check("details")

    page.get_by_label("Your name", exact=True).fill("")
    page.get_by_label("E-mail", exact=True).fill("not-an-email")
    page.get_by_role("button", name="Request booking").click()
    expect(page.get_by_role("alert")).to_contain_text("Please check your details")
    expect(page.get_by_role("alert")).to_be_focused()
    expect(page.get_by_label("E-mail", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Your name", exact=True)).to_have_attribute("aria-invalid", "true")
    check("details-errors")

    fill_details(page, ADA)
    submit_request(page, demo.slug, True)
    check("confirmation")

    violations = {step: v for step, v in found.items() if v}
    assert violations == {}, "axe-core WCAG 2.1 A/AA violations:\n" + "\n".join(
        f"  {step}: {v['id']} ({v['impact']}) {v['help']}: {v['targets']}" for step, vs in violations.items() for v in vs
    )
    assert problems == []


def test_every_page_runs_its_scripts_under_the_content_security_policy(live_server, demo, new_context, tmp_path):
    """Sign-up, log-in and every dashboard page, with JavaScript: no CSP violation reported, and
    the behaviour that moved out of inline scripts and on*= handlers still works."""
    page = new_context(viewport=DESKTOP, timezone_id="Asia/Tokyo").new_page()
    problems = watch(page)
    shot = Shots(page, tmp_path)

    page.goto(f"{live_server}/signup")
    expect(page.get_by_label("Time zone", exact=True)).to_have_value("Asia/Tokyo")  # app.js pre-selects the browser's zone
    shot("signup")

    log_in(page, live_server, demo)
    expect(page.locator("#booking-url")).to_be_visible()
    copy = page.get_by_role("button", name="Copy")
    expect(copy).to_be_visible()  # dashboard.js shows it
    copy.click()
    expect(page.get_by_text(re.compile(r"^(Copied\.|Press Ctrl\+C)"))).to_be_visible()
    page.locator("#booking-url").focus()
    assert page.evaluate("() => { const i = document.getElementById('booking-url'); return i.selectionEnd - i.selectionStart; }") > 0
    shot("overview")

    for path in ("requests", "bookings", "services", "services/new", "hours", "settings", "api-keys", "notifications",
                 "notifications/preferences", "jobs", "sent-email"):
        page.goto(f"{live_server}/dashboard/{path}")
        expect(page.locator("main h1").first).to_be_visible()
        settled(page, True)
        shot(path.replace("/", "-"))

    # The staff picker on the hours page sends its form on change (was an onchange attribute).
    page.goto(f"{live_server}/dashboard/hours")
    staff = page.locator("#staff")
    options = staff.locator("option").all()
    if len(options) > 1:
        other = options[1].get_attribute("value")
        staff.select_option(other)
        expect(page).to_have_url(re.compile(rf"/dashboard/hours\?staff={other}$"))

    page.goto(f"{live_server}/book/{demo.slug}")
    expect(step_heading(page, "Choose a service")).to_be_visible()
    assert problems == []
