"""Read-only booking queries for the dashboard and the owner API, always scoped to one business."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.domain.booking_state import BookingStatus
from app.extensions import db
from app.models import Booking, Business, utcnow


@dataclass(frozen=True)
class BookingFilter:
    """Filters for :func:`list_bookings`. Dates are local dates in the business zone, inclusive.

    ``when`` is ``"upcoming"`` (end in the future), ``"past"`` or ``None`` (both).
    """

    status: BookingStatus | None = None
    date_from: date | None = None
    date_to: date | None = None
    staff_id: int | None = None
    when: str | None = None
    limit: int = 200
    offset: int = 0


def _local_midnight(business: Business, day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(business.timezone))


def list_bookings(business: Business, f: BookingFilter = BookingFilter(), now: datetime | None = None) -> list[Booking]:
    """The business's bookings matching ``f``: upcoming soonest first, otherwise latest first."""
    now = now or utcnow()
    q = (
        select(Booking)
        .where(Booking.business_id == business.id)
        .options(joinedload(Booking.service), joinedload(Booking.staff))
    )
    if f.status is not None:
        q = q.where(Booking.status == f.status)
    if f.staff_id is not None:
        q = q.where(Booking.staff_id == f.staff_id)
    if f.date_from is not None:
        q = q.where(Booking.start_at >= _local_midnight(business, f.date_from))
    if f.date_to is not None:
        q = q.where(Booking.start_at < _local_midnight(business, f.date_to + timedelta(days=1)))
    if f.when == "upcoming":
        q = q.where(Booking.end_at > now).order_by(Booking.start_at.asc(), Booking.id)
    elif f.when == "past":
        q = q.where(Booking.end_at <= now).order_by(Booking.start_at.desc(), Booking.id.desc())
    else:
        q = q.order_by(Booking.start_at.desc(), Booking.id.desc())
    return list(db.session.scalars(q.limit(f.limit).offset(f.offset)).unique())


def pending_requests(business: Business, now: datetime | None = None) -> list[Booking]:
    """Requests awaiting approval that have not expired, newest first (the approval queue)."""
    now = now or utcnow()
    q = (
        select(Booking)
        .where(Booking.business_id == business.id, Booking.status == BookingStatus.PENDING, Booking.expires_at > now)
        .options(joinedload(Booking.service), joinedload(Booking.staff))
        .order_by(Booking.created_at.desc(), Booking.id.desc())
    )
    return list(db.session.scalars(q).unique())


def pending_count(business: Business, now: datetime | None = None) -> int:
    now = now or utcnow()
    return db.session.scalar(
        select(func.count(Booking.id)).where(
            Booking.business_id == business.id, Booking.status == BookingStatus.PENDING, Booking.expires_at > now
        )
    ) or 0


def get_by_reference(business: Business, reference: str) -> Booking | None:
    return db.session.scalar(
        select(Booking).where(Booking.business_id == business.id, Booking.reference == reference.upper())
    )
