"""Public booking endpoints: business, services, availability and book."""
from __future__ import annotations

import re
import json
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from app.models import Booking
from tests.web.api.support import book_body, london, slot_json

BASE = "/api/booking/public/swim-school-pro"


def availability(client, service_id, start, end=None, **extra):
    params = {"service_id": service_id, "start_date": str(start), "end_date": str(end or start), **extra}
    return client.get(f"{BASE}/availability/", query_string=params)


def booking_count(db) -> int:
    return db.session.scalar(select(func.count(Booking.id)))


# ------------------------------------------------------------------ business and services

def test_public_business(client, business, db):
    business.description, business.address, business.phone = "Lessons for all ages.", "1 Pool Lane", "+442079460000"
    db.session.commit()
    response = client.get(f"{BASE}/")
    assert response.status_code == 200
    assert response.json == {
        "business": {
            "name": "Swim School Pro", "slug": "swim-school-pro", "description": "Lessons for all ages.",
            "address": "1 Pool Lane", "phone": "+442079460000", "email": "owner@example.com",
            "timezone": "Europe/London", "currency": "USD",
        },
        "settings": {"requires_approval": False, "buffer_time_minutes": 15, "is_active": True},
    }


@pytest.mark.parametrize("slug", ["nope", "Not-A-Slug", "a" * 101, "%00", "swim school"])
def test_unknown_slug_is_404_json(client, business, slug):
    for path in ("/", "/services/", "/availability/?service_id=1&start_date=2030-01-01&end_date=2030-01-01"):
        response = client.get(f"/api/booking/public/{slug}{path}")
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"
    response = client.post(f"/api/booking/public/{slug}/book/", json={})
    assert response.status_code == 404


def test_an_old_slug_redirects_to_the_same_endpoint_under_the_current_one(client, business, lesson, day, db):
    from app.services import business_service

    business_service.change_slug(business, "swim-school-renamed")
    new = "/api/booking/public/swim-school-renamed"
    query = f"service_id={lesson.id}&start_date={day}&end_date={day}"
    for path, target in (("/", f"{new}/"), ("/services/", f"{new}/services/"), (f"/availability/?{query}", f"{new}/availability/?{query}")):
        response = client.get(f"{BASE}{path}")
        assert (response.status_code, response.headers["Location"]) == (301, target)
    # A POST keeps its method and body across a 308, so a client that follows it books once.
    response = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10)))
    assert (response.status_code, response.headers["Location"]) == (308, f"{new}/book/")
    assert booking_count(db) == 0
    response = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10)), follow_redirects=True)
    assert response.status_code == 201
    assert booking_count(db) == 1
    assert client.get(f"{new}/").json["business"]["slug"] == "swim-school-renamed"


def test_public_services_lists_only_bookable_active(client, business, factory, lesson):
    class_ = factory.service(business, name="Group class", description="", duration_minutes=45, capacity=6, price="12.5")
    factory.service(business, name="Hidden", duration_minutes=30, is_bookable=False)
    factory.service(business, name="Old", duration_minutes=30, is_active=False)
    response = client.get(f"{BASE}/services/")
    assert response.status_code == 200
    assert response.json == [
        {"id": lesson.id, "name": "Private lesson", "description": "One-to-one.", "duration_minutes": 60, "capacity": 1, "price": "45.00"},
        {"id": class_.id, "name": "Group class", "description": "", "duration_minutes": 45, "capacity": 6, "price": "12.50"},
    ]


# ------------------------------------------------------------------ availability

def test_availability_whole_day(client, business, lesson, day):
    staff_id = business.staff[0].id
    response = availability(client, lesson.id, day)
    assert response.status_code == 200
    assert response.json == {str(day): [slot_json(day, h, 60, staff_id, "Europe/London") for h in range(9, 17)]}


def test_availability_lists_every_date_of_the_range(client, business, lesson, day):
    # day is a Tuesday: Tue..Mon covers the weekend, which has no hours.
    response = availability(client, lesson.id, day, day + timedelta(days=6))
    assert response.status_code == 200
    assert list(response.json) == [str(day + timedelta(days=n)) for n in range(7)]
    counts = [len(response.json[str(day + timedelta(days=n))]) for n in range(7)]
    assert counts == [8, 8, 8, 8, 0, 0, 8]


