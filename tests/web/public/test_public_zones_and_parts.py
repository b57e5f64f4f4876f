"""The booking page's zone picker (canonical zones grouped by region, an old alias still
accepted), a day's times under Morning / Afternoon / Evening, the day links' #times anchor and the
compact header past the first step. Full pages and HTMX fragments alike."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.timezones import picker_zones
from tests.web.public.support import at, details_url, form_data, iso_z, only_booking
from tests.web.zone_support import REGION_GROUPS, expected_picker, zone_picker

HX = {"HX-Request": "true"}


def day_parts(html: str) -> list[tuple[str, list[str]]]:
    """``[(heading, ["HH:MM", ...]), ...]``: each part-of-day heading and the times under it."""
    parts = re.findall(r'<h4 class="day-part" id="part-\w+">([^<]+)</h4>\s*<ul class="slot-grid"[^>]*>(.*?)</ul>', html, re.S)
    return [(title, re.findall(r'class="slot-time">(\d\d:\d\d)<', body)) for title, body in parts]


def walls(day, tz: str, hours) -> list[str]:
    """The business's (London) wall-clock hours on ``day`` as ``HH:MM`` in ``tz``."""
    return [at(day, f"{h:02d}:00").astimezone(ZoneInfo(tz)).strftime("%H:%M") for h in hours]


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "fragment"])
def test_zone_picker_lists_canonical_zones_by_region(client, shop, lesson, day, headers):
    response = client.get(f"/book/{shop.slug}/{lesson.id}?date={day.isoformat()}", headers=headers)
    assert response.status_code == 200
    groups, selected = zone_picker(response.get_data(as_text=True), "tz")
    assert groups == expected_picker(datetime.now(timezone.utc))
    assert [label for label, _ in groups] == REGION_GROUPS
    values = [value for _, options in groups for value, _ in options]
    assert sorted(values) == sorted(picker_zones())
    assert "Asia/Calcutta" not in values and "US/Eastern" not in values
    assert ("Asia/Kolkata", "(UTC+05:30) Kolkata") in dict(groups)["Asia"]
    assert selected == ["Europe/London"]


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "fragment"])
def test_an_old_alias_in_the_link_is_accepted_and_shown_as_its_canonical_zone(client, shop, lesson, day, headers):
    response = client.get(f"/book/{shop.slug}/{lesson.id}?date={day.isoformat()}&tz=Asia/Calcutta", headers=headers)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert zone_picker(html, "tz")[1] == ["Asia/Kolkata"]
    assert "Times shown in <strong>Asia/Kolkata</strong>" in html
    links = re.findall(r'<a class="slot" href="([^"]+)"', html)
    assert links == [f"/book/{shop.slug}/{lesson.id}/details?start={iso_z(at(day, f'{h:02d}:00'))}&amp;tz=Asia/Kolkata" for h in range(9, 17)]


def test_a_booking_made_with_an_old_alias_stores_the_canonical_zone(client, shop, lesson, day, db):
    response = client.post(details_url(shop, lesson, at(day, "10:00"), tz="US/Eastern"), data=form_data())
    assert response.status_code == 303
    assert "tz=America/New_York" in response.headers["Location"]
    assert only_booking(db).client_timezone == "America/New_York"


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "fragment"])
@pytest.mark.parametrize(
    "tz, expected",
    [
        # the lesson runs 09:00-17:00 London time, hourly: 8 starts
        ("Europe/London", lambda day: [("Morning", walls(day, "Europe/London", range(9, 12))), ("Afternoon", walls(day, "Europe/London", range(12, 17)))]),
        # +5:30 (GMT) or +4:30 (BST): no morning, an evening from 17:00 local on
        ("Asia/Kolkata", lambda day: [
            ("Afternoon", [w for w in walls(day, "Asia/Kolkata", range(9, 17)) if w < "17:00"]),
            ("Evening", [w for w in walls(day, "Asia/Kolkata", range(9, 17)) if w >= "17:00"]),
        ]),
        # -5 (EST) or -4 (EDT): everything before noon
        ("America/New_York", lambda day: [("Morning", walls(day, "America/New_York", range(9, 17)))]),
    ],
    ids=["london", "kolkata", "new-york"],
)
def test_a_days_times_are_grouped_by_part_of_day_in_the_clients_zone(client, shop, lesson, day, tz, expected, headers):
    response = client.get(f"/book/{shop.slug}/{lesson.id}?date={day.isoformat()}&tz={tz}", headers=headers)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert day_parts(html) == expected(day)
    # every time of the day is under a heading, none twice
    assert sum(len(times) for _, times in day_parts(html)) == len(re.findall(r'class="slot-time"', html)) == 8


def test_grouping_known_values(client, shop, lesson, day):
    """The same, with the expected lists written out (the ``day`` fixture is in winter or summer)."""
    html = client.get(f"/book/{shop.slug}/{lesson.id}?date={day.isoformat()}&tz=Asia/Kolkata").get_data(as_text=True)
    if at(day, "09:00").astimezone(ZoneInfo("Europe/London")).utcoffset().total_seconds() == 0:
        assert day_parts(html) == [("Afternoon", ["14:30", "15:30", "16:30"]), ("Evening", ["17:30", "18:30", "19:30", "20:30", "21:30"])]
    else:
        assert day_parts(html) == [("Afternoon", ["13:30", "14:30", "15:30", "16:30"]), ("Evening", ["17:30", "18:30", "19:30", "20:30"])]


def test_a_day_without_times_shows_no_part_heading(client, shop, lesson, day):
    sunday = day + timedelta(days=6 - day.weekday())  # the lesson's hours are Mon-Fri
    html = client.get(f"/book/{shop.slug}/{lesson.id}?month={sunday:%Y-%m}&date={sunday.isoformat()}").get_data(as_text=True)
    assert "day-part" not in html and "No free times on this day." in html


def test_day_links_go_to_the_times_anchor_without_javascript(client, shop, lesson, day):
    html = client.get(f"/book/{shop.slug}/{lesson.id}?date={day.isoformat()}").get_data(as_text=True)
    links = re.findall(r'<a class="day free[^"]*" href="([^"]+)" hx-get="([^"]+)"', html)
    assert links, "the month has free days"
    assert [href for href, _ in links] == [get + "#times" for _, get in links]  # HTMX asks without the anchor
    assert html.count('id="times"') == 1
    assert re.search(r'<section class="day-slots" id="times" aria-labelledby="day-title">\s*<h3 id="day-title">', html)


def header_class(html: str) -> str:
    return re.search(r'<header class="([^"]*biz-header[^"]*)"', html).group(1)


def test_the_header_is_compact_past_the_first_step(client, shop, lesson, day):
    services = client.get(f"/book/{shop.slug}").get_data(as_text=True)
    assert header_class(services) == "container biz-header"
    times = client.get(f"/book/{shop.slug}/{lesson.id}?date={day.isoformat()}").get_data(as_text=True)
    details = client.get(details_url(shop, lesson, at(day, "10:00"))).get_data(as_text=True)
    done = client.post(details_url(shop, lesson, at(day, "10:00")), data=form_data(), follow_redirects=True).get_data(as_text=True)
    assert [header_class(page) for page in (times, details, done)] == ["container biz-header compact"] * 3
    assert "Your details" in details and "FK-" in done
