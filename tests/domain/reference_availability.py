"""The previous availability engine, kept unchanged as an oracle for the property-based tests.

This is ``app/domain/availability.py`` as it was before free time became interval arithmetic: it
expands every candidate start of every working interval to UTC (``_wall_to_utc`` per candidate)
and checks each one against a bisect index of holds. It is slow but simple, and its rules are the
contract the current engine must keep, so ``test_availability_properties.py`` asserts that both
give the same whole results on random schedules. Do not "fix" or speed up this file: it is the
reference. Its functions are copied verbatim; the dataclasses are the current module's (unchanged
by the rewrite), so results of the two engines compare equal.
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.domain.availability import (
    UTC,
    BookingWindow,
    Busy,
    ServiceSpec,
    Slot,
    StaffSchedule,
    TimeRange,
)


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
    """Yield ``(slot_start_utc, interval_end_utc)`` for every existing wall-clock step in ``interval``."""
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

    Raises ``ValueError`` for a naive ``now`` or an unknown zone (``ZoneInfoNotFoundError``).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    staff_tz = ZoneInfo(schedule.timezone)
    range_tz = ZoneInfo(range_timezone)
    earliest = now + timedelta(minutes=window.min_notice_minutes)
    latest = now + timedelta(days=window.max_advance_days)
    duration = timedelta(minutes=service.duration)
    pad_before = timedelta(minutes=service.buffer_before)
    pad_after = timedelta(minutes=service.buffer_after)

    blocks = _BlockIndex(schedule.busy)
    slots: list[Slot] = []
    # Zones run from UTC-12 to UTC+14, so a staff member's calendar date can be two days away from
    # the range zone's (Pacific/Kiritimati vs Pacific/Pago_Pago): expand two extra days each side.
    for day in _daterange(start_date - timedelta(days=2), end_date + timedelta(days=2)):
        for interval in working_intervals(schedule, day):
            for start, interval_end in _candidate_starts(day, interval, service.step, staff_tz):
                end = start + duration
                if end > interval_end or start < earliest or start > latest:
                    continue
                local_day = start.astimezone(range_tz).date()
                if not start_date <= local_day <= end_date:
                    continue
                spots = blocks.spots_left(service, start, end, start - pad_before, end + pad_after)
                if spots > 0:
                    slots.append(Slot(start, end, spots, schedule.staff_id))
    slots.sort()
    return slots


class _BlockIndex:
    """Busy intervals sorted by blocked start, so a candidate only looks at the few near it."""

    def __init__(self, busy: Iterable[Busy]):
        self.blocks = sorted(busy, key=lambda b: b.blocked_start)
        self.starts = [b.blocked_start for b in self.blocks]
        self.longest = max((b.blocked_end - b.blocked_start for b in self.blocks), default=timedelta(0))

    def spots_left(self, service: ServiceSpec, start: datetime, end: datetime, need_from: datetime, need_to: datetime) -> int:
        """Seats of ``service`` left in ``[start, end)`` needing ``[need_from, need_to)`` clear."""
        seats_taken = 0
        lo = bisect_left(self.starts, need_from - self.longest)
        hi = bisect_left(self.starts, need_to)
        for block in self.blocks[lo:hi]:
            if block.blocked_end <= need_from:
                continue
            if block.service_id == service.id and block.start == start and block.end == end:
                seats_taken += block.seats
                continue
            return 0
        return max(service.capacity - seats_taken, 0)


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
