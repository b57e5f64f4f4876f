"""Owner endpoints, authenticated with an API key (and a session where noted)."""
from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from app.models import Booking, BookingStatus
from app.services import api_keys
from tests.web.api.support import london

SETTINGS = {
    "requires_approval": False, "buffer_time_minutes": 15, "booking_expiry_hours": 24, "is_active": True,
    "auto_approve_returning_clients": False, "max_advance_booking_days": 30, "min_advance_booking_hours": 2,
    "clients_can_reschedule": True, "client_reschedule_notice_hours": 12, "clients_can_cancel": True, "client_cancel_notice_hours": 12,
}

OWNER_GETS = [
    "/api/booking/settings/", "/api/booking/link/", "/api/services/", "/api/booking/requests/", "/api/bookings/",
]


# ------------------------------------------------------------------ auth

@pytest.mark.parametrize("path", OWNER_GETS)
def test_no_auth_is_401(client, business, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.json == {"error": {"code": "unauthorized", "message": "Log in or send Authorization: Bearer <api key>.", "fields": {}}}


@pytest.mark.parametrize("header", ["Bearer fk_live_nope", "Bearer ", "Basic dXNlcjpwYXNz", "fk_live_x", "Bearer \u00e9"])
def test_bad_key_is_401(client, business, header):
    response = client.get("/api/booking/settings/", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_bearer_key_works_and_revoked_key_is_401(client, business, owner, auth, db):
    assert client.get("/api/booking/settings/", headers=auth).status_code == 200
    key = api_keys.list_keys(business)[0]
    assert key.last_used_at is not None
    api_keys.revoke_key(business, key.id)
    response = client.get("/api/booking/settings/", headers=auth)
    assert response.status_code == 401
    assert response.json["error"]["message"] == "Invalid or revoked API key."


def test_session_auth_reads(client, logged_in):
    response = client.get("/api/booking/settings/")
    assert response.status_code == 200
    assert response.json == SETTINGS


# ------------------------------------------------------------------ settings and link

def test_settings_get_and_put(client, business, auth):
    assert client.get("/api/booking/settings/", headers=auth).json == SETTINGS
    response = client.put("/api/booking/settings/", json={"requires_approval": True, "buffer_time_minutes": 10}, headers=auth)
    assert response.status_code == 200
    assert response.json == {**SETTINGS, "requires_approval": True, "buffer_time_minutes": 10}
    assert client.get("/api/booking/settings/", headers=auth).json == response.json
    changes = {"clients_can_reschedule": False, "client_reschedule_notice_hours": 0, "clients_can_cancel": True, "client_cancel_notice_hours": 48}
    response = client.put("/api/booking/settings/", json=changes, headers=auth)
    assert response.status_code == 200
    assert response.json == {**SETTINGS, "requires_approval": True, "buffer_time_minutes": 10, **changes}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"buffer_time_minutes": -1}, {"buffer_time_minutes": "Input should be greater than or equal to 0"}),
        ({"max_advance_booking_days": 0}, {"max_advance_booking_days": "Input should be greater than or equal to 1"}),
        ({"client_cancel_notice_hours": 721}, {"client_cancel_notice_hours": "Input should be less than or equal to 720"}),
        ({"clients_can_reschedule": "yes"}, {"clients_can_reschedule": "Must be true or false."}),
        ({"requires_approval": "perhaps"}, {"requires_approval": "Must be true or false."}),
        ({"slug": "mine"}, {"slug": "Unknown field."}),
        ([], {"body": "Must be a JSON object."}),
    ],
)
def test_settings_put_invalid(client, business, auth, body, fields):
    response = client.put("/api/booking/settings/", json=body, headers=auth)
    assert response.status_code == 422
    assert response.json["error"]["fields"] == fields
    assert client.get("/api/booking/settings/", headers=auth).json == SETTINGS


def test_settings_put_malformed_json_is_400(client, business, auth):
    response = client.put("/api/booking/settings/", data="{", content_type="application/json", headers=auth)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_json"


def test_link(client, business, auth):
    assert client.get("/api/booking/link/", headers=auth).json == {
        "url": "http://localhost/book/swim-school-pro", "slug": "swim-school-pro", "is_active": True,
    }


# ------------------------------------------------------------------ services

def service_json(service_id, staff_id, **fields):
    base = {
        "id": service_id, "name": "Lesson", "description": "", "duration_minutes": 30, "capacity": 1, "price": "0.00",
        "buffer_before_minutes": None, "buffer_after_minutes": None, "slot_interval_minutes": None, "is_bookable": True,
        "is_active": True, "location_kind": "in_person", "location_detail": "", "phone_caller": None, "video_provider": None,
        "staff_ids": [staff_id],
    }
    return {**base, **fields}


