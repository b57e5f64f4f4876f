"""``POST /api/bookings/<id>/reschedule/``: move a booking (owner auth), 409 with alternatives
for a time that is not free, 422 per field, 404 for another business's booking; documented."""
from __future__ import annotations

from datetime import timedelta, timezone

import pytest
import requests
from sqlalchemy import select

from app.models import Booking, BookingAuditEntry, BookingStatus
from app.models.outbox import OutboxJob
from app.services import booking_service
from tests.concurrency.conftest import fire, live_server  # noqa: F401  (live_server is a fixture)
from tests.web.api.support import london, slot_json

UTC = timezone.utc


def url(booking_id) -> str:
    return f"/api/bookings/{booking_id}/reschedule/"


def reload(db, booking_id) -> Booking:
    db.session.rollback()
    return db.session.get(Booking, booking_id, populate_existing=True)


@pytest.fixture
def booked(factory, business, lesson, day):
    """A confirmed lesson at 10:00 London on ``day`` (a Tuesday)."""
    return factory.booking(business, lesson, london(day, 10))


def test_reschedule_returns_the_moved_booking(client, auth, booked, lesson, business, owner, day, db):
    new = london(day + timedelta(days=1), 14)  # sent with its London offset
    response = client.post(url(booked.id), json={"start": new.isoformat()}, headers=auth)
    assert response.status_code == 200, response.json
    staff = business.staff[0]
    assert response.json == {
        "id": booked.id, "reference": booked.reference, "status": "confirmed", "service_id": lesson.id,
        "service_name": "Private lesson", "staff_id": staff.id, "staff_name": "Owner 1",
        "start": new.astimezone(UTC).isoformat(), "end": (new + timedelta(hours=1)).astimezone(UTC).isoformat(), "seats": 1,
        "client_name": booked.client_name, "client_email": booked.client_email, "client_phone": None,
        "client_timezone": "Europe/London", "notes": "", "expires_at": None, "approved_at": booked.approved_at.isoformat(),
        "rejection_reason": None, "cancellation_reason": None, "created_at": booked.created_at.isoformat(),
    }
    after = reload(db, booked.id)
    assert (after.sequence, after.uid) == (1, booked.uid)
    event = db.session.scalars(select(BookingAuditEntry).where(BookingAuditEntry.booking_id == booked.id).order_by(BookingAuditEntry.id.desc())).first()
    assert (event.note, event.actor_user_id, event.from_status, event.to_status) == (
        "rescheduled", owner.id, BookingStatus.CONFIRMED, BookingStatus.CONFIRMED
    )
    keys = set(db.session.scalars(select(OutboxJob.idempotency_key).where(OutboxJob.booking_id == booked.id)))
    assert f"email:booking:{booked.id}:rescheduled:s1" in keys


def test_utc_and_other_offsets_are_the_same_instant(client, auth, booked, day, db):
    new = london(day, 15).astimezone(timezone(timedelta(hours=-4)))
    assert client.post(url(booked.id), json={"start": new.isoformat()}, headers=auth).status_code == 200
    assert reload(db, booked.id).start_at == london(day, 15)


def test_move_to_another_staff_member(client, auth, booked, business, lesson, day, db):
    from app.services import business_service

    ben = business_service.add_staff(business, "Ben")
    business_service.set_weekly_hours(ben, {day.weekday(): [(london(day, 9).time(), london(day, 12).time())]})
    business_service.save_service(business, lesson, staff_ids=[business.staff[0].id, ben.id])
    response = client.post(url(booked.id), json={"start": london(day, 10).isoformat(), "staff_id": ben.id}, headers=auth)
    assert response.status_code == 200
    assert (response.json["staff_id"], response.json["staff_name"]) == (ben.id, "Ben")


def test_taken_time_is_409_with_alternatives(client, auth, booked, business, lesson, day, factory, db):
    factory.booking(business, lesson, london(day, 13))
    response = client.post(url(booked.id), json={"start": london(day, 13).isoformat()}, headers=auth)
    assert response.status_code == 409
    staff_id = business.staff[0].id
    assert response.json == {"error": {
        "code": "slot_unavailable", "message": "That time is not free. Please pick another.",
        "fields": {"start": "That time is not available."},
        # Nearest free times for the same staff member, in the business's zone.
        "alternatives": [slot_json(day, h, 60, staff_id, "Europe/London") for h in (11, 12, 14)],
    }}
    assert (reload(db, booked.id).start_at, reload(db, booked.id).sequence) == (london(day, 10), 0)


