"""The booking page on a phone (390x844) and a desktop (1366x900): choosing a day brings its times
into view and focuses their heading (smoothly, or at once when reduced motion is asked for; with
no JavaScript through the #times anchor), the header is compact past the first step, and the
zone pickers' filter box narrows the grouped list (booking page and sign-up). axe-core checks
each state; screenshots go to ``$BROWSER_SHOTS_DIR/public-phone`` when that is set.
"""
from __future__ import annotations

import os
import re

import pytest

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)
pytest.importorskip("playwright.sync_api")

from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.conftest import shots_dir  # noqa: E402
from tests.browser.test_booking_flow import AXE_JS, SERVICE, run_axe, settled, step_heading, watch  # noqa: E402

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}

# The first time of the chosen day: its top and bottom, and the viewport's height.
FIRST_SLOT_BOX = """() => {
  const r = document.querySelector('#times .slot').getBoundingClientRect();
  return {top: r.top, bottom: r.bottom, height: window.innerHeight};
}"""
FIRST_SLOT_IN_VIEW = """() => {
  const r = document.querySelector('#times .slot').getBoundingClientRect();
  return r.top >= 0 && r.bottom <= window.innerHeight;
}"""


def open_times(page: Page, base: str, slug: str) -> None:
    page.goto(f"{base}/book/{slug}")
    page.get_by_role("button", name=f"Choose {SERVICE}").click()
    expect(step_heading(page, "Pick a time")).to_be_visible()
    settled(page, True)


def another_free_day(page: Page, js: bool = True):
    """A day link with free times other than the one shown (moving to the next month if needed)."""
    for _ in range(3):
        days = page.locator("a.day.free:not([aria-current])")
        if days.count():
            return days.last
        page.locator("a.cal-arrow").last.click()
        settled(page, js)
    pytest.fail("no other day with free times in the bookable window")


def visible_options(page: Page, select: str) -> list[str]:
    return page.eval_on_selector_all(f"{select} option", "options => options.map(o => o.value)")


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_choosing_a_day_on_a_phone_brings_its_times_into_view(live_server, demo, new_context, tmp_path, motion):
    page = new_context(viewport=PHONE, timezone_id="Europe/London", is_mobile=True, has_touch=True, reduced_motion=motion).new_page()
    page.add_init_script(path=str(AXE_JS))
    problems = watch(page)
    open_times(page, live_server, demo.slug)
    # The header is compact past the first step: no description.
    expect(page.locator(".biz-header")).to_have_class(re.compile(r"\bcompact\b"))
    expect(page.locator(".biz-description")).to_be_hidden()

    day = another_free_day(page)
    day.scroll_into_view_if_needed()
    page.evaluate("() => window.scrollTo(0, 0)")
    before = page.evaluate(FIRST_SLOT_BOX)
    assert before["bottom"] > before["height"], f"the first time is already in view before choosing a day: {before}"
    day.click()
    settled(page, True)
    if motion == "reduce":
        assert page.evaluate(FIRST_SLOT_IN_VIEW), page.evaluate(FIRST_SLOT_BOX)  # no animation to wait for
    else:
        page.wait_for_function(FIRST_SLOT_IN_VIEW, timeout=5000)
    expect(page.locator("#day-title")).to_be_focused()
    expect(page).to_have_url(re.compile(r"[?&]date=\d{4}-\d{2}-\d{2}(&|$)"))
    assert "#times" not in page.url
    page.wait_for_function("() => new Promise(done => { const y = scrollY; setTimeout(() => done(scrollY === y), 150); })")  # scrolling done
    if (shots := shots_dir('public-phone')) is not None:
        page.screenshot(path=shots / f"phone-day-{motion}.png")
    assert run_axe(page) == []
    assert problems == []


def test_without_javascript_a_day_link_opens_the_page_at_its_times(live_server, demo, new_context, tmp_path):
    page = new_context(viewport=PHONE, timezone_id="Europe/London", java_script_enabled=False).new_page()
    open_times(page, live_server, demo.slug)
    another_free_day(page, js=False).click()
    expect(page).to_have_url(re.compile(r"[?&]date=\d{4}-\d{2}-\d{2}[^#]*#times$"))
    assert page.evaluate(FIRST_SLOT_IN_VIEW), page.evaluate(FIRST_SLOT_BOX)
    expect(page.locator(".biz-header")).to_have_class(re.compile(r"\bcompact\b"))
    expect(page.locator("select#tz optgroup")).to_have_count(10)  # the plain grouped list
    expect(page.locator("input.zone-filter")).to_have_count(0)
    if (shots := shots_dir('public-phone')) is not None:
        page.screenshot(path=shots / "phone-no-js.png")


