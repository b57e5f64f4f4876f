"""The availability engine: which slots of a service are free, per staff member and merged.

Pure: takes plain values and returns plain values. Rules:

* Weekly hours and date overrides are wall-clock times in the staff member's IANA zone. They are
  expanded per calendar date and only then converted to UTC instants, so a 09:00-17:00 rule is
  09:00-17:00 local (8 hours) on every date, DST or not.
* Slot starts step by the service's interval in wall-clock time from the start of each working
  interval. A wall-clock start that does not exist (spring-forward gap) gives no slot; an
  ambiguous one (fall-back) is taken once, at its first occurrence (``fold=0``). The slot's end is
  its start plus the duration in real minutes and must not pass the end of the working interval.
* Every interval is half-open ``[start, end)``.
* Buffers pad both sides: an existing booking blocks ``[start - its before, end + its after)`` and a
  candidate needs ``[start - its before, end + its after)`` clear of every block, so a 15-minute
  after-buffer on one lesson and a 15-minute before-buffer on the next keep 30 minutes between
  them. Buffers may fall outside working hours; the slot itself may not.
* Capacity: bookings of the *same* service at the *same* start and end with the same staff member
  share the slot's seats instead of blocking it; ``available_spots = capacity - seats taken``.
* Minimum notice and maximum advance are measured from ``now``: a slot is offered only if
  ``now + min_notice <= start <= now + max_advance``.

All instants (``now``, busy intervals, slot starts/ends) are timezone-aware datetimes; results are
in UTC. Dates in a requested range are calendar dates in ``range_timezone`` (the business zone).
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from operator import attrgetter
from zoneinfo import ZoneInfo

UTC = timezone.utc


@dataclass(frozen=True)
class TimeRange:
    """A wall-clock interval ``[start, end)`` within one day; ``end`` must be after ``start``."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"interval end {self.end} must be after start {self.start}")


@dataclass(frozen=True)
class WeeklyRule:
    """Working hours on one weekday (0 = Monday ... 6 = Sunday), wall-clock in the staff zone."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class Busy:
    """Time already held by a booking: ``[start, end)`` plus the booking's own buffers (minutes).

    ``service_id`` and ``seats`` let bookings of the same service at the same time share capacity.
    """

    start: datetime
    end: datetime
    buffer_before: int = 0
    buffer_after: int = 0
    service_id: int | None = None
    seats: int = 1

    @property
    def blocked_start(self) -> datetime:
        return self.start - timedelta(minutes=self.buffer_before)

    @property
    def blocked_end(self) -> datetime:
        return self.end + timedelta(minutes=self.buffer_after)


@dataclass(frozen=True)
class StaffSchedule:
    """One staff member's hours and holds.

    ``overrides`` maps a date to the intervals that replace that date's weekly hours; an empty
    tuple means unavailable all day.
    """

    staff_id: int
    timezone: str
    weekly: Sequence[WeeklyRule] = ()
    overrides: Mapping[date, Sequence[TimeRange]] = field(default_factory=dict)
    busy: Sequence[Busy] = ()


@dataclass(frozen=True)
class ServiceSpec:
    """What is being booked. Minutes throughout; ``interval`` defaults to ``duration``."""

    id: int
    duration: int
    capacity: int = 1
    interval: int | None = None
    buffer_before: int = 0
    buffer_after: int = 0

    @property
    def step(self) -> int:
        return self.interval or self.duration


@dataclass(frozen=True)
class BookingWindow:
    """How soon and how far ahead a slot may be booked, measured from ``now``."""

    min_notice_minutes: int = 0
    max_advance_days: int = 365


@dataclass(frozen=True, order=True)
class Slot:
    """A bookable slot: UTC instants ``[start, end)``, seats left and the staff member offering it."""

    start: datetime
    end: datetime
    available_spots: int
    staff_id: int


def _wall_to_utc(day: date, wall: time, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of a wall-clock time, or ``None`` if it does not exist that day (DST gap).

    An ambiguous time resolves to its first occurrence (``fold=0``).
    """
    local = datetime.combine(day, wall, tzinfo=tz)
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return instant


