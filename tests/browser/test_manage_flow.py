"""Real-browser walk of the client's manage link on the demo business: the client books, opens
"Manage booking" from the confirmation page, moves the booking to another day, then cancels it
(withdraws it, when it is a request awaiting approval). With JavaScript (HTMX swaps, each step's
URL pushed, no full page load) and without (plain links and forms), on a phone (390x844) and a
desktop (1366x900). axe-core finds no WCAG 2.1 A/AA violation on any manage step (with
JavaScript off the same URLs are checked in a second, scripted tab).

Screenshots of every step go to ``$BROWSER_SHOTS_DIR/<js|no-js>-<phone|desktop>/`` when that is
set (e.g. ``/tmp/shots``).
"""
from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)
pytest.importorskip("playwright.sync_api")

from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.test_booking_flow import (  # noqa: E402
    AXE_JS, GRACE, Shots, StepCheck, choose_service, fill_details, run_axe, settled, step_heading, watch,
)

from tests.browser.conftest import DESKTOP, PHONE, shots_dir  # noqa: E402
LONDON = ZoneInfo("Europe/London")


def free_day_links(page: Page):
    return page.get_by_role("table").get_by_role("link", name=re.compile(r"\d+ free times?$"))


def pick_day(page: Page, js: bool, not_before: date, skip: date | None = None) -> tuple[date, int]:
    """Click the first free day on or after ``not_before`` (other than ``skip``), moving to later
    months if needed; returns it and how many months it moved."""
    for moved in range(3):
        for link in free_day_links(page).all():
            day = date.fromisoformat(parse_qs(urlsplit(link.get_attribute("href")).query)["date"][0])
            if day >= not_before and day != skip:
                link.click()
                expect(page).to_have_url(re.compile(rf"[?&]date={day.isoformat()}"))
                settled(page, js)
                return day, moved
        month = page.get_by_role("heading", level=3).first.inner_text()
        page.get_by_role("link", name=re.compile(r"^Next month")).click()
        expect(page.get_by_role("heading", level=3).first).not_to_have_text(month)
        settled(page, js)
    raise AssertionError("no free day far enough ahead")


