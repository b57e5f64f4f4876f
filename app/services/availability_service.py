"""Loading rows for the availability engine and asking it for slots.

Three queries for a client's read: the business with its settings, services and their staff
(:func:`load_business_for_availability`, one joined SELECT), then, for the staff members
concerned, their weekly hours and the range's date overrides (one UNION ALL) and their holds over
the range (one SELECT); :mod:`app.domain.availability` does the rest in memory. Clients' reads go
through :mod:`app.services.availability_cache`, which reads the business as a plain
:class:`BusinessConfig` snapshot; the booking path calls this module directly.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Date, Integer, Time, and_, literal_column, null, or_, select, type_coerce, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from app.domain import availability as engine
from app.domain.booking_state import BookingStatus
from app.extensions import db
from app.models import Booking, BookingSettings, Business, DateOverride, Service, StaffMember, WeeklyHours, utcnow
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
    confirmed ones and (unless ``include_pending`` is false) pending ones not yet expired. Rows
    carry what the engine needs plus ``status`` and ``expires_at`` (when a pending hold ends)."""
    pad = timedelta(minutes=MAX_BUFFER_MINUTES)
    # Without ANALYZE statistics (a fresh SQLite file never has them) SQLite's planner takes the
    # OR on status to ix_booking_status_expires for a service of several staff members and reads
    # every confirmed booking ever made; the range's holds are a few rows of ix_booking_staff_start.
    status = _NotIndexed(Booking.status)
    query = select(
        Booking.staff_id,
        Booking.start_at,
        Booking.end_at,
        Booking.buffer_before_minutes,
        Booking.buffer_after_minutes,
        Booking.service_id,
        Booking.seats,
        Booking.status,
        Booking.expires_at,
    ).where(
        Booking.staff_id.in_(list(staff_ids)),
        Booking.start_at < end + pad,
        Booking.start_at > start - pad - timedelta(days=1),
        Booking.end_at > start - pad,
        or_(status == BookingStatus.CONFIRMED, and_(status == BookingStatus.PENDING, Booking.expires_at > now))
        if include_pending
        else status == BookingStatus.CONFIRMED,
    )
    if exclude_booking_id is not None:
        query = query.where(Booking.id != exclude_booking_id)
    return query


class _NotIndexed(ColumnElement):
    """A column SQLite must not pick an index for: ``+column`` there (SQLite's no-op unary plus,
    its documented way to keep a term off the indexes), the plain column elsewhere."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column):
        self.column = column
        self.type = column.type


@compiles(_NotIndexed)
def _not_indexed(element, compiler, **kw):
    return compiler.process(element.column, **kw)


@compiles(_NotIndexed, "sqlite")
def _not_indexed_sqlite(element, compiler, **kw):
    return "+" + compiler.process(element.column, **kw)


def hours_query(staff_ids: Sequence[int], first: date, last: date):
    """One query for the weekly hours of ``staff_ids`` and their date overrides dated
    ``first..last``: rows ``(staff_id, kind, weekday, start_time, end_time, date, intervals)``,
    ``kind`` 0 for a weekly interval (``date``/``intervals`` NULL), 1 for an override (the others
    NULL), ordered by staff member, kind, weekday and start time, then date."""
    hours, overrides = WeeklyHours.__table__, DateOverride.__table__
    weekly = select(
        hours.c.staff_id,
        literal_column("0", Integer).label("kind"),
        hours.c.weekday,
        hours.c.start_time,
        hours.c.end_time,
        # The first SELECT's column types decide how the UNION's values are read back.
        type_coerce(null(), Date).label("date"),
        type_coerce(null(), JSON).label("intervals"),
    ).where(hours.c.staff_id.in_(list(staff_ids)))
    dated = select(
        overrides.c.staff_id,
        literal_column("1", Integer),
        type_coerce(null(), Integer),
        type_coerce(null(), Time),
        type_coerce(null(), Time),
        overrides.c.date,
        overrides.c.intervals,
    ).where(overrides.c.staff_id.in_(list(staff_ids)), overrides.c.date.between(first, last))
    return union_all(weekly, dated).order_by("staff_id", "kind", "weekday", "start_time", "date")


@dataclass(frozen=True)
class PendingHold:
    """A pending request's hold as loaded: it stops holding ``[start, end)`` at ``expires_at``."""

    staff_id: int
    start: datetime
    end: datetime
    expires_at: datetime


