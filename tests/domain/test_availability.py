"""The availability engine, rule by rule. Pure: no app, no database.

Every test compares the *whole* list of slots with one built explicitly: from local wall times
(``at(...)``) where the zone's offset is not the point, and from literal UTC instants where it is
(the DST and fractional-offset cases), so the expectation never reuses the engine's conversion.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.domain.availability import (
    BookingWindow,
    Busy,
    ServiceSpec,
    Slot,
    StaffSchedule,
    TimeRange,
    WeeklyRule,
    compute_slots,
    group_by_local_date,
    merge_slots,
    staff_slots,
)

UTC = timezone.utc
LONDON = "Europe/London"
MONDAY = date(2027, 6, 7)  # a Monday in British Summer Time (UTC+1)
EARLY = datetime(2027, 1, 1, tzinfo=UTC)  # a `now` long before every test date
OPEN = BookingWindow(min_notice_minutes=0, max_advance_days=3650)


def hm(text: str) -> time:
    return time.fromisoformat(text)


def at(day: date, wall: str, tz: str = LONDON) -> datetime:
    """The UTC instant of wall-clock ``wall`` on ``day`` in ``tz``."""
    return datetime.combine(day, hm(wall), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def utc(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


def local_slots(day: date, walls: list[str], minutes: int, spots: int = 1, staff: int = 1, tz: str = LONDON) -> list[Slot]:
    """Expected slots starting at each local wall time of ``day``."""
    return [Slot(at(day, w, tz), at(day, w, tz) + timedelta(minutes=minutes), spots, staff) for w in walls]


def utc_slots(starts: list[datetime], minutes: int, spots: int = 1, staff: int = 1) -> list[Slot]:
    return [Slot(s, s + timedelta(minutes=minutes), spots, staff) for s in starts]


def hours(weekday: int, *intervals: str) -> tuple[WeeklyRule, ...]:
    """``hours(0, "09:00-12:00", "13:00-15:00")``: weekly rules for one weekday."""
    return tuple(WeeklyRule(weekday, hm(i.split("-")[0]), hm(i.split("-")[1])) for i in intervals)


def every_day(*intervals: str) -> tuple[WeeklyRule, ...]:
    return tuple(rule for weekday in range(7) for rule in hours(weekday, *intervals))


def booking(day: date, start: str, end: str, before: int = 0, after: int = 0, service_id: int | None = 99, seats: int = 1, tz: str = LONDON) -> Busy:
    return Busy(at(day, start, tz), at(day, end, tz), before, after, service_id, seats)


@dataclass
class Case:
    id: str
    service: ServiceSpec
    weekly: tuple[WeeklyRule, ...]
    expected: list[Slot]
    busy: tuple[Busy, ...] = ()
    overrides: dict = field(default_factory=dict)
    window: BookingWindow = OPEN
    now: datetime = EARLY
    start_date: date = MONDAY
    end_date: date = MONDAY
    staff_tz: str = LONDON
    range_tz: str = LONDON


def run(case: Case) -> list[Slot]:
    schedule = StaffSchedule(1, case.staff_tz, case.weekly, case.overrides, case.busy)
    return staff_slots(case.service, schedule, case.window, case.now, case.start_date, case.end_date, case.range_tz)


HOUR = ServiceSpec(id=1, duration=60)
TUESDAY = MONDAY + timedelta(days=1)

CASES = [
    # ------------------------------------------------------------------ basics
    Case("hourly-no-bookings", HOUR, hours(0, "09:00-12:00"), local_slots(MONDAY, ["09:00", "10:00", "11:00"], 60)),
    Case("no-hours-that-weekday", HOUR, hours(1, "09:00-12:00"), []),
    # ------------------------------------------------------------------ buffers
    # The booked lesson's 15-min after-buffer and the candidate's 15-min before-buffer: 30 min gap.
    Case(
        "buffer-after-booking-plus-before-candidate",
        ServiceSpec(id=1, duration=60, interval=15, buffer_before=15),
        hours(0, "09:00-13:00"),
        local_slots(MONDAY, ["10:30", "10:45", "11:00", "11:15", "11:30", "11:45", "12:00"], 60),
        busy=(booking(MONDAY, "09:00", "10:00", after=15),),
    ),
    # Mirror image: the candidate's after-buffer meets the booking's before-buffer.
    Case(
        "buffer-after-candidate-plus-before-booking",
        ServiceSpec(id=1, duration=60, interval=15, buffer_after=15),
        hours(0, "09:00-13:00"),
        local_slots(MONDAY, ["09:00", "09:15", "09:30", "12:00"], 60),
        busy=(booking(MONDAY, "11:00", "12:00", before=15),),
    ),
    # Buffers may fall outside working hours; the slot itself may not.
    Case(
        "buffers-outside-hours-are-fine",
        ServiceSpec(id=1, duration=60, buffer_before=30, buffer_after=30),
        hours(0, "09:00-11:00"),
        local_slots(MONDAY, ["09:00", "10:00"], 60),
    ),
    # ------------------------------------------------------------------ half-open intervals
    Case(
        "booking-ending-10-leaves-10-free",
        HOUR,
        hours(0, "09:00-12:00"),
        local_slots(MONDAY, ["10:00", "11:00"], 60),
        busy=(booking(MONDAY, "09:00", "10:00"),),
    ),
    Case(
        "booking-starting-11-leaves-10-free",
        HOUR,
        hours(0, "09:00-12:00"),
        local_slots(MONDAY, ["10:00"], 60),
        busy=(booking(MONDAY, "09:00", "10:00"), booking(MONDAY, "11:00", "12:00")),
    ),
    Case(
        "one-minute-overlap-blocks",
        HOUR,
        hours(0, "09:00-12:00"),
        local_slots(MONDAY, ["11:00"], 60),
        busy=(booking(MONDAY, "09:59", "10:01"),),
    ),
    # ------------------------------------------------------------------ notice and advance, from now
    Case(
        "min-notice-from-now",
        HOUR,
        hours(0, "09:00-17:00"),
        local_slots(MONDAY, ["12:00", "13:00", "14:00", "15:00", "16:00"], 60),
        window=BookingWindow(min_notice_minutes=120, max_advance_days=30),
        now=at(MONDAY, "09:30"),
    ),
    Case(
        "min-notice-boundary-inclusive",
        HOUR,
        hours(0, "09:00-17:00"),
        local_slots(MONDAY, ["11:00", "12:00", "13:00", "14:00", "15:00", "16:00"], 60),
        window=BookingWindow(min_notice_minutes=120, max_advance_days=30),
        now=at(MONDAY, "09:00"),
    ),
    Case(
        "todays-past-slots-never-show",
        HOUR,
        hours(0, "09:00-17:00"),
        local_slots(MONDAY, ["11:00", "12:00", "13:00", "14:00", "15:00", "16:00"], 60),
        window=BookingWindow(min_notice_minutes=0, max_advance_days=30),
        now=at(MONDAY, "10:30"),
    ),
    Case(
        "max-advance-from-now",
        HOUR,
        every_day("09:00-12:00"),
        local_slots(MONDAY, ["11:00"], 60)
        + local_slots(TUESDAY, ["09:00", "10:00", "11:00"], 60)
        + local_slots(MONDAY + timedelta(days=2), ["09:00", "10:00"], 60),  # up to now + 2 days = Wed 10:30
        window=BookingWindow(min_notice_minutes=0, max_advance_days=2),
        now=at(MONDAY, "10:30"),
        end_date=MONDAY + timedelta(days=3),
    ),
    # ------------------------------------------------------------------ alignment and fit
    Case(
        "aligned-from-interval-start-and-must-fit",
        ServiceSpec(id=1, duration=45, interval=30),
        hours(0, "09:15-12:00"),
        local_slots(MONDAY, ["09:15", "09:45", "10:15", "10:45", "11:15"], 45),
    ),
    Case(
        "several-intervals-each-aligned-from-its-start",
        ServiceSpec(id=1, duration=45, interval=30),
        hours(0, "13:10-14:30", "09:15-12:00"),  # given out of order on purpose
        local_slots(MONDAY, ["09:15", "09:45", "10:15", "10:45", "11:15", "13:10", "13:40"], 45),
    ),
    Case(
        "interval-shorter-than-duration-gives-nothing",
        HOUR,
        hours(0, "09:00-09:45"),
        [],
    ),
    # ------------------------------------------------------------------ capacity
    Case(
        "class-with-5-of-6-taken-shows-1-spot",
        ServiceSpec(id=1, duration=60, capacity=6),
        hours(0, "09:00-11:00"),
        local_slots(MONDAY, ["09:00"], 60, spots=1) + local_slots(MONDAY, ["10:00"], 60, spots=6),
        busy=(booking(MONDAY, "09:00", "10:00", service_id=1, seats=3), booking(MONDAY, "09:00", "10:00", service_id=1, seats=2)),
    ),
    Case(
        "class-with-6-of-6-taken-is-gone",
        ServiceSpec(id=1, duration=60, capacity=6),
        hours(0, "09:00-11:00"),
        local_slots(MONDAY, ["10:00"], 60, spots=6),
        busy=(booking(MONDAY, "09:00", "10:00", service_id=1, seats=5), booking(MONDAY, "09:00", "10:00", service_id=1, seats=1)),
    ),
    Case(
        "another-service-overlapping-blocks-the-class",
        ServiceSpec(id=1, duration=60, capacity=6),
        hours(0, "09:00-11:00"),
        local_slots(MONDAY, ["10:00"], 60, spots=6),
        busy=(booking(MONDAY, "09:30", "10:00", service_id=2, seats=1),),
    ),
    Case(
        "same-service-at-another-time-blocks",
        ServiceSpec(id=1, duration=60, capacity=6, interval=30),
        hours(0, "09:00-11:00"),
        local_slots(MONDAY, ["09:30"], 60, spots=4),
        busy=(booking(MONDAY, "09:30", "10:30", service_id=1, seats=2),),
    ),
    # ------------------------------------------------------------------ date overrides
    Case(
        "override-replaces-weekly-hours-for-that-date-only",
        HOUR,
        hours(0, "09:00-12:00") + hours(1, "09:00-12:00"),
        local_slots(MONDAY, ["14:00", "15:00"], 60) + local_slots(TUESDAY, ["09:00", "10:00", "11:00"], 60),
        overrides={MONDAY: (TimeRange(hm("14:00"), hm("16:00")),)},
        end_date=TUESDAY,
    ),
    Case(
        "override-unavailable-removes-the-day",
        HOUR,
        hours(0, "09:00-12:00") + hours(1, "09:00-12:00"),
        local_slots(TUESDAY, ["09:00", "10:00", "11:00"], 60),
        overrides={MONDAY: ()},
        end_date=TUESDAY,
    ),
    Case(
        "override-on-a-day-without-weekly-hours",
        HOUR,
        hours(1, "09:00-12:00"),
        local_slots(MONDAY, ["10:00"], 60),
        overrides={MONDAY: (TimeRange(hm("10:00"), hm("11:00")),)},
    ),
    # ------------------------------------------------------------------ DST: 09:00-17:00 is 8 local hours
    Case(
        "london-spring-forward-2027-03-28",
        HOUR,
        hours(5, "09:00-17:00") + hours(6, "09:00-17:00"),
        utc_slots([utc(2027, 3, 27, h) for h in range(9, 17)], 60)  # Saturday: GMT, UTC+0
        + utc_slots([utc(2027, 3, 28, h) for h in range(8, 16)], 60),  # Sunday: BST, UTC+1
        start_date=date(2027, 3, 27),
        end_date=date(2027, 3, 28),
    ),
    Case(
        "new-york-spring-forward-2027-03-14",
        HOUR,
        hours(5, "09:00-17:00") + hours(6, "09:00-17:00"),
        utc_slots([utc(2027, 3, 13, h) for h in range(14, 22)], 60)  # Saturday: EST, UTC-5
        + utc_slots([utc(2027, 3, 14, h) for h in range(13, 21)], 60),  # Sunday: EDT, UTC-4
        start_date=date(2027, 3, 13),
        end_date=date(2027, 3, 14),
        staff_tz="America/New_York",
        range_tz="America/New_York",
    ),
    Case(
        "new-york-fall-back-2027-11-07",
        HOUR,
        hours(5, "09:00-17:00") + hours(6, "09:00-17:00"),
        utc_slots([utc(2027, 11, 6, h) for h in range(13, 21)], 60)  # Saturday: EDT, UTC-4
        + utc_slots([utc(2027, 11, 7, h) for h in range(14, 22)], 60),  # Sunday: EST, UTC-5
        start_date=date(2027, 11, 6),
        end_date=date(2027, 11, 7),
        staff_tz="America/New_York",
        range_tz="America/New_York",
    ),
    # ------------------------------------------------------------------ DST: gaps and repeats
    # London skips 01:00-02:00 local: 01:00 and 01:30 do not exist; 02:00 BST is 01:00 UTC.
    Case(
        "london-spring-forward-gap-gives-no-slot",
        ServiceSpec(id=1, duration=30),
        hours(6, "01:00-03:00"),
        utc_slots([utc(2027, 3, 28, 1, 0), utc(2027, 3, 28, 1, 30)], 30),
        start_date=date(2027, 3, 28),
        end_date=date(2027, 3, 28),
    ),
    # New York skips 02:00-03:00 local: 01:00 and 01:30 EST exist, 02:00 and 02:30 do not.
    Case(
        "new-york-spring-forward-gap-gives-no-slot",
        ServiceSpec(id=1, duration=30),
        hours(6, "01:00-03:00"),
        utc_slots([utc(2027, 3, 14, 6, 0), utc(2027, 3, 14, 6, 30)], 30),
        start_date=date(2027, 3, 14),
        end_date=date(2027, 3, 14),
        staff_tz="America/New_York",
        range_tz="America/New_York",
    ),
    # An hourly slot in the 01:00-03:00 rule: only 02:00 BST (the real hour left) fits.
    Case(
        "london-spring-forward-hourly",
        HOUR,
        hours(6, "01:00-03:00"),
        utc_slots([utc(2027, 3, 28, 1)], 60),
        start_date=date(2027, 3, 28),
        end_date=date(2027, 3, 28),
    ),
    # New York repeats 01:00-02:00 local: 01:00 is taken once, at its first (EDT) occurrence.
    Case(
        "new-york-fall-back-ambiguous-hour-once",
        HOUR,
        hours(6, "00:00-03:00"),
        utc_slots([utc(2027, 11, 7, 4), utc(2027, 11, 7, 5), utc(2027, 11, 7, 7)], 60),
        start_date=date(2027, 11, 7),
        end_date=date(2027, 11, 7),
        staff_tz="America/New_York",
        range_tz="America/New_York",
    ),
    Case(
        "london-fall-back-ambiguous-half-hours-once",
        ServiceSpec(id=1, duration=30),
        hours(6, "01:00-02:00"),
        utc_slots([utc(2027, 10, 31, 0, 0), utc(2027, 10, 31, 0, 30)], 30),  # 01:00 and 01:30 BST
        start_date=date(2027, 10, 31),
        end_date=date(2027, 10, 31),
    ),
    # ------------------------------------------------------------------ fractional offsets
    Case(
        "kolkata-plus-0530",
        HOUR,
        hours(0, "09:00-12:00"),
        utc_slots([utc(2027, 6, 7, 3, 30), utc(2027, 6, 7, 4, 30), utc(2027, 6, 7, 5, 30)], 60),
        staff_tz="Asia/Kolkata",
        range_tz="Asia/Kolkata",
    ),
    Case(
        "kathmandu-plus-0545",
        ServiceSpec(id=1, duration=45, interval=30),
        hours(0, "09:00-11:00"),
        utc_slots([utc(2027, 6, 7, 3, 15), utc(2027, 6, 7, 3, 45), utc(2027, 6, 7, 4, 15)], 45),
        staff_tz="Asia/Kathmandu",
        range_tz="Asia/Kathmandu",
    ),
    Case(
        "kathmandu-staff-london-range",
        HOUR,
        hours(0, "09:00-12:00"),
        utc_slots([utc(2027, 6, 7, 3, 15), utc(2027, 6, 7, 4, 15), utc(2027, 6, 7, 5, 15)], 60),
        staff_tz="Asia/Kathmandu",
    ),
    # ------------------------------------------------------------------ staff zone != range zone
    # Los Angeles (UTC-7) Monday 18:00-22:00 is Tuesday 02:00-06:00 in London: it belongs to
    # London's Tuesday, and London's Monday has nothing.
    Case(
        "staff-evening-falls-on-next-range-date",
        HOUR,
        hours(0, "18:00-22:00") + hours(1, "18:00-22:00"),
        utc_slots([utc(2027, 6, 8, h) for h in range(1, 5)], 60),
        start_date=TUESDAY,
        end_date=TUESDAY,
        staff_tz="America/Los_Angeles",
    ),
    Case(
        "staff-evening-not-on-its-own-range-date",
        HOUR,
        hours(0, "18:00-22:00"),
        [],
        staff_tz="America/Los_Angeles",
    ),
    # Kiritimati (UTC+14) Wednesday 00:00 is Monday 23:00 in Pago Pago (UTC-11): 25 hours apart.
    Case(
        "zones-more-than-a-day-apart",
        HOUR,
        hours(2, "00:00-02:00"),
        utc_slots([utc(2027, 6, 8, 10)], 60),
        staff_tz="Pacific/Kiritimati",
        range_tz="Pacific/Pago_Pago",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule(case: Case):
    assert run(case) == case.expected


def test_dst_days_have_eight_local_hours_with_shifted_offsets():
    """The same 09:00-17:00 rule on the day before and the day of each change: the same local
    times, UTC offsets one hour apart."""
    for zone, change in [(LONDON, date(2027, 3, 28)), ("America/New_York", date(2027, 3, 14)), ("America/New_York", date(2027, 11, 7))]:
        schedule = StaffSchedule(1, zone, every_day("09:00-17:00"))
        slots = staff_slots(HOUR, schedule, OPEN, EARLY, change - timedelta(days=1), change, zone)
        by_day = group_by_local_date(slots, zone)
        assert sorted(by_day) == [change - timedelta(days=1), change]
        tz = ZoneInfo(zone)
        for day, day_slots in by_day.items():
            assert [s.start.astimezone(tz).strftime("%H:%M") for s in day_slots] == [f"{h:02d}:00" for h in range(9, 17)]
            assert all(s.end - s.start == timedelta(hours=1) for s in day_slots)
        before = {s.start.astimezone(tz).utcoffset() for s in by_day[change - timedelta(days=1)]}
        after = {s.start.astimezone(tz).utcoffset() for s in by_day[change]}
        assert len(before) == len(after) == 1
        assert abs(before.pop() - after.pop()) == timedelta(hours=1)


def test_client_zone_changes_only_how_slots_are_shown():
    schedule = StaffSchedule(1, LONDON, hours(0, "09:00-17:00") + hours(1, "09:00-17:00"))
    slots = staff_slots(HOUR, schedule, OPEN, EARLY, MONDAY, TUESDAY, LONDON)

    in_london = group_by_local_date(slots, LONDON)
    in_tokyo = group_by_local_date(slots, "Asia/Tokyo")  # UTC+9: London 16:00 BST is 00:00 next day

    assert in_london == {
        MONDAY: local_slots(MONDAY, [f"{h:02d}:00" for h in range(9, 17)], 60),
        TUESDAY: local_slots(TUESDAY, [f"{h:02d}:00" for h in range(9, 17)], 60),
    }
    assert in_tokyo == {
        MONDAY: local_slots(MONDAY, [f"{h:02d}:00" for h in range(9, 16)], 60),
        TUESDAY: local_slots(MONDAY, ["16:00"], 60) + local_slots(TUESDAY, [f"{h:02d}:00" for h in range(9, 16)], 60),
        TUESDAY + timedelta(days=1): local_slots(TUESDAY, ["16:00"], 60),
    }
    for zone in ["Asia/Tokyo", "America/Los_Angeles", "Asia/Kathmandu", "Pacific/Kiritimati"]:
        flat = [s for day in group_by_local_date(slots, zone).values() for s in day]
        assert flat == slots


def test_merge_slots_across_two_staff_members():
    s1 = [
        Slot(utc(2027, 6, 7, 9), utc(2027, 6, 7, 10), 2, 1),
        Slot(utc(2027, 6, 7, 10), utc(2027, 6, 7, 11), 1, 1),
    ]
    s2 = [
        Slot(utc(2027, 6, 7, 9), utc(2027, 6, 7, 10), 3, 2),
        Slot(utc(2027, 6, 7, 10), utc(2027, 6, 7, 11), 1, 2),
        Slot(utc(2027, 6, 7, 11), utc(2027, 6, 7, 12), 1, 2),
    ]
    expected = [
        Slot(utc(2027, 6, 7, 9), utc(2027, 6, 7, 10), 3, 2),  # most spots
        Slot(utc(2027, 6, 7, 10), utc(2027, 6, 7, 11), 1, 1),  # tie: lowest id
        Slot(utc(2027, 6, 7, 11), utc(2027, 6, 7, 12), 1, 2),  # union
    ]
    assert merge_slots({1: s1, 2: s2}) == expected
    assert merge_slots({2: s2, 1: s1}) == expected
    assert merge_slots({}) == []


def test_compute_slots_per_staff_then_merged():
    """Two staff members with different hours and zones: per-staff lists and their union."""
    service = ServiceSpec(id=1, duration=60)
    ann = StaffSchedule(1, LONDON, hours(0, "09:00-11:00"), busy=(booking(MONDAY, "09:00", "10:00"),))
    bob = StaffSchedule(2, "Europe/Paris", hours(0, "10:00-13:00"))  # 09:00-12:00 London
    per_staff = compute_slots(service, [ann, bob], OPEN, EARLY, MONDAY, MONDAY, LONDON)
    assert per_staff == {
        1: local_slots(MONDAY, ["10:00"], 60, staff=1),
        2: local_slots(MONDAY, ["09:00", "10:00", "11:00"], 60, staff=2),
    }
    assert merge_slots(per_staff) == [
        *local_slots(MONDAY, ["09:00"], 60, staff=2),
        *local_slots(MONDAY, ["10:00"], 60, staff=1),
        *local_slots(MONDAY, ["11:00"], 60, staff=2),
    ]


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        staff_slots(HOUR, StaffSchedule(1, LONDON), OPEN, datetime(2027, 1, 1), MONDAY, MONDAY, LONDON)


def test_interval_must_end_after_it_starts():
    with pytest.raises(ValueError):
        TimeRange(hm("10:00"), hm("09:00"))
    with pytest.raises(ValueError):
        TimeRange(hm("10:00"), hm("10:00"))