def _boundary_to_utc(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """A working-interval boundary as UTC; a boundary inside a DST gap moves to the gap's end."""
    local = datetime.combine(day, wall)
    while (instant := _wall_to_utc(local.date(), local.time(), tz)) is None:
        local += timedelta(minutes=1)  # gaps are whole minutes and at most a few hours long
    return instant


def working_intervals(schedule: StaffSchedule, day: date) -> list[TimeRange]:
    """The wall-clock working intervals of ``day``: its override if any, else its weekly rules."""
    if day in schedule.overrides:
        return sorted(schedule.overrides[day], key=lambda r: r.start)
    weekday = day.weekday()
    return sorted(
        (TimeRange(r.start, r.end) for r in schedule.weekly if r.weekday == weekday), key=lambda r: r.start
    )


def _candidate_starts(day: date, interval: TimeRange, step: int, tz: ZoneInfo) -> Iterable[tuple[datetime, datetime]]:
    """Yield ``(slot_start_utc, interval_end_utc)`` for every existing wall-clock step in ``interval``.

    One zone conversion per candidate: only for intervals that contain a UTC offset change.
    """
    end_utc = _boundary_to_utc(day, interval.end, tz)
    wall = datetime.combine(day, interval.start)
    wall_end = datetime.combine(day, interval.end)
    seen: set[datetime] = set()
    while wall < wall_end:
        start_utc = _wall_to_utc(day, wall.time(), tz)
        if start_utc is not None and start_utc not in seen:
            seen.add(start_utc)
            yield start_utc, end_utc
        wall += timedelta(minutes=step)


def _daterange(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _day_offset(day: date, tz: ZoneInfo) -> timedelta | None:
    """The UTC offset of every wall-clock time of ``day`` in ``tz``, or ``None`` if it changes.

    Two offset changes of one zone are always days apart in the tz database (a test checks it), so
    a day whose midnight and the next midnight have the same offset has no change in between: every
    wall time of it exists once, at ``wall - offset``. The same holds for a working interval.
    """
    offset = datetime.combine(day, time.min, tz).utcoffset()
    if datetime.combine(day + timedelta(days=1), time.min, tz).utcoffset() != offset:
        return None
    return offset


def _ceil_div(a: timedelta, b: timedelta) -> int:
    return -(-a // b)


class _FreeTime:
    """Where a slot of ``service`` may start with one staff member, given their holds.

    A slot starting at ``s`` needs ``[s - before, s + duration + after)`` clear, so a hold blocking
    ``[b0, b1)`` rules out exactly the starts in the open interval
    ``(b0 - duration - after, b1 + before)``. A hold of the same service and the same length as
    the slot shares seats with the slot that starts exactly when it does, so it rules out that
    interval minus its own start, and its seats count there. The merged open intervals
    ``(los[i], his[i])`` are disjoint and sorted; the closed stretches between them are free.
    """

    def __init__(self, service: ServiceSpec, busy: Iterable[Busy]):
        duration = timedelta(minutes=service.duration)
        reach_back = duration + timedelta(minutes=service.buffer_after)
        reach_on = timedelta(minutes=service.buffer_before)
        # Holds share a handful of buffer lengths: one timedelta per length, not per hold.
        backs: dict[int, timedelta] = {}
        ons: dict[int, timedelta] = {}
        spans: list[tuple[datetime, datetime]] = []
        self.seats_at: dict[datetime, int] = {}
        for block in busy:
            back = backs.get(block.buffer_before)
            if back is None:
                back = backs[block.buffer_before] = timedelta(minutes=block.buffer_before) + reach_back
            on = ons.get(block.buffer_after)
            if on is None:
                on = ons[block.buffer_after] = timedelta(minutes=block.buffer_after) + reach_on
            lo = block.start - back
            hi = block.end + on
            if not lo < hi:
                continue
            start = block.start
            if block.service_id == service.id and block.end - start == duration and lo < start < hi:
                self.seats_at[start] = self.seats_at.get(start, 0) + block.seats
                spans.append((lo, start))
                spans.append((start, hi))
            else:
                spans.append((lo, hi))
        spans.sort()
        self.los: list[datetime] = []
        self.his: list[datetime] = []
        for lo, hi in spans:
            # Open intervals that only touch leave the shared instant free (a class's own start).
            if self.his and lo < self.his[-1]:
                if hi > self.his[-1]:
                    self.his[-1] = hi
            else:
                self.los.append(lo)
                self.his.append(hi)

    def is_free(self, start: datetime) -> bool:
        i = bisect_left(self.los, start) - 1
        return i < 0 or start >= self.his[i]

    def stretches(self, first: datetime, last: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The free closed stretches ``[a, b]`` within ``[first, last]``, clipped to it, in order."""
        los, his = self.los, self.his
        j = bisect_left(los, first)  # los[j - 1] < first <= los[j]
        a = his[j - 1] if j and first < his[j - 1] else first
        while a <= last:
            if j == len(los):
                yield a, last
                return
            yield a, min(los[j], last)
            a = his[j]
            j += 1


def staff_slots(
    service: ServiceSpec,
    schedule: StaffSchedule,
    window: BookingWindow,
    now: datetime,
    start_date: date,
    end_date: date,
    range_timezone: str,
) -> list[Slot]:
    """Free slots of ``service`` with one staff member whose local start date (in
    ``range_timezone``) falls in ``[start_date, end_date]`` (inclusive), sorted by start.

    Per working interval: its ends are converted to UTC once; where the zone's offset is the same
    throughout it, candidate ``k`` starts at ``start + k * interval``, and only the candidates
    inside free stretches (working time minus buffered holds) are visited. An interval containing
    an offset change steps wall-clock time candidate by candidate.

    Raises ``ValueError`` for a naive ``now`` or an unknown zone (``ZoneInfoNotFoundError``).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    staff_tz = ZoneInfo(schedule.timezone)
    range_tz = ZoneInfo(range_timezone)
    # In one zone, every slot's range date is the date whose hours it came from.
    same_zone = schedule.timezone == range_timezone
    earliest = now + timedelta(minutes=window.min_notice_minutes)
    latest = now + timedelta(days=window.max_advance_days)
    duration = timedelta(minutes=service.duration)
    step = timedelta(minutes=service.step)
    free = _FreeTime(service, schedule.busy)
    capacity, staff_id, seats_at = service.capacity, schedule.staff_id, free.seats_at

    slots: list[Slot] = []

    def offer(start: datetime) -> None:
        spots = capacity - seats_at.get(start, 0) if seats_at else capacity
        if spots > 0:
            slots.append(Slot(start, start + duration, spots, staff_id))

    def in_range(start: datetime) -> bool:
        return start_date <= start.astimezone(range_tz).date() <= end_date

    def progression(start: datetime, end: datetime) -> None:
        """Offer the free ``start + k * step`` of an interval ``[start, end)`` (UTC) in which the
        staff zone's offset does not change, so each is the wall-clock step it stands for."""
        first, last = max(start, earliest), min(end - duration, latest)
        stop = end  # candidates start before the interval's end, and before the range's end
        check_each = False
        if not same_zone:
            offset = start.astimezone(range_tz).utcoffset()
            if end.astimezone(range_tz).utcoffset() != offset:
                check_each = True
            else:  # the range zone's local date only moves forward through the interval
                first = max(first, datetime.combine(start_date, time.min, UTC) - offset)
                stop = min(stop, datetime.combine(end_date + timedelta(days=1), time.min, UTC) - offset)
        first_k = max(0, _ceil_div(first - start, step))
        last_k = min(_ceil_div(stop - start, step) - 1, (last - start) // step)
        if first_k > last_k:
            return
        for a, b in free.stretches(start + first_k * step, start + last_k * step):
            candidate = start + _ceil_div(a - start, step) * step
            while candidate <= b:
                if not check_each or in_range(candidate):
                    offer(candidate)
                candidate += step

    weekly: dict[int, list[TimeRange]] = {}
    # Zones run from UTC-12 to UTC+14, so a staff member's calendar date can be two days away from
    # the range zone's (Pacific/Kiritimati vs Pacific/Pago_Pago): expand two extra days each side.
    for day in _daterange(start_date - timedelta(days=2), end_date + timedelta(days=2)):
        if day in schedule.overrides:
            intervals = working_intervals(schedule, day)
        else:
            intervals = weekly.get(day.weekday())
            if intervals is None:
                intervals = weekly[day.weekday()] = working_intervals(schedule, day)
        if not intervals or (same_zone and not start_date <= day <= end_date):
            continue
        offset = _day_offset(day, staff_tz)
        for interval in intervals:
            if offset is not None:
                progression(datetime.combine(day, interval.start, UTC) - offset,
                             datetime.combine(day, interval.end, UTC) - offset)
                continue
            start = _wall_to_utc(day, interval.start, staff_tz)
            end = _boundary_to_utc(day, interval.end, staff_tz)
            if start is not None and start.astimezone(staff_tz).utcoffset() == end.astimezone(staff_tz).utcoffset():
                progression(start, end)
                continue
            for candidate, interval_end in _candidate_starts(day, interval, service.step, staff_tz):
                if (candidate + duration <= interval_end and earliest <= candidate <= latest
                        and (same_zone or in_range(candidate)) and free.is_free(candidate)):
                    offer(candidate)
    # One staff member's slots with the same start are equal, so ordering by start sorts them fully.
    slots.sort(key=attrgetter("start"))
    return slots


def compute_slots(
    service: ServiceSpec,
    schedules: Sequence[StaffSchedule],
    window: BookingWindow,
    now: datetime,
    start_date: date,
    end_date: date,
    range_timezone: str,
) -> dict[int, list[Slot]]:
    """Free slots per staff member: ``{staff_id: [Slot, ...]}`` (see :func:`staff_slots`)."""
    return {
        s.staff_id: staff_slots(service, s, window, now, start_date, end_date, range_timezone) for s in schedules
    }


def merge_slots(per_staff: Mapping[int, Sequence[Slot]]) -> list[Slot]:
    """Merge per-staff slots into one list, one slot per ``(start, end)``.

    Where several staff members offer the same slot, the merged slot names the one with the most
    seats left (lowest id on a tie) and ``available_spots`` is that staff member's count, which is
    the most one booking can take.
    """
    best: dict[tuple[datetime, datetime], Slot] = {}
    for staff_id in sorted(per_staff):
        for slot in per_staff[staff_id]:
            key = (slot.start, slot.end)
            current = best.get(key)
            if current is None or slot.available_spots > current.available_spots:
                best[key] = slot
    return sorted(best.values())


def group_by_local_date(slots: Iterable[Slot], tz_name: str) -> dict[date, list[Slot]]:
    """Group slots by their start's calendar date in ``tz_name``, keeping order."""
    tz = ZoneInfo(tz_name)
    grouped: dict[date, list[Slot]] = {}
    for slot in slots:
        grouped.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
    return grouped
