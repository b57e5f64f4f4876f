"""The owner API for the business profile and the team: a business set up through the API alone,
with an API key and with a session; staff sessions and keys of former owners get 403."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Booking, BusinessSlugHistory, Membership, OutboxJob, Role, StaffInvitation, StaffMember
from app.services import api_keys, business_service, team
from tests.web.api.support import london
from tests.web.api.test_api_openapi import assert_valid

PROFILE = {
    "name": "Swim School Pro", "slug": "swim-school-pro", "booking_url": "(see profile())",
    "timezone": "Europe/London", "currency": "USD", "language": "en", "country": None, "email": "owner@example.com",
    "phone": "", "address": "", "description": "",
}
PASSWORD = "violet tapestry monsoon"


@pytest.fixture(params=["api_key", "session"])
def as_owner(request, client, owner, business, app):
    """Headers for the owner's requests: a bearer key, or a logged-in session (CSRF is off in tests)."""
    if request.param == "api_key":
        _row, token = api_keys.create_key(business, owner, "tests")
        return {"Authorization": f"Bearer {token}"}
    assert client.post("/login", data={"email": "owner@example.com", "password": "correct horse battery"}).status_code == 302
    return {}


def profile(app) -> dict:
    return {**PROFILE, "booking_url": f"{app.config['BASE_URL'].rstrip('/')}/book/swim-school-pro"}


# ------------------------------------------------------------------ business profile

def test_get_and_put_the_business(client, app, as_owner, business, db):
    assert client.get("/api/business/", headers=as_owner).json == profile(app)
    response = client.put("/api/business/", headers=as_owner, json={
        "name": "Swim School Plus", "slug": "Swim-Plus", "timezone": "America/New_York", "currency": "EUR", "language": "de",
        "country": "us", "email": "Hello@Swim.example", "phone": "+1 212 555 0100", "address": "1 Pool Lane",
        "description": "Lessons\nfor all",
    })
    assert response.status_code == 200
    base = app.config["BASE_URL"].rstrip("/")
    assert response.json == {
        "name": "Swim School Plus", "slug": "swim-plus", "booking_url": f"{base}/book/swim-plus", "timezone": "America/New_York",
        "currency": "EUR", "language": "de", "country": "US", "email": "hello@swim.example", "phone": "+1 212 555 0100",
        "address": "1 Pool Lane", "description": "Lessons\nfor all",
    }
    assert client.get("/api/business/", headers=as_owner).json == response.json
    assert [h.slug for h in db.session.scalars(select(BusinessSlugHistory))] == ["swim-school-pro"]
    # null: leave as is (country: guess from the zone); "" clears a contact field.
    response = client.put("/api/business/", headers=as_owner, json={"name": None, "country": None, "phone": ""})
    assert (response.json["name"], response.json["country"], response.json["phone"]) == ("Swim School Plus", None, "")


@pytest.mark.parametrize("body, fields", [
    ({"name": ""}, {"name": "This field is required."}),
    ({"timezone": "Mars/Base"}, {"timezone": "Unknown time zone; use an IANA name like Europe/London."}),
    ({"currency": "euro"}, {"currency": "String should match pattern '^[A-Z]{3}$'"}),
    ({"language": "xx"}, {"language": "Use one of: en, fr, de, es."}),
    ({"country": "ZZ"}, {"country": "Use an ISO 3166-1 alpha-2 country code, e.g. GB."}),
    ({"email": "not-an-address"}, {"email": "Enter a valid e-mail address, like name@example.com."}),
    ({"slug": "admin"}, {"slug": "That word is reserved; choose another."}),
    ({"slug": "-bad-"}, {"slug": "Use 1 to 100 lower-case letters, digits and hyphens (not first or last)."}),
    ({"name": "A\nB"}, {"name": "Remove line breaks, tabs and other control characters."}),
    ({"colour": "red"}, {"colour": "Unknown field."}),
])
def test_bad_business_input_is_422_with_fields(client, app, as_owner, body, fields):
    response = client.put("/api/business/", headers=as_owner, json=body)
    assert response.status_code == 422
    assert response.json["error"]["fields"] == fields
    assert client.get("/api/business/", headers=as_owner).json == profile(app)


