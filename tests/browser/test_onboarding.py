"""The set-up wizard in Chromium: a new owner signs up, confirms the e-mail link, lands in the
wizard, walks it (the CRM step tested against the SimplyBook.me fake, channels skipped) and ends on
a bookable public page. With JavaScript at phone (390x844) and desktop (1366x900) sizes, each step
swapped in place; without JavaScript at one size, each step a plain page.

With ``WIZARD_SHOTS_DIR`` set, every step is screenshotted there (``<size>-<js|nojs>-<n>-<step>.png``).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)
pytest.importorskip("playwright.sync_api")

from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.test_booking_flow import settled, watch  # noqa: E402
from tests.fakes.simplybook import FakeSimplyBook  # noqa: E402

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
KEY = "sb-key-0123456789abcdef"
SHOTS = os.environ.get("WIZARD_SHOTS_DIR")


@pytest.fixture
def simplybook(app):
    fake = FakeSimplyBook().start()
    fake.add_company("adaspool", api_key=KEY)
    app.config.update(SIMPLYBOOK_API_URL=fake.url, SIMPLYBOOK_TIMEOUT=30)  # a busy machine may be slow; the timeout tests shorten it
    yield fake
    fake.stop()


class Shots:
    def __init__(self, page: Page, prefix: str):
        self.page, self.prefix, self.n = page, prefix, 0

    def __call__(self, name: str) -> None:
        if not SHOTS:
            return
        self.n += 1
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(Path(SHOTS) / f"{self.prefix}-{self.n}-{name}.png"), full_page=True)


def heading(page: Page, name: str):
    return page.get_by_role("heading", level=2, name=name, exact=True)


def sign_up(page: Page, base: str, db, js: bool) -> None:
    from app.models import PendingSignup
    from app.services import accounts

    page.goto(f"{base}/signup")
    page.get_by_label("Your name").fill("Ada Lovelace")
    page.get_by_label("E-mail").fill("ada@adaspool.example")
    page.get_by_label("Password").fill("analytical engine room")
    page.get_by_label("Business name").fill("Ada's Pool")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Check your e-mail to continue")).to_be_visible()
    pending = db.session.scalar(db.select(PendingSignup))
    token = accounts.signup_token(pending)
    db.session.remove()  # release the connection: the server's threads write now
    page.goto(f"{base}/signup/confirm/{token}")
    page.get_by_role("button", name="Create my account").click()
    expect(heading(page, "Your business")).to_be_visible()
    assert page.url == f"{base}/dashboard/welcome"


def walk(page: Page, base: str, shot: Shots, js: bool) -> None:
    expect(page.get_by_text("Step 1 of 6")).to_be_visible()
    # The public contact details start empty: the sign-up e-mail is not shown to clients.
    expect(page.locator("#f-email")).to_have_value("")
    page.locator("#f-phone").fill("+1 312 555 0142")
    shot("welcome")
    page.get_by_role("button", name="Next").click()
    settled(page, js)

    expect(heading(page, "CRM connection")).to_be_visible()
    expect(page.get_by_text("Step 2 of 6")).to_be_visible()
    page.get_by_label("Company login", exact=True).fill("adaspool")
    page.get_by_label("API key", exact=True).fill("not-the-key")
    page.get_by_role("button", name="Test connection").click()
    settled(page, js)
    expect(page.get_by_role("status").filter(has_text="refused this API key")).to_be_visible()
    page.get_by_label("API key", exact=True).fill(KEY)
    page.get_by_role("button", name="Test connection").click()
    settled(page, js)
    expect(page.get_by_role("status").filter(has_text="Connected")).to_be_visible()
    shot("crm")
    page.get_by_role("button", name="Save and continue").click()
    settled(page, js)

    expect(heading(page, "Booking set-up")).to_be_visible()
    page.get_by_label("Group class").check()
    if not js:
        page.get_by_role("button", name="Use this template").click()
    expect(page.locator("#f-service_name")).to_have_value("Group class")
    page.locator("#f-service_name").fill("Aqua fit")
    page.locator("#day-0-start").fill("08:00")
    page.get_by_role("button", name="Copy Monday to all weekdays").click()
    settled(page, js)
    expect(page.locator("#day-4-start")).to_have_value("08:00")
    if js:
        expect(page.locator(".preview-body")).to_contain_text("Aqua fit")
    shot("booking")
    page.get_by_role("button", name="Next").click()
    settled(page, js)

    expect(heading(page, "Channels")).to_be_visible()
    shot("channels")
    page.get_by_role("button", name="Skip this step").click()
    settled(page, js)

    expect(heading(page, "Automations")).to_be_visible()
    shot("automations")
    page.get_by_role("button", name="Finish set-up").click()
    settled(page, js)

    expect(heading(page, "Done")).to_be_visible()
    expect(page.get_by_text("Your link is ready.")).to_be_visible()
    expect(page.locator(".wizard-qr svg")).to_be_visible()
    expect(page.locator(".wizard-summary")).to_contain_text("Channels")
    assert re.search(r"/dashboard/welcome/done$", page.url)
    shot("done")
    link = page.locator("#booking-url").input_value()
    page.goto(base + urlsplit(link).path)  # the link names BASE_URL; the page is served here
    expect(page.get_by_text("Aqua fit").first).to_be_visible()
    expect(page.get_by_text("ada@adaspool.example")).to_have_count(0)
    shot("public-page")


@pytest.mark.parametrize(("size", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_a_new_owner_walks_the_wizard_to_a_bookable_page(live_server, app, db, simplybook, new_context, size, viewport):
    page = new_context(viewport=viewport, timezone_id="America/Chicago", locale="en-US").new_page()
    problems = watch(page)
    sign_up(page, live_server, db, js=True)
    walk(page, live_server, Shots(page, f"{size}-js"), js=True)
    assert problems == []


def test_the_wizard_without_javascript(live_server, app, db, simplybook, new_context):
    page = new_context(viewport=PHONE, java_script_enabled=False, timezone_id="America/Chicago").new_page()
    shot = Shots(page, "phone-nojs")
    sign_up(page, live_server, db, js=False)
    # "Finish later": the overview says nothing is bookable yet and lists what to do.
    page.get_by_role("link", name="Finish later").click()
    checklist = page.locator(".checklist")
    expect(checklist).to_contain_text("Get ready for your first booking")
    expect(checklist.locator(".check-todo")).to_have_count(4)
    expect(page.get_by_text("Not bookable yet")).to_be_visible()
    shot("overview")
    page.get_by_role("link", name="Open the set-up wizard").click()
    walk(page, live_server, shot, js=False)
