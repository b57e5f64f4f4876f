"""A day's slots grouped into morning, afternoon and evening by their wall-clock start in the
client's zone, DST days included."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest

from app.domain.availability import Slot
from app.domain.day_parts import DayPart, group_by_part_of_day, part_of_day

UTC = timezone.utc


def slot(y, mo, d, h, mi=0) -> Slot:
    """A one-hour slot starting at the given UTC time."""
    start = datetime(y, mo, d, h, mi, tzinfo=UTC)
    return Slot(start=start, end=start + timedelta(hours=1), available_spots=1, staff_id=1)


def named(parts: list[DayPart]) -> list[tuple[str, list[str]]]:
    """``[(part, ["HH:MM" in UTC, ...]), ...]`` for comparing whole results."""
    return [(p.name, [s.start.strftime("%H:%M") for s in p.slots]) for p in parts]


@pytest.mark.parametrize(
    "wall, part",
    [
        (time(0, 0), "morning"), (time(6, 30), "morning"), (time(11, 59), "morning"),
        (time(12, 0), "afternoon"), (time(16, 59), "afternoon"),
        (time(17, 0), "evening"), (time(23, 59), "evening"),
    ],
)
def test_part_of_day_boundaries(wall, part):
    assert part_of_day(wall) == part


def test_groups_in_day_order_keeping_slot_order():
    slots = [slot(2027, 6, 7, h) for h in (8, 9, 10, 11, 12, 13, 16, 17, 18)]  # London: BST, UTC+1
    assert named(group_by_part_of_day(slots, "Europe/London")) == [
        ("morning", ["08:00", "09:00", "10:00"]),  # 09:00-11:00 BST
        ("afternoon", ["11:00", "12:00", "13:00"]),  # 12:00-14:00 BST
        ("evening", ["16:00", "17:00", "18:00"]),  # 17:00-19:00 BST
    ]


def test_empty_parts_are_left_out():
    assert named(group_by_part_of_day([slot(2027, 6, 7, 13), slot(2027, 6, 7, 14)], "UTC")) == [("afternoon", ["13:00", "14:00"])]
    assert named(group_by_part_of_day([slot(2027, 6, 7, 18)], "UTC")) == [("evening", ["18:00"])]
    assert group_by_part_of_day([], "UTC") == []


def test_the_same_instant_is_another_part_in_another_zone():
    slots = [slot(2027, 1, 12, 9), slot(2027, 1, 12, 12)]  # 09:00 and 12:00 UTC
    assert named(group_by_part_of_day(slots, "UTC")) == [("morning", ["09:00"]), ("afternoon", ["12:00"])]
    assert named(group_by_part_of_day(slots, "Asia/Kolkata")) == [("afternoon", ["09:00"]), ("evening", ["12:00"])]  # 14:30, 17:30
    assert named(group_by_part_of_day(slots, "America/New_York")) == [("morning", ["09:00", "12:00"])]  # 04:00, 07:00


def test_spring_forward_day_uses_the_new_offset():
    # New York goes from EST (UTC-5) to EDT (UTC-4) at 02:00 on Sunday 14 March 2027.
    saturday = [slot(2027, 3, 13, 16, 30), slot(2027, 3, 13, 21, 30)]  # 11:30 and 16:30 EST
    sunday = [slot(2027, 3, 14, 16, 30), slot(2027, 3, 14, 21, 30)]  # 12:30 and 17:30 EDT
    assert named(group_by_part_of_day(saturday, "America/New_York")) == [("morning", ["16:30"]), ("afternoon", ["21:30"])]
    assert named(group_by_part_of_day(sunday, "America/New_York")) == [("afternoon", ["16:30"]), ("evening", ["21:30"])]


def test_fall_back_day_puts_both_one_thirties_in_the_morning():
    # London goes from BST to GMT at 02:00 BST on Sunday 31 October 2027: 01:30 happens twice.
    slots = [slot(2027, 10, 31, 0, 30), slot(2027, 10, 31, 1, 30), slot(2027, 10, 31, 11, 30), slot(2027, 10, 31, 12), slot(2027, 10, 31, 17)]
    assert named(group_by_part_of_day(slots, "Europe/London")) == [
        ("morning", ["00:30", "01:30", "11:30"]),  # 01:30 BST, 01:30 GMT, 11:30 GMT
        ("afternoon", ["12:00"]),
        ("evening", ["17:00"]),
    ]