def test_services_crud(client, business, auth):
    staff_id = business.staff[0].id
    assert client.get("/api/services/", headers=auth).json == []
    created = client.post("/api/services/", json={"name": "Lesson", "duration_minutes": 30}, headers=auth)
    assert created.status_code == 201
    service_id = created.json["id"]
    assert created.json == service_json(service_id, staff_id)
    assert client.get(f"/api/services/{service_id}", headers=auth).json == created.json

    updated = client.put(
        f"/api/services/{service_id}",
        json={"price": "12.5", "capacity": 6, "buffer_after_minutes": 5, "location_kind": "video", "description": "Group"},
        headers=auth,
    )
    assert updated.status_code == 200
    expected = service_json(service_id, staff_id, price="12.50", capacity=6, buffer_after_minutes=5, location_kind="video", description="Group")
    assert updated.json == expected
    assert client.get("/api/services/", headers=auth).json == [expected]

    deleted = client.delete(f"/api/services/{service_id}", headers=auth)
    assert deleted.status_code == 200
    assert deleted.json == {**expected, "is_active": False}
    assert client.get("/api/booking/public/swim-school-pro/services/").json == []


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"name": "This field is required.", "duration_minutes": "This field is required."}),
        ({"name": " ", "duration_minutes": 0}, {"name": "This field is required.", "duration_minutes": "Input should be greater than or equal to 5"}),
        ({"name": "x", "duration_minutes": 30, "price": "-1"}, {"price": "Input should be greater than or equal to 0"}),
        ({"name": "x", "duration_minutes": 30, "price": "1.234"}, {"price": "Decimal input should have no more than 2 decimal places"}),
        ({"name": "x", "duration_minutes": 30, "price": "NaN"}, {"price"}),
        ({"name": "x", "duration_minutes": 30, "location_kind": "moon"}, {"location_kind"}),
        ({"name": "x", "duration_minutes": 30, "staff_ids": ["a"]}, {"staff_ids.0"}),
    ],
)
def test_service_create_invalid(client, business, auth, body, fields):
    response = client.post("/api/services/", json=body, headers=auth)
    assert response.status_code == 422
    got = response.json["error"]["fields"]
    assert (set(got) if isinstance(fields, set) else got) == fields


def test_service_with_foreign_staff_is_404(client, business, auth, other_business):
    foreign, _ = other_business
    response = client.post("/api/services/", json={"name": "x", "duration_minutes": 30, "staff_ids": [foreign.staff[0].id]}, headers=auth)
    assert response.status_code == 404


def test_other_business_ids_are_404(client, business, auth, other_business):
    foreign, foreign_service = other_business
    foreign_staff = foreign.staff[0].id
    for method, path, body in [
        ("get", f"/api/services/{foreign_service.id}", None),
        ("put", f"/api/services/{foreign_service.id}", {"name": "mine"}),
        ("delete", f"/api/services/{foreign_service.id}", None),
        ("get", f"/api/staff/{foreign_staff}/hours", None),
        ("put", f"/api/staff/{foreign_staff}/hours", {"hours": []}),
        ("get", f"/api/staff/{foreign_staff}/overrides", None),
        ("post", f"/api/staff/{foreign_staff}/overrides", {"date": "2030-01-01", "intervals": []}),
        ("delete", f"/api/staff/{foreign_staff}/overrides/1", None),
        ("get", "/api/services/2147483648", None),
        ("get", "/api/services/0", None),
    ]:
        response = getattr(client, method)(path, json=body, headers=auth)
        assert response.status_code == 404, (method, path)
        assert response.json["error"]["code"] == "not_found"
    assert foreign_service.name == "Other lesson" and foreign_service.is_active


# ------------------------------------------------------------------ hours and overrides

def test_hours_get_and_put(client, business, auth):
    staff_id = business.staff[0].id
    weekdays = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(5)]
    assert client.get(f"/api/staff/{staff_id}/hours", headers=auth).json == {
        "staff_id": staff_id, "timezone": "Europe/London", "hours": weekdays,
    }
    new = [{"weekday": 0, "start": "13:00", "end": "17:00"}, {"weekday": 0, "start": "08:00", "end": "12:00"},
           {"weekday": 5, "start": "10:00", "end": "14:30"}]
    response = client.put(f"/api/staff/{staff_id}/hours", json={"hours": new}, headers=auth)
    assert response.status_code == 200
    assert response.json["hours"] == [new[1], new[0], new[2]]
    assert client.get(f"/api/staff/{staff_id}/hours", headers=auth).json == response.json