def load_schedules(
    staff: Sequence[StaffMember | StaffConfig], start: datetime, end: datetime, now: datetime, exclude_booking_id: int | None = None,
    include_pending: bool = True,
) -> list[engine.StaffSchedule]:
    """Build the engine's :class:`StaffSchedule` for each staff member over ``[start, end)`` (UTC):
    two queries (:func:`hours_query`, :func:`holds_query`)."""
    return load_schedules_and_pending(staff, start, end, now, exclude_booking_id, include_pending)[0]


def load_schedules_and_pending(
    staff: Sequence[StaffMember | StaffConfig], start: datetime, end: datetime, now: datetime, exclude_booking_id: int | None = None,
    include_pending: bool = True,
) -> tuple[list[engine.StaffSchedule], list[PendingHold]]:
    """:func:`load_schedules`, and the pending holds among the schedules' busy times (each stops
    holding at its ``expires_at``, later than ``now``)."""
    if not staff:
        return [], []
    ids = [s.id for s in staff]
    busy: dict[int, list[engine.Busy]] = {i: [] for i in ids}
    pending: list[PendingHold] = []
    for row in db.session.execute(holds_query(ids, start, end, now, exclude_booking_id, include_pending)):
        busy[row.staff_id].append(
            engine.Busy(row.start_at, row.end_at, row.buffer_before_minutes, row.buffer_after_minutes, row.service_id, row.seats)
        )
        if row.status == BookingStatus.PENDING and row.expires_at is not None:
            pending.append(PendingHold(row.staff_id, row.start_at, row.end_at, row.expires_at))
    first, last = (start - timedelta(days=2)).date(), (end + timedelta(days=2)).date()
    weekly: dict[int, list[engine.WeeklyRule]] = {i: [] for i in ids}
    overrides: dict[int, dict[date, tuple[engine.TimeRange, ...]]] = {i: {} for i in ids}
    for row in db.session.execute(hours_query(ids, first, last)):
        if row.kind == 0:
            weekly[row.staff_id].append(engine.WeeklyRule(row.weekday, row.start_time, row.end_time))
        else:
            overrides[row.staff_id][row.date] = _parse_override(row.intervals)
    schedules = [
        engine.StaffSchedule(
            staff_id=s.id,
            timezone=s.effective_timezone,
            weekly=tuple(weekly[s.id]),
            overrides=overrides[s.id],
            busy=tuple(busy[s.id]),
        )
        for s in staff
    ]
    return schedules, pending


def eligible_staff(service: Service, staff_id: int | None = None) -> list[StaffMember]:
    staff = [s for s in service.staff if s.is_active]
    if staff_id is not None:
        staff = [s for s in staff if s.id == staff_id]
    return staff


def range_bounds(business: Business | BusinessConfig, start_date: date, end_date: date) -> tuple[datetime, datetime]:
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
    """Merged free slots of ``service`` (one per start time), sorted by start, for local dates
    (business zone) ``start_date..end_date`` inclusive, as a client may book them (the business's
    notice and advance, pending requests holding). See :func:`app.domain.availability.merge_slots`.

    This is the clients' read: it is served through :mod:`app.services.availability_cache`
    (exactly :func:`slots_per_staff` merged, computed only where the cache has nothing current).
    ``business`` must be freshly loaded (:func:`load_business_for_availability`). The booking path
    never calls it: it computes under its lock with :func:`slots_per_staff`.
    """
    from app.services import availability_cache  # it builds on this module

    return engine.merge_slots(availability_cache.slots_per_staff(business, service, start_date, end_date, now, staff_id))


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
    """The business ``slug`` (None if there is none) with its settings, services and each
    service's staff members, in one joined query.

    The rows are read afresh even when the session already holds them (``populate_existing``):
    their ``availability_version`` counters are what cached availability is checked against.
    """
    query = (
        select(Business)
        .where(Business.slug == slug)
        .options(joinedload(Business.settings), joinedload(Business.services).joinedload(Service.staff))
        .execution_options(populate_existing=True)
    )
    return db.session.execute(query).unique().scalar_one_or_none()