def test_a_slug_taken_by_another_business_changes_nothing(client, app, as_owner, factory):
    factory.owner(email="b@example.com", business_name="Taken Name")
    response = client.put("/api/business/", headers=as_owner, json={"slug": "taken-name", "name": "Renamed"})
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"slug": "Another business has (or had) that link; choose another."}
    assert client.get("/api/business/", headers=as_owner).json == profile(app)


# ------------------------------------------------------------------ staff

def staff_json(staff_id, name, **overrides):
    base = {
        "id": staff_id, "display_name": name, "email": None, "timezone": None, "effective_timezone": "Europe/London",
        "is_active": True, "role": None, "service_ids": [], "upcoming_bookings": 0, "invitation": None,
    }
    return {**base, **overrides}


def test_staff_list_create_get_update(client, as_owner, business, lesson, db):
    me = business.staff[0]
    assert client.get("/api/staff/", headers=as_owner).json == [
        staff_json(me.id, "Owner 1", email="owner@example.com", role="owner", service_ids=[lesson.id])
    ]
    created = client.post("/api/staff/", headers=as_owner, json={
        "display_name": "Sam", "email": "Sam@Example.com", "timezone": "America/New_York", "service_ids": [lesson.id],
    })
    assert created.status_code == 201
    sam_id = created.json["id"]
    sam = staff_json(sam_id, "Sam", email="sam@example.com", timezone="America/New_York", effective_timezone="America/New_York",
                     service_ids=[lesson.id])
    assert created.json == sam
    assert client.get(f"/api/staff/{sam_id}", headers=as_owner).json == sam
    updated = client.put(f"/api/staff/{sam_id}", headers=as_owner, json={"display_name": "Samantha", "timezone": None, "service_ids": []})
    assert updated.status_code == 200
    assert updated.json == {**sam, "display_name": "Samantha", "timezone": None, "effective_timezone": "Europe/London", "service_ids": []}
    assert client.put(f"/api/staff/{sam_id}", headers=as_owner, json={"email": None}).json["email"] is None
    # Its hours through the existing endpoint: the staff member is bookable.
    hours = client.put(f"/api/staff/{sam_id}/hours", headers=as_owner, json={"hours": [{"weekday": 0, "start": "09:00", "end": "17:00"}]})
    assert hours.status_code == 200
    assert [s["display_name"] for s in client.get("/api/staff/", headers=as_owner).json] == ["Owner 1", "Samantha"]


@pytest.mark.parametrize("method, body, fields", [
    ("POST", {}, {"display_name": "This field is required."}),
    ("POST", {"display_name": "Sam", "email": "nope"}, {"email": "Enter a valid e-mail address, like name@example.com."}),
    ("POST", {"display_name": "Sam", "email": "owner@example.com"}, {"email": "Owner 1 already has this address."}),
    ("POST", {"display_name": "Sam", "service_ids": [99999]}, {"service_ids": "No such service: 99999."}),
    ("POST", {"display_name": "Sam", "service_ids": [1, 1]}, {"service_ids": "List each id once."}),
    ("POST", {"display_name": "Sam", "timezone": "Nowhere"}, {"timezone": "Unknown time zone; use an IANA name like Europe/London."}),
    ("POST", {"display_name": 5}, {"display_name": "Must be a string."}),
    ("PUT", {"display_name": ""}, {"display_name": "This field is required."}),
    ("PUT", {"is_active": "no"}, {"is_active": "Must be true or false."}),
    ("PUT", {"role": "owner"}, {"role": "Unknown field."}),
])
def test_bad_staff_input_is_422_with_fields(client, as_owner, business, method, body, fields):
    url = "/api/staff/" if method == "POST" else f"/api/staff/{business.staff[0].id}"
    response = client.open(url, method=method, headers=as_owner, json=body)
    assert response.status_code == 422
    assert response.json["error"]["fields"] == fields


