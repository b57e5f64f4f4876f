"""Notifications in the dashboard: the bell and its count fragment, the list with mark-as-read
(HTMX in place or plain POST), the preferences form, and that one person never sees another's."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models import Membership, Role, User
from app.models.notification import BookingNotification
from app.domain.booking_events import BookingEvent as T
from app.models.outbox import OutboxJob
from app.services import booking_service, notifications
from app.services.booking_emails import JOB_KIND
from app.services.notifications import Channels
from tests.web.dashboard.support import HX, at, field_error, flashes, monday, now, text

BADGE = '<span class="badge">{}<span class="visually-hidden"> unread</span></span>'


def item_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'<article id="notification-(\d+)"', text(response))]


def unread_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'<article id="notification-(\d+)" class="notification notification-unread"', text(response))]


def read_at(db, notification_id):
    db.session.expire_all()
    return db.session.get(BookingNotification, notification_id).read_at


@pytest.fixture
def two(approval, book, db, logged_in):
    """Two requests at the logged-in owner's business: two unread notifications, newest first."""
    first = book(approval, "10:00", client_name="Ada Lovelace")
    second = book(approval, "12:00", client_name="Grace Hopper")
    ids = [n.id for n in notifications.list_for(logged_in)]
    return {"bookings": [second, first], "ids": ids}


@pytest.fixture
def other(factory):
    """Business B with one booking, so its owner has one notification."""
    owner_b = factory.owner(email="b@example.com", business_name="Bravo Secret Gym", buffer_time_minutes=0)
    service = factory.service(owner_b.business, name="Bravo Secret Service", buffer_before_minutes=0, buffer_after_minutes=0)
    factory.booking(owner_b.business, service, at(monday(), "10:00"), now=now(), client_name="Zebra Client")
    return notifications.list_for(owner_b)[0].id


# ------------------------------------------------------------------ the page

def test_page_lists_newest_first_with_unread_highlighted(client, two, db, logged_in):
    second, first = two["bookings"]
    notifications.mark_read(logged_in, two["ids"][1])
    response = client.get("/dashboard/notifications")
    body = text(response)
    assert response.status_code == 200 and "<html" in body
    assert item_ids(response) == two["ids"]
    assert unread_ids(response) == [two["ids"][0]]
    assert f"Grace Hopper asked for Private lesson on Mon {monday().day} {monday():%b %Y}, 12:00 (Europe/London)." in body
    assert f'href="/dashboard/bookings/{second.id}">View booking {second.reference}</a>' in body
    assert f'href="/dashboard/bookings/{first.id}">View booking {first.reference}</a>' in body
    assert body.count(">Mark as read<") == 1
    assert "1 unread" in body


def test_unread_filter_and_fragment(client, two, logged_in):
    notifications.mark_read(logged_in, two["ids"][1])
    response = client.get("/dashboard/notifications?unread=1", headers=HX)
    assert "<html" not in text(response)
    assert item_ids(response) == [two["ids"][0]]
    assert "HX-Request" in response.headers["Vary"]


def test_empty_page(client, logged_in):
    body = text(client.get("/dashboard/notifications"))
    assert "No notifications yet." in body
    assert "Mark all as read" not in body


def test_bell_in_the_nav_polls_the_count(client, two):
    body = text(client.get("/dashboard/bookings"))
    bell = re.search(r'<span id="notification-count"(.*?)</span>\s*</a>', body, re.S).group(0)
    assert 'hx-get="/dashboard/notifications/count"' in bell
    assert 'hx-trigger="load, every 30s, bookings-changed from:body, notifications-changed from:body"' in bell
    assert BADGE.format(2) in bell


# ------------------------------------------------------------------ the count

def test_count_fragment_and_full_page(client, two, logged_in):
    fragment = client.get("/dashboard/notifications/count", headers=HX)
    assert fragment.status_code == 200
    assert text(fragment).strip() == BADGE.format(2)
    assert fragment.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in fragment.headers["Vary"]

    page = client.get("/dashboard/notifications/count")
    assert "<html" in text(page) and "You have 2 unread notifications." in text(page)

    notifications.mark_all_read(logged_in)
    assert text(client.get("/dashboard/notifications/count", headers=HX)).strip() == ""
    assert "You have no unread notifications." in text(client.get("/dashboard/notifications/count"))