def test_cancelled_booking_is_409_conflict(client, auth, booked, business, owner, day):
    booking_service.cancel(business, booked.id, owner, "Ill")
    response = client.post(url(booked.id), json={"start": london(day, 12).isoformat()}, headers=auth)
    assert response.status_code == 409
    assert response.json == {"error": {
        "code": "conflict", "message": "This booking is cancelled; only requests and confirmed bookings can be rescheduled.", "fields": {},
    }}


@pytest.mark.parametrize(
    "body,fields",
    [
        ({}, {"start": "This field is required."}),
        ({"start": "2027-06-07T10:00:00"}, {"start": "Input should have timezone info"}),
        ({"start": "tomorrow"}, {"start": "Must be an ISO-8601 time with its UTC offset, e.g. 2027-03-01T09:00:00+00:00."}),
        ({"start": "2020-01-07T10:00:00+00:00"}, {"start": "Pick a time in the future."}),
        ({"start": "2027-06-07T10:00:00+00:00", "staff_id": 0}, {"staff_id": "Input should be greater than or equal to 1"}),
        ({"start": "2027-06-07T10:00:00+00:00", "seats": 2}, {"seats": "Unknown field."}),
    ],
)
def test_bad_input_is_422_per_field(client, auth, booked, body, fields, db):
    response = client.post(url(booked.id), json=body, headers=auth)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_failed"
    assert response.json["error"]["fields"] == fields
    assert reload(db, booked.id).sequence == 0


def test_staff_member_not_offering_the_service_is_422(client, auth, booked, business, day):
    from app.services import business_service

    cleo = business_service.add_staff(business, "Cleo")
    response = client.post(url(booked.id), json={"start": london(day, 12).isoformat(), "staff_id": cleo.id}, headers=auth)
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"staff_id": "Pick a staff member who offers this service."}


def test_not_json_is_400(client, auth, booked):
    response = client.post(url(booked.id), data="start=now", headers={**auth, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_json"


def test_not_sent_as_json_is_415(client, auth, booked):
    response = client.post(url(booked.id), data="start=now", headers={**auth, "Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.json["error"]["code"] == "unsupported_media_type"


def test_other_business_or_unknown_booking_is_404(client, auth, other_business, factory, day, db):
    foreign, service = other_business
    theirs = factory.booking(foreign, service, london(day, 10))
    for booking_id in (theirs.id, 999999):
        response = client.post(url(booking_id), json={"start": london(day, 12).isoformat()}, headers=auth)
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"
    # 404 before validating the body: another business's ids are not probed with bad input.
    assert client.post(url(theirs.id), json={}, headers=auth).status_code == 404
    assert reload(db, theirs.id).sequence == 0


def test_needs_auth(client, booked, day):
    response = client.post(url(booked.id), json={"start": london(day, 12).isoformat()})
    assert response.status_code == 401


def test_documented_in_openapi(client):
    doc = client.get("/api/openapi.json").json
    op = doc["paths"]["/api/bookings/{booking_id}/reschedule/"]["post"]
    assert op["operationId"] == "reschedule_booking"
    assert op["tags"] == ["bookings"]
    assert op["security"] == [{"bearer": []}, {"session": []}]
    assert sorted(op["responses"]) == ["200", "400", "401", "403", "404", "409", "413", "415", "422"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].startswith("#/components/schemas/BookingOut")
    body_ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    body = doc["components"]["schemas"][body_ref]
    assert body["required"] == ["start"]
    assert set(body["properties"]) == {"start", "staff_id"}
    assert body["additionalProperties"] is False


# ------------------------------------------------------------------ races (a real threaded server)

def test_six_bookings_race_to_move_into_one_free_hour(live_server, auth, business, lesson, factory, day, db):  # noqa: F811
    """Several web workers moving different bookings into the same hour: exactly one wins."""
    moving = [factory.booking(business, lesson, london(day, h)).id for h in (9, 10, 11, 12, 13, 15)]
    target = london(day, 14)
    responses = fire(6, lambda i: requests.post(
        live_server + url(moving[i]), json={"start": target.isoformat()}, headers=auth, timeout=90
    ))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409, 409, 409, 409, 409], [r.text for r in responses]
    db.session.rollback()
    at_target = db.session.scalars(select(Booking).where(Booking.start_at == target.astimezone(UTC))).all()
    assert len(at_target) == 1
    assert [at_target[0].sequence] == [1]
    winner = next(r for r in responses if r.status_code == 200).json()
    assert winner["id"] == at_target[0].id
