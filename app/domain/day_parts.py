"""Parts of a day: a day's free times split into morning, afternoon and evening for the slot list.

Pure: the part of a time is read from its wall-clock time in the client's zone, so a slot at
16:30 UTC is morning in New York on the day before the clocks go forward (11:30 EST) and
afternoon the day after (12:30 EDT).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo

#: ``(name, first wall-clock time)`` in order; each part runs until the next one starts.
PARTS: tuple[tuple[str, time], ...] = (("morning", time(0, 0)), ("afternoon", time(12, 0)), ("evening", time(17, 0)))


@dataclass(frozen=True)
class DayPart:
    """The slots of one part of a day: ``name`` is ``"morning"`` (before 12:00),
    ``"afternoon"`` (12:00 to before 17:00) or ``"evening"`` (17:00 on)."""

    name: str
    slots: tuple


def part_of_day(wall: time) -> str:
    """The part a wall-clock time falls in: 11:59 -> ``"morning"``, 12:00 -> ``"afternoon"``,
    17:00 -> ``"evening"``."""
    name = PARTS[0][0]
    for part, first in PARTS:
        if wall >= first:
            name = part
    return name


def group_by_part_of_day(slots: Iterable, tz_name: str) -> list[DayPart]:
    """``slots`` (anything with an aware ``start``) grouped by the part of the day their start
    falls in, in zone ``tz_name``: ``[DayPart("morning", (...)), ...]`` in day order, each
    keeping the slots' order; a part with no slot is left out. Raises
    ``zoneinfo.ZoneInfoNotFoundError`` for an unknown zone."""
    tz = ZoneInfo(tz_name)
    grouped: dict[str, list] = {name: [] for name, _ in PARTS}
    for slot in slots:
        grouped[part_of_day(slot.start.astimezone(tz).time())].append(slot)
    return [DayPart(name, tuple(items)) for name, items in grouped.items() if items]
