"""The pure availability engine in-process: the previous engine (kept as the tests' oracle) against
the current one, on the same inputs, in the same run. No database, no HTTP.

The inputs mirror ``benchmarks/availability.py``'s seed: one business in Europe/London, 5 staff
members (Mon-Sat 08:00-18:00, half of them with a 12:00-13:00 break), the 45-minute lesson offered
every 60 minutes with a 15-minute after-buffer, and about 2,000 holds over 60 days on a 75-minute
grid (lessons, 6-seat group classes sharing seats, assessments; 5% cancelled, so no hold). The 60 days span the change to
British Summer Time. Each run computes one range the way the availability service does
(``compute_slots`` for every staff member, then ``merge_slots``), given the holds the service's
query would load for that range. Old and new runs alternate, so both see the same machine state.

    .venv/bin/python benchmarks/engine.py
    .venv/bin/python benchmarks/engine.py --runs 500

Target: the new engine at least 3x faster than the old one on the 31-day range (median).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as wall
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.domain import availability as new_engine  # noqa: E402
from app.domain.availability import (  # noqa: E402
    UTC, BookingWindow, Busy, ServiceSpec, StaffSchedule, WeeklyRule, merge_slots,
)
from benchmarks.common import machine, markdown_table, percentile  # noqa: E402
from tests.domain import reference_availability as old_engine  # noqa: E402

TIMEZONE = "Europe/London"
STAFF = 5
DAYS = 60
HOLDS = 2000
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # a Monday; London moves to BST on 28 March
LESSON = ServiceSpec(id=1, duration=45, capacity=1, interval=60, buffer_after=15)
CLASS = ServiceSpec(id=2, duration=60, capacity=6)
ASSESSMENT = ServiceSpec(id=3, duration=30)
WINDOW = BookingWindow(min_notice_minutes=0, max_advance_days=90)
GRID = [wall(8, 0), wall(9, 15), wall(13, 0), wall(14, 15), wall(15, 30), wall(16, 45), wall(10, 30), wall(11, 45)]
TARGET_RATIO = 3.0


def seed(holds: int = HOLDS, seed_value: int = 7) -> list[StaffSchedule]:
    """The 5 staff members' schedules with ``holds`` bookings over the next 60 days (the 5%
    cancelled ones hold no time)."""
    rng = random.Random(seed_value)
    tz = ZoneInfo(TIMEZONE)
    today = NOW.astimezone(tz).date()
    staff_ids = list(range(1, STAFF + 1))
    staff_days = [(s, today + timedelta(days=d)) for d in range(1, DAYS + 1) for s in staff_ids
                  if (today + timedelta(days=d)).weekday() < 6]
    busy: dict[int, list[Busy]] = {s: [] for s in staff_ids}
    slots = [(k, sd) for k in range(len(GRID)) for sd in staff_days][:holds]
    if len(slots) < holds:
        raise SystemExit(f"the grid holds only {len(slots)} bookings")
    for k, (staff_id, day) in slots:
        service = rng.choice([LESSON, CLASS, ASSESSMENT])
        start = datetime.combine(day, GRID[k], tz).astimezone(UTC)
        seats = rng.randint(1, 3) if service.capacity > 1 else 1
        if rng.random() >= 0.95:  # cancelled, as 5% of the HTTP benchmark's bookings: no hold
            continue
        busy[staff_id].append(Busy(start, start + timedelta(minutes=service.duration), service.buffer_before,
                                   service.buffer_after, service.id, seats))
    schedules = []
    for i, staff_id in enumerate(staff_ids):
        intervals = [(wall(8), wall(12)), (wall(13), wall(18))] if i % 2 else [(wall(8), wall(18))]
        weekly = tuple(WeeklyRule(d, a, b) for d in range(6) for a, b in intervals)
        schedules.append(StaffSchedule(staff_id, TIMEZONE, weekly, {}, tuple(busy[staff_id])))
    return schedules


def for_range(schedules: list[StaffSchedule], first: date, last: date) -> list[StaffSchedule]:
    """Each schedule with only the holds the availability service loads for ``first..last``: those
    reaching into the range widened by a day each side, plus a day for the longest buffer."""
    tz = ZoneInfo(TIMEZONE)
    start = datetime.combine(first, wall.min, tz).astimezone(UTC) - timedelta(days=1)
    end = datetime.combine(last + timedelta(days=1), wall.min, tz).astimezone(UTC) + timedelta(days=1)
    pad = timedelta(days=1)
    return [
        StaffSchedule(s.staff_id, s.timezone, s.weekly, s.overrides, tuple(
            b for b in s.busy if b.start < end + pad and b.start > start - pad - timedelta(days=1) and b.end > start - pad
        ))
        for s in schedules
    ]


def run_once(engine, schedules: list[StaffSchedule], first: date, last: date) -> tuple[float, list]:
    t0 = time.perf_counter()
    merged = merge_slots(engine.compute_slots(LESSON, schedules, WINDOW, NOW, first, last, TIMEZONE))
    return (time.perf_counter() - t0) * 1000, merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The availability engine in-process: previous vs current.")
    parser.add_argument("--runs", type=int, default=300, help="timed runs per engine and range (default: %(default)s)")
    parser.add_argument("--holds", type=int, default=HOLDS, help="bookings over the 60 days (default: %(default)s)")
    args = parser.parse_args(argv)

    schedules = seed(args.holds)
    first = NOW.astimezone(ZoneInfo(TIMEZONE)).date() + timedelta(days=1)
    rows, ratios = [], {}
    for days in (7, 31):
        last = first + timedelta(days=days - 1)
        ranged = for_range(schedules, first, last)
        _, old_slots = run_once(old_engine, ranged, first, last)
        _, new_slots = run_once(new_engine, ranged, first, last)
        if new_slots != old_slots:
            raise SystemExit(f"{days}-day range: the engines disagree; run tests/domain")
        for _ in range(10):  # warm-up
            run_once(old_engine, ranged, first, last)
            run_once(new_engine, ranged, first, last)
        timings: dict[str, list[float]] = {"old": [], "new": []}
        for _ in range(args.runs):
            timings["old"].append(run_once(old_engine, ranged, first, last)[0])
            timings["new"].append(run_once(new_engine, ranged, first, last)[0])
        medians = {k: statistics.median(v) for k, v in timings.items()}
        ratios[days] = medians["old"] / medians["new"]
        holds = sum(len(s.busy) for s in ranged)
        for name, label in (("old", "previous (oracle)"), ("new", "current")):
            t = timings[name]
            rows.append([f"{days} days", label, str(holds), str(len(new_slots)), f"{medians[name]:.2f}",
                         f"{percentile(t, 0.95):.2f}", f"{max(t):.2f}",
                         "-" if name == "old" else f"{ratios[days]:.1f}x"])
    print(f"Machine: {machine()}")
    print(f"Inputs: {STAFF} staff, {DAYS} days, {args.holds} bookings of which {sum(len(s.busy) for s in schedules)} hold time "
          f"(the holds column: those loaded for the range); "
          f"{args.runs} runs per engine and range; 45-min lesson every 60 min")
    print(markdown_table(["range", "engine", "holds", "slots", "median ms", "p95 ms", "max ms", "speed-up (median)"], rows))
    ok = ratios[31] >= TARGET_RATIO
    print(f"31-day speed-up {ratios[31]:.1f}x: target >= {TARGET_RATIO:.0f}x " + ("ok" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
