"""Submitting the details form: confirmed/pending bookings, 409 with alternatives, 422 per field,
idempotency, and the confirmation page with its calendar links."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from app.domain.booking_state import BookingStatus
from app.models import Booking, BookingIdempotencyKey
from app.services import business_service
from tests.web.public.support import at, confirmation_link, details_url, form_data, iso_z, only_booking

HX = {"HX-Request": "true"}


def booking_count(db) -> int:
    return db.session.scalar(select(func.count(Booking.id)))


def test_booking_a_slot_confirms_it(client, db, shop, lesson, day):
    start = at(day, "09:00")
    response = client.post(details_url(shop, lesson, start, tz="America/New_York"), data=form_data(notes="First lesson"))
    assert response.status_code == 303
    booking = only_booking(db)
    assert (booking.status, booking.start_at, booking.end_at) == (BookingStatus.CONFIRMED, start, start + timedelta(hours=1))
    assert (booking.client_name, booking.client_email, booking.client_phone) == ("Ada Lovelace", "ada@example.com", None)
    assert (booking.client_timezone, booking.notes) == ("America/New_York", "First lesson")
    assert db.session.scalar(select(BookingIdempotencyKey.key).where(BookingIdempotencyKey.booking_id == booking.id)) == "key-1"
    reference, _ = confirmation_link(response.headers["Location"])
    assert reference == booking.reference

    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html
    assert "You're booked</h2>" in html
    assert '<span class="badge badge-confirmed">confirmed</span>' in html
    assert f'<dd class="reference">{booking.reference}</dd>' in html
    assert "<dd>Private lesson</dd>" in html and f"<dd>{booking.staff.display_name}</dd>" in html
    local = start.astimezone(ZoneInfo("America/New_York"))
    assert f"{local:%H:%M} – {local + timedelta(hours=1):%H:%M} <span class=\"tz-label\">(America/New York)</span>" in html
    assert "Add to Google Calendar" in html and "Download .ics" in html


def test_pending_when_approval_required(client, db, shop, lesson, day):
    business_service.update_settings(shop, requires_approval=True)
    response = client.post(details_url(shop, lesson, at(day, "11:00")), data=form_data())
    assert response.status_code == 303
    booking = only_booking(db)
    assert booking.status == BookingStatus.PENDING and booking.expires_at is not None
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Request sent</h2>" in html
    assert '<span class="badge badge-pending">awaiting approval</span>' in html
    assert "reviews each request before confirming it" in html
    reference, token = confirmation_link(response.headers["Location"])
    ics = client.get(f"/book/{shop.slug}/confirmation/{reference}.ics?token={token}")
    (event,) = Calendar.from_ical(ics.data).walk("VEVENT")
    assert str(event["STATUS"]) == "TENTATIVE"


def test_slot_disappears_after_booking(client, shop, lesson, day):
    times_url = f"/book/{shop.slug}/{lesson.id}?date={day.isoformat()}"
    assert "class=\"slot-time\">09:00<" in client.get(times_url).get_data(as_text=True)
    client.post(details_url(shop, lesson, at(day, "09:00")), data=form_data())
    html = client.get(times_url).get_data(as_text=True)
    assert re.findall(r'class="slot-time">(\d\d:\d\d)<', html) == ["10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]


def test_htmx_submit_returns_confirmation_fragment_and_pushes_url(client, db, shop, lesson, day):
    response = client.post(details_url(shop, lesson, at(day, "09:00")), data=form_data(), headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and "You're booked</h2>" in html
    booking = only_booking(db)
    reference, token = confirmation_link(response.headers["HX-Push-Url"])
    assert reference == booking.reference
    assert client.get(response.headers["HX-Push-Url"]).status_code == 200


def test_taken_slot_is_409_with_alternatives(client, db, shop, lesson, day, factory):
    factory.booking(shop, lesson, at(day, "09:00"))
    for headers in ({}, HX):
        response = client.post(details_url(shop, lesson, at(day, "09:00")), data=form_data(), headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == 409
        assert ("<html" in html) is (not headers)
        assert "That time is no longer available. Please pick another." in html and 'role="alert"' in html
        assert re.findall(r'class="slot" href="([^"]+)"', html) == [
            details_url(shop, lesson, at(day, hh)).replace("&", "&amp;") for hh in ("10:00", "11:00", "12:00")
        ]
    assert booking_count(db) == 1


def test_same_idempotency_key_twice_makes_one_booking(client, db, shop, lesson, day):
    url = details_url(shop, lesson, at(day, "09:00"))
    first = client.post(url, data=form_data(idempotency_key="double-click"))
    second = client.post(url, data=form_data(idempotency_key="double-click"))
    assert (first.status_code, second.status_code) == (303, 303)
    # The same booking's page, saying the client already has this time.
    assert second.headers["Location"] == first.headers["Location"] + "&already=1"
    assert booking_count(db) == 1


def test_form_sent_again_with_other_details_does_not_show_the_first_booking(client, db, shop, lesson, day):
    """Going back and sending the same form (same hidden key) with another name: no redirect to the
    first booking's confirmation, a 422 with a new key, and sending that books the new details."""
    url = details_url(shop, lesson, at(day, "09:00"))
    first = client.post(url, data=form_data(idempotency_key="back-button"))
    assert first.status_code == 303
    reference = only_booking(db).reference
    again = client.post(details_url(shop, lesson, at(day, "10:00")), data=form_data(name="Grace Hopper", idempotency_key="back-button"))
    html = again.get_data(as_text=True)
    assert again.status_code == 422 and "<html" in html
    assert "already sent with other details" in html
    assert reference not in html and "Location" not in again.headers
    new_key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', html).group(1)
    assert new_key != "back-button"
    third = client.post(details_url(shop, lesson, at(day, "10:00")), data=form_data(name="Grace Hopper", idempotency_key=new_key))
    assert third.status_code == 303 and booking_count(db) == 2


