"""Time zones as people pick and read them, and the years the app accepts.

Used by the forms' zone pickers, the public booking flow, the API schemas and the ``local`` and
``zone_label`` template filters.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo, available_timezones

# Dates and instants outside these years are refused: date arithmetic near year 1 or 9999
# overflows, and no booking is that far away.
MIN_YEAR, MAX_YEAR = 2000, 2999

_ZONES: list[str] | None = None


def in_year_window(value: date | datetime) -> bool:
    """True when ``value`` (a date, or an instant: its UTC year when aware) falls in
    ``MIN_YEAR..MAX_YEAR``. Every parsed date and instant goes through this before any arithmetic."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return MIN_YEAR <= value.year <= MAX_YEAR


def all_timezones() -> list[str]:
    """Sorted IANA zone names (``Area/City``) and ``UTC``, for the zone pickers."""
    global _ZONES
    if _ZONES is None:
        _ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/"))) + ["UTC"]
    return _ZONES


def is_timezone(name: str | None) -> bool:
    """True when ``name`` is one of :func:`all_timezones`."""
    return bool(name) and name in set(all_timezones()) | {"UTC"}


def format_local(instant: datetime, tz: str, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """An aware instant as wall-clock time in the IANA zone ``tz`` (the ``local`` filter)."""
    return instant.astimezone(ZoneInfo(tz)).strftime(fmt)


def zone_label(zone: str | None) -> str:
    """An IANA zone name as people read it: ``America/New_York`` -> ``America/New York``."""
    return (zone or "").replace("_", " ")

