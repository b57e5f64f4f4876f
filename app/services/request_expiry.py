"""Expiry of booking requests nobody answered, kept in step with their changes.

:func:`on_booking_event` is a booking-event subscriber: a new request gets an ``expire_booking``
job at its ``expires_at`` (the handler, :mod:`app.jobs.booking_expiry`, calls
:func:`app.services.booking_service.expire_pending` for that booking); a request that is decided
(approved, rejected, cancelled, expired) has its pending expiry job retired; a reschedule that
brought ``expires_at`` forward retires the old job and records one at the new deadline, keyed by
the new SEQUENCE.
"""
from __future__ import annotations

from sqlalchemy import select

from app.domain.booking_events import BookingEvent
from app.domain.booking_state import BookingStatus
from app.extensions import db
from app.models import Booking
from app.models.outbox import JobStatus, OutboxJob
from app.services import outbox
from app.services.booking_events import BookingChange

JOB_KIND = "expire_booking"


def key_pattern(booking: Booking) -> str:
    """SQL ``LIKE`` pattern matching every expiry job key of ``booking``."""
    return f"{JOB_KIND}:{booking.id}%"


def on_booking_event(change: BookingChange) -> None:
    """Booking-event subscriber (see the module docstring)."""
    booking = change.booking
    if change.left_pending:
        outbox.supersede(booking.id, key_pattern(booking), f"request {booking.status.label}")
    elif change.event == BookingEvent.REQUESTED:
        record_expiry_job(booking)
    elif change.event == BookingEvent.RESCHEDULED and booking.status == BookingStatus.PENDING and booking.expires_at:
        scheduled = db.session.scalar(
            select(OutboxJob.id).where(
                OutboxJob.booking_id == booking.id,
                OutboxJob.kind == JOB_KIND,
                OutboxJob.status == JobStatus.PENDING,
                OutboxJob.run_at == booking.expires_at,
            ).limit(1)
        )
        if scheduled is None:
            outbox.supersede(booking.id, key_pattern(booking), "request rescheduled")
            record_expiry_job(booking)


def record_expiry_job(booking: Booking) -> OutboxJob:
    """Record the expiry of pending request ``booking`` at its ``expires_at`` (current session,
    no commit). Keyed by booking and SEQUENCE, so a later deadline gets a job of its own."""
    suffix = f":s{booking.sequence}" if booking.sequence else ""
    return outbox.record(
        JOB_KIND,
        {"booking_id": booking.id},
        key=f"{JOB_KIND}:{booking.id}{suffix}",
        run_at=booking.expires_at,
        booking_id=booking.id,
        business_id=booking.business_id,
    )
