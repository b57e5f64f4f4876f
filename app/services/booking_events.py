"""Announcing booking changes: one function emits, subscribers record their side effects.

Every transition in :mod:`app.services.booking_service` ends with one :func:`emit`. It writes the
audit row (:class:`~app.models.BookingAuditEntry`) and calls each subscriber of the app, in the
order they were subscribed, inside the caller's transaction: whatever a subscriber records
(outbox jobs, in-app notifications, retired jobs) commits or rolls back with the change itself.
A subscriber must not commit, and an exception it raises fails the whole transition.

Subscribers are registered explicitly when the app is built (``register_subscribers`` in
:mod:`app`); adding a side effect (a calendar push, a CRM sync, a webhook) is one more
subscriber there, and nothing in the booking service changes.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask, current_app

from app.domain.booking_events import BookingEvent
from app.domain.booking_state import BookingStatus
from app.extensions import db
from app.models import ActorKind, Booking, BookingAuditEntry, User, utcnow

_EXTENSION = "flowkey_booking_subscribers"


@dataclass(frozen=True)
class BookingChange:
    """What a subscriber is told.

    ``booking`` is the row after the change (new status, reasons, SEQUENCE already bumped);
    ``previous_status`` its status before (None on creation); ``actor`` the dashboard/API user
    who made it (None for the client or the system); ``now`` the aware UTC instant of the change;
    ``details`` the event's facts (e.g. ``from_start``/``to_start`` for a reschedule), as stored
    in the audit row; ``actor_kind`` who made it: the client (booking online, the manage link),
    the owner's side, or the system."""

    booking: Booking
    event: BookingEvent
    previous_status: BookingStatus | None
    actor: User | None
    now: datetime
    details: dict[str, Any] = field(default_factory=dict)
    actor_kind: ActorKind = ActorKind.SYSTEM

    @property
    def by_owner(self) -> bool:
        """True when someone of the business made the change (they need no e-mail about it)."""
        return self.actor is not None

    @property
    def by_client(self) -> bool:
        """True when the client made the change themselves (booking online, the manage link)."""
        return self.actor_kind == ActorKind.CLIENT

    @property
    def left_pending(self) -> bool:
        return self.previous_status == BookingStatus.PENDING and self.booking.status != BookingStatus.PENDING


Subscriber = Callable[[BookingChange], None]


def subscribers(app: Flask | None = None) -> list[Subscriber]:
    """The app's subscriber list (mutable; :func:`subscribe` and :func:`unsubscribe` edit it)."""
    app = app or current_app
    return app.extensions.setdefault(_EXTENSION, [])


def subscribe(subscriber: Subscriber, app: Flask | None = None) -> Subscriber:
    """Call ``subscriber(change)`` on every booking change of ``app`` (default: the current app).
    Subscribing the same function twice has no effect. Returns ``subscriber``."""
    registered = subscribers(app)
    if subscriber not in registered:
        registered.append(subscriber)
    return subscriber


def unsubscribe(subscriber: Subscriber, app: Flask | None = None) -> None:
    registered = subscribers(app)
    if subscriber in registered:
        registered.remove(subscriber)


def emit(
    booking: Booking,
    event: BookingEvent,
    *,
    previous_status: BookingStatus | None,
    actor: User | None = None,
    actor_kind: ActorKind | None = None,
    now: datetime | None = None,
    note: str = "",
    **details: Any,
) -> BookingChange:
    """Announce ``event`` for ``booking`` inside the current transaction (no commit).

    Call it after applying the change to the row. Writes one audit row (event, ``previous_status``
    -> ``booking.status``, ``actor``, ``actor_kind``, ``note``, ``details`` as JSON), flushes so
    the booking has an id, then calls every subscriber with a :class:`BookingChange`. Returns the
    change. ``actor_kind`` defaults to the owner's side when there is an ``actor``, else the system.
    Raises whatever a subscriber raises (the caller's transaction is then rolled back)."""
    now = now or utcnow()
    if actor_kind is None:
        actor_kind = ActorKind.OWNER if actor is not None else ActorKind.SYSTEM
    db.session.add(
        BookingAuditEntry(
            booking=booking,
            event=event,
            from_status=previous_status,
            to_status=booking.status,
            actor_user_id=actor.id if actor else None,
            actor_kind=actor_kind,
            note=note,
            data=details,
            created_at=now,
        )
    )
    db.session.flush()
    change = BookingChange(booking, event, previous_status, actor, now, details, actor_kind)
    for subscriber in list(subscribers()):
        subscriber(change)
    return change