@pytest.mark.parametrize(
    ("hours", "fields"),
    [
        ([{"weekday": 0, "start": "17:00", "end": "09:00"}], {"day_0": "09:00 must be after 17:00."}),
        ([{"weekday": 1, "start": "09:00", "end": "12:00"}, {"weekday": 1, "start": "11:00", "end": "13:00"}],
         {"day_1": "09:00-12:00 overlaps 11:00-13:00."}),
        ([{"weekday": 7, "start": "09:00", "end": "12:00"}], {"hours.0.weekday": "Input should be less than or equal to 6"}),
        ([{"weekday": 0, "start": "9am", "end": "12:00"}], {"hours.0.start": "String should match pattern '^([01]\\d|2[0-3]):[0-5]\\d$'"}),
    ],
)
def test_hours_invalid(client, business, auth, hours, fields):
    staff_id = business.staff[0].id
    response = client.put(f"/api/staff/{staff_id}/hours", json={"hours": hours}, headers=auth)
    assert response.status_code == 422
    assert response.json["error"]["fields"] == fields
    assert len(client.get(f"/api/staff/{staff_id}/hours", headers=auth).json["hours"]) == 5


def test_overrides(client, business, auth, lesson, day):
    staff_id = business.staff[0].id
    assert client.get(f"/api/staff/{staff_id}/overrides", headers=auth).json == []
    off = client.post(f"/api/staff/{staff_id}/overrides", json={"date": str(day), "intervals": []}, headers=auth)
    assert off.status_code == 201
    assert off.json == {"id": off.json["id"], "date": str(day), "intervals": [], "unavailable": True}
    params = {"service_id": lesson.id, "start_date": str(day), "end_date": str(day)}
    assert client.get("/api/booking/public/swim-school-pro/availability/", query_string=params).json == {str(day): []}

    short = client.post(
        f"/api/staff/{staff_id}/overrides", json={"date": str(day), "intervals": [{"start": "10:00", "end": "12:00"}]}, headers=auth
    )
    assert short.status_code == 201
    assert short.json == {"id": off.json["id"], "date": str(day), "intervals": [{"start": "10:00", "end": "12:00"}], "unavailable": False}
    assert client.get(f"/api/staff/{staff_id}/overrides", headers=auth).json == [short.json]
    times = [s["start_time"] for s in client.get("/api/booking/public/swim-school-pro/availability/", query_string=params).json[str(day)]]
    assert times == ["10:00", "11:00"]

    bad = client.post(f"/api/staff/{staff_id}/overrides", json={"date": "2030-02-30", "intervals": [{"start": "12:00", "end": "10:00"}]}, headers=auth)
    assert bad.status_code == 422
    assert set(bad.json["error"]["fields"]) == {"date"}
    bad = client.post(f"/api/staff/{staff_id}/overrides", json={"date": str(day), "intervals": [{"start": "12:00", "end": "10:00"}]}, headers=auth)
    assert bad.status_code == 422
    assert bad.json["error"]["fields"] == {"intervals": "10:00 must be after 12:00."}

    assert client.delete(f"/api/staff/{staff_id}/overrides/{off.json['id']}", headers=auth).status_code == 204
    assert client.get(f"/api/staff/{staff_id}/overrides", headers=auth).json == []
    assert client.delete(f"/api/staff/{staff_id}/overrides/{off.json['id']}", headers=auth).status_code == 404


# ------------------------------------------------------------------ requests and bookings

@pytest.fixture
def approval(business, db):
    business.settings.requires_approval = True
    db.session.commit()
    return business