def test_availability_tz_changes_times_not_instants(client, business, lesson, day):
    staff_id = business.staff[0].id
    london_json = availability(client, lesson.id, day).json[str(day)]
    ny = availability(client, lesson.id, day, tz="America/New_York")
    assert ny.status_code == 200
    assert list(ny.json) == [str(day)]  # still keyed by the business's date
    assert ny.json[str(day)] == [slot_json(day, h, 60, staff_id, "America/New_York") for h in range(9, 17)]
    assert [datetime.fromisoformat(s["start"]) for s in ny.json[str(day)]] == [
        datetime.fromisoformat(s["start"]) for s in london_json
    ]
    assert ny.json[str(day)][0]["start_time"] != london_json[0]["start_time"]


def test_availability_drops_a_booked_slot(client, business, lesson, day, factory):
    factory.booking(business, lesson, london(day, 10))
    times = [s["start_time"] for s in availability(client, lesson.id, day).json[str(day)]]
    assert times == ["09:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]


def test_availability_capacity_counts_down(client, business, factory, day):
    class_ = factory.service(business, name="Group", duration_minutes=60, capacity=6, buffer_after_minutes=0)
    factory.booking(business, class_, london(day, 9), seats=2)
    slots = availability(client, class_.id, day).json[str(day)]
    assert [(s["start_time"], s["available_spots"]) for s in slots][:2] == [("09:00", 4), ("10:00", 6)]


def test_availability_range_limit(client, business, lesson, day):
    assert availability(client, lesson.id, day, day + timedelta(days=61)).status_code == 200
    response = availability(client, lesson.id, day, day + timedelta(days=62))
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"end_date": "Ask for at most 62 days at a time."}


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"start_date": "2027-02-30"}, {"start_date"}),
        ({"start_date": "tomorrow"}, {"start_date"}),
        ({"end_date": "2027-13-01"}, {"end_date"}),
        ({"start_date": "0001-01-01", "end_date": "0001-01-02"}, {"start_date", "end_date"}),
        ({"start_date": "9999-12-31", "end_date": "9999-12-31"}, {"start_date", "end_date"}),
        ({"service_id": "abc"}, {"service_id"}),
        ({"service_id": "99999999999999999999"}, {"service_id"}),
        ({"tz": "Mars/Olympus"}, {"tz"}),
        ({"extra": "1"}, {"extra"}),
    ],
)
def test_availability_bad_params_are_422_per_field(client, business, lesson, day, params, fields):
    query = {"service_id": lesson.id, "start_date": str(day), "end_date": str(day), **params}
    response = client.get(f"{BASE}/availability/", query_string=query)
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == fields
    assert response.json["error"]["code"] == "validation_failed"


def test_availability_missing_params(client, business):
    response = client.get(f"{BASE}/availability/")
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {
        "service_id": "This field is required.", "start_date": "This field is required.", "end_date": "This field is required.",
    }


def test_availability_end_before_start(client, business, lesson, day):
    response = availability(client, lesson.id, day, day - timedelta(days=1))
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"end_date": "end_date must not be before start_date."}


def test_availability_unknown_or_foreign_service_is_404(client, business, lesson, day, other_business):
    _, foreign = other_business
    for service_id in (foreign.id, 987654):
        response = availability(client, service_id, day)
        assert response.status_code == 404
        assert response.json["error"]["fields"] == {"service_id": "Unknown service."}


def test_inactive_link(client, business, lesson, day, db):
    business.settings.is_active = False
    db.session.commit()
    assert client.get(f"{BASE}/").json["settings"]["is_active"] is False
    response = availability(client, lesson.id, day)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "booking_closed"
    response = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10)))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "booking_closed"


# ------------------------------------------------------------------ book

