"""The client's manage pages in German (the browser's Accept-Language is de-DE), with JavaScript
and without: the booking, the reschedule picker, a day's times, a new time's confirmation, the
cancel page and the cancelled booking. Each is axe-clean (WCAG 2.1 A/AA; without JavaScript the
same URL is checked in a second, scripted tab, since axe needs scripts) and screenshotted at
390x844 and 1366x900 (no sideways scrolling at either; screenshots into
``$BROWSER_SHOTS_DIR/manage-de-<js|no-js>/`` when that is set). The demo's confirmed booking of Isla Wilson is the one managed.
"""
from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import select

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)
pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect  # noqa: E402

from tests.browser.test_booking_flow import AXE_JS, run_axe, settled, watch  # noqa: E402

from tests.browser.conftest import DESKTOP, PHONE, at_both_sizes, shots_dir  # noqa: E402


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_manage_pages_in_german(js, live_server, demo, db, new_context, tmp_path):
    from app.demo import MANAGE_LINK_CLIENT
    from app.domain.booking_state import BookingStatus
    from app.models import Booking
    from app.services import client_self_service

    booking = db.session.scalar(select(Booking).where(Booking.client_email == MANAGE_LINK_CLIENT))
    assert booking.status == BookingStatus.CONFIRMED
    manage_url = live_server + client_self_service.manage_path(booking)
    booking_id = booking.id
    db.session.remove()

    page = new_context(locale="de-DE", java_script_enabled=js, viewport=PHONE, timezone_id="Europe/Berlin").new_page()
    axe_page = new_context(locale="de-DE", viewport=DESKTOP, timezone_id="Europe/Berlin").new_page()
    axe_page.add_init_script(path=str(AXE_JS))  # outside the page's Content-Security-Policy
    if js:
        page.add_init_script(path=str(AXE_JS))
    problems = watch(page) + watch(axe_page)
    directory = shots_dir(f"manage-de-{'js' if js else 'no-js'}")
    violations: dict[str, list[dict]] = {}
    steps: list[str] = []

    def check(step: str) -> None:
        settled(page, js)
        expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^de"))
        steps.append(step)
        at_both_sizes(page, f"{len(steps):02d}-{step}", directory)
        if js:
            found = run_axe(page)
        else:  # the page as served, in a tab that runs scripts
            axe_page.goto(page.url)
            found = run_axe(axe_page)
        if found:
            violations[step] = found

    page.goto(manage_url)
    expect(page.get_by_role("heading", level=2, name="Ihre Buchung")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Bestätigt", ignore_case=True)
    check("booking")

    page.get_by_role("button", name="Neuen Termin wählen").click()
    expect(page).to_have_url(re.compile(r"/reschedule(\?.*)?$"))
    expect(page.get_by_role("table")).to_be_visible()
    # German weekday headings, Monday first.
    expect(page.get_by_role("columnheader").first).to_have_text(re.compile(r"^Mo"))
    check("reschedule-month")

    page.locator("table a[href*='date=']").first.click()
    expect(page).to_have_url(re.compile(r"[?&]date=\d{4}-\d{2}-\d{2}"))
    times = page.locator("a[href*='/reschedule/confirm']")
    expect(times.first).to_be_visible()
    expect(times.first).to_have_text(re.compile(r"^\s*\d{2}:\d{2}"))  # a 24-hour clock
    check("reschedule-times")

    times.first.click()
    expect(page).to_have_url(re.compile(r"/reschedule/confirm\?"))
    expect(page.locator("main form button[type=submit]")).to_be_visible()
    check("reschedule-confirm")

    page.goto(manage_url)
    page.get_by_role("button", name="Buchung stornieren").click()
    expect(page).to_have_url(re.compile(r"/cancel(\?.*)?$"))
    expect(page.get_by_role("heading", level=2, name="Buchung stornieren?")).to_be_visible()
    check("cancel")

    page.locator("main form button[type=submit]").click()
    expect(page.get_by_text(re.compile(r"Ihre Buchung ist storniert\."))).to_be_visible()
    check("cancelled")

    db.session.remove()
    assert db.session.get(Booking, booking_id).status == BookingStatus.CANCELLED
    assert violations == {}, "axe-core WCAG 2.1 A/AA violations:\n" + "\n".join(
        f"  {step}: {v['id']} ({v['impact']}) {v['help']}: {v['targets']}" for step, vs in violations.items() for v in vs
    )
    assert problems == []