def test_requests_list_approve_reject(client, approval, lesson, day, factory, auth, owner, db):
    first = factory.booking(approval, lesson, london(day, 9))
    second = factory.booking(approval, lesson, london(day, 11))
    listed = client.get("/api/booking/requests/", headers=auth)
    assert listed.status_code == 200
    assert [r["reference"] for r in listed.json] == [second.reference, first.reference]  # newest first
    row = listed.json[1]
    assert row == {
        "id": first.id, "reference": first.reference, "status": "pending", "service_id": lesson.id, "service_name": "Private lesson",
        "staff_id": approval.staff[0].id, "staff_name": "Owner 1", "start": london(day, 9).astimezone(timezone.utc).isoformat(),
        "end": london(day, 10).astimezone(timezone.utc).isoformat(), "seats": 1,
        "client_name": first.client_name, "client_email": first.client_email, "client_phone": None, "client_timezone": "Europe/London",
        "notes": "", "expires_at": first.expires_at.isoformat(), "approved_at": None, "rejection_reason": None,
        "cancellation_reason": None, "created_at": first.created_at.isoformat(),
    }

    approved = client.post(f"/api/booking/requests/{first.id}/approve/", headers=auth)
    assert approved.status_code == 200
    assert approved.json["status"] == "confirmed" and approved.json["approved_at"] and approved.json["expires_at"] is None
    again = client.post(f"/api/booking/requests/{first.id}/approve/", headers=auth)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "conflict"

    no_reason = client.post(f"/api/booking/requests/{second.id}/reject/", json={"reason": "  "}, headers=auth)
    assert no_reason.status_code == 422
    assert no_reason.json["error"]["fields"] == {"reason": "This field is required."}
    missing = client.post(f"/api/booking/requests/{second.id}/reject/", json={}, headers=auth)
    assert missing.json["error"]["fields"] == {"reason": "This field is required."}
    rejected = client.post(f"/api/booking/requests/{second.id}/reject/", json={"reason": "Pool closed"}, headers=auth)
    assert rejected.status_code == 200
    assert (rejected.json["status"], rejected.json["rejection_reason"]) == ("rejected", "Pool closed")

    assert client.get("/api/booking/requests/", headers=auth).json == []
    assert [r["id"] for r in client.get("/api/booking/requests/?status=rejected", headers=auth).json] == [second.id]
    db.session.expire_all()
    assert db.session.get(Booking, first.id).approved_by_id == owner.id


def test_requests_filters(client, approval, lesson, day, factory, auth):
    a = factory.booking(approval, lesson, london(day, 9))
    b = factory.booking(approval, lesson, london(day + timedelta(days=1), 9))
    staff_id = approval.staff[0].id
    ids = lambda **q: [r["id"] for r in client.get("/api/booking/requests/", query_string=q, headers=auth).json]  # noqa: E731
    assert ids(start_date=str(day), end_date=str(day)) == [a.id]
    assert ids(start_date=str(day + timedelta(days=1))) == [b.id]
    assert ids(staff_id=staff_id) == [b.id, a.id]
    assert ids(staff_id=staff_id + 100) == []
    bad = client.get("/api/booking/requests/", query_string={"status": "maybe", "start_date": "x"}, headers=auth)
    assert bad.status_code == 422
    assert set(bad.json["error"]["fields"]) == {"status", "start_date"}


def test_approve_reject_other_business_is_404(client, business, auth, other_business, factory, day):
    foreign, foreign_service = other_business
    foreign.settings.requires_approval = True
    booking = factory.booking(foreign, foreign_service, london(day, 9))
    for path, body in [(f"/api/booking/requests/{booking.id}/approve/", None), (f"/api/booking/requests/{booking.id}/reject/", {"reason": "x"}),
                       ("/api/booking/requests/99999/approve/", None)]:
        response = client.post(path, json=body, headers=auth)
        assert response.status_code == 404
    assert booking.status == BookingStatus.PENDING


def test_approve_taken_slot_is_409(client, approval, lesson, day, factory, auth, db):
    pending = factory.booking(approval, lesson, london(day, 9))
    # Another booking now covers the same time (an import, or an owner's manual booking).
    other = factory.booking(approval, lesson, london(day, 11), client_email="other@example.com")
    other.start_at, other.end_at, other.status = pending.start_at, pending.end_at, BookingStatus.CONFIRMED
    db.session.commit()
    response = client.post(f"/api/booking/requests/{pending.id}/approve/", headers=auth)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "slot_unavailable"
    db.session.expire_all()
    assert db.session.get(Booking, pending.id).status == BookingStatus.PENDING


def test_bookings_list_filters(client, business, lesson, day, factory, auth):
    early = factory.booking(business, lesson, london(day, 9))
    late = factory.booking(business, lesson, london(day + timedelta(days=1), 9))
    ids = lambda **q: [r["id"] for r in client.get("/api/bookings/", query_string=q, headers=auth).json]  # noqa: E731
    assert ids() == [late.id, early.id]
    assert ids(when="upcoming") == [early.id, late.id]
    assert ids(when="past") == []
    assert ids(status="confirmed", start_date=str(day), end_date=str(day)) == [early.id]
    assert ids(status="pending") == []
    assert ids(staff_id=business.staff[0].id, limit=1) == [late.id]
    assert ids(limit=1, offset=1) == [early.id]
    bad = client.get("/api/bookings/", query_string={"when": "soon", "limit": 0, "end_date": "2030-01-01", "start_date": "2030-01-02"}, headers=auth)
    assert bad.status_code == 422
    assert set(bad.json["error"]["fields"]) == {"when", "limit"}
    bad = client.get("/api/bookings/", query_string={"end_date": "2030-01-01", "start_date": "2030-01-02"}, headers=auth)
    assert bad.json["error"]["fields"] == {"end_date": "end_date must not be before start_date."}
