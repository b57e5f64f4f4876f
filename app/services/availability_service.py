"""Loading rows for the availability engine and asking it for slots.

One query for the staff members' hours and overrides (selectin) and one for the holds of all of
them over the range, then :mod:`app.domain.availability` does the rest in memory.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from app.domain import availability as engine
from app.domain.booking_state import BookingStatus
from app.extensions import db
from app.models import Booking, BookingSettings, Business, DateOverride, Service, StaffMember, utcnow
from app.services.errors import NotFound

# Buffers never exceed this many minutes (form and API validate it), so holds starting this long
# before the range cannot reach into it.
MAX_BUFFER_MINUTES = 24 * 60


def service_spec(service: Service, settings: BookingSettings) -> engine.ServiceSpec:
    before, after = service.buffers(settings)
    return engine.ServiceSpec(
        id=service.id,
        duration=service.duration_minutes,
        capacity=service.capacity,
        interval=service.interval_minutes,
        buffer_before=before,
        buffer_after=after,
    )


def booking_window(settings: BookingSettings) -> engine.BookingWindow:
    return engine.BookingWindow(
        min_notice_minutes=settings.min_advance_booking_hours * 60,
        max_advance_days=settings.max_advance_booking_days,
    )


def _parse_override(intervals: list) -> tuple[engine.TimeRange, ...]:
    return tuple(engine.TimeRange(time.fromisoformat(a), time.fromisoformat(b)) for a, b in intervals)


def holds_query(
    staff_ids: Sequence[int], start: datetime, end: datetime, now: datetime, exclude_booking_id: int | None = None,
    include_pending: bool = True,
):
    """Bookings of ``staff_ids`` that hold time overlapping ``[start, end)`` (buffers included):
    confirmed ones and (unless ``include_pending`` is false) pending ones not yet expired."""
    pad = timedelta(minutes=MAX_BUFFER_MINUTES)
    query = select(
        Booking.staff_id,
        Booking.start_at,
        Booking.end_at,
        Booking.buffer_before_minutes,
        Booking.buffer_after_minutes,
        Booking.service_id,
        Booking.seats,
    ).where(
        Booking.staff_id.in_(list(staff_ids)),
        Booking.start_at < end + pad,
        Booking.start_at > start - pad - timedelta(days=1),
        Booking.end_at > start - pad,
        or_(
            Booking.status == BookingStatus.CONFIRMED,
            and_(Booking.status == BookingStatus.PENDING, Booking.expires_at > now),
        )
        if include_pending
        else Booking.status == BookingStatus.CONFIRMED,
    )
    if exclude_booking_id is not None:
        query = query.where(Booking.id != exclude_booking_id)
    return query


def load_schedules(
    staff: Sequence[StaffMember], start: datetime, end: datetime, now: datetime, exclude_booking_id: int | None = None,
    include_pending: bool = True,
) -> list[engine.StaffSchedule]:
    """Build the engine's :class:`StaffSchedule` for each staff member over ``[start, end)`` (UTC)."""
    if not staff:
        return []
    ids = [s.id for s in staff]
    busy: dict[int, list[engine.Busy]] = {i: [] for i in ids}
    for row in db.session.execute(holds_query(ids, start, end, now, exclude_booking_id, include_pending)):
        busy[row.staff_id].append(
            engine.Busy(row.start_at, row.end_at, row.buffer_before_minutes, row.buffer_after_minutes, row.service_id, row.seats)
        )
    first, last = (start - timedelta(days=2)).date(), (end + timedelta(days=2)).date()
    overrides: dict[int, dict[date, tuple[engine.TimeRange, ...]]] = {i: {} for i in ids}
    for o in db.session.scalars(
        select(DateOverride).where(DateOverride.staff_id.in_(ids), DateOverride.date.between(first, last))
    ):
        overrides[o.staff_id][o.date] = _parse_override(o.intervals)
    return [
        engine.StaffSchedule(
            staff_id=s.id,
            timezone=s.effective_timezone,
            weekly=tuple(engine.WeeklyRule(h.weekday, h.start_time, h.end_time) for h in s.weekly_hours),
            overrides=overrides[s.id],
            busy=tuple(busy[s.id]),
        )
        for s in staff
    ]