def test_deactivate_is_409_with_the_future_bookings_until_they_are_gone(client, as_owner, business, lesson, factory, db, day):
    sam = team.create_staff(business, display_name="Sam", service_ids=[lesson.id])
    business_service.set_weekly_hours(sam, {day.weekday(): [(london(day, 9).time(), london(day, 17).time())]})
    booking = factory.booking(business, lesson, london(day, 10), staff_id=sam.id)
    for method, body in (("DELETE", None), ("PUT", {"is_active": False, "display_name": "Renamed"})):
        response = client.open(f"/api/staff/{sam.id}", method=method, headers=as_owner, json=body)
        assert response.status_code == 409
        error = response.json["error"]
        assert (error["code"], error["message"], [b["id"] for b in error["bookings"]]) == (
            "staff_has_bookings", "Sam has 1 future booking. Reassign or cancel each one first.", [booking.id],
        )
        assert error["bookings"][0]["reference"] == booking.reference
    db.session.expire_all()
    assert (sam.display_name, sam.is_active) == ("Sam", True)  # the refused PUT changed nothing
    client.post(f"/api/bookings/{booking.id}/reschedule/", headers=as_owner,
                json={"start": london(day, 10).isoformat(), "staff_id": business.staff[0].id})
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).staff_id == business.staff[0].id
    response = client.delete(f"/api/staff/{sam.id}", headers=as_owner)
    assert (response.status_code, response.json["is_active"]) == (200, False)
    assert client.put(f"/api/staff/{sam.id}", headers=as_owner, json={"is_active": True}).json["is_active"] is True


def test_invitations_through_the_api(client, as_owner, business, owner, db):
    sam_id = client.post("/api/staff/", headers=as_owner, json={"display_name": "Sam"}).json["id"]
    missing = client.post(f"/api/staff/{sam_id}/invitation", headers=as_owner, json={})
    assert (missing.status_code, missing.json["error"]["fields"]) == (422, {"email": "Enter the address to send the invitation to."})
    sent = client.post(f"/api/staff/{sam_id}/invitation", headers=as_owner, json={"email": "sam@example.com"})
    assert sent.status_code == 201
    invitation = db.session.scalar(select(StaffInvitation))
    assert sent.json["email"] == "sam@example.com"
    assert sent.json["invitation"] == {
        "email": "sam@example.com", "status": "pending",
        "sent_at": invitation.sent_at.isoformat(), "expires_at": invitation.expires_at.isoformat(),
    }
    again = client.post(f"/api/staff/{sam_id}/invitation", headers=as_owner)  # no body: the address on file
    assert again.status_code == 201
    assert len(db.session.scalars(select(OutboxJob).where(OutboxJob.kind == team.JOB_KIND)).all()) == 2
    assert client.delete(f"/api/staff/{sam_id}/invitation", headers=as_owner).status_code == 204
    assert client.delete(f"/api/staff/{sam_id}/invitation", headers=as_owner).status_code == 404
    assert client.get(f"/api/staff/{sam_id}", headers=as_owner).json["invitation"] is None
    taken = client.post(f"/api/staff/{sam_id}/invitation", headers=as_owner, json={"email": "owner@example.com"})
    assert (taken.status_code, taken.json["error"]["fields"]) == (422, {"email": "Owner 1 already has this address."})
    me = client.post(f"/api/staff/{business.staff[0].id}/invitation", headers=as_owner, json={})
    assert (me.status_code, me.json["error"]["message"]) == (409, "Owner 1 already has a login.")


