"""Helpers for the public page tests: instants relative to a day, URLs and form data."""
from __future__ import annotations

import re
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

from app.models import Booking

LONDON = ZoneInfo("Europe/London")


def at(day, hh_mm: str, tz=LONDON) -> datetime:
    """The UTC instant of a wall-clock time on ``day`` in ``tz``."""
    return datetime.combine(day, time.fromisoformat(hh_mm), tzinfo=tz).astimezone(timezone.utc)


def iso_z(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def details_url(business, service, start: datetime, tz: str = "Europe/London") -> str:
    return f"/book/{business.slug}/{service.id}/details?start={iso_z(start)}&tz={tz}"


def form_data(**overrides) -> dict:
    data = {"name": "Ada Lovelace", "email": "ada@example.com", "phone": "", "notes": "", "idempotency_key": "key-1"}
    data.update(overrides)
    return data


def only_booking(db) -> Booking:
    bookings = db.session.scalars(db.select(Booking)).all()
    assert len(bookings) == 1
    return bookings[0]


def confirmation_link(location: str) -> tuple[str, str]:
    """(reference, token) from a confirmation URL."""
    match = re.search(r"/confirmation/(FK-[A-Z0-9]+)\?token=([^&]+)", location)
    assert match, location
    return match.group(1), match.group(2)
