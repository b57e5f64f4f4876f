"""The owner's dashboard on a phone (390×844) and a desk (1366×900), JavaScript on: the overview,
the requests queue (Reject reveals its reason), searching bookings, and the hours (add an
interval, copy a day to all weekdays). axe-core checks each page; no column, link or button may
leave the screen sideways. Screenshots go to ``$DASH_SHOTS_DIR`` when it is set."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)
pytest.importorskip("playwright.sync_api")

from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.test_booking_flow import AXE_JS, log_in, run_axe, settled, watch  # noqa: E402

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}

# Anything wider than the viewport (a table column, a long date, the link input) scrolls the page sideways.
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


class Shots:
    def __init__(self, page: Page, size: str):
        self.page, self.size, self.n = page, size, 0
        directory = os.environ.get("DASH_SHOTS_DIR")
        self.directory = Path(directory) if directory else None
        if self.directory:
            self.directory.mkdir(parents=True, exist_ok=True)

    def __call__(self, name: str) -> None:
        if self.directory is None:
            return
        self.n += 1
        self.page.screenshot(path=self.directory / f"{self.size}-{self.n:02d}-{name}.png", full_page=True)


def open_menu_item(page: Page, name: str, phone: bool) -> None:
    """Follow a main-menu link: on a phone the menu opens first."""
    if phone:
        page.get_by_text("Menu", exact=True).click()
        expect(page.get_by_role("navigation", name="Dashboard")).to_be_visible()
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name=re.compile(rf"^{name}\b")).click()


def check(page: Page, shot: Shots, name: str) -> None:
    settled(page, True)
    shot(name)
    assert page.evaluate(OVERFLOW) <= 0, f"{name}: the page scrolls sideways"
    assert run_axe(page) == [], name


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_dashboard_walk(live_server, demo, new_context, size):
    phone = size == "phone"
    page = new_context(viewport=SIZES[size], timezone_id="Europe/London", is_mobile=phone, has_touch=phone).new_page()
    page.add_init_script(path=str(AXE_JS))
    problems = watch(page)
    shot = Shots(page, size)
    log_in(page, live_server, demo)

    # Overview: a compact header; on a phone the business name stays on one line and the menu is closed.
    settled(page, True)
    shot("overview-top")
    header = page.locator("header.dash-header")
    box = header.bounding_box()
    assert box["height"] < (100 if phone else 160), box  # it took ~240 px of a phone before
    name = page.locator(".dash-business")
    assert name.bounding_box()["height"] < 40  # one line, cut with … if long
    nav = page.get_by_role("navigation", name="Dashboard")
    if phone:
        expect(nav).to_be_hidden()
    else:
        expect(nav).to_be_visible()
        expect(page.get_by_text("Menu", exact=True)).to_be_hidden()
    check(page, shot, "overview")

    # Requests: Reject opens the reason field; Approve stays apart.
    open_menu_item(page, "Requests", phone)
    expect(page.get_by_role("heading", level=1, name="Requests awaiting approval")).to_be_visible()
    first = page.locator("article.request-row").first
    reason = first.get_by_label(re.compile("^Reason for rejecting"))
    expect(reason).to_be_hidden()
    first.get_by_text(re.compile(r"^Reject…")).click()
    expect(reason).to_be_visible()
    expect(first.get_by_role("button", name="Reject request")).to_be_visible()
    approve = first.get_by_role("button", name=re.compile(r"^Approve")).bounding_box()
    reject = first.get_by_role("button", name="Reject request").bounding_box()
    assert reject["y"] > approve["y"] + approve["height"] or reject["x"] > approve["x"] + approve["width"] + 16
    check(page, shot, "requests-reject-open")

    # Bookings: search by client name narrows the list as one types (a fragment swap).
    open_menu_item(page, "Bookings", phone)
    expect(page.get_by_role("heading", level=1, name="Bookings")).to_be_visible()
    rows = page.locator("#results tbody tr")
    total = rows.count()
    assert total >= 2
    client_name = rows.first.locator('td[data-label="Client"]').inner_text().strip()
    page.get_by_label("Search clients").fill(client_name.split()[0])
    expect(page).to_have_url(re.compile(r"[?&]q="))
    settled(page, True)
    expect(page.locator("#results-heading")).to_contain_text("matching")
    for i in range(rows.count()):
        expect(rows.nth(i).locator('td[data-label="Client"]')).to_contain_text(client_name.split()[0])
    status = rows.first.locator('td[data-label="Status"]')
    expect(status).to_be_visible()
    status_box = status.bounding_box()
    assert status_box["x"] + status_box["width"] <= SIZES[size]["width"], "the status column is off-screen"
    check(page, shot, "bookings-search")

    # Hours: add a second interval on Monday, copy Monday to the weekdays (saved).
    open_menu_item(page, "Hours", phone)
    expect(page.get_by_role("heading", level=1, name="Working hours")).to_be_visible()
    monday = page.locator("#day-0")
    add = monday.get_by_role("button", name="Add interval on Monday")
    # The button shows once the page's script has set the day up (it drops the blank spare pair
    # that serves without JavaScript): count the intervals after that, not before.
    expect(add).to_be_visible()
    before = monday.locator("li.interval").count()
    add.click()
    expect(monday.locator("li.interval")).to_have_count(before + 1)
    new_start = monday.get_by_label(f"Monday, interval {before + 1}: from")
    expect(new_start).to_be_focused()
    # The demo owner works Mon-Fri 09:00-12:00 and 13:00-17:00: add an evening hour.
    new_start.fill("18:00")
    monday.get_by_label(f"Monday, interval {before + 1}: until").fill("19:00")
    shot("hours-added-interval")
    monday.get_by_role("button", name=re.compile(r"^Copy to all weekdays")).click()
    expect(page.get_by_role("status").filter(has_text="copied")).to_contain_text("Monday’s hours copied to Monday to Friday")
    for day in range(5):
        expect(page.locator(f"#day-{day}").get_by_label(re.compile(rf"interval {before + 1}: from$"))).to_have_value("18:00")
    check(page, shot, "hours-copied")
    assert problems == []