def test_book_201(client, business, lesson, day, db):
    response = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10), client_timezone="America/New_York"))
    assert response.status_code == 201, response.json
    body = response.json
    assert re.fullmatch(r"FK-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}", body.pop("reference"))
    start = london(day, 10)
    assert body == {
        "status": "confirmed", "service_id": lesson.id, "staff_id": business.staff[0].id,
        "start": start.astimezone(ZoneInfo("America/New_York")).isoformat(),
        "end": (start + timedelta(hours=1)).astimezone(ZoneInfo("America/New_York")).isoformat(),
        "seats": 1, "client_timezone": "America/New_York", "expires_at": None,
    }
    row = db.session.scalar(select(Booking))
    assert (row.client_email, row.client_phone, row.notes) == ("ada@example.com", "+447911123456", "First lesson")


def test_book_pending_when_approval_required(client, business, lesson, day, db):
    business.settings.requires_approval = True
    db.session.commit()
    response = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10)))
    assert response.status_code == 201
    assert response.json["status"] == "pending"
    assert datetime.fromisoformat(response.json["expires_at"]) > datetime.now(datetime.fromisoformat(response.json["start"]).tzinfo)


def test_book_taken_slot_is_409_with_alternatives(client, business, lesson, day, db):
    assert client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10))).status_code == 201
    response = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10), client_email="bob@example.com", client_phone=None))
    assert response.status_code == 409
    staff_id = business.staff[0].id
    assert response.json == {
        "error": {
            "code": "slot_unavailable",
            "message": "That time is no longer available. Please pick another.",
            "fields": {"start": "That time is not available."},
            "alternatives": [slot_json(day, h, 60, staff_id, "Europe/London") for h in (9, 11, 12)],
        }
    }
    assert booking_count(db) == 1


@pytest.mark.parametrize("hour_minute", [(8, 0), (10, 30), (17, 0)])
def test_book_outside_hours_or_off_grid_is_409(client, business, lesson, day, db, hour_minute):
    response = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, *hour_minute)))
    assert response.status_code == 409
    assert response.json["error"]["alternatives"]
    assert booking_count(db) == 0


def test_book_in_the_past_is_409(client, business, lesson):
    response = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(date.today() - timedelta(days=7), 10)))
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"client_email": None, "client_phone": None}, {"client_email": "Give an e-mail address or a phone number."}),
        ({"client_email": "", "client_phone": "  "}, {"client_email": "Give an e-mail address or a phone number."}),
        ({"client_email": "not-an-email"}, {"client_email": "Enter a valid e-mail address, like name@example.com."}),
        # A London business: numbers are read as dialled in the UK, and the examples are British.
        ({"client_phone": "12"}, {"client_phone": "That phone number does not look right; write it like 07400 123456 or +44 7400 123456."}),
        ({"client_phone": "phone"}, {"client_phone": "Enter a phone number, like 07400 123456 or +44 7400 123456."}),
        ({"notes": "x" * 2001}, {"notes": "Must be at most 2000 characters."}),
        ({"client_name": "   "}, {"client_name": "This field is required."}),
        ({"client_name": "a\x00b"}, {"client_name": "Remove line breaks, tabs and other control characters."}),
        ({"seats": 0}, {"seats": "Input should be greater than or equal to 1"}),
        ({"service_id": "one"}, {"service_id": "Must be a whole number."}),
        ({"start": "2030-01-01T10:00:00"}, {"start": "Input should have timezone info"}),
        ({"start": "next tuesday"}, {"start"}),
        ({"client_timezone": "Nowhere/Else"}, {"client_timezone": "Unknown time zone; use an IANA name like Europe/London."}),
        ({"surprise": 1}, {"surprise": "Unknown field."}),
    ],
)
def test_book_bad_input_is_422_per_field(client, business, lesson, day, db, overrides, fields):
    response = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10), **overrides))
    assert response.status_code == 422
    got = response.json["error"]["fields"]
    assert (set(got) if isinstance(fields, set) else got) == fields
    assert booking_count(db) == 0


def test_book_missing_fields(client, business):
    response = client.post(f"{BASE}/book/", json={})
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {
        "service_id": "This field is required.", "start": "This field is required.", "client_name": "This field is required.",
        "client_email": "Give an e-mail address or a phone number.",
    }


