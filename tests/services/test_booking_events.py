"""One seam for booking side effects: every transition of the booking service emits exactly one
event, with its details, to every subscriber, inside the transition's transaction; a subscriber
is added without touching the booking service."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.booking_events import BookingEvent as E
from app.domain.booking_events import created_event, move_event
from app.domain.booking_state import TRANSITIONS
from app.domain.booking_state import BookingStatus as S
from app.extensions import db as _db
from app.models import Booking, BookingAuditEntry
from app.models.notification import BookingNotification
from app.models.outbox import OutboxJob
from app.services import booking_events, booking_service, business_service
from app.services.errors import Conflict
from tests.services.support import MONDAY, NOW, at, request_for


@pytest.fixture
def seen(app):
    """A throwaway subscriber: each change it receives, as plain values."""
    received = []

    def subscriber(change: booking_events.BookingChange) -> None:
        received.append(
            (change.booking.id, change.event, change.previous_status, change.booking.status,
             change.actor.id if change.actor else None, change.now, change.details)
        )

    booking_events.subscribe(subscriber)
    yield received
    booking_events.unsubscribe(subscriber)


def book(business, service, wall, n=1, now=NOW):
    return booking_service.create_booking(business, request_for(service, at(MONDAY, wall), n), now=now).booking


def audit(booking_id):
    return [
        (e.event, e.from_status, e.to_status, e.actor_user_id, e.note)
        for e in _db.session.scalars(select(BookingAuditEntry).where(BookingAuditEntry.booking_id == booking_id).order_by(BookingAuditEntry.id))
    ]


def test_every_transition_reaches_a_new_subscriber_exactly_once(db, business, lesson, owner, seen):
    booked = book(business, lesson, "09:00", 1)
    moved = booking_service.reschedule(business, booked.id, owner, at(MONDAY, "11:00"), now=NOW)
    cancelled = booking_service.cancel(business, booked.id, owner, "Ill", now=NOW)
    business_service.update_settings(business, requires_approval=True)
    approved = book(business, lesson, "13:00", 2)
    booking_service.approve(business, approved.id, owner, now=NOW)
    rejected = book(business, lesson, "14:00", 3)
    booking_service.reject(business, rejected.id, None, "Fully booked", now=NOW)
    expired = book(business, lesson, "15:00", 4)
    deadline = expired.expires_at
    assert booking_service.expire_pending(now=deadline + timedelta(minutes=1)) == 1
    late = book(business, lesson, "16:00", 5)
    with pytest.raises(Conflict):
        booking_service.approve(business, late.id, owner, now=late.expires_at + timedelta(minutes=1))

    assert seen == [
        (booked.id, E.BOOKED, None, S.CONFIRMED, None, NOW, {"auto_approved": False}),
        (booked.id, E.RESCHEDULED, S.CONFIRMED, S.CONFIRMED, owner.id, NOW, {
            "from_start": at(MONDAY, "09:00").isoformat(), "to_start": at(MONDAY, "11:00").isoformat(),
            "from_staff_id": booked.staff_id, "to_staff_id": booked.staff_id,
        }),
        (booked.id, E.CANCELLED, S.CONFIRMED, S.CANCELLED, owner.id, NOW, {}),
        (approved.id, E.REQUESTED, None, S.PENDING, None, NOW, {"auto_approved": False}),
        (approved.id, E.APPROVED, S.PENDING, S.CONFIRMED, owner.id, NOW, {}),
        (rejected.id, E.REQUESTED, None, S.PENDING, None, NOW, {"auto_approved": False}),
        (rejected.id, E.REJECTED, S.PENDING, S.REJECTED, None, NOW, {}),
        (expired.id, E.REQUESTED, None, S.PENDING, None, NOW, {"auto_approved": False}),
        (expired.id, E.EXPIRED, S.PENDING, S.EXPIRED, None, deadline + timedelta(minutes=1), {}),
        (late.id, E.REQUESTED, None, S.PENDING, None, NOW, {"auto_approved": False}),
        (late.id, E.EXPIRED, S.PENDING, S.EXPIRED, None, late.expires_at + timedelta(minutes=1), {}),
    ]
    # Each event is also the audit row's, with the same statuses and actor.
    assert audit(booked.id) == [
        (E.BOOKED, None, S.CONFIRMED, None, "booked online"),
        (E.RESCHEDULED, S.CONFIRMED, S.CONFIRMED, owner.id, "rescheduled"),
        (E.CANCELLED, S.CONFIRMED, S.CANCELLED, owner.id, "Ill"),
    ]
    assert audit(late.id) == [
        (E.REQUESTED, None, S.PENDING, None, "booked online"),
        (E.EXPIRED, S.PENDING, S.EXPIRED, None, "expired before approval"),
    ]
    assert (moved.id, cancelled.id) == (booked.id, booked.id)


def test_a_failing_subscriber_rolls_the_whole_transition_back(db, business, lesson, owner):
    booking = book(business, lesson, "09:00")
    before = (
        _db.session.scalar(select(func.count(OutboxJob.id))),
        _db.session.scalar(select(func.count(BookingNotification.id))),
        _db.session.scalar(select(func.count(BookingAuditEntry.id))),
    )

    def explode(change):
        raise RuntimeError("calendar provider down")

    booking_events.subscribe(explode)
    try:
        with pytest.raises(RuntimeError):
            booking_service.cancel(business, booking.id, owner, "Ill")
    finally:
        booking_events.unsubscribe(explode)
    _db.session.expire_all()
    assert _db.session.get(Booking, booking.id).status == S.CONFIRMED
    assert (
        _db.session.scalar(select(func.count(OutboxJob.id))),
        _db.session.scalar(select(func.count(BookingNotification.id))),
        _db.session.scalar(select(func.count(BookingAuditEntry.id))),
    ) == before


def test_subscribing_twice_delivers_once(db, business, lesson, seen, app):
    booking_events.subscribe(booking_events.subscribers()[-1])
    book(business, lesson, "09:00")
    assert [event for _, event, *_ in seen] == [E.BOOKED]


def test_every_legal_move_has_exactly_one_event():
    moves = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert {move_event(a, b) for a, b in moves} == {E.APPROVED, E.REJECTED, E.EXPIRED, E.CANCELLED, E.COMPLETED, E.NO_SHOW}
    assert (created_event(S.PENDING), created_event(S.CONFIRMED)) == (E.REQUESTED, E.BOOKED)
    with pytest.raises(KeyError):
        move_event(S.CANCELLED, S.CONFIRMED)


def test_the_booking_service_knows_no_side_effect_module():
    import ast
    from pathlib import Path

    source = Path(booking_service.__file__).read_text()
    imported = {
        alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module in ("app.services", None)
        for alias in node.names
    } | {node.module for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom) and node.module}
    assert not imported & {
        "email_messages", "emails", "booking_emails", "notifications", "outbox", "reminders", "request_expiry",
        "app.services.outbox", "app.services.notifications", "app.services.booking_emails",
    }
