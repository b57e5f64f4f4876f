"""Helpers for the API tests."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def slot_json(day: date, hour: int, minutes: int, staff_id: int, tz: str, business_tz: str = "Europe/London", spots: int = 1) -> dict:
    """The API's JSON for a slot starting at ``hour``:00 business time on ``day``, shown in ``tz``."""
    start = datetime.combine(day, time(hour), tzinfo=ZoneInfo(business_tz)).astimezone(ZoneInfo(tz))
    end = start + timedelta(minutes=minutes)
    end = end.astimezone(ZoneInfo(tz))
    return {
        "start_time": f"{start:%H:%M}", "end_time": f"{end:%H:%M}", "available_spots": spots, "staff_id": staff_id,
        "start": start.isoformat(), "end": end.isoformat(),
    }


def london(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo("Europe/London"))


def book_body(service: int, when: datetime, **overrides) -> dict:
    body = {
        "service_id": service, "start": when.isoformat(), "client_name": "Ada Lovelace",
        "client_email": "ada@example.com", "client_phone": "+44 7911 123456", "notes": "First lesson",
        "client_timezone": "Europe/London",
    }
    body.update(overrides)
    return body
