"""Reminder e-mails before a confirmed booking, kept in step with its changes.

:func:`on_booking_event` is a booking-event subscriber: a booking that becomes confirmed gets
reminders at the business's offsets (``BookingSettings.reminder_offsets_minutes``, default 24 h
and 1 h before the start); a reschedule retires the old ones and records new ones; a booking that
stops holding its time (cancelled, expired, ...) has its pending reminders retired. Each reminder
is a ``booking_email`` job (template ``reminder``) keyed by the booking's SEQUENCE, so a reminder
already handed to a worker when the booking moved is skipped as stale when it runs.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from app.domain.booking_events import BookingEvent
from app.domain.booking_state import HOLDING_STATUSES, BookingStatus
from app.models import Booking, utcnow
from app.models.outbox import OutboxJob
from app.services import outbox
from app.services.booking_emails import record_booking_email
from app.services.booking_events import BookingChange

DEFAULT_OFFSETS_MINUTES = (1440, 60)


def reminder_offsets(settings) -> list[timedelta]:
    """The business's reminder offsets (``BookingSettings.reminder_offsets_minutes``) as timedeltas."""
    minutes = settings.reminder_offsets_minutes
    if minutes is None:
        minutes = DEFAULT_OFFSETS_MINUTES
    return [timedelta(minutes=int(m)) for m in minutes]


def key_pattern(booking: Booking) -> str:
    """SQL ``LIKE`` pattern matching every reminder job key of ``booking`` (any SEQUENCE)."""
    return f"email:booking:{booking.id}:reminder:%"


def on_booking_event(change: BookingChange) -> None:
    """Booking-event subscriber (see the module docstring)."""
    booking = change.booking
    if booking.status not in HOLDING_STATUSES:
        outbox.supersede(booking.id, key_pattern(booking), f"booking {booking.status.label}")
        return
    if booking.status != BookingStatus.CONFIRMED:
        return
    if change.event == BookingEvent.RESCHEDULED:
        outbox.supersede(booking.id, key_pattern(booking), "booking rescheduled")
    if change.event in (BookingEvent.BOOKED, BookingEvent.APPROVED, BookingEvent.RESCHEDULED):
        record_reminders(booking, reminder_offsets(booking.business.settings))


def record_reminders(booking: Booking, offsets: list[timedelta] | None = None, now: datetime | None = None) -> list[OutboxJob]:
    """Record reminder e-mails ``offsets`` before the start (default 24 h and 1 h), skipping the
    ones already in the past, in the current session (no commit). Returns the jobs."""
    now = now or utcnow()
    if offsets is None:
        offsets = [timedelta(minutes=m) for m in DEFAULT_OFFSETS_MINUTES]
    jobs = []
    for offset in offsets:
        run_at = booking.start_at - offset
        if run_at > now:
            minutes = int(offset.total_seconds() // 60)
            jobs.append(record_booking_email(booking, "reminder", run_at=run_at, suffix=f":{minutes}m"))
    return jobs