def test_the_header_is_full_again_back_on_the_service_list(live_server, demo, new_context):
    page = new_context(viewport=PHONE, timezone_id="Europe/London").new_page()
    open_times(page, live_server, demo.slug)
    expect(page.locator(".biz-description")).to_be_hidden()
    page.get_by_role("link", name="Change service").click()
    expect(step_heading(page, "Choose a service")).to_be_visible()
    settled(page, True)
    expect(page.locator(".biz-header")).not_to_have_class(re.compile(r"\bcompact\b"))
    expect(page.locator(".biz-description")).to_be_visible()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1366x900"])
def test_the_filter_box_narrows_the_booking_pages_zone_list(live_server, demo, new_context, tmp_path, viewport):
    page = new_context(viewport=viewport, timezone_id="Europe/London").new_page()
    page.add_init_script(path=str(AXE_JS))
    problems = watch(page)
    open_times(page, live_server, demo.slug)
    everything = visible_options(page, "#tz")
    assert len(everything) > 300 and page.eval_on_selector("#tz", "s => s.value") == "Europe/London"

    box = page.get_by_role("searchbox", name="Filter the time zone list")
    box.fill("europe")  # the chosen zone matches: it stays chosen, though not the first match
    assert visible_options(page, "#tz").index("Europe/London") > 0
    assert page.eval_on_selector("#tz", "s => s.value") == "Europe/London"
    box.fill("kolk")
    assert visible_options(page, "#tz") == ["Asia/Kolkata"]
    expect(page.get_by_role("status").filter(has_text="time zone")).to_have_text("1 time zone matches.")
    box.fill("+5:45")  # an offset, written without its leading zero
    assert visible_options(page, "#tz") == ["Asia/Kathmandu"]
    box.fill("calcutta")  # an old name finds the zone it became
    assert visible_options(page, "#tz") == ["Asia/Kolkata"]
    box.fill("zzz")
    assert visible_options(page, "#tz") == everything
    assert page.eval_on_selector("#tz", "s => s.value") == "Europe/London"
    expect(page.get_by_role("status").filter(has_text="time zone")).to_have_text("No time zone matches “zzz”.")
    box.fill("new york")
    if (shots := shots_dir('public-phone')) is not None:
        page.screenshot(path=shots / f"filter-{viewport['width']}.png", full_page=True)
    assert run_axe(page) == []

    box.press("Enter")  # chooses the first match: the step comes back in that zone
    expect(page.locator(".tz-note")).to_contain_text("America/New York")
    settled(page, True)
    expect(page).to_have_url(re.compile(r"[?&]tz=America(/|%2F)New_York"))
    expect(page.locator("#tz")).to_be_focused()
    assert page.eval_on_selector("#tz", "s => s.value") == "America/New_York"
    if (shots := shots_dir('public-phone')) is not None:
        page.screenshot(path=shots / f"times-new-york-{viewport['width']}.png", full_page=True)
    assert problems == []


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1366x900"])
def test_sign_up_picks_the_browsers_zone_by_its_old_name_and_filters(live_server, new_context, tmp_path, viewport, db):
    # Chromium reports India's zone as Asia/Calcutta; the list has it as Asia/Kolkata.
    page = new_context(viewport=viewport, timezone_id="Asia/Calcutta").new_page()
    page.add_init_script(path=str(AXE_JS))
    problems = watch(page)
    page.goto(f"{live_server}/signup")
    assert page.eval_on_selector("#timezone", "s => s.value") == "Asia/Kolkata"
    groups = page.eval_on_selector_all("#timezone optgroup", "gs => gs.map(g => g.label)")
    assert groups == ["Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian Ocean", "Pacific", "UTC"]
    page.get_by_role("searchbox", name="Filter the time zone list").fill("ho chi")
    assert visible_options(page, "#timezone") == ["Asia/Ho_Chi_Minh"]
    assert page.eval_on_selector("#timezone", "s => s.value") == "Asia/Ho_Chi_Minh"
    page.get_by_role("searchbox", name="Filter the time zone list").press("Enter")
    expect(page).to_have_url(re.compile(r"/signup$"))  # Enter in the filter does not send the form
    if (shots := shots_dir('public-phone')) is not None:
        page.screenshot(path=shots / f"signup-{viewport['width']}.png", full_page=True)
    assert run_axe(page) == []
    assert problems == []
