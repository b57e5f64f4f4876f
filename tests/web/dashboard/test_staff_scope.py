"""Roles: a staff member gets 403 on every owner-only page (deny by default), 404 for another
staff member's bookings and hours, and sees only their own rows in lists."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from app.dashboard.routes import STAFF_ENDPOINTS
from app.domain.booking_state import BookingStatus as S
from app.models import Booking, BookingSettings, DateOverride, Service, StaffMember, WeeklyHours
from app.services import booking_service
from tests.web.dashboard.support import HX, at, monday, text
from tests.web.dashboard.team_support import log_in, staff_with_login


@pytest.fixture
def world(client, approval, lesson, logged_in, book):
    """Sam and Alex log in as staff; each (and the owner) has one pending request. Sam is logged in."""
    business = approval
    owner_staff = business.staff[0]
    sam, sam_user = staff_with_login(business, logged_in, "Sam", "sam@example.com", [lesson.id])
    alex, _ = staff_with_login(business, logged_in, "Alex", "alex@example.com", [lesson.id])
    w = SimpleNamespace(
        business=business, owner=logged_in, owner_staff=owner_staff, sam=sam, sam_user=sam_user, alex=alex, lesson=lesson,
        sam_booking=book(business, "10:00", staff_id=sam.id, client_name="Sam Client"),
        alex_booking=book(business, "11:00", staff_id=alex.id, client_name="Alex Client"),
        owner_booking=book(business, "12:00", staff_id=owner_staff.id, client_name="Owner Client"),
    )
    log_in(client, "sam@example.com")
    return w


def _url(rule, ids: int) -> str:
    """``rule`` with every variable filled: ids for numbers, a word otherwise."""
    return re.sub(r"<(?:([a-z]+)(?:\([^)]*\))?:)?[a-z_]+>", lambda m: str(ids) if m.group(1) in ("int", "id") else "x", rule.rule)


def owner_only_requests(app, ids: int) -> list[tuple[str, str, str]]:
    return sorted(
        (rule.endpoint, method, _url(rule, ids))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("dashboard.") and rule.endpoint not in STAFF_ENDPOINTS
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    )


def snapshot(db, w):
    db.session.expire_all()
    return (
        [(s.id, s.display_name, s.is_active, s.email) for s in db.session.scalars(db.select(StaffMember).order_by(StaffMember.id))],
        [(s.id, s.name, s.is_active) for s in db.session.scalars(db.select(Service))],
        [(b.requires_approval, b.is_active) for b in db.session.scalars(db.select(BookingSettings))],
        [(b.id, b.status) for b in db.session.scalars(db.select(Booking).order_by(Booking.id))],
        db.session.scalar(db.select(db.func.count(WeeklyHours.id))),
    )


def test_every_staff_endpoint_exists(app):
    assert STAFF_ENDPOINTS <= set(app.view_functions)


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_every_owner_only_endpoint_is_403_for_staff(app, client, world, db, headers):
    before = snapshot(db, world)
    requests = owner_only_requests(app, world.alex.id)
    # Deny by default: the owner pages are all in the list, and nothing else is allowed.
    assert {
        "dashboard.settings", "dashboard.settings_save", "dashboard.settings_profile", "dashboard.settings_slug",
        "dashboard.services", "dashboard.service_new", "dashboard.service_edit", "dashboard.service_active",
        "dashboard.team", "dashboard.team_add", "dashboard.team_member", "dashboard.team_deactivate", "dashboard.team_invite",
        "dashboard.api_keys", "dashboard.jobs", "dashboard.sent_email", "dashboard.staff_add",
    } <= {endpoint for endpoint, _, _ in requests}
    answers = [(endpoint, method, url, client.open(url, method=method, headers=headers).status_code) for endpoint, method, url in requests]
    assert answers == [(endpoint, method, url, 403) for endpoint, method, url in requests]
    assert snapshot(db, world) == before


def test_the_403_page_says_why(client, world):
    response = client.get("/dashboard/settings")
    assert response.status_code == 403
    assert "Only the business&#39;s owner can open this page." in text(response)


def test_staff_may_use_their_pages(client, world):
    for url in ("/dashboard/", "/dashboard/requests", "/dashboard/bookings", "/dashboard/hours", "/dashboard/notifications",
                "/dashboard/requests/count", "/dashboard/notifications/count", "/dashboard/notifications/preferences",
                f"/dashboard/bookings/{world.sam_booking.id}", f"/dashboard/bookings/{world.sam_booking.id}/reschedule"):
        assert (url, client.get(url).status_code) == (url, 200)


def test_staff_nav_shows_only_their_world(client, world):
    body = text(client.get("/dashboard/"))
    nav = re.search(r'<nav[^>]*aria-label="Dashboard"[^>]*>.*?</nav>', body, re.S).group(0)
    links = re.findall(r'href="(/dashboard/[^"]*)"', nav)
    assert links == ["/dashboard/", "/dashboard/requests", "/dashboard/bookings", "/dashboard/hours"]
    for hidden in ("/dashboard/settings", "/dashboard/services", "/dashboard/team", "/dashboard/jobs", "/dashboard/api-keys"):
        assert f'href="{hidden}"' not in body
    assert "Advanced" not in nav


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_lists_hold_only_their_own_rows(client, world, headers):
    for url in ("/dashboard/requests", "/dashboard/bookings", "/dashboard/bookings?when=upcoming"):
        body = text(client.get(url, headers=headers))
        assert "Sam Client" in body and "Alex Client" not in body and "Owner Client" not in body, url
    body = text(client.get("/dashboard/"))
    assert "Alex Client" not in body and "Owner Client" not in body
    # The nav badge counts their own requests only.
    assert '<span class="badge">1<span class="visually-hidden"> awaiting approval</span></span>' in text(client.get("/dashboard/requests/count", headers=HX))


def test_another_staff_members_rows_are_404(client, world, db):
    others = (world.alex_booking.id, world.owner_booking.id)
    requests = []
    for bid in others:
        requests += [
            ("GET", f"/dashboard/bookings/{bid}", None),
            ("GET", f"/dashboard/bookings/{bid}/reschedule", None),
            ("POST", f"/dashboard/bookings/{bid}/reschedule", {"start": at(monday(), "15:00").isoformat()}),
            ("POST", f"/dashboard/requests/{bid}/approve", {}),
            ("POST", f"/dashboard/requests/{bid}/reject", {"reason": "Mine now"}),
            ("POST", f"/dashboard/requests/{bid}/reject", {"reason": ""}),
            ("POST", f"/dashboard/bookings/{bid}/cancel", {"reason": "Mine now"}),
            ("POST", f"/dashboard/bookings/{bid}/revoke-links", {}),
        ]
    for staff_id in (world.alex.id, world.owner_staff.id):
        requests += [
            ("GET", f"/dashboard/hours?staff={staff_id}", None),
            ("POST", f"/dashboard/hours/{staff_id}", {"day_0": "01:00-02:00"}),
            ("POST", f"/dashboard/hours/{staff_id}/overrides", {"date": "2030-02-02", "unavailable": "y"}),
        ]
    before = snapshot(db, world)
    answers = [(method, url, client.open(url, method=method, data=data).status_code) for method, url, data in requests]
    assert answers == [(method, url, 404) for method, url, _ in requests]
    assert snapshot(db, world) == before
    assert db.session.scalars(db.select(DateOverride)).all() == []


def test_staff_act_on_their_own_requests_and_hours(client, world, db):
    assert client.post(f"/dashboard/requests/{world.sam_booking.id}/approve").status_code == 303
    db.session.expire_all()
    assert db.session.get(Booking, world.sam_booking.id).status == S.CONFIRMED
    body = text(client.get("/dashboard/hours"))
    assert "Sam" in body and "Alex" not in body


def test_a_deactivated_staff_member_loses_access(client, world, db, login):
    booking_service.cancel(world.business, world.sam_booking.id, None, "Moving on")
    log_in(client, "owner@example.com", "correct horse battery")
    assert client.post(f"/dashboard/team/{world.sam.id}/deactivate").status_code == 303
    log_in(client, "sam@example.com")
    response = client.get("/dashboard/")
    assert response.status_code == 403
    assert "turned off" in text(response)
    assert client.get("/api/bookings/").status_code == 403


def test_a_staff_session_gets_403_from_the_owner_api(client, world):
    for method, url in (("GET", "/api/services/"), ("GET", "/api/bookings/"), ("GET", "/api/business/"), ("GET", "/api/staff/"),
                        ("GET", f"/api/staff/{world.sam.id}/hours"), ("POST", "/api/staff/")):
        response = client.open(url, method=method, json={"display_name": "Mallory"})
        assert (url, response.status_code, response.json) == (
            url, 403, {"error": {"code": "forbidden", "message": "Only the business's owner can use the API.", "fields": {}}},
        )


def test_the_owner_still_sees_everyone(client, world):
    log_in(client, "owner@example.com", "correct horse battery")
    body = text(client.get("/dashboard/requests"))
    assert all(name in body for name in ("Sam Client", "Alex Client", "Owner Client"))
    assert client.get(f"/dashboard/bookings/{world.alex_booking.id}").status_code == 200


def test_staff_pages_link_only_to_what_staff_may_use(app, client, world):
    """No link or form on a staff member's pages leads to an owner-only page (a 403)."""
    adapter = app.url_map.bind("localhost")
    pages = ("/dashboard/", "/dashboard/requests", "/dashboard/bookings", "/dashboard/hours", "/dashboard/notifications",
             f"/dashboard/bookings/{world.sam_booking.id}", f"/dashboard/bookings/{world.sam_booking.id}/reschedule")
    targets = set()
    for page in pages:
        body = text(client.get(page))
        targets |= {("GET", url) for url in re.findall(r'(?:href|hx-get)="(/dashboard/[^"?#]*)', body)}
        for form in re.findall(r"<form\b[^>]*>", body):
            action = re.search(r'\baction="(/dashboard/[^"?#]*)', form)
            if action:
                targets.add(("POST" if 'method="post"' in form.lower() else "GET", action.group(1)))
        targets |= {("POST", url) for url in re.findall(r'hx-post="(/dashboard/[^"?#]*)', body)}
        targets |= {("POST", url) for url in re.findall(r'data-record="(/dashboard/[^"?#]*)', body)}
    endpoints = {(method, url, adapter.match(url, method=method)[0]) for method, url in targets}
    assert {e for e in endpoints if e[2] not in STAFF_ENDPOINTS} == set()
    assert {"dashboard.hours", "dashboard.booking_detail", "dashboard.requests"} <= {e[2] for e in endpoints}