def test_another_business_staff_is_404(client, as_owner, factory):
    other = factory.owner(email="b@example.com").business
    theirs = other.staff[0].id
    for method, url, body in (
        ("GET", f"/api/staff/{theirs}", None), ("PUT", f"/api/staff/{theirs}", {"display_name": "x"}),
        ("DELETE", f"/api/staff/{theirs}", None), ("POST", f"/api/staff/{theirs}/invitation", {"email": "x@example.com"}),
        ("DELETE", f"/api/staff/{theirs}/invitation", None),
    ):
        response = client.open(url, method=method, headers=as_owner, json=body)
        assert (method, url, response.status_code) == (method, url, 404)


def test_staff_sessions_and_former_owners_keys_are_403(client, business, owner, db):
    sam = team.create_staff(business, display_name="Sam", email="sam@example.com")
    user = team.accept_invitation(team.invitation_token(team.invite(business, sam.id, owner)), password=PASSWORD)
    assert client.post("/login", data={"email": "sam@example.com", "password": PASSWORD}).status_code == 302
    forbidden = {"error": {"code": "forbidden", "message": "Only the business's owner can use the API.", "fields": {}}}
    for method, url in (("GET", "/api/business/"), ("PUT", "/api/business/"), ("GET", "/api/staff/"), ("POST", "/api/staff/"),
                        ("GET", f"/api/staff/{sam.id}"), ("DELETE", f"/api/staff/{sam.id}"), ("POST", f"/api/staff/{sam.id}/invitation")):
        response = client.open(url, method=method, json={"name": "Mallory"})
        assert (url, response.status_code, response.json) == (url, 403, forbidden)
    # A key made while its creator owned the business stops working when they no longer do.
    _row, token = api_keys.create_key(business, owner, "old")
    assert client.get("/api/business/", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    membership = db.session.scalar(select(Membership).where(Membership.user_id == owner.id))
    membership.role = Role.STAFF
    db.session.commit()
    response = client.get("/api/business/", headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.json) == (403, forbidden)
    assert db.session.get(StaffMember, sam.id).user_id == user.id


def test_responses_match_the_openapi_document(client, business, lesson, auth, factory, day):
    doc = client.get("/api/openapi.json").json
    for path in ("/api/business/", "/api/staff/", "/api/staff/{staff_id}", "/api/staff/{staff_id}/invitation"):
        assert "403" in str(doc["paths"][path])
    assert_valid(doc, "/api/business/", "get", client.get("/api/business/", headers=auth))
    assert_valid(doc, "/api/business/", "put", client.put("/api/business/", headers=auth, json={"country": "GB"}))
    assert_valid(doc, "/api/business/", "put", client.put("/api/business/", headers=auth, json={"currency": 1}))
    created = client.post("/api/staff/", headers=auth, json={"display_name": "Sam", "service_ids": [lesson.id]})
    assert_valid(doc, "/api/staff/", "post", created)
    sam_id = created.json["id"]
    assert_valid(doc, "/api/staff/", "get", client.get("/api/staff/", headers=auth))
    assert_valid(doc, "/api/staff/{staff_id}", "get", client.get(f"/api/staff/{sam_id}", headers=auth))
    assert_valid(doc, "/api/staff/{staff_id}", "put", client.put(f"/api/staff/{sam_id}", headers=auth, json={"timezone": "Asia/Tokyo"}))
    assert_valid(doc, "/api/staff/{staff_id}/invitation", "post",
                 client.post(f"/api/staff/{sam_id}/invitation", headers=auth, json={"email": "sam@example.com"}))
    business_service.set_weekly_hours(db_staff := business.staff[0], {day.weekday(): [(london(day, 9).time(), london(day, 17).time())]})
    factory.booking(business, lesson, london(day, 10), staff_id=db_staff.id)
    refused = client.delete(f"/api/staff/{db_staff.id}", headers=auth)
    assert refused.status_code == 409
    assert_valid(doc, "/api/staff/{staff_id}", "delete", refused)
    assert_valid(doc, "/api/staff/{staff_id}", "delete", client.delete(f"/api/staff/{sam_id}", headers=auth))
    assert_valid(doc, "/api/staff/{staff_id}", "get", client.get("/api/staff/2147483647", headers=auth))
