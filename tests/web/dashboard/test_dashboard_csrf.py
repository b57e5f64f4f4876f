"""With CSRF on, every dashboard and auth POST needs the token from the page."""
from __future__ import annotations

import re

import pytest

from app.domain.booking_state import BookingStatus as S
from app.models import Booking
from app.services import business_service
from tests.web.dashboard.support import at, monday, now, text


@pytest.fixture
def config_overrides():
    return {"WTF_CSRF_ENABLED": True}


def token_from(response) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', text(response)).group(1)


def log_in(client):
    token = token_from(client.get("/login"))
    response = client.post("/login", data={"email": "owner@example.com", "password": "correct horse battery", "csrf_token": token})
    assert response.status_code == 302


def test_login_without_token_is_400(client, owner):
    response = client.post("/login", data={"email": "owner@example.com", "password": "correct horse battery"})
    assert response.status_code == 400
    assert "Your form expired or was sent from elsewhere." in text(response)
    assert client.get("/dashboard/").status_code == 302


def test_signup_without_token_is_400(client):
    assert client.post("/signup", data={"name": "A", "email": "a@example.com", "password": "long enough pw", "business_name": "A"}).status_code == 400


def test_dashboard_posts_without_token_are_400(client, owner, factory):
    log_in(client)
    business = owner.business
    business_service.update_settings(business, requires_approval=True)
    service = factory.service(business, buffer_before_minutes=0, buffer_after_minutes=0)
    booking = factory.booking(business, service, at(monday(), "10:00"), now=now())
    staff_id = business.staff[0].id
    for url, data in [
        (f"/dashboard/requests/{booking.id}/approve", {}),
        (f"/dashboard/requests/{booking.id}/reject", {"reason": "No"}),
        (f"/dashboard/bookings/{booking.id}/cancel", {"reason": "No"}),
        ("/dashboard/settings", {"buffer_time_minutes": "0"}),
        ("/dashboard/settings/link", {}),
        ("/dashboard/settings/profile", {"name": "X"}),
        ("/dashboard/services/new", {"name": "X"}),
        (f"/dashboard/services/{service.id}/active", {"active": "0"}),
        (f"/dashboard/hours/{staff_id}", {"day_0": "09:00-10:00"}),
        (f"/dashboard/hours/{staff_id}/overrides", {"date": "2030-01-01", "unavailable": "y"}),
        ("/dashboard/staff", {"display_name": "X"}),
        ("/dashboard/api-keys", {"name": "X"}),
        ("/logout", {}),
    ]:
        assert client.post(url, data=data).status_code == 400, url
    factory.db.session.expire_all()
    assert factory.db.session.get(Booking, booking.id).status == S.PENDING
    assert client.get("/dashboard/").status_code == 200  # still logged in


def test_htmx_header_token_is_accepted(client, owner, factory):
    log_in(client)
    business = owner.business
    business_service.update_settings(business, requires_approval=True)
    service = factory.service(business, buffer_before_minutes=0, buffer_after_minutes=0)
    booking = factory.booking(business, service, at(monday(), "10:00"), now=now())
    page = client.get("/dashboard/requests")
    token = re.search(r'"X-CSRFToken": "([^"]+)"', text(page)).group(1)
    response = client.post(f"/dashboard/requests/{booking.id}/approve", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200


def test_logout_with_token(client, owner):
    log_in(client)
    token = token_from(client.get("/dashboard/"))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/dashboard/").status_code == 302