def eligible_staff(service: Service, staff_id: int | None = None) -> list[StaffMember]:
    staff = [s for s in service.staff if s.is_active]
    if staff_id is not None:
        staff = [s for s in staff if s.id == staff_id]
    return staff


def range_bounds(business: Business, start_date: date, end_date: date) -> tuple[datetime, datetime]:
    tz = ZoneInfo(business.timezone)
    start = datetime.combine(start_date, time.min, tzinfo=tz) - timedelta(days=1)
    end = datetime.combine(end_date + timedelta(days=1), time.min, tzinfo=tz) + timedelta(days=1)
    return start.astimezone(engine.UTC), end.astimezone(engine.UTC)


def slots_per_staff(
    business: Business,
    service: Service,
    start_date: date,
    end_date: date,
    now: datetime | None = None,
    staff_id: int | None = None,
    exclude_booking_id: int | None = None,
    window: engine.BookingWindow | None = None,
    include_pending: bool = True,
) -> dict[int, list[engine.Slot]]:
    """Free slots of ``service`` per eligible staff member, for local dates (business zone)
    ``start_date..end_date`` inclusive. ``window`` defaults to the business's notice/advance
    settings (approving a request passes its own).
    ``include_pending=False`` counts only confirmed bookings as taken (approving a request: the
    owner's decision wins over other requests still awaiting one)."""
    now = now or utcnow()
    staff = eligible_staff(service, staff_id)
    start, end = range_bounds(business, start_date, end_date)
    schedules = load_schedules(staff, start, end, now, exclude_booking_id, include_pending)
    return engine.compute_slots(
        service_spec(service, business.settings),
        schedules,
        window or booking_window(business.settings),
        now,
        start_date,
        end_date,
        business.timezone,
    )


def available_slots(
    business: Business,
    service: Service,
    start_date: date,
    end_date: date,
    now: datetime | None = None,
    staff_id: int | None = None,
) -> list[engine.Slot]:
    """Merged free slots of ``service`` (one per start time), sorted by start. See
    :func:`app.domain.availability.merge_slots`."""
    return engine.merge_slots(slots_per_staff(business, service, start_date, end_date, now, staff_id))


def nearest_alternatives(
    business: Business,
    service: Service,
    around: datetime,
    now: datetime | None = None,
    limit: int = 3,
    staff_id: int | None = None,
    *,
    seats: int = 1,
    exclude_booking_id: int | None = None,
    window: engine.BookingWindow | None = None,
    skip: Callable[[engine.Slot], bool] | None = None,
) -> list[engine.Slot]:
    """Up to ``limit`` free slots closest in time to ``around`` (within a week either side), in
    time order: one per start time (``staff_id``'s only when given), each with at least ``seats``
    left and in the future. ``exclude_booking_id`` and ``window`` are as for
    :func:`slots_per_staff` (moving a booking: its own hold does not count, the owner's window
    applies); ``skip(slot)`` True leaves a slot out (e.g. where the booking already is)."""
    now = now or utcnow()
    local = around.astimezone(ZoneInfo(business.timezone)).date()
    per_staff = slots_per_staff(
        business, service, local - timedelta(days=7), local + timedelta(days=7), now, staff_id,
        exclude_booking_id=exclude_booking_id, window=window,
    )
    slots = [
        s for s in engine.merge_slots(per_staff)
        if s.available_spots >= seats and s.start > now and not (skip and skip(s))
    ]
    slots.sort(key=lambda s: (abs((s.start - around).total_seconds()), s.start))
    return sorted(slots[:limit])


def bookable_services(business: Business) -> list[Service]:
    return [s for s in business.services if s.is_active and s.is_bookable]


def load_business_for_availability(slug: str) -> Business | None:
    """The business with its settings, services, staff and weekly hours loaded in a few queries."""
    return db.session.scalar(
        select(Business)
        .where(Business.slug == slug)
        .options(
            selectinload(Business.settings),
            selectinload(Business.services).selectinload(Service.staff).selectinload(StaffMember.weekly_hours),
        )
    )


def bookable_service(business: Business, service_id: int) -> Service:
    """The business's service ``service_id`` if clients can book it (active and bookable).

    Raises :class:`app.services.errors.NotFound` (field ``service_id``) for any other id.
    """
    for service in bookable_services(business):
        if service.id == service_id:
            return service
    raise NotFound("That service is not available.", {"service_id": "Unknown service."})
