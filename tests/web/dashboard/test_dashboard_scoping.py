"""Owner A never sees or touches business B: every URL with B's ids is a 404, lists hold only A's rows."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from app.domain.booking_state import BookingStatus as S
from app.models import ApiKey, Booking, DateOverride, Service, WeeklyHours
from app.services import api_keys, business_service
from tests.web.dashboard.support import HX, at, monday, now, text


@pytest.fixture
def other(factory):
    """Business B with a pending request, a service, a second staff member, an override and an API key."""
    owner_b = factory.owner(email="b@example.com", business_name="Bravo Secret Gym", requires_approval=True, buffer_time_minutes=0)
    b = owner_b.business
    staff = business_service.add_staff(b, "Bravo Staff")
    service = factory.service(b, name="Bravo Secret Service", staff_ids=[b.staff[0].id])
    booking = factory.booking(b, service, at(monday(), "10:00"), now=now(), client_name="Zebra Client", client_email="zebra@example.com")
    override = business_service.set_override(b.staff[0], date(2030, 1, 1), [], now=datetime(2029, 12, 1, tzinfo=timezone.utc))
    key, _ = api_keys.create_key(b, owner_b, "Bravo Key")
    return {"business": b, "owner_staff": b.staff[0].id, "staff": staff.id, "service": service.id, "booking": booking.id,
            "override": override.id, "key": key.id}


def b_urls(o, a_staff):
    service_form = {"name": "Hijacked", "duration_minutes": "30", "price": "1", "capacity": "1", "location_kind": "in_person",
                    "staff_ids": [str(o["owner_staff"])]}
    return [
        ("GET", f"/dashboard/bookings/{o['booking']}", None),
        ("GET", f"/dashboard/services/{o['service']}", None),
        ("GET", f"/dashboard/hours?staff={o['staff']}", None),
        ("GET", f"/dashboard/hours?staff={o['owner_staff']}", None),
        ("POST", f"/dashboard/requests/{o['booking']}/approve", {}),
        ("POST", f"/dashboard/requests/{o['booking']}/reject", {"reason": "Mine now"}),
        ("POST", f"/dashboard/requests/{o['booking']}/reject", {"reason": ""}),
        ("POST", f"/dashboard/bookings/{o['booking']}/cancel", {"reason": "Mine now"}),
        ("POST", f"/dashboard/bookings/{o['booking']}/cancel", {"reason": ""}),
        ("POST", f"/dashboard/services/{o['service']}", service_form),
        ("POST", f"/dashboard/services/{o['service']}/active", {"active": "0"}),
        ("POST", f"/dashboard/hours/{o['owner_staff']}", {"day_0": "01:00-02:00"}),
        ("POST", f"/dashboard/hours/{o['owner_staff']}/overrides", {"date": "2030-02-02", "unavailable": "y"}),
        ("POST", f"/dashboard/hours/{o['owner_staff']}/overrides/{o['override']}/delete", {}),
        ("POST", f"/dashboard/hours/{a_staff}/overrides/{o['override']}/delete", {}),
        ("POST", f"/dashboard/api-keys/{o['key']}/revoke", {}),
    ]


def snapshot(db, o):
    db.session.expire_all()
    return (
        db.session.get(Booking, o["booking"]).status,
        db.session.get(Service, o["service"]).name,
        db.session.get(Service, o["service"]).is_active,
        [(h.weekday, h.start_time, h.end_time) for h in db.session.scalars(db.select(WeeklyHours).where(WeeklyHours.staff_id == o["owner_staff"]))],
        [(d.staff_id, d.date) for d in db.session.scalars(db.select(DateOverride))],
        db.session.get(ApiKey, o["key"]).revoked_at,
    )


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_every_url_with_another_business_ids_is_404(client, logged_in, other, db, headers):
    before = snapshot(db, other)
    a_staff = logged_in.business.staff[0].id
    results = []
    for method, url, data in b_urls(other, a_staff):
        response = client.open(url, method=method, data=data, headers=headers)
        results.append((method, url, response.status_code))
    assert results == [(method, url, 404) for method, url, _ in b_urls(other, a_staff)]
    assert snapshot(db, other) == before
    assert before[0] == S.PENDING and before[5] is None


def test_another_business_staff_cannot_be_attached_or_filtered(client, logged_in, other, factory, db):
    mine = factory.service(logged_in.business, name="Mine")
    data = {"name": "Mine", "duration_minutes": "30", "price": "1", "capacity": "1", "location_kind": "in_person",
            "staff_ids": [str(other["staff"])]}
    assert client.post(f"/dashboard/services/{mine.id}", data=data).status_code == 422
    assert client.post("/dashboard/services/new", data=data).status_code == 422
    db.session.expire_all()
    assert [s.id for s in db.session.get(Service, mine.id).staff] == [logged_in.business.staff[0].id]
    assert client.get(f"/dashboard/bookings?staff={other['staff']}").status_code == 422


def test_lists_hold_only_my_business(client, logged_in, other, factory):
    lesson = factory.service(logged_in.business, name="My lesson", buffer_before_minutes=0, buffer_after_minutes=0)
    business_service.update_settings(logged_in.business, requires_approval=True)
    factory.booking(logged_in.business, lesson, at(monday(), "10:00"), now=now(), client_name="Alpha Client")
    api_keys.create_key(logged_in.business, logged_in, "Alpha Key")
    pages = ["/dashboard/", "/dashboard/requests", "/dashboard/requests/count", "/dashboard/bookings", "/dashboard/bookings?when=past",
             "/dashboard/services", "/dashboard/hours", "/dashboard/settings", "/dashboard/api-keys", "/dashboard/services/new"]
    for url in pages:
        body = text(client.get(url))
        for secret in ("Bravo", "Zebra", "zebra@example.com"):
            assert secret not in body, (url, secret)
    assert "Alpha Client" in text(client.get("/dashboard/requests"))
    assert "Alpha Client" in text(client.get("/dashboard/bookings"))
    assert "Alpha Key" in text(client.get("/dashboard/api-keys"))
    assert text(client.get("/dashboard/requests/count")).count('class="badge">1<') == 1
