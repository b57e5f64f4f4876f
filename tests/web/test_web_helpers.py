"""Template helpers (zone names from :mod:`app.timezones`, phone numbers from :mod:`app.phones`,
the favicon and htmx config from :mod:`app.web`) and their use on the dashboard's booking pages."""
from __future__ import annotations

import json
import re

import pytest

from app.phones import format_phone, phone_href
from app.services import business_service
from app.timezones import zone_label
from tests.conftest import next_weekday
from tests.web.public.support import at


@pytest.mark.parametrize(
    "zone, label",
    [
        ("America/New_York", "America/New York"),
        ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos Aires"),
        ("Europe/London", "Europe/London"),
        ("UTC", "UTC"),
        (None, ""),
    ],
)
def test_zone_label(zone, label):
    assert zone_label(zone) == label


@pytest.mark.parametrize(
    "raw, shown, href",
    [
        ("+447911123457", "+44 7911 123457", "+447911123457"),
        ("+12125550123", "+1 212-555-0123", "+12125550123"),
        ("+44 20 7946 0000", "+44 20 7946 0000", "+442079460000"),
        ("+33142685300", "+33 1 42 68 53 00", "+33142685300"),
        # not an international number we can read: shown as written, dialled as its digits
        ("020 7946 0000", "020 7946 0000", "02079460000"),
        ("+44 12", "+44 12", "+4412"),
        ("call reception", "call reception", ""),
        ("", "", ""),
        (None, "", ""),
    ],
)
def test_phone_display_and_tel_href(raw, shown, href):
    assert (format_phone(raw), phone_href(raw)) == (shown, href)


def test_favicon_ico_redirects_to_the_svg(client):
    response = client.get("/favicon.ico")
    assert (response.status_code, response.headers["Location"]) == (301, "/static/favicon.svg")
    svg = client.get("/static/favicon.svg")
    assert (svg.status_code, svg.mimetype) == (200, "image/svg+xml")
    assert svg.get_data(as_text=True).startswith("<svg xmlns=\"http://www.w3.org/2000/svg\"")
    svg.close()


@pytest.mark.parametrize("path", ["/login", "/no-such-page"])
def test_every_page_links_the_favicon(client, path):
    html = client.get(path).get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html


def htmx_response_handling(html: str) -> list[dict]:
    content = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html).group(1)
    return json.loads(content)["responseHandling"]


def swap_and_error(rules: list[dict], status: int) -> tuple[bool, bool]:
    """What htmx 2 does with ``status``: the first rule whose ``code`` regex matches (unanchored,
    like JavaScript's ``RegExp.test``)."""
    for rule in rules:
        if re.search(rule["code"], str(status)):
            return rule["swap"], rule.get("error", False)
    return False, False


def test_htmx_swaps_2xx_and_409_422_429_and_keeps_other_errors(client):
    rules = htmx_response_handling(client.get("/login").get_data(as_text=True))
    got = {status: swap_and_error(rules, status) for status in (200, 201, 204, 303, 400, 401, 403, 404, 409, 422, 429, 500, 503)}
    assert got == {
        200: (True, False), 201: (True, False), 204: (False, False), 303: (True, False),
        400: (False, True), 401: (False, True), 403: (False, True), 404: (False, True),
        409: (True, False), 422: (True, False), 429: (True, False),
        500: (False, True), 503: (False, True),
    }


# ------------------------------------------------------------------ dashboard pages

@pytest.fixture
def lesson(factory, business):
    return factory.service(business, name="Private lesson", duration_minutes=60, buffer_before_minutes=0, buffer_after_minutes=0)


def test_request_row_shows_phone_formatted_and_dials_e164(client, logged_in, business, lesson, factory):
    business_service.update_settings(business, requires_approval=True)
    factory.booking(business, lesson, at(next_weekday(1), "10:00"), client_email=None, client_phone="+447911123457")
    html = client.get("/dashboard/requests").get_data(as_text=True)
    assert re.findall(r'<a class="phone" href="([^"]+)">([^<]+)</a>', html) == [("tel:+447911123457", "+44 7911 123457")]


def test_booking_detail_shows_phone_and_zones_for_people(client, logged_in, business, lesson, factory):
    booking = factory.booking(
        business, lesson, at(next_weekday(1), "10:00"), client_phone="+12125550123", client_timezone="America/New_York",
    )
    html = client.get(f"/dashboard/bookings/{booking.id}").get_data(as_text=True)
    assert re.findall(r'<a class="phone" href="([^"]+)">([^<]+)</a>', html) == [("tel:+12125550123", "+1 212-555-0123")]
    assert "(America/New York)</dd>" in html and "(Europe/London)</dd>" in html
    assert not re.search(r">[^<]*New_York", html)  # the raw name appears in no text
