"""Google Calendar and Outlook on the web "add to calendar" links for a booking, side by side.

The ``.ics`` file and iTIP invitations are built in :mod:`app.services.calendar_files` and
:mod:`app.services.invitations`.

* Google Calendar: ``https://calendar.google.com/calendar/render?action=TEMPLATE&text=...&dates=
  START/END&details=...&location=...`` with ``dates`` as ``YYYYMMDDTHHMMSSZ/YYYYMMDDTHHMMSSZ`` (UTC).
  Google does not document this URL formally; the format follows the widely used reference at
  https://github.com/InteractionDesignFoundation/add-event-to-calendar-docs/blob/main/services/google.md
* Outlook on the web: ``https://outlook.live.com/calendar/0/deeplink/compose?path=/calendar/action/
  compose&rru=addevent&subject=...&startdt=...&enddt=...&body=...&location=...`` with UTC ISO 8601
  times; like Google's, not formally documented (the same reference, ``services/outlook-web.md``).
"""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode

from app.models import Booking, Business

GOOGLE_CALENDAR_URL = "https://calendar.google.com/calendar/render"
OUTLOOK_CALENDAR_URL = "https://outlook.live.com/calendar/0/deeplink/compose"


def _utc_stamp(instant: datetime) -> str:
    """``20270105T090000Z`` for an aware instant."""
    return instant.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def event_title(booking: Booking, business: Business) -> str:
    return f"{booking.service.name} with {business.name}"


def event_description(booking: Booking, business: Business) -> str:
    lines = [f"Booking reference: {booking.reference}", f"With: {booking.staff.display_name}"]
    contact = ", ".join(x for x in (business.phone, business.email) if x)
    if contact:
        lines.append(f"Contact {business.name}: {contact}")
    return "\n".join(lines)


def google_calendar_url(booking: Booking, business: Business) -> str:
    """The Google Calendar "add event" URL for ``booking`` (times in UTC, ``ctz`` = client zone)."""
    params = {
        "action": "TEMPLATE",
        "text": event_title(booking, business),
        "dates": f"{_utc_stamp(booking.start_at)}/{_utc_stamp(booking.end_at)}",
        "details": event_description(booking, business),
    }
    if place := booking.service.place(business):
        params["location"] = place
    if booking.client_timezone:
        params["ctz"] = booking.client_timezone
    return f"{GOOGLE_CALENDAR_URL}?{urlencode(params)}"


def outlook_calendar_url(booking: Booking, business: Business) -> str:
    """Outlook on the web "add event" deep link (outlook.live.com; times as UTC ISO 8601).

    (see the module docstring for the format)."""
    params = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": event_title(booking, business),
        "startdt": booking.start_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "enddt": booking.end_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "body": event_description(booking, business),
    }
    if place := booking.service.place(business):
        params["location"] = place
    return f"{OUTLOOK_CALENDAR_URL}?{urlencode(params)}"
