"""Polish on the public pages: zone names shown with spaces, phone numbers formatted, the first
free day pre-selected, and contact examples that pass our own validation."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.services import availability_service
from app.services.clients import InvalidContact, normalise_email, normalise_phone
from app.timezones import format_offset
from tests.web.public.support import at, details_url, form_data

HX = {"HX-Request": "true"}
NY = "America/New_York"


def slot_times(html: str) -> list[str]:
    return re.findall(r'class="slot-time">(\d\d:\d\d)<', html)


def visible_text_with(html: str, needle: str) -> list[str]:
    """Text nodes (not attributes or URLs) that contain ``needle``."""
    return [t for t in re.findall(r">([^<]*)<", html) if needle in t]


# ------------------------------------------------------------------ zone names

def test_zone_names_are_shown_with_spaces_on_every_step(client, shop, lesson, day, factory):
    times = client.get(f"/book/{shop.slug}/{lesson.id}?date={day.isoformat()}&tz={NY}").get_data(as_text=True)
    assert "Times shown in <strong>America/New York</strong>" in times
    offset = format_offset(datetime.now(ZoneInfo(NY)).utcoffset())  # the picker shows today's offset
    assert re.search(rf'<option value="{NY}" selected[^>]*>\({offset}\) New York</option>', times)

    start = at(day, "10:00")
    details = client.get(details_url(shop, lesson, start, tz=NY)).get_data(as_text=True)
    assert '<span class="tz-label">(America/New York)</span>' in details

    confirmation = client.post(details_url(shop, lesson, start, tz=NY), data=form_data(), follow_redirects=True)
    confirmation_html = confirmation.get_data(as_text=True)
    assert '<span class="tz-label">(America/New York)</span>' in confirmation_html

    factory.booking(shop, lesson, at(day, "11:00"))
    taken = client.get(details_url(shop, lesson, at(day, "11:00"), tz=NY))
    assert taken.status_code == 409
    unavailable = taken.get_data(as_text=True)
    assert "Times shown in <strong>America/New York</strong>" in unavailable

    for html in (times, details, confirmation_html, unavailable):
        assert visible_text_with(html, "New_York") == []


# ------------------------------------------------------------------ phone in the header

@pytest.mark.parametrize(
    "stored, shown, href",
    [
        ("+442079460000", "+44 20 7946 0000", "tel:+442079460000"),
        ("+44 20 7946 0000", "+44 20 7946 0000", "tel:+442079460000"),
        ("020 7946 0000", "020 7946 0000", "tel:02079460000"),  # no country code: as written
    ],
)
def test_business_phone_is_formatted_in_the_header(client, db, shop, lesson, stored, shown, href):
    shop.phone = stored
    db.session.commit()
    html = client.get(f"/book/{shop.slug}").get_data(as_text=True)
    assert re.findall(r'<a class="phone" href="([^"]+)">([^<]+)</a>', html) == [(href, shown)]


# ------------------------------------------------------------------ first free day pre-selected

def test_month_without_a_date_pre_selects_its_first_free_day(client, shop, lesson, day):
    """The month's page shows the first free day's times at once: the same step as choosing that
    day, except the time-zone form does not pin the date (it was not chosen)."""
    month = day.strftime("%Y-%m")
    auto = client.get(f"/book/{shop.slug}/{lesson.id}?month={month}", headers=HX).get_data(as_text=True)
    first = re.search(r'<a class="day free[^"]*" href="([^"]+)"[^>]*aria-current="date">(\d+)<', auto)
    assert first, "a day is pre-selected"
    first_day = day.replace(day=int(first.group(2)))
    assert re.findall(r'<a class="day free[^"]*"[^>]*>(\d+)<', auto)[0] == first.group(2)  # the first free day
    assert f"date={first_day.isoformat()}" in first.group(1)  # its link still pushes date=
    assert "Choose a day</h3>" not in auto and slot_times(auto)

    chosen = client.get(f"/book/{shop.slug}/{lesson.id}?month={month}&date={first_day.isoformat()}", headers=HX).get_data(as_text=True)
    hidden_date = f'<input type="hidden" name="date" value="{first_day.isoformat()}">'
    assert hidden_date not in auto and hidden_date in chosen
    assert chosen.replace(hidden_date, "") == auto


def test_an_explicit_day_wins_over_the_pre_selection(client, shop, lesson, day):
    later = day + timedelta(days=1)  # the Wednesday after the Tuesday
    html = client.get(f"/book/{shop.slug}/{lesson.id}?date={later.isoformat()}").get_data(as_text=True)
    assert re.findall(r'aria-current="date">(\d+)<', html) == [str(later.day)]
    assert f'<input type="hidden" name="date" value="{later.isoformat()}">' in html


def test_month_without_free_times_keeps_the_choose_a_day_state(client, shop, lesson, day, monkeypatch):
    monkeypatch.setattr(availability_service, "available_slots", lambda *args, **kwargs: [])
    html = client.get(f"/book/{shop.slug}/{lesson.id}?month={day.strftime('%Y-%m')}").get_data(as_text=True)
    assert "Choose a day</h3>" in html and slot_times(html) == []
    assert 'aria-current="date"' not in html and 'name="date"' not in html
    assert f"No free times in {day.strftime('%B')}." in html


# ------------------------------------------------------------------ contact examples

def contact_messages() -> list[str]:
    messages = []
    for fn, raw in [(normalise_phone, "phone"), (normalise_phone, "+44 12"), (normalise_email, "not-an-email")]:
        with pytest.raises(InvalidContact) as caught:
            fn(raw)
        messages.append(str(caught.value))
    return messages


def examples(text: str) -> list[str]:
    """The examples after "like" ("like 07400 123456 or +44 7400 123456." gives both)."""
    return [e for found in re.findall(r"(?i)\blike ([^.]*\d|[\w.]+@[\w.]+\w)", text) for e in found.split(" or ")]


def test_every_example_in_contact_messages_is_accepted(client, shop, lesson, day):
    details = client.get(details_url(shop, lesson, at(day, "10:00"))).get_data(as_text=True)
    hints = re.findall(r'class="field-hint">([^<]*)<', details)
    found = [e for text in contact_messages() + hints for e in examples(text)]
    # The hint gives the London business's local and international forms.
    assert found == ["+44 7911 123456", "+1 212 555 0123", "name@example.com", "07400 123456", "+44 7400 123456"]
    assert [normalise_email(e) if "@" in e else normalise_phone(e, "GB") for e in found] == [
        "+447911123456", "+12125550123", "name@example.com", "+447400123456", "+447400123456",
    ]
