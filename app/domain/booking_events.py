"""The vocabulary of booking changes: one name per thing that can happen to a booking.

The same names are stored in audit rows, used as in-app notification types, chosen by e-mail
routing, and (later) by automations and outgoing webhooks. A change is announced once, by
:func:`app.services.booking_events.emit`, and every side effect subscribes to it.
"""
from __future__ import annotations

import enum

from app.domain.booking_state import BookingStatus


class BookingEvent(str, enum.Enum):
    REQUESTED = "requested"  # created, awaiting the owner's approval
    BOOKED = "booked"  # created and confirmed at once
    APPROVED = "approved"  # a request confirmed by the owner
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # a request nobody answered before ``expires_at``
    RESCHEDULED = "rescheduled"  # new time or staff member; same booking, SEQUENCE + 1
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    LINKS_REVOKED = "links_revoked"  # the business replaced the client's links; the booking is unchanged


#: The event a move into each status announces (creation and rescheduling are not moves).
_EVENT_OF_MOVE: dict[tuple[BookingStatus, BookingStatus], BookingEvent] = {
    (BookingStatus.PENDING, BookingStatus.CONFIRMED): BookingEvent.APPROVED,
    (BookingStatus.PENDING, BookingStatus.REJECTED): BookingEvent.REJECTED,
    (BookingStatus.PENDING, BookingStatus.EXPIRED): BookingEvent.EXPIRED,
    (BookingStatus.PENDING, BookingStatus.CANCELLED): BookingEvent.CANCELLED,
    (BookingStatus.CONFIRMED, BookingStatus.CANCELLED): BookingEvent.CANCELLED,
    (BookingStatus.CONFIRMED, BookingStatus.COMPLETED): BookingEvent.COMPLETED,
    (BookingStatus.CONFIRMED, BookingStatus.NO_SHOW): BookingEvent.NO_SHOW,
}


def created_event(status: BookingStatus) -> BookingEvent:
    """The event of a booking created in ``status``: ``requested`` (pending) or ``booked``."""
    return BookingEvent.REQUESTED if status == BookingStatus.PENDING else BookingEvent.BOOKED


def move_event(current: BookingStatus, target: BookingStatus) -> BookingEvent:
    """The event of the legal move ``current -> target`` of the state machine
    (:data:`app.domain.booking_state.TRANSITIONS`). Raises ``KeyError`` for any other pair."""
    return _EVENT_OF_MOVE[(current, target)]
