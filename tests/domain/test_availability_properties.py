"""The availability engine against the previous one (``reference_availability``, kept as an oracle)
on random schedules: both must give the same whole results.

Random zones (with DST, 30-minute DST, fractional offsets, +14, changes at midnight, a skipped
day), weekly hours and date overrides, holds with buffers, seats and capacity, slot intervals,
minimum notice and maximum advance, and ranges across offset changes. Some holds are placed
exactly on the slots the oracle offers without them, so that classes share seats.
"""
from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain import availability as engine
from app.domain.availability import BookingWindow, Busy, ServiceSpec, StaffSchedule, TimeRange, WeeklyRule
from tests.domain import reference_availability as oracle

UTC = timezone.utc
# Days on which each zone changes its UTC offset (by local date).
CHANGES = [
    ("Europe/London", date(2027, 3, 28)),
    ("Europe/London", date(2027, 10, 31)),
    ("America/New_York", date(2027, 3, 14)),
    ("America/New_York", date(2027, 11, 7)),
    ("Australia/Lord_Howe", date(2027, 4, 4)),  # DST moves the clock 30 minutes
    ("Australia/Lord_Howe", date(2027, 10, 3)),
    ("America/Santiago", date(2027, 4, 4)),  # at midnight, back to 23:00 the day before
    ("America/Santiago", date(2027, 9, 5)),  # at midnight, on to 01:00
    ("America/Sao_Paulo", date(2018, 2, 18)),
    ("America/Sao_Paulo", date(2018, 11, 4)),
    ("Pacific/Apia", date(2011, 12, 30)),  # skipped: 29 December was followed by 31 December
    ("Pacific/Apia", date(2018, 4, 1)),
    ("Pacific/Kiritimati", date(1994, 12, 31)),  # skipped, from UTC-10 to UTC+14
]
# With Pacific/Pago_Pago (UTC-11, 25 hours from Kiritimati), Asia/Kathmandu (UTC+05:45) and UTC.
ZONES = sorted({zone for zone, _ in CHANGES} | {"Pacific/Pago_Pago", "Asia/Kathmandu", "UTC"})
PROPERTIES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

minutes_of_day = st.one_of(
    st.integers(0, 4 * 60).map(lambda m: m - m % 15),  # small hours, where clocks change
    st.integers(0, 24 * 60 - 1).map(lambda m: m - m % 5),
    st.integers(0, 24 * 60 - 1),
)


