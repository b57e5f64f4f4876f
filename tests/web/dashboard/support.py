"""Helpers for the dashboard tests. The views use the real clock, so dates are relative to today:
``monday()`` is a Monday 7-13 days ahead (inside the default 30-day advance window)."""
from __future__ import annotations

import html
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")
HX = {"HX-Request": "true"}


def now() -> datetime:
    return datetime.now(UTC)


def monday(weeks_ahead: int = 1) -> date:
    today = now().astimezone(LONDON).date()
    return today + timedelta(days=(0 - today.weekday()) % 7 + 7 * weeks_ahead)


def at(day: date, wall: str, tz=LONDON) -> datetime:
    """The UTC instant of a wall-clock time on ``day`` in ``tz``."""
    return datetime.combine(day, time.fromisoformat(wall), tzinfo=tz).astimezone(UTC)


def text(response) -> str:
    return response.get_data(as_text=True)


def field_error(response, field_id: str) -> str | None:
    """The message shown for a field (``<small id="<field>-error">``), or None."""
    match = re.search(rf'<small id="{re.escape(field_id)}-error"[^>]*>(.*?)</small>', text(response), re.S)
    return html.unescape(match.group(1).strip()) if match else None


def flashes(response) -> list[str]:
    return [html.unescape(m.strip()) for m in re.findall(r'<p class="flash flash-\w+">(.*?)</p>', text(response), re.S)]