def test_book_seats_over_capacity_is_422(client, business, lesson, day):
    response = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10), seats=2))
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"seats": "At most 1 seat(s)."}


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [("{not json", "application/json", 400), ("", "application/json", 400), ("\xff\xfe", "application/json", 400),
     ("[1, 2]", "application/json", 422), ("null", "application/json", 422), ("a=b", "application/x-www-form-urlencoded", 415)],
)
def test_book_malformed_body(client, business, data, content_type, status):
    response = client.post(f"{BASE}/book/", data=data, content_type=content_type)
    assert response.status_code == status
    assert set(response.json["error"]) == {"code", "message", "fields"}


def test_idempotency_key_returns_the_first_booking(client, business, lesson, day, db):
    headers = {"Idempotency-Key": "b6a3c0de-0001"}
    first = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10)), headers=headers)
    again = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10)), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert booking_count(db) == 1


def test_idempotency_key_replays_the_same_body_however_it_is_written(client, business, lesson, day, db):
    """Canonical body: other key order, other whitespace, the same instant at another offset."""
    headers = {"Idempotency-Key": "b6a3c0de-0002", "Content-Type": "application/json"}
    body = book_body(lesson.id, london(day, 10))
    first = client.post(f"{BASE}/book/", data=json.dumps(body), headers=headers)
    reordered = dict(reversed(list({**body, "start": london(day, 10).astimezone(ZoneInfo("Asia/Tokyo")).isoformat()}.items())))
    again = client.post(f"{BASE}/book/", data=json.dumps(reordered, indent=4), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert booking_count(db) == 1


@pytest.mark.parametrize("change", [{"client_name": "Eve"}, {"client_email": "eve@example.com"}, {"notes": ""}, {"hour": 11}])
def test_idempotency_key_reused_with_another_body_is_422_and_reveals_nothing(client, business, lesson, day, db, change):
    headers = {"Idempotency-Key": "guessable-1"}
    first = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10)), headers=headers)
    assert first.status_code == 201
    change = dict(change)
    other = book_body(lesson.id, london(day, change.pop("hour", 10)), **change)
    response = client.post(f"{BASE}/book/", json=other, headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "idempotency_key_reused"
    assert set(response.json["error"]) == {"code", "message", "fields"}
    assert "Idempotent-Replayed" not in response.headers
    text = response.get_data(as_text=True)
    for secret in (first.json["reference"], first.json["status"], first.json["start"], "Ada"):
        assert secret not in text
    assert booking_count(db) == 1


def test_idempotency_keys_are_scoped_per_business(client, business, lesson, day, db, other_business):
    foreign_business, foreign_service = other_business
    headers = {"Idempotency-Key": "shared-key"}
    mine = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10)), headers=headers)
    theirs = client.post(
        f"/api/booking/public/{foreign_business.slug}/book/", json=book_body(foreign_service.id, london(day, 10)), headers=headers
    )
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json["reference"] != theirs.json["reference"]
    assert booking_count(db) == 2


def test_idempotency_key_older_than_a_day_books_again(client, business, lesson, day, db):
    from app.models import BookingIdempotencyKey

    headers = {"Idempotency-Key": "yesterday"}
    first = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10)), headers=headers)
    assert first.status_code == 201
    db.session.execute(update(BookingIdempotencyKey).values(created_at=datetime.now(timezone.utc) - timedelta(hours=24, seconds=1)))
    db.session.commit()
    second = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 11), client_name="Someone Else"), headers=headers)
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    assert second.json["reference"] != first.json["reference"]
    assert booking_count(db) == 2


def test_bad_idempotency_key_is_422(client, business, lesson, day):
    response = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10)), headers={"Idempotency-Key": "x" * 256})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"Idempotency-Key"}


def test_book_with_a_staff_member_of_another_business_is_404(client, business, lesson, day, other_business):
    foreign_business, _ = other_business
    response = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10), staff_id=foreign_business.staff[0].id))
    assert response.status_code == 404
    assert response.json["error"]["fields"] == {"staff_id": "Unknown staff member."}