def first_time(page: Page) -> str:
    """Click the day's first free time; returns its ``start`` (ISO, UTC) from the link."""
    link = page.locator("a.slot").first
    expect(link).to_be_visible()
    start = parse_qs(urlsplit(link.get_attribute("href")).query)["start"][0]
    link.click()
    return start


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_client_reschedules_then_cancels_from_the_confirmation_page(js, viewport, live_server, demo, db, app, new_context, tmp_path):
    from app.models import ActorKind, Booking, Business
    from app.services import business_service

    confirmed = js  # with JavaScript a booking confirmed at once; without, a request awaiting approval
    if confirmed:
        business = db.session.scalar(select(Business).where(Business.slug == demo.slug))
        business_service.update_settings(business, requires_approval=False)
        db.session.remove()
    size = PHONE if viewport == "phone" else DESKTOP
    options = dict(java_script_enabled=js, viewport=size, timezone_id="Europe/London")
    if viewport == "phone":
        options.update(is_mobile=True, has_touch=True)
    page = new_context(**options).new_page()
    problems = watch(page)
    shot = Shots(page, shots_dir(f"{'js' if js else 'no-js'}-{viewport}"))
    visited: list[str] = []
    axe_found: dict[str, list[dict]] = {}
    if js:
        page.add_init_script(path=str(AXE_JS))

    def check(name: str) -> None:
        settled(page, js)
        visited.append(page.url)
        if js:
            axe_found[name] = run_axe(page)
        shot(name)

    # Book (the public flow), two days ahead or more: well before the 12-hour limit on changes.
    today = datetime.now(LONDON).date()
    page.goto(f"{live_server}/book/{demo.slug}")
    choose_service(page, demo.slug, js)
    booked_day, _ = pick_day(page, js, today + timedelta(days=2))
    first_time(page)
    expect(step_heading(page, "Your details")).to_be_visible()
    settled(page, js)
    fill_details(page, GRACE)
    page.get_by_role("button", name="Confirm booking" if confirmed else "Request booking").click()
    expect(step_heading(page, "You're booked" if confirmed else "Request sent")).to_be_visible()
    settled(page, js)
    reference = re.search(r"/confirmation/(FK-[0-9A-Z]+)", page.url).group(1)
    shot("confirmation")

    # Manage booking, from the confirmation page.
    pushed = StepCheck(page, js)
    page.get_by_role("link", name="Manage booking").click()
    expect(step_heading(page, "Your booking" if confirmed else "Your request")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/book/{demo.slug}/manage/[^/?]+(\?.*)?$"))
    manage_url = page.url.split("?")[0]
    pushed()
    expect(page.get_by_text(reference, exact=True)).to_be_visible()
    expect(page.get_by_text("You can reschedule or cancel online until 12 hours before your appointment." if confirmed
                            else "You can withdraw your request at any time.")).to_be_visible()
    check("manage")

    # Reschedule: another day, its first time, confirm.
    page.get_by_role("button", name="Pick a new time").click()
    expect(step_heading(page, "Pick a new time")).to_be_visible()
    pushed()
    check("reschedule-month")
    new_day, months = pick_day(page, js, today + timedelta(days=2), skip=booked_day)
    if js:
        pushed.length += months  # each month moved pushed its URL too
    pushed()
    check("reschedule-times")
    new_start = first_time(page)
    expect(step_heading(page, "Confirm your new time")).to_be_visible()
    pushed()
    check("reschedule-confirm")
    page.get_by_role("button", name="Move my booking" if confirmed else "Move my request").click()
    message = "Your booking has moved to its new time." if confirmed else "Your request has moved to its new time."
    expect(page.get_by_text(re.compile(re.escape(message)))).to_be_visible()
    expect(page).to_have_url(re.compile(re.escape(manage_url) + r"(\?.*)?$"))
    if js:  # swapped in place, URL pushed, focus on the step heading
        assert page.evaluate("() => window.__flowkeyMarker") == "first-page", "moving reloaded the page"
        expect(step_heading(page, "Your booking")).to_be_focused()
    check("rescheduled")

    # Cancel (or withdraw), with a reason.
    action = "Cancel booking" if confirmed else "Withdraw request"
    page.get_by_role("button", name=action).click()  # a link styled as a button
    expect(step_heading(page, "Cancel your booking?" if confirmed else "Withdraw your request?")).to_be_visible()
    check("cancel")
    page.get_by_label("Reason (optional)").fill("Something came up.")
    page.get_by_role("button", name=action).click()
    done = "Your booking is cancelled." if confirmed else "Your request is withdrawn."
    expect(page.get_by_text(re.compile(re.escape(done)))).to_be_visible()
    expect(page.get_by_text("This booking is cancelled. Nothing more to do here.")).to_be_visible()
    expect(page.get_by_role("button", name="Pick a new time")).to_have_count(0)
    check("cancelled")

    if not js:  # the same pages, with a scripted tab for axe
        axe_page = new_context(viewport=size, timezone_id="Europe/London").new_page()
        axe_page.add_init_script(path=str(AXE_JS))
        problems += watch(axe_page)
        for n, url in enumerate(visited):
            axe_page.goto(url)
            axe_found[f"{n}:{url}"] = run_axe(axe_page)

    violations = {name: v for name, v in axe_found.items() if v}
    assert violations == {}, "axe-core WCAG 2.1 A/AA violations:\n" + "\n".join(
        f"  {name}: {v['id']} ({v['impact']}) {v['help']}: {v['targets']}" for name, vs in violations.items() for v in vs
    )
    assert problems == []

    db.session.remove()  # a fresh session: the server threads wrote these rows
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    start = datetime.fromisoformat(new_start.replace("Z", "+00:00"))
    assert (booking.status.value, booking.start_at, booking.cancellation_reason, booking.sequence) == (
        "cancelled", start, "Something came up.", 2,
    )
    assert booking.start_at.astimezone(LONDON).date() == new_day
    assert [(e.event.value, e.actor_kind) for e in booking.events] == [
        ("booked" if confirmed else "requested", ActorKind.CLIENT),
        ("rescheduled", ActorKind.CLIENT),
        ("cancelled", ActorKind.CLIENT),
    ]


def test_a_revoked_link_shows_its_page(live_server, demo, db, new_context, tmp_path):
    """The 410 page of a revoked link, axe-clean, with the business's contact details; a page
    left open when the owner revoked the link shows it at the next click."""
    from app.models import Booking, Business
    from app.services import booking_service, client_self_service

    business = db.session.scalar(select(Business).where(Business.slug == demo.slug))
    booking = db.session.scalar(select(Booking).where(Booking.business_id == business.id, Booking.client_email == "isla@example.com"))
    old = client_self_service.manage_path(booking)
    db.session.remove()
    open_page = new_context(viewport=PHONE, timezone_id="Europe/London").new_page()
    open_page.goto(f"{live_server}{old}")
    expect(open_page.get_by_role("button", name="Pick a new time")).to_be_visible()

    business = db.session.scalar(select(Business).where(Business.slug == demo.slug))
    booking_service.revoke_client_links(business, booking.id)
    db.session.remove()
    open_page.get_by_role("button", name="Pick a new time").click()  # an htmx request, answered 410
    expect(open_page.get_by_role("heading", level=2, name="This link no longer works")).to_be_visible()
    expect(open_page).to_have_url(f"{live_server}{old}")
    for name, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page = new_context(viewport=size, timezone_id="Europe/London").new_page()
        page.add_init_script(path=str(AXE_JS))
        response = page.goto(f"{live_server}{old}")
        assert response.status == 410
        expect(page.get_by_role("heading", level=2, name="This link no longer works")).to_be_visible()
        expect(page.locator("#booking-step").get_by_role("link", name="+44 20 7946 0000")).to_be_visible()
        assert run_axe(page) == []
        if (directory := shots_dir(f"revoked-{name}")) is not None:
            page.screenshot(path=directory / "01-revoked.png", full_page=True)


def test_owner_sees_who_changed_the_booking_and_the_client_rules(live_server, demo, db, new_context, tmp_path):
    """After the client moved their booking online, the owner's booking page says so (and offers
    the client's link and "Revoke client links"); the settings page has the client rules. Both
    axe-clean, on a desktop and a phone."""
    from app.models import Booking, Business
    from app.services import booking_service
    from tests.browser.test_booking_flow import log_in

    business = db.session.scalar(select(Business).where(Business.slug == demo.slug))
    booking = db.session.scalar(select(Booking).where(Booking.business_id == business.id, Booking.client_email == "isla@example.com"))
    start = booking.start_at
    slots = booking_service.client_reschedule_slots(business, booking, start.date(), start.date() + timedelta(days=7))
    booking_service.client_reschedule(business, booking.id, slots[0].start)
    booking_id = booking.id
    db.session.remove()

    for name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page = new_context(viewport=size, timezone_id="Europe/London").new_page()
        page.add_init_script(path=str(AXE_JS))
        problems = watch(page)
        shot = Shots(page, shots_dir(f"owner-{name}"))
        log_in(page, live_server, demo)
        page.goto(f"{live_server}/dashboard/bookings/{booking_id}")
        history = page.get_by_role("region", name="History")
        expect(history.get_by_role("listitem").last).to_contain_text("rescheduled (")
        expect(history.get_by_role("listitem").last).to_contain_text("by the client")
        expect(history.get_by_role("listitem").nth(1)).to_contain_text("approved by Alex")
        expect(page.get_by_role("button", name="Revoke client links")).to_be_visible()
        assert run_axe(page) == []
        shot("booking")
        page.goto(f"{live_server}/dashboard/settings")
        expect(page.get_by_role("group", name="Changes by clients")).to_be_visible()
        expect(page.get_by_label("Online rescheduling closes (hours before the start)")).to_have_value("12")
        assert run_axe(page) == []
        shot("settings")
        assert problems == []


def test_too_late_to_change_online_says_whom_to_call(live_server, demo, db, new_context, tmp_path):
    """Inside the business's notice window the manage page offers no change, only the business's
    phone and e-mail; axe-clean on a phone and a desktop."""
    from app.models import Booking, Business
    from app.services import business_service, client_self_service

    business = db.session.scalar(select(Business).where(Business.slug == demo.slug))
    business_service.update_settings(business, client_reschedule_notice_hours=720, client_cancel_notice_hours=720)
    booking = db.session.scalar(select(Booking).where(Booking.business_id == business.id, Booking.client_email == "isla@example.com"))
    url = f"{live_server}{client_self_service.manage_path(booking)}"
    db.session.remove()
    for name, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page = new_context(viewport=size, timezone_id="Europe/London").new_page()
        page.add_init_script(path=str(AXE_JS))
        problems = watch(page)
        page.goto(url)
        expect(page.get_by_text("It is too late to change this booking online.")).to_be_visible()
        expect(page.locator("#booking-step").get_by_role("link", name="+44 20 7946 0000")).to_be_visible()
        expect(page.get_by_role("button", name="Pick a new time")).to_have_count(0)
        assert run_axe(page) == []
        if (directory := shots_dir(f"too-late-{name}")) is not None:
            page.screenshot(path=directory / "01-too-late.png", full_page=True)
        assert problems == []
