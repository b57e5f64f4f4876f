"""Inputs that used to crash the dashboard or jam every e-mail a business sends: control characters
(CR/LF, NUL: a 500 on PostgreSQL) in one-line fields, and dates far outside the years the app
accepts in filters, overrides and the reschedule picker."""
from __future__ import annotations

import pytest

from app.models import ApiKey, Business, DateOverride, Service, StaffMember, User
from app.services import business_service
from app.services.errors import ValidationFailed
from tests.web.dashboard.support import HX, field_error, text

LINE = "Remove line breaks, tabs and other control characters."
YEARS = "Pick a date between the years 2000 and 2999."
PROFILE = {"name": "Swim School Pro", "timezone": "Europe/London", "currency": "GBP"}


# ------------------------------------------------------------------ control characters

@pytest.mark.parametrize(
    "field, value",
    [
        ("name", "Swim\r\nBcc: x@evil.example"),
        ("name", "Swim\x00"),
        ("name", "Swim\tSchool"),
        ("address", "1 Pool Lane\r\nLondon"),
        ("phone", "+44 20 7946 0000\x00"),
        ("email", "hello@swim.example\r\nBcc: x@evil.example"),
    ],
)
def test_profile_refuses_control_characters(client, logged_in, db, field, value):
    response = client.post("/dashboard/settings/profile", data={**PROFILE, field: value})
    assert response.status_code == 422, text(response)
    assert field_error(response, field) == LINE
    db.session.expire_all()
    assert db.session.scalar(db.select(Business.name)) == "Swim School Pro"


def test_profile_description_keeps_line_breaks_and_drops_nul(client, logged_in, db):
    response = client.post("/dashboard/settings/profile", data={**PROFILE, "description": "Pools\r\nand\x00 lessons"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(db.select(Business.description)) == "Pools\nand lessons"


def test_signup_refuses_a_business_name_with_a_line_break(client, db):
    data = {
        "name": "Eve", "email": "eve@example.com", "password": "analytical engine", "timezone": "Europe/London",
        "currency": "GBP", "business_name": "Evil\r\nBcc: x@evil.example",
    }
    response = client.post("/signup", data=data)
    assert response.status_code == 422
    assert field_error(response, "business_name") == LINE
    response = client.post("/signup", data={**data, "business_name": "Evil", "name": "Eve\x00"})
    assert response.status_code == 422
    assert field_error(response, "name") == LINE
    assert db.session.scalar(db.select(db.func.count()).select_from(Business)) == 0


def test_login_with_nul_in_the_email_is_not_a_500(client, owner):
    response = client.post("/login", data={"email": "owner@example.com\x00", "password": "correct horse battery"})
    assert response.status_code == 422
    assert field_error(response, "email") == LINE


@pytest.mark.parametrize("value", ["Lesson\r\nX", "Lesson\x00"])
def test_service_staff_and_api_key_names_refuse_control_characters(client, logged_in, db, value):
    staff_id = logged_in.business.staff[0].id
    service = {"name": value, "duration_minutes": "30", "price": "10", "capacity": "1", "location_kind": "in_person",
               "staff_ids": [str(staff_id)]}
    response = client.post("/dashboard/services/new", data=service)
    assert (response.status_code, field_error(response, "name")) == (422, LINE)
    response = client.post("/dashboard/staff", data={"display_name": value, "staff_timezone": ""}, headers=HX)
    assert response.status_code == 422 and LINE in text(response)
    response = client.post("/dashboard/api-keys", data={"name": value})
    assert (response.status_code, field_error(response, "name")) == (422, LINE)
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count()).select_from(Service)) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(StaffMember)) == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(ApiKey)) == 0


def test_services_refuse_control_characters_from_any_caller(owner, db):
    business = owner.business
    with pytest.raises(ValidationFailed) as info:
        business_service.update_profile(business, name="Evil\r\nBcc: x@evil.example")
    assert info.value.fields == {"name": LINE}
    with pytest.raises(ValidationFailed):
        business_service.add_staff(business, "Sam\x00")
    with pytest.raises(ValidationFailed):
        business_service.save_service(business, None, name="Lesson\n", duration_minutes=30)
    with pytest.raises(ValidationFailed) as info:
        business_service.sign_up(email="x@example.com", password="correct horse battery", name="X",
                                 business_name="Evil\r\nShop", timezone="Europe/London")
    assert info.value.fields == {"business_name": LINE}
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 1


# ------------------------------------------------------------------ dates far away

@pytest.mark.parametrize("query", ["date_from=9999-12-31", "date_to=9999-12-31", "date_from=0001-01-01", "date_to=1999-12-31"])
def test_bookings_filter_with_an_out_of_range_date_is_422(client, logged_in, query):
    for headers in ({}, HX):
        response = client.get(f"/dashboard/bookings?{query}", headers=headers)
        assert response.status_code == 422, text(response)
        assert YEARS in text(response)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_override_with_an_out_of_range_date_is_422(client, logged_in, db, day):
    staff = logged_in.business.staff[0]
    response = client.post(f"/dashboard/hours/{staff.id}/overrides", data={"date": day, "intervals": "10:00-12:00"})
    assert response.status_code == 422
    assert field_error(response, "date") == YEARS
    assert db.session.scalar(db.select(db.func.count()).select_from(DateOverride)) == 0


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_reschedule_picker_with_an_out_of_range_date_is_422(client, logged_in, factory, day):
    from tests.web.dashboard.support import at, monday, now

    service = factory.service(logged_in.business, name="Lesson", duration_minutes=60)
    booking = factory.booking(logged_in.business, service, at(monday(), "10:00"), now=now())
    response = client.get(f"/dashboard/bookings/{booking.id}/reschedule?date={day}")
    assert response.status_code == 422, text(response)
    assert YEARS in text(response)


@pytest.mark.parametrize("start", ["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"])
def test_reschedule_to_an_out_of_range_start_is_422(client, logged_in, factory, start):
    from tests.web.dashboard.support import at, monday, now

    service = factory.service(logged_in.business, name="Lesson", duration_minutes=60)
    booking = factory.booking(logged_in.business, service, at(monday(), "10:00"), now=now())
    staff_id = logged_in.business.staff[0].id
    response = client.post(f"/dashboard/bookings/{booking.id}/reschedule", data={"start": start, "staff_id": str(staff_id)})
    assert response.status_code == 422, text(response)
