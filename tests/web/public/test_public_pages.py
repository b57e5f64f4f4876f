"""The public booking pages (no login): full pages, HTMX fragments, navigation, 404/422."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.services import availability_service, business_service
from tests.web.public.support import at, details_url, iso_z

HX = {"HX-Request": "true"}


def slot_times(html: str) -> list[str]:
    return re.findall(r'class="slot-time">(\d\d:\d\d)<', html)


def selected_zone(html: str) -> list[str]:
    """The values of the selected options of the zone picker (one, or none)."""
    picker = re.search(r'<select id="tz"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]+)" selected[ >]', picker)


def linked_days(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<a class="day free[^"]*"[^>]*>(\d+)<', html)]


def month_of(d: date) -> str:
    return d.strftime("%Y-%m")


# ------------------------------------------------------------------ step 1

def test_business_page_lists_services_with_header(client, shop, lesson, factory):
    factory.service(shop, name="Group class", duration_minutes=45, price="0", capacity=6)
    response = client.get(f"/book/{shop.slug}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in html
    assert "<h1>Swim School Pro</h1>" in html
    for text in ["Friendly swimming lessons for all ages.", "1 Pool Lane, London E1 6AN", 'href="tel:+442079460000"', "owner@example.com"]:
        assert text in html
    assert re.findall(r"<h3>(.*?)</h3>", html) == ["Private lesson", "Group class"]
    assert re.findall(r'<span class="chip">(.*?)</span>', html) == ["1 h", "£45.00", "45 min", "Free", "Group · up to 6"]
    assert f'href="/book/{shop.slug}/{lesson.id}"' in html
    assert 'aria-current="step"' in html and "Choose a service</h2>" in html


def test_business_page_fragment_is_only_the_step(client, shop, lesson):
    response = client.get(f"/book/{shop.slug}", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and "<h1" not in html
    assert "Choose a service</h2>" in html and "Private lesson" in html
    assert "HX-Request" in response.headers["Vary"]


def test_unbookable_services_are_not_listed(client, shop, lesson, factory):
    factory.service(shop, name="Staff training", duration_minutes=30, is_bookable=False)
    factory.service(shop, name="Old class", duration_minutes=30, is_active=False)
    html = client.get(f"/book/{shop.slug}").get_data(as_text=True)
    assert re.findall(r"<h3>(.*?)</h3>", html) == ["Private lesson"]


def test_unknown_slug_is_404_page(client, shop):
    response = client.get("/book/no-such-business")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["", "/{sid}", "/{sid}/details?start=2030-01-01T09:00:00Z"])
def test_inactive_link_is_friendly_200(client, shop, lesson, path):
    business_service.update_settings(shop, is_active=False)
    response = client.get(f"/book/{shop.slug}" + path.format(sid=lesson.id))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Not taking bookings right now" in html
    assert "Swim School Pro is not taking online bookings right now" in html


def test_unknown_or_unbookable_service_is_404(client, shop, lesson, factory):
    hidden = factory.service(shop, name="Hidden", duration_minutes=30, is_bookable=False)
    other = factory.owner(business_name="Other Pool")
    foreign = factory.service(other.business, name="Theirs", duration_minutes=30)
    for sid in (hidden.id, foreign.id, 9999):
        assert client.get(f"/book/{shop.slug}/{sid}").status_code == 404


# ------------------------------------------------------------------ step 2

def test_times_page_shows_month_and_day_slots_in_business_zone(client, shop, lesson, day):
    response = client.get(f"/book/{shop.slug}/{lesson.id}?date={day.isoformat()}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in html and "<table" in html
    assert re.findall(r'<abbr title="(\w+)">', html) == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    assert slot_times(html) == ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]
    assert "Times shown in <strong>Europe/London</strong>" in html
    assert selected_zone(html) == ["Europe/London"]
    assert 'data-tz-auto="1"' in html  # public.js may swap in the browser's zone
    assert f'aria-current="date">{day.day}<' in html
    first = at(day, "09:00")
    assert f'href="/book/{shop.slug}/{lesson.id}/details?start={iso_z(first)}&amp;tz=Europe/London"' in html


def test_times_in_client_zone(client, shop, lesson, day):
    url = f"/book/{shop.slug}/{lesson.id}?date={day.isoformat()}&tz=America/New_York"
    html = client.get(url).get_data(as_text=True)
    ny = ZoneInfo("America/New_York")
    expected = [at(day, f"{h:02d}:00").astimezone(ny).strftime("%H:%M") for h in range(9, 17)]
    assert slot_times(html) == expected
    assert "Times shown in <strong>America/New York</strong>" in html
    assert selected_zone(html) == ["America/New_York"]
    assert 'data-tz-auto="0"' in html
    # the client's zone is kept on every link of the step
    assert f"/details?start={iso_z(at(day, '09:00'))}&amp;tz=America/New_York" in html


def test_times_fragment(client, shop, lesson, day):
    response = client.get(f"/book/{shop.slug}/{lesson.id}?date={day.isoformat()}", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and "<h1" not in html
    assert "Pick a time</h2>" in html and "<table" in html
    assert len(slot_times(html)) == 8


def test_month_grid_links_exactly_the_free_days(client, shop, lesson, day, monkeypatch):
    calls = []
    real = availability_service.available_slots

    def counting(*args, **kwargs):
        calls.append(args[2:4])
        return real(*args, **kwargs)

    monkeypatch.setattr(availability_service, "available_slots", counting)
    html = client.get(f"/book/{shop.slug}/{lesson.id}?month={month_of(day)}").get_data(as_text=True)
    assert len(calls) == 1  # one availability call for the whole month

    today = datetime.now(timezone.utc).astimezone(ZoneInfo("Europe/London")).date()
    last = today + timedelta(days=30)
    edges = {today, last}  # partly bookable depending on the clock
    expected = [
        d.day for d in (day.replace(day=1) + timedelta(days=i) for i in range(31))
        if d.month == day.month and d.weekday() < 5 and today < d < last
    ]
    got = [n for n in linked_days(html) if day.replace(day=n) not in edges]
    assert got == expected
    assert day.day in got
    # No date chosen yet: the month's first free day is pre-selected and its times shown.
    first = day.replace(day=min(linked_days(html)))
    assert re.findall(r'aria-current="date">(\d+)<', html) == [str(first.day)]
    assert re.search(r'<h3 id="day-title">(.*?)</h3>', html).group(1) == f"{first:%A} {first.day} {first:%B}"
    if first not in edges:
        assert slot_times(html) == ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]
    else:
        assert slot_times(html)


def test_month_navigation_is_bounded(client, shop, lesson):
    today = datetime.now(timezone.utc).astimezone(ZoneInfo("Europe/London")).date()
    this_month = today.replace(day=1)
    html = client.get(f"/book/{shop.slug}/{lesson.id}").get_data(as_text=True)
    assert this_month.strftime("%B %Y") + "</h3>" in html
    assert "Previous month" not in html  # nothing before the current month
    # Far past and far future months clamp to the bookable window.
    html = client.get(f"/book/{shop.slug}/{lesson.id}?month=2001-01").get_data(as_text=True)
    assert this_month.strftime("%B %Y") + "</h3>" in html
    last_month = (today + timedelta(days=30)).replace(day=1)
    html = client.get(f"/book/{shop.slug}/{lesson.id}?month=2999-12").get_data(as_text=True)
    assert last_month.strftime("%B %Y") + "</h3>" in html
    assert "Next month" not in html
    if last_month != this_month:
        assert f"month={last_month.strftime('%Y-%m')}" in client.get(f"/book/{shop.slug}/{lesson.id}").get_data(as_text=True)
        assert "Previous month" in html


def test_booked_slot_disappears(client, shop, lesson, day, factory):
    factory.booking(shop, lesson, at(day, "10:00"))
    html = client.get(f"/book/{shop.slug}/{lesson.id}?date={day.isoformat()}").get_data(as_text=True)
    assert slot_times(html) == ["09:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]


@pytest.mark.parametrize(
    "query, message",
    [
        ("tz=Mars/Olympus", "is not a time zone we know"),
        ("tz=%3Cscript%3E", "is not a time zone we know"),
        ("month=2026-13", "The month must look like 2027-01"),
        ("month=soon", "The month must look like 2027-01"),
        ("date=2026-02-30", "The date must be a real day"),
        ("date=tomorrow", "The date must be a real day"),
    ],
)
def test_bad_query_is_422(client, shop, lesson, query, message):
    for headers in ({}, HX):
        response = client.get(f"/book/{shop.slug}/{lesson.id}?{query}", headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert message in html and 'role="alert"' in html
        assert "<script>" not in html
        assert ("<html" in html) is (not headers)


def test_bad_tz_on_business_page_is_422(client, shop):
    assert client.get(f"/book/{shop.slug}?tz=Nowhere").status_code == 422


# ------------------------------------------------------------------ step 3 (GET)

def test_details_page_full_and_fragment(client, shop, lesson, day):
    url = details_url(shop, lesson, at(day, "09:00"), tz="Asia/Kolkata")
    for headers in ({}, HX):
        response = client.get(url, headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert ("<html" in html) is (not headers)
        assert "Your details</h2>" in html
        for field in ("name", "email", "phone", "notes"):
            assert f'<label for="{field}">' in html and f'id="{field}"' in html
        assert re.search(r'name="idempotency_key" type="hidden" value="[0-9a-f-]{36}"', html)
        # 09:00 London in winter/summer is 14:30/13:30 in Kolkata; the zone is named.
        local = at(day, "09:00").astimezone(ZoneInfo("Asia/Kolkata")).strftime("%H:%M")
        assert f"{local} – " in html and "(Asia/Kolkata)" in html
        assert "Confirm booking" in html


def test_details_fragment_keys_differ_per_render(client, shop, lesson, day):
    url = details_url(shop, lesson, at(day, "09:00"))
    keys = {re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1) for _ in range(2)}
    assert len(keys) == 2


@pytest.mark.parametrize("start", ["", "yesterday", "2027-01-05T09:00:00", "2027-99-05T09:00:00Z"])
def test_details_bad_start_is_422(client, shop, lesson, start):
    response = client.get(f"/book/{shop.slug}/{lesson.id}/details?start={start}")
    assert response.status_code == 422
    assert "Time:" in response.get_data(as_text=True)


def test_details_for_unavailable_time_is_409_with_alternatives(client, shop, lesson, day):
    saturday = day + timedelta(days=4)
    response = client.get(details_url(shop, lesson, at(saturday, "10:00")))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "That time is not available" in html
    # nearest free times: Friday afternoon, the latest first-closest
    friday = day + timedelta(days=3)
    assert re.findall(r'class="slot" href="([^"]+)"', html) == [
        details_url(shop, lesson, at(friday, hh)).replace("&", "&amp;") for hh in ("14:00", "15:00", "16:00")
    ]
