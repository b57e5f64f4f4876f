"""Scheduled booking work: the expiry of a pending request at its ``expires_at``.

The request-expiry subscriber (:mod:`app.services.request_expiry`) records one ``expire_booking``
job per pending request with ``run_at = expires_at``; an executor runs it then. The state change
and its e-mails are :func:`app.services.booking_service.expire_pending`'s, for this one booking.
"""
from __future__ import annotations

import logging

from app.extensions import db
from app.jobs.registry import handler
from app.models import Booking, BookingStatus, utcnow
from app.services import booking_service, request_expiry

log = logging.getLogger(__name__)


class NotDueYet(Exception):
    """The request's ``expires_at`` is still ahead (a clock ahead of the database's, or the
    deadline was moved): retried after the backoff."""


@handler(request_expiry.JOB_KIND)
def expire_booking(booking_id: int, *, key: str) -> bool:
    """Expire pending request ``booking_id`` if it is still pending and past ``expires_at``.

    Returns True when it expired it now, False when there was nothing to do (the booking is gone,
    or was approved, rejected, cancelled or expired meanwhile): running it twice expires once and
    records the expiry e-mails once. Raises :class:`NotDueYet` while the deadline is ahead."""
    now = utcnow()
    if booking_service.expire_pending(now, booking_id=booking_id):
        return True
    db.session.rollback()
    booking = db.session.get(Booking, booking_id, populate_existing=True)
    if booking is not None and booking.status == BookingStatus.PENDING and booking.expires_at and booking.expires_at > now:
        raise NotDueYet(f"booking {booking_id} expires at {booking.expires_at.isoformat()}")
    log.info("expiry %s: nothing to do (booking %s is %s)", key, booking_id, booking.status.value if booking else "gone")
    return False
