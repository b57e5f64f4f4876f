"""A real browser books the demo's lesson in German (its Accept-Language is de-DE), with
JavaScript and without: every step in German with German day names and 24-hour times, axe-clean
(checked in the walk with JavaScript, which axe needs); the language switcher then shows the same
page in French. Every step is shown at 390x844 and 1366x900 without sideways scrolling
(screenshots into ``$BROWSER_SHOTS_DIR/book-de-<js|no-js>/`` when that is set)."""
from __future__ import annotations

import os
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

if not os.path.exists("/usr/bin/chromium"):
    pytest.skip("/usr/bin/chromium is not installed", allow_module_level=True)
pytest.importorskip("playwright.sync_api")

from playwright.sync_api import Page, expect  # noqa: E402

from tests.browser.test_booking_flow import AXE_JS, SERVICE, run_axe, settled, watch  # noqa: E402

from tests.browser.conftest import PHONE as MOBILE, at_both_sizes, shots_dir  # noqa: E402

DE_DAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]


def heading(page: Page, name: str, level: int = 2):
    return page.get_by_role("heading", level=level, name=name, exact=True)


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_client_books_in_german(js, live_server, demo, db, new_context, tmp_path):
    page = new_context(locale="de-DE", java_script_enabled=js, viewport=MOBILE, timezone_id="Europe/Berlin").new_page()
    if js:
        page.add_init_script(path=str(AXE_JS))  # outside the page's Content-Security-Policy
    problems = watch(page)
    violations: dict[str, list[dict]] = {}
    shots = 0
    directory = shots_dir(f"book-de-{'js' if js else 'no-js'}")

    def check(step: str) -> None:
        nonlocal shots
        settled(page, js)
        if js:  # axe needs scripts; the walk without them renders the same templates
            found = run_axe(page)
            if found:
                violations[step] = found
        shots += 1
        at_both_sizes(page, f"{shots:02d}-{step}", directory)

    page.goto(f"{live_server}/book/{demo.slug}")
    expect(page.locator("html")).to_have_attribute("lang", "de-DE")
    expect(heading(page, "Leistung wählen")).to_be_visible()
    expect(page.get_by_role("navigation", name="Sprache").get_by_role("link", name="Deutsch")).to_have_attribute("aria-current", "true")
    check("services")

    page.get_by_role("button", name=f"Auswählen {SERVICE}").click()
    expect(heading(page, "Termin wählen")).to_be_visible()
    expect(page.locator("thead abbr")).to_have_count(7)
    assert [page.locator("thead abbr").nth(i).get_attribute("title") for i in range(7)] == DE_DAYS
    check("month")

    free_days = page.get_by_role("table").get_by_role("link", name=re.compile(r"\d+ freier? Termine?$"))
    for _ in range(3):
        if free_days.count():
            break
        page.get_by_role("link", name=re.compile(r"^Nächster Monat")).click()
        settled(page, js)
    free_days.first.click()
    expect(page).to_have_url(re.compile(r"[?&]date=\d{4}-\d{2}-\d{2}"))
    settled(page, js)
    day_title = page.locator("#day-title").inner_text()
    assert re.fullmatch(rf"({'|'.join(DE_DAYS)}), \d{{1,2}}\. \w+", day_title), day_title
    check("times")

    times = page.get_by_role("list").get_by_role("link", name=re.compile(r"^\d{2}:\d{2}$"))
    expect(times.first).to_be_visible()
    times.first.click()
    expect(heading(page, "Ihre Angaben")).to_be_visible()
    settled(page, js)
    check("details")

    page.get_by_role("button", name="Buchung anfragen").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Bitte prüfen Sie Ihre Angaben")
    expect(alert).to_contain_text("Ihr Name: Bitte geben Sie Ihren Namen ein.")
    check("details-errors")

    page.get_by_label("Ihr Name", exact=True).fill("Lise Meitner")
    page.get_by_label("E-Mail", exact=True).fill("lise@example.com")
    page.get_by_label("Hinweise für das Unternehmen (optional)", exact=True).fill("Bitte im kleinen Becken.")
    page.get_by_role("button", name="Buchung anfragen").click()
    expect(heading(page, "Anfrage gesendet")).to_be_visible()
    expect(page.get_by_text("wartet auf Bestätigung", exact=True)).to_be_visible()
    reference = re.search(r"/confirmation/(FK-[0-9A-Z]+)", page.url).group(1)
    check("confirmation")

    # The switcher, still in the header the first page load rendered, opens this very page in French.
    page.get_by_role("navigation", name="Sprache").get_by_role("link", name="Français").click()
    expect(heading(page, "Demande envoyée")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert re.search(rf"/confirmation/{reference}\?", page.url) and parse_qs(urlsplit(page.url).query)["lang"] == ["fr"]
    expect(page.get_by_text("en attente de validation", exact=True)).to_be_visible()
    check("confirmation-fr")

    assert violations == {}, "axe-core WCAG 2.1 A/AA violations:\n" + "\n".join(
        f"  {step}: {v['id']} ({v['impact']}) {v['help']}: {v['targets']}" for step, vs in violations.items() for v in vs
    )
    assert problems == []

    from app.domain.booking_state import BookingStatus
    from app.models import Booking

    db.session.remove()  # a fresh session: the server threads wrote the booking
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    assert (booking.status, booking.service.name, booking.client_name, booking.client_email, booking.notes) == (
        BookingStatus.PENDING, SERVICE, "Lise Meitner", "lise@example.com", "Bitte im kleinen Becken."
    )
