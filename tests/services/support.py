"""Plain helpers for service tests: a fixed ``NOW`` so dates never depend on the clock.

``NOW`` is Tuesday 2027-06-01 08:00 UTC; ``MONDAY`` (2027-06-07) is inside the default 30-day
advance window. The business is in Europe/London (BST, UTC+1 in June), open Mon-Fri 09:00-17:00.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from app.services.booking_service import BookingRequest

UTC = timezone.utc
NOW = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
MONDAY = date(2027, 6, 7)
LONDON = ZoneInfo("Europe/London")


def at(day: date, wall: str, tz: ZoneInfo = LONDON) -> datetime:
    """UTC instant of a wall-clock time in the business zone."""
    return datetime.combine(day, time.fromisoformat(wall), tzinfo=tz).astimezone(UTC)


def request_for(service, start: datetime, n: int = 1, **fields) -> BookingRequest:
    values = dict(
        service_id=service.id,
        start=start,
        client_name=f"Client {n}",
        client_email=f"client{n}@example.com",
        client_phone=None,
        client_timezone="Europe/London",
    )
    values.update(fields)
    return BookingRequest(**values)


def later(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)
