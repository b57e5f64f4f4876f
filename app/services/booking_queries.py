"""Read-only booking queries for the dashboard and the owner API, always scoped to one business."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from app.domain.booking_state import BookingStatus
from app.extensions import db
from app.models import Booking, Business, utcnow


@dataclass(frozen=True)
class BookingFilter:
    """Filters for :func:`list_bookings`. Dates are local dates in the business zone, inclusive.

    ``when`` is ``"upcoming"`` (end in the future), ``"past"`` or ``None`` (both). ``search``
    matches part of the client's name or e-mail (any case), or of their phone number (digits
    only, so ``07700 900123`` finds ``+447700900123``). ``staff_id`` keeps one staff member's
    bookings (a staff user's own).
    """

    status: BookingStatus | None = None
    date_from: date | None = None
    date_to: date | None = None
    staff_id: int | None = None
    when: str | None = None
    search: str | None = None
    limit: int = 200
    offset: int = 0


def _local_midnight(business: Business, day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(business.timezone))


def _like(text: str) -> str:
    """``text`` as a ``LIKE`` pattern matching it anywhere, its wildcards taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _search_condition(search: str):
    """Bookings whose client name or e-mail contains ``search`` (any case), or whose phone number
    contains its digits (national form: a leading 0 is dropped, since phones are stored E.164)."""
    needle = search.strip().lower()
    conditions = [
        func.lower(Booking.client_name).like(_like(needle), escape="\\"),
        func.lower(Booking.client_email).like(_like(needle), escape="\\"),
    ]
    digits = "".join(ch for ch in needle if ch.isdigit())
    if len(digits) >= 4:
        conditions.append(Booking.client_phone.like(_like(digits.lstrip("0") or digits), escape="\\"))
    return or_(*conditions)


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
    if f.search and f.search.strip():
        q = q.where(_search_condition(f.search))
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


def _pending(business: Business, now: datetime, staff_id: int | None):
    conditions = [Booking.business_id == business.id, Booking.status == BookingStatus.PENDING, Booking.expires_at > now]
    if staff_id is not None:
        conditions.append(Booking.staff_id == staff_id)
    return conditions


def pending_requests(business: Business, now: datetime | None = None, staff_id: int | None = None) -> list[Booking]:
    """Requests awaiting approval that have not expired (the approval queue), the soonest to
    expire first (then the oldest request), so the one that is about to lapse is on top.
    ``staff_id`` keeps one staff member's requests."""
    now = now or utcnow()
    q = (
        select(Booking)
        .where(*_pending(business, now, staff_id))
        .options(joinedload(Booking.service), joinedload(Booking.staff))
        .order_by(Booking.expires_at.asc(), Booking.created_at.asc(), Booking.id)
    )
    return list(db.session.scalars(q).unique())


def pending_count(business: Business, now: datetime | None = None, staff_id: int | None = None) -> int:
    """How many requests :func:`pending_requests` lists (the nav badge)."""
    now = now or utcnow()
    return db.session.scalar(select(func.count(Booking.id)).where(*_pending(business, now, staff_id))) or 0


def client_history(booking: Booking, limit: int = 50) -> list[Booking]:
    """The other bookings of ``booking``'s client (same client record) in the same business,
    latest start first, at most ``limit``; for the booking's page."""
    q = (
        select(Booking)
        .where(Booking.business_id == booking.business_id, Booking.client_id == booking.client_id, Booking.id != booking.id)
        .options(joinedload(Booking.service), joinedload(Booking.staff))
        .order_by(Booking.start_at.desc(), Booking.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(q).unique())


def get_by_reference(business: Business, reference: str) -> Booking | None:
    return db.session.scalar(
        select(Booking).where(Booking.business_id == business.id, Booking.reference == reference.upper())
    )