@dataclass(frozen=True)
class StaffConfig:
    """A staff member as availability reads them: ``effective_timezone`` is their own zone, else
    the business's."""

    id: int
    effective_timezone: str
    is_active: bool


@dataclass(frozen=True)
class ServiceConfig:
    """A service as availability reads it: ``spec`` has its effective buffers (the business's
    default filled in), ``staff`` every staff member linked to it (active or not), by id."""

    id: int
    name: str
    duration_minutes: int
    is_active: bool
    is_bookable: bool
    spec: engine.ServiceSpec
    staff: tuple[StaffConfig, ...]


@dataclass(frozen=True)
class BusinessConfig:
    """What clients' availability reads need of a business, as plain immutable values: its
    zone, whether the booking link is on (``is_active``), the notice and advance ``window``,
    and every service (``services``, by id) with its staff members.

    A snapshot of the business at ``availability_version``: every change to any field here bumps
    that version in its own transaction (:mod:`app.services.availability_versions`), so a snapshot
    whose ``(id, created_at, availability_version)`` equals the database's is current.
    """

    id: int
    created_at: datetime
    availability_version: int
    name: str
    timezone: str
    is_active: bool
    window: engine.BookingWindow
    services: tuple[ServiceConfig, ...]

    def service(self, service_id: int) -> ServiceConfig | None:
        return next((s for s in self.services if s.id == service_id), None)

    def bookable_service(self, service_id: int) -> ServiceConfig:
        """As :func:`bookable_service`: raises :class:`app.services.errors.NotFound` (field
        ``service_id``) unless the service is active and bookable."""
        service = self.service(service_id)
        if service is None or not (service.is_active and service.is_bookable):
            raise NotFound("That service is not available.", {"service_id": "Unknown service."})
        return service


def config_of(business: Business) -> BusinessConfig:
    """The :class:`BusinessConfig` of a loaded ``business`` (settings, services and their staff
    loaded, as :func:`load_business_for_availability` does)."""
    settings = business.settings
    staff: dict[int, StaffConfig] = {}

    def staff_config(member: StaffMember) -> StaffConfig:
        if member.id not in staff:
            staff[member.id] = StaffConfig(member.id, member.effective_timezone, member.is_active)
        return staff[member.id]

    return BusinessConfig(
        id=business.id,
        created_at=business.created_at,
        availability_version=business.availability_version,
        name=business.name,
        timezone=business.timezone,
        is_active=settings.is_active,
        window=booking_window(settings),
        services=tuple(
            ServiceConfig(
                id=service.id,
                name=service.name,
                duration_minutes=service.duration_minutes,
                is_active=service.is_active,
                is_bookable=service.is_bookable,
                spec=service_spec(service, settings),
                staff=tuple(staff_config(member) for member in service.staff),
            )
            for service in business.services
        ),
    )


def config_slots_per_staff(
    config: BusinessConfig,
    service: ServiceConfig,
    start_date: date,
    end_date: date,
    now: datetime,
    staff_id: int | None = None,
) -> dict[int, list[engine.Slot]]:
    """:func:`slots_per_staff` for a client (the business's window, pending requests holding),
    from a :class:`BusinessConfig`: two queries (hours and overrides, holds)."""
    staff = [s for s in service.staff if s.is_active and (staff_id is None or s.id == staff_id)]
    start, end = range_bounds(config, start_date, end_date)
    schedules = load_schedules(staff, start, end, now)
    return engine.compute_slots(service.spec, schedules, config.window, now, start_date, end_date, config.timezone)


def bookable_service(business: Business, service_id: int) -> Service:
    """The business's service ``service_id`` if clients can book it (active and bookable).

    Raises :class:`app.services.errors.NotFound` (field ``service_id``) for any other id.
    """
    for service in bookable_services(business):
        if service.id == service_id:
            return service
    raise NotFound("That service is not available.", {"service_id": "Unknown service."})