@st.composite
def time_ranges(draw) -> TimeRange:
    a = draw(minutes_of_day)
    b = draw(minutes_of_day.filter(lambda m: m != a))
    a, b = min(a, b), max(a, b)
    return TimeRange(time(a // 60, a % 60), time(b // 60, b % 60))


@st.composite
def weekly_rules(draw) -> tuple[WeeklyRule, ...]:
    rules = []
    for weekday in range(7):
        for r in draw(st.lists(time_ranges(), max_size=2)):
            rules.append(WeeklyRule(weekday, r.start, r.end))
    return tuple(rules)


services = st.builds(
    ServiceSpec,
    id=st.just(1),
    duration=st.sampled_from([15, 30, 45, 60, 90]) | st.integers(1, 180),
    capacity=st.integers(1, 4),
    interval=st.none() | st.sampled_from([5, 10, 15, 30, 60]) | st.integers(1, 120),
    buffer_before=st.sampled_from([0, 0, 5, 15, 30]),
    buffer_after=st.sampled_from([0, 0, 10, 15, 45]),
)


@st.composite
def scenarios(draw):
    """``(service, schedules, window, now, start_date, end_date, range_zone)`` with holds placed
    at random and on some of the slots the oracle gives without holds."""
    service = draw(services)
    changing_zone, anchor = draw(st.sampled_from(CHANGES))
    zones = st.just(changing_zone) | st.sampled_from(ZONES)
    days = st.integers(-4, 3) | st.sampled_from([-1, 0])  # often a range that starts or ends at the change
    start_date, end_date = sorted([anchor + timedelta(days=draw(days)), anchor + timedelta(days=draw(days))])
    range_zone = draw(zones)
    window = BookingWindow(draw(st.sampled_from([0, 0, 30, 120, 24 * 60]) | st.integers(0, 72 * 60)),
                           draw(st.integers(0, 30)))
    now = datetime.combine(start_date, time(), UTC) + timedelta(minutes=draw(st.integers(-5 * 1440, 10 * 1440)))
    expanded = [start_date + timedelta(days=d) for d in range(-2, (end_date - start_date).days + 3)]
    schedules = []
    for staff_id in range(1, draw(st.integers(1, 3)) + 1):
        zone = draw(st.just(range_zone) | zones)
        overrides = {day: tuple(draw(st.lists(time_ranges(), max_size=2)))
                     for day in draw(st.lists(st.sampled_from(expanded), max_size=3, unique=True))}
        bare = StaffSchedule(staff_id, zone, draw(weekly_rules()), overrides)
        offered = oracle.staff_slots(service, bare, BookingWindow(0, 3650), now - timedelta(days=30),
                                     start_date, end_date, range_zone)
        # Mostly classes sharing seats; sometimes the same service for longer, which blocks instead.
        busy = [
            Busy(s.start, s.end + timedelta(minutes=draw(st.sampled_from([0, 0, 0, 15]))), draw(st.sampled_from([0, 15])),
                 draw(st.sampled_from([0, 15])), service.id, draw(st.integers(1, 3)))
            for s in (draw(st.lists(st.sampled_from(offered), max_size=6)) if offered else [])
        ]
        origin = datetime.combine(start_date - timedelta(days=3), time(), UTC)
        for _ in range(draw(st.integers(0, 8))):
            start = origin + timedelta(minutes=5 * draw(st.integers(0, (len(expanded) + 2) * 288)))
            length = draw(st.sampled_from([service.duration, 30, 60]) | st.integers(0, 180))
            busy.append(Busy(start, start + timedelta(minutes=length), draw(st.integers(0, 30)), draw(st.integers(0, 30)),
                             draw(st.sampled_from([service.id, 2, None])), draw(st.integers(1, 3))))
        schedules.append(StaffSchedule(staff_id, zone, bare.weekly, overrides, tuple(draw(st.permutations(busy)))))
    return service, schedules, window, now, start_date, end_date, range_zone


@PROPERTIES
@given(scenarios())
def test_same_slots_as_the_previous_engine(scenario):
    service, schedules, window, now, start_date, end_date, range_zone = scenario
    expected = oracle.compute_slots(service, schedules, window, now, start_date, end_date, range_zone)
    actual = engine.compute_slots(service, schedules, window, now, start_date, end_date, range_zone)
    assert actual == expected
    assert engine.merge_slots(actual) == oracle.merge_slots(expected)


@pytest.mark.parametrize(("changing_zone", "day"), CHANGES, ids=[f"{z}-{d}" for z, d in CHANGES])
def test_same_slots_all_day_around_each_change(changing_zone, day):
    """Hours round the clock in every zone, viewed from the changing zone, and the other way round;
    ranges ending the day before the change and starting on it; classes booked on every third
    slot and another service on every fifth, so holds end exactly where other slots start."""
    service = ServiceSpec(id=1, duration=45, capacity=2, interval=15)
    window = BookingWindow(0, 3650)
    early = datetime.combine(day - timedelta(days=30), time(), UTC)
    always = tuple(WeeklyRule(d, time(0), time(23, 59)) for d in range(7))
    for other in ZONES:
        for staff_zone, range_zone in [(changing_zone, other), (other, changing_zone)]:
            for first, last in [(day - timedelta(days=2), day - timedelta(days=1)), (day, day + timedelta(days=1))]:
                offered = oracle.staff_slots(service, StaffSchedule(1, staff_zone, always), window, early, first, last, range_zone)
                assert len(offered) > 48  # not vacuous: 4 an hour on each existing day
                busy = [Busy(s.start, s.end, 0, 0, 1, 1) for s in offered[::3]]
                busy += [Busy(s.start, s.end, 0, 15, 2, 1) for s in offered[1::5]]
                schedule = StaffSchedule(1, staff_zone, always, {}, tuple(busy))
                args = (window, early, first, last, range_zone)
                assert engine.staff_slots(service, schedule, *args) == oracle.staff_slots(service, schedule, *args), (
                    staff_zone, range_zone, first)


def test_offset_changes_are_days_apart():
    """The engine treats a day (or a working interval) whose two ends have the same UTC offset as
    having no offset change inside: true only while no zone changes its offset twice within two
    days. Read from the compiled tz files' transitions with the standard library's pure-Python
    reader."""
    reader = pytest.importorskip("zoneinfo._zoneinfo").ZoneInfo
    close = []
    for name in sorted(zoneinfo.available_timezones()):
        tz = reader.no_cache(name)
        if not hasattr(tz, "_trans_utc"):
            pytest.skip("this Python's zoneinfo reader keeps its transitions elsewhere")
        changes = [t for t, before, after in zip(tz._trans_utc, [tz._tti_before, *tz._ttinfos], tz._ttinfos)
                   if before is None or before.utcoff != after.utcoff]
        close += [(name, a) for a, b in zip(changes, changes[1:]) if b - a < 2 * 86400]
    assert close == []