def test_count_fragment_after_logout_asks_htmx_to_redirect(client, two):
    client.post("/logout")
    response = client.get("/dashboard/notifications/count", headers=HX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")


# ------------------------------------------------------------------ marking

def test_mark_read_in_place(client, two, db):
    newest = two["ids"][0]
    response = client.post(f"/dashboard/notifications/{newest}/read", headers=HX)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "notifications-changed"
    body = text(response)
    assert "<html" not in body
    assert item_ids(response) == [newest] and unread_ids(response) == []
    assert "Mark as read" not in body
    assert read_at(db, newest) is not None
    assert text(client.get("/dashboard/notifications/count", headers=HX)).strip() == BADGE.format(1)


def test_mark_read_without_javascript(client, two, db):
    newest = two["ids"][0]
    response = client.post(f"/dashboard/notifications/{newest}/read", data={"next": "/dashboard/notifications?unread=1"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard/notifications?unread=1"
    assert read_at(db, newest) is not None
    assert flashes(client.get(response.headers["Location"])) == ["Notification marked as read."]
    # An off-site next is ignored.
    response = client.post(f"/dashboard/notifications/{two['ids'][1]}/read", data={"next": "https://evil.example/"})
    assert response.headers["Location"] == "/dashboard/notifications"


def test_mark_all_read_in_place(client, two, db):
    response = client.post("/dashboard/notifications/read-all", headers=HX)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "notifications-changed"
    assert "<html" not in text(response)
    assert "Marked 2 notifications as read." in text(response)
    assert item_ids(response) == two["ids"] and unread_ids(response) == []
    assert [read_at(db, i) is not None for i in two["ids"]] == [True, True]


def test_mark_all_read_keeps_the_unread_filter(client, two):
    response = client.post("/dashboard/notifications/read-all", data={"unread": "1"}, headers=HX)
    assert item_ids(response) == []
    assert "No unread notifications." in text(response)


def test_mark_all_read_without_javascript(client, two, db):
    response = client.post("/dashboard/notifications/read-all", data={"next": "/dashboard/notifications"})
    assert response.status_code == 303
    assert flashes(client.get("/dashboard/notifications")) == ["Marked 2 notifications as read."]
    assert [read_at(db, i) is not None for i in two["ids"]] == [True, True]


# ------------------------------------------------------------------ one person never sees another's

def test_owner_a_cannot_read_or_mark_b_notifications(client, two, other, db):
    for headers in ({}, HX):
        response = client.post(f"/dashboard/notifications/{other}/read", headers=headers)
        assert response.status_code == 404
    assert read_at(db, other) is None
    assert other not in item_ids(client.get("/dashboard/notifications"))
    assert "Zebra Client" not in text(client.get("/dashboard/notifications"))
    client.post("/dashboard/notifications/read-all")
    assert read_at(db, other) is None
    assert text(client.get("/dashboard/notifications/count", headers=HX)).strip() == ""


def test_a_colleague_sees_their_own_and_not_their_own_actions(client, approval, book, db, login, logged_in):
    sam = User(email="sam@example.com", name="Sam")
    sam.set_password("correct horse battery")
    # A co-owner: hears of every booking (a staff member hears only of their own).
    db.session.add_all([sam, Membership(user=sam, business=approval, role=Role.OWNER)])
    db.session.commit()
    booking = book(approval, "10:00", client_name="Ada Lovelace")
    owners_note = notifications.list_for(logged_in)[0].id
    client.post(f"/dashboard/requests/{booking.id}/approve")  # by the owner: Sam is told, the owner is not

    client.post("/logout")
    login("sam@example.com")
    response = client.get("/dashboard/notifications")
    titles = re.findall(r'<h2 id="notification-\d+-title" class="h-small">(<span class="new-mark">New<span class="visually-hidden">:</span></span> )?(.*?)</h2>',
                        text(response))
    # The request was decided, so its "new request" notification is read for everyone.
    assert [(bool(new), title) for new, title in titles] == [(True, "Request approved"), (False, "New booking request")]
    assert client.post(f"/dashboard/notifications/{owners_note}/read").status_code == 404
    assert [n.type for n in notifications.list_for(logged_in)] == [T.REQUESTED]


# ------------------------------------------------------------------ preferences

def checked(response) -> dict[str, bool]:
    """Every preference checkbox on the page: name -> checked."""
    return {
        m.group(2): "checked" in m.group(0)
        for m in re.finditer(r'<input(?=[^>]*type="checkbox")[^>]*?(id="([a-z_]+__(?:email|in_app))")[^>]*>', text(response))
    }


ALL_ON = {
    "requested__email": True, "requested__in_app": True,
    "booked__email": True, "booked__in_app": True,
    "approved__in_app": True,
    "rejected__in_app": True,
    "cancelled__email": True, "cancelled__in_app": True,
    "expired__email": True, "expired__in_app": True,
    "rescheduled__email": True, "rescheduled__in_app": True,
}


def test_preferences_page_shows_defaults(client, logged_in):
    response = client.get("/dashboard/notifications/preferences")
    body = text(response)
    assert response.status_code == 200
    assert checked(response) == ALL_ON
    assert '<label for="requested__email"><span class="visually-hidden">E-mail: New request awaiting approval</span>' in body
    assert body.count("No e-mail is sent for this event") == 2


def test_preferences_save_and_are_honoured_on_both_channels(client, approval, book, db, logged_in):
    form = {name: "y" for name, on in ALL_ON.items() if on}
    del form["requested__email"], form["cancelled__in_app"]
    response = client.post("/dashboard/notifications/preferences", data=form)
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard/notifications/preferences"
    page = client.get(response.headers["Location"])
    assert flashes(page) == ["Notification preferences saved."]
    assert checked(page) == {**ALL_ON, "requested__email": False, "cancelled__in_app": False}
    assert notifications.get_preferences(logged_in)[T.REQUESTED] == Channels(email=False, in_app=True)

    booking = book(approval, "10:00")
    booking_service.cancel(approval, booking.id, None, "Client called")  # not by the owner: normally both channels
    db.session.expire_all()
    templates = sorted(j.payload["template"] for j in db.session.scalars(
        select(OutboxJob).where(OutboxJob.booking_id == booking.id, OutboxJob.kind == JOB_KIND)))
    assert templates == ["cancelled", "owner_cancelled", "request_received"]  # no owner_new_request
    assert [n.type for n in notifications.list_for(logged_in)] == [T.REQUESTED]  # no in-app cancellation


def test_preferences_in_place_with_htmx(client, logged_in):
    response = client.post("/dashboard/notifications/preferences", data={"expired__in_app": "y"}, headers=HX)
    assert response.status_code == 200
    assert "<html" not in text(response)
    assert "Notification preferences saved." in text(response)
    assert checked(response) == {name: name == "expired__in_app" for name in ALL_ON}


def test_preferences_bad_value_is_422_and_saves_nothing(client, logged_in):
    response = client.post("/dashboard/notifications/preferences", data={"requested__email": "maybe", "booked__in_app": "y"})
    assert response.status_code == 422
    assert "<html" in text(response)
    assert field_error(response, "requested__email") == "Tick the box or leave it clear."
    assert re.search(r'<input aria-describedby="requested__email-error" aria-invalid="true" checked id="requested__email" '
                     r'name="requested__email" type="checkbox" value="y">', text(response))
    assert notifications.get_preferences(logged_in) == {k.type: Channels() for k in notifications.EVENT_KINDS}
    fragment = client.post("/dashboard/notifications/preferences", data={"requested__email": "maybe"}, headers=HX)
    assert fragment.status_code == 422 and "<html" not in text(fragment)


@pytest.mark.parametrize("config_overrides", [{"WTF_CSRF_ENABLED": True}])
def test_preferences_and_marking_need_the_csrf_token(client, owner, config_overrides):
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', text(client.get("/login"))).group(1)
    client.post("/login", data={"email": "owner@example.com", "password": "correct horse battery", "csrf_token": token})
    page = client.get("/dashboard/notifications/preferences")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text(page)).group(1)
    assert client.post("/dashboard/notifications/preferences", data={}).status_code == 400
    assert client.post("/dashboard/notifications/read-all", data={}).status_code == 400
    assert client.post("/dashboard/notifications/preferences", data={"csrf_token": token}).status_code == 303
    assert notifications.get_preferences(owner)[T.BOOKED] == Channels(False, False)