def test_phone_only_is_enough(client, db, shop, lesson, day):
    response = client.post(details_url(shop, lesson, at(day, "09:00")), data=form_data(email="", phone="+44 7911 123456"))
    assert response.status_code == 303
    booking = only_booking(db)
    assert (booking.client_email, booking.client_phone) == (None, "+447911123456")


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"email": "not-an-email"}, "email", "Enter a valid e-mail address"),
        ({"email": "", "phone": "abc"}, "phone", "Enter a phone number, like 07400 123456 or +44 7400 123456."),
        ({"email": "", "phone": "+44 12"}, "phone", "That phone number does not look right"),
        ({"email": "", "phone": ""}, "email", "Please give an e-mail address or a phone number"),
        ({"notes": "x" * 2001}, "notes", "Notes can be at most 2000 characters."),
        ({"name": ""}, "name", "Please enter your name."),
        ({"name": "n" * 256}, "name", "Keep your name under 255 characters."),
    ],
)
def test_bad_fields_are_422_with_a_message_per_field(client, db, shop, lesson, day, fields, field, message):
    for headers in ({}, HX):
        response = client.post(details_url(shop, lesson, at(day, "09:00")), data=form_data(**fields), headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert ("<html" in html) is (not headers)
        assert 'class="error-summary" role="alert"' in html
        assert f'<a href="#{field}">' in html
        assert re.search(rf'<small id="{field}-error" class="field-error">{re.escape(message)}', html)
        tag = re.search(rf'<(?:input|textarea)[^>]*id="{field}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in tag and f'{field}-error' in tag
        # the same idempotency key is kept for the corrected submit
        assert 'name="idempotency_key" type="hidden" value="key-1"' in html
    assert booking_count(db) == 0


def test_notes_of_exactly_2000_chars_are_fine(client, db, shop, lesson, day):
    assert client.post(details_url(shop, lesson, at(day, "09:00")), data=form_data(notes="x" * 2000)).status_code == 303


@pytest.mark.parametrize("start", ["soon", "2027-01-05T09:00:00", ""])
def test_post_with_bad_start_is_422(client, db, shop, lesson, start):
    response = client.post(f"/book/{shop.slug}/{lesson.id}/details?start={start}", data=form_data())
    assert response.status_code == 422
    assert booking_count(db) == 0


def test_post_with_bad_tz_is_422(client, db, shop, lesson, day):
    response = client.post(details_url(shop, lesson, at(day, "09:00"), tz="Not/AZone"), data=form_data())
    assert response.status_code == 422
    assert "is not a time zone we know" in response.get_data(as_text=True)
    assert booking_count(db) == 0


def test_post_to_closed_link_is_409(client, db, shop, lesson, day):
    business_service.update_settings(shop, is_active=False)
    response = client.post(details_url(shop, lesson, at(day, "09:00")), data=form_data())
    assert response.status_code == 409
    assert "Not taking bookings right now" in response.get_data(as_text=True)
    assert booking_count(db) == 0


# ------------------------------------------------------------------ confirmation, token, calendar links

@pytest.fixture
def booked(client, db, shop, lesson, day):
    response = client.post(details_url(shop, lesson, at(day, "14:00")), data=form_data())
    return only_booking(db), response.headers["Location"]


def test_confirmation_fragment(client, booked):
    response = client.get(booked[1], headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and "You're booked</h2>" in html


def test_confirmation_needs_the_right_token(client, factory, shop, lesson, day, booked):
    booking, location = booked
    reference, token = confirmation_link(location)
    other = factory.booking(shop, lesson, at(day, "15:00"))
    base = f"/book/{shop.slug}/confirmation"
    assert client.get(f"{base}/{reference}").status_code == 404
    assert client.get(f"{base}/{reference}?token=").status_code == 404
    assert client.get(f"{base}/{reference}?token=forged").status_code == 404
    assert client.get(f"{base}/{other.reference}?token={token}").status_code == 404  # token of another booking
    assert client.get(f"{base}/{reference}.ics?token=forged").status_code == 404
    assert client.get(f"/book/other-shop/confirmation/{reference}?token={token}").status_code == 404
    assert client.get(f"{base}/{reference}?token={token}").status_code == 200


def test_ics_download_parses_back(client, shop, day, booked):
    booking, location = booked
    reference, token = confirmation_link(location)
    html = client.get(location).get_data(as_text=True)
    ics_href = f"/book/{shop.slug}/confirmation/{reference}.ics?token={token}"
    assert f'href="{ics_href}"' in html
    response = client.get(ics_href)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{reference}.ics"'
    calendar = Calendar.from_ical(response.data)
    (event,) = calendar.walk("VEVENT")
    assert str(calendar["VERSION"]) == "2.0"
    assert str(event["UID"]) == booking.uid == f"{reference}@flowkey"
    assert event.decoded("DTSTART") == at(day, "14:00")
    assert event.decoded("DTEND") == at(day, "15:00")
    assert int(event["SEQUENCE"]) == 0
    assert str(event["SUMMARY"]) == "Private lesson with Swim School Pro"
    assert str(event["LOCATION"]) == "1 Pool Lane, London E1 6AN"
    assert str(event["ORGANIZER"]) == "mailto:owner@example.com"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert b"DTSTART:" + at(day, "14:00").strftime("%Y%m%dT%H%M%SZ").encode() in response.data
    assert b"DTSTAMP:" in response.data


def test_google_calendar_link_has_the_right_dates(client, day, booked):
    booking, location = booked
    html = client.get(location).get_data(as_text=True)
    href = re.search(r'<a role="button" href="(https://calendar\.google\.com/[^"]+)"', html).group(1).replace("&amp;", "&")
    query = parse_qs(urlsplit(href).query)
    start, end = at(day, "14:00"), at(day, "15:00")
    assert query["dates"] == [f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}"]
    assert query["action"] == ["TEMPLATE"]
    assert query["text"] == ["Private lesson with Swim School Pro"]
    assert query["location"] == ["1 Pool Lane, London E1 6AN"]
    assert iso_z(booking.start_at) == f"{start:%Y-%m-%dT%H:%M:%SZ}"
