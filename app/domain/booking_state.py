"""The booking state machine.

``pending -> confirmed | rejected | expired | cancelled``;
``confirmed -> completed | no_show | cancelled``. Everything else is illegal.
"""
from __future__ import annotations

import enum


class BookingStatus(str, enum.Enum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return {"pending": "awaiting approval", "no_show": "no-show"}.get(self.value, self.value)


TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    BookingStatus.PENDING: frozenset(
        {BookingStatus.CONFIRMED, BookingStatus.REJECTED, BookingStatus.EXPIRED, BookingStatus.CANCELLED}
    ),
    BookingStatus.CONFIRMED: frozenset({BookingStatus.COMPLETED, BookingStatus.NO_SHOW, BookingStatus.CANCELLED}),
    BookingStatus.REJECTED: frozenset(),
    BookingStatus.EXPIRED: frozenset(),
    BookingStatus.CANCELLED: frozenset(),
    BookingStatus.COMPLETED: frozenset(),
    BookingStatus.NO_SHOW: frozenset(),
}

#: Statuses whose booking holds its time (a pending one only until ``expires_at``).
HOLDING_STATUSES = frozenset({BookingStatus.PENDING, BookingStatus.CONFIRMED})


class IllegalTransition(Exception):
    """Raised when a booking is asked to move to a state its current state cannot reach."""

    def __init__(self, current: BookingStatus, target: BookingStatus):
        super().__init__(f"a {current.label} booking cannot become {target.label}")
        self.current = current
        self.target = target


def transition(current: BookingStatus, target: BookingStatus) -> BookingStatus:
    """Return ``target`` if ``current -> target`` is allowed, else raise :class:`IllegalTransition`."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(current, target)
    return target
