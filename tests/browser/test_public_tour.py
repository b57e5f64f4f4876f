"""Every public step of the booking link in English (en-GB), with JavaScript and without: the
service list, the month, a day's times, the details form, the form with every error, and the
confirmation. Each step is shown at 390x844 and 1366x900 without sideways scrolling (screenshots
into ``$BROWSER_SHOTS_DIR/tour-en-<js|no-js>/`` when that is set), and is
axe-clean (WCAG 2.1 A/AA; without JavaScript the same URL is checked in a second, scripted tab,
since axe needs scripts). The German walk is in test_i18n_flow.py and test_manage_i18n.py.
"""
from __future__ import annotations

import os
import re

import pytest

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)
pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect  # noqa: E402

from tests.browser.test_booking_flow import ADA, AXE_JS, run_axe, settled, watch  # noqa: E402
from tests.browser.conftest import DESKTOP, PHONE, at_both_sizes, shots_dir  # noqa: E402


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_every_public_step_in_english_at_both_sizes(js, live_server, demo, new_context, tmp_path):
    page = new_context(locale="en-GB", java_script_enabled=js, viewport=PHONE, timezone_id="Europe/London").new_page()
    axe_page = new_context(locale="en-GB", viewport=DESKTOP, timezone_id="Europe/London").new_page()
    axe_page.add_init_script(path=str(AXE_JS))  # outside the page's Content-Security-Policy
    if js:
        page.add_init_script(path=str(AXE_JS))
    problems = watch(page) + watch(axe_page)
    directory = shots_dir(f"tour-en-{'js' if js else 'no-js'}")
    violations: dict[str, list[dict]] = {}
    steps: list[str] = []

    def check(step: str, heading: str, posted: bool = False) -> None:
        expect(page.get_by_role("heading", level=2, name=heading, exact=True)).to_be_visible()
        settled(page, js)
        expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^en"))
        steps.append(step)
        at_both_sizes(page, f"{len(steps):02d}-{step}", directory)
        if js:
            # After a swap the pointer may rest on a time; its hover colours fade in over 0.2 s,
            # and axe would judge the contrast half-way.
            page.mouse.move(0, 0)
            page.wait_for_timeout(300)
            found = run_axe(page)
        elif posted:
            found = []  # the page answered a POST: its URL shows the empty form
        else:  # the page as served, in a tab that runs scripts
            axe_page.goto(page.url)
            found = run_axe(axe_page)
        if found:
            violations[step] = found

    page.goto(f"{live_server}/book/{demo.slug}")
    check("services", "Choose a service")

    page.get_by_role("button", name="Choose Private Swimming Lesson").click()
    check("month", "Pick a time")

    page.locator("table a[href*='date=']").first.click()
    expect(page).to_have_url(re.compile(r"[?&]date=\d{4}-\d{2}-\d{2}"))
    expect(page.get_by_role("heading", level=4, name=re.compile("^(Morning|Afternoon|Evening)$")).first).to_be_visible()
    check("times", "Pick a time")

    page.locator("a[href*='/details?start=']").first.click()
    check("details", "Your details")

    # A form sent without JavaScript answers the POST itself: its URL shows the empty form, so
    # that step is checked with axe only with JavaScript (the walk with it covers the markup).
    page.get_by_role("button", name="Request booking").click()
    expect(page.get_by_role("alert")).to_contain_text("Please check your details")
    check("details-errors", "Your details", posted=True)

    page.get_by_label("Your name", exact=True).fill(ADA.name)
    page.get_by_label("E-mail", exact=True).fill(ADA.email)
    page.get_by_role("button", name="Request booking").click()
    check("confirmation", "Request sent")
    expect(page.get_by_text(re.compile(r"We e-mailed you at a…@example\.com\."))).to_be_visible()

    assert violations == {}, "axe-core WCAG 2.1 A/AA violations:\n" + "\n".join(
        f"  {step}: {v['id']} ({v['impact']}) {v['help']}: {v['targets']}" for step, vs in violations.items() for v in vs
    )
    assert problems == []
