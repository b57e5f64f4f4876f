"""Real-browser walk of the forgiving booking form on the demo business (London, requires
approval): an empty submit lists every missing field at once; a phone number written the local
way (07911 123457) is accepted and the booking holds it in international form; going Back and
sending the form again returns the same booking ("You already have this time"), not a second
one and not "taken". With JavaScript (HTMX swaps) and without (plain forms, where Back is the
browser's), on a phone (390x844) and a desktop (1366x900); axe-core finds no WCAG 2.1 A/AA
violation on the form with its errors or on the confirmation page (with JavaScript on).

Screenshots go to ``$BROWSER_SHOTS_DIR/<js|no-js>-<phone|desktop>/`` when that is set.
"""
from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import select

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)
pytest.importorskip("playwright.sync_api")

from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.test_booking_flow import (  # noqa: E402
    AXE_JS, Shots, choose_first_free_day, choose_first_time, choose_service, run_axe, settled, step_heading, watch,
)

from tests.browser.conftest import DESKTOP, PHONE, shots_dir  # noqa: E402
NAME, LOCAL_PHONE, E164 = "Katherine Johnson", "07911 123457", "+447911123457"


def reference_of(page: Page) -> str:
    return re.search(r"/confirmation/(FK-[0-9A-Z]+)", page.url).group(1)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_empty_submit_local_phone_and_back_resubmit(js, viewport, live_server, demo, db, new_context, tmp_path):
    from app.models import Booking

    context = new_context(viewport=viewport, timezone_id="Europe/London", java_script_enabled=js)
    if js:
        context.add_init_script(path=str(AXE_JS))
    page = context.new_page()
    problems = watch(page)
    shot = Shots(page, shots_dir(f"{'js' if js else 'no-js'}-{'phone' if viewport is PHONE else 'desktop'}"))
    violations: dict[str, list] = {}

    page.goto(f"{live_server}/book/{demo.slug}")
    choose_service(page, demo.slug, js)
    choose_first_free_day(page, js)
    choose_first_time(page, js)
    details_url = page.url

    # Every missing field at once.
    page.get_by_role("button", name="Request booking").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    settled(page, js)
    expect(summary.get_by_role("link")).to_have_text([
        "Your name: Please enter your name.",
        "E-mail: Please give an e-mail address or a phone number so we can reach you.",
    ])
    expect(page.get_by_label("Your name", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("E-mail", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#phone-hint")).to_have_text("Like 07400 123456 or +44 7400 123456.")
    shot("errors")
    if js:
        violations["errors"] = run_axe(page)

    # A local number, no e-mail, from the details page opened afresh (so that Back, later, goes
    # to it rather than to the form post that showed the errors).
    page.goto(details_url)
    page.get_by_label("Your name", exact=True).fill(NAME)
    page.get_by_label("Phone", exact=True).fill(LOCAL_PHONE)
    page.get_by_role("button", name="Request booking").click()
    expect(step_heading(page, "Request sent")).to_be_visible()
    settled(page, js)
    reference = reference_of(page)
    expect(page.locator(".sent-to")).to_have_text(re.compile(r"No e-mail was sent: you gave a phone number only \(\+44 … 3457\)"))
    expect(page.get_by_role("link", name=re.compile("Add to Google Calendar"))).to_have_count(0)
    shot("confirmation")
    if js:
        violations["confirmation"] = run_axe(page)

    # Back, and send the form again.
    page.go_back()
    settled(page, js)
    if step_heading(page, "Your details").count():
        if not page.get_by_label("Your name", exact=True).input_value():  # the browser kept nothing
            page.get_by_label("Your name", exact=True).fill(NAME)
            page.get_by_label("Phone", exact=True).fill(LOCAL_PHONE)
        page.get_by_role("button", name="Request booking").click()
    expect(page.get_by_text("You already have this time")).to_be_visible()
    settled(page, js)
    assert reference_of(page) == reference
    shot("already")
    if js:
        violations["already"] = run_axe(page)
    # Straight to the details page of that time again (a bookmark, another tab): the same.
    page.goto(details_url)
    expect(page.get_by_text("You already have this time")).to_be_visible()
    assert reference_of(page) == reference

    db.session.expire_all()
    mine = db.session.scalars(select(Booking).where(Booking.client_name == NAME)).all()
    assert [(b.reference, b.client_phone, b.client_email) for b in mine] == [(reference, E164, None)]
    assert violations == {step: [] for step in violations}
    assert problems == []


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_landing_and_error_pages_pass_axe(viewport, live_server, demo, new_context, tmp_path):
    page = new_context(viewport=viewport, timezone_id="Europe/London").new_page()
    page.add_init_script(path=str(AXE_JS))
    problems = watch(page)
    shot = Shots(page, shots_dir(f"pages-{'phone' if viewport is PHONE else 'desktop'}"))
    found = {}

    page.goto(f"{live_server}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("One booking link. Your calendar, kept in order.")
    expect(page.get_by_role("link", name="See an example booking page")).to_have_attribute("href", f"/book/{demo.slug}")
    found["landing"] = run_axe(page)
    shot("landing")

    page.goto(f"{live_server}/book/{demo.slug}/99999")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.locator(".error-links a")).to_have_text([f"Book with {demo.business_name}", "Flowkey home"])
    found["not-found"] = run_axe(page)
    shot("not-found")

    page.get_by_role("link", name=f"Book with {demo.business_name}").click()
    expect(page).to_have_url(f"{live_server}/book/{demo.slug}")
    assert found == {"landing": [], "not-found": []}
    assert problems == [f"404 GET {live_server}/book/{demo.slug}/99999"]  # the page asked for, and nothing else
