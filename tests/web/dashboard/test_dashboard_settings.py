"""Booking link & settings page: link switch, booking settings, business profile."""
from __future__ import annotations

import pytest

from app.models import BookingSettings, Business
from tests.web.dashboard.support import HX, field_error, flashes, text

VALID = {
    "requires_approval": "y",
    "auto_approve_returning_clients": "y",
    "buffer_time_minutes": "10",
    "booking_expiry_hours": "48",
    "max_advance_booking_days": "60",
    "min_advance_booking_hours": "0",
}


def settings_row(db):
    db.session.expire_all()
    s = db.session.scalar(db.select(BookingSettings))
    return (s.requires_approval, s.auto_approve_returning_clients, s.buffer_time_minutes, s.booking_expiry_hours,
            s.max_advance_booking_days, s.min_advance_booking_hours, s.is_active)


def test_settings_page(client, logged_in):
    body = text(client.get("/dashboard/settings"))
    assert '<input id="booking-url" type="text" readonly value="http://localhost/book/swim-school-pro"' in body
    assert 'data-copy="booking-url"' in body
    assert 'id="is_active" name="is_active" role="switch" type="checkbox" value="y"' in body or 'role="switch"' in body
    for name in VALID:
        assert f'<label for="{name}">' in body or f'id="{name}"' in body


def test_save_settings(client, logged_in, db):
    response = client.post("/dashboard/settings", data=VALID)
    assert (response.status_code, response.headers["Location"]) == (303, "/dashboard/settings")
    assert settings_row(db) == (True, True, 10, 48, 60, 0, True)
    assert flashes(client.get("/dashboard/settings")) == ["Booking settings saved."]
    # Unticked boxes mean False.
    client.post("/dashboard/settings", data={**VALID, "requires_approval": None, "auto_approve_returning_clients": None})
    assert settings_row(db)[:2] == (False, False)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("buffer_time_minutes", "-1", "Enter a whole number from 0 to 1440."),
        ("buffer_time_minutes", "1441", "Enter a whole number from 0 to 1440."),
        ("buffer_time_minutes", "", "Enter a whole number from 0 to 1440."),
        ("booking_expiry_hours", "0", "Enter a whole number from 1 to 720."),
        ("booking_expiry_hours", "abc", "Not a valid integer value."),
        ("max_advance_booking_days", "731", "Enter a whole number from 1 to 730."),
        ("min_advance_booking_hours", "721", "Enter a whole number from 0 to 720."),
        ("min_advance_booking_hours", "1.5", "Not a valid integer value."),
    ],
)
def test_settings_validation(client, logged_in, db, field, value, message):
    response = client.post("/dashboard/settings", data={**VALID, field: value})
    assert response.status_code == 422
    assert field_error(response, field).startswith(message)
    assert 'aria-invalid="true"' in text(response)
    assert settings_row(db) == (False, False, 15, 24, 30, 2, True)


def test_link_switch(client, logged_in, db):
    response = client.post("/dashboard/settings/link", data={})
    assert response.status_code == 303
    assert settings_row(db)[-1] is False
    assert flashes(client.get("/dashboard/settings")) == ["Your booking link is off: clients see “not taking bookings”."]
    response = client.post("/dashboard/settings/link", data={"is_active": "y"}, headers=HX)
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body and body.lstrip().startswith('<form id="link-form"')
    assert "Your booking link is on." in body
    assert settings_row(db)[-1] is True


def test_profile(client, logged_in, db):
    data = {
        "name": "Swim School Pro Ltd", "description": "Lessons for all ages", "address": "1 Pool Lane", "phone": "+44 20 7946 0000",
        "email": "Hello@Swim.example", "timezone": "Europe/Dublin", "currency": "EUR",
    }
    response = client.post("/dashboard/settings/profile", data=data)
    assert response.status_code == 303
    db.session.expire_all()
    b = db.session.scalar(db.select(Business))
    assert (b.name, b.description, b.address, b.phone, b.email, b.timezone, b.currency, b.slug) == (
        "Swim School Pro Ltd", "Lessons for all ages", "1 Pool Lane", "+44 20 7946 0000", "hello@swim.example",
        "Europe/Dublin", "EUR", "swim-school-pro",
    )


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "", "Please enter a name."),
        ("email", "nope", "Please enter a valid e-mail address."),
        ("timezone", "Nowhere/Land", "Choose a time zone from the list."),
        ("description", "x" * 2001, "Field cannot be longer than 2000 characters."),
    ],
)
def test_profile_validation(client, logged_in, db, field, value, message):
    data = {"name": "X", "timezone": "Europe/London", "currency": "GBP", field: value}
    response = client.post("/dashboard/settings/profile", data=data)
    assert response.status_code == 422
    assert field_error(response, field) == message
    db.session.expire_all()
    assert db.session.scalar(db.select(Business.name)) == "Swim School Pro"
