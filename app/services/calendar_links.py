"""Calendar hand-offs for a booking: a Google Calendar "add event" link and an ``.ics`` file.

* ``.ics``: one ``VEVENT`` in a ``VCALENDAR`` (RFC 5545, https://www.rfc-editor.org/rfc/rfc5545),
  built with the ``icalendar`` package. ``UID`` is :attr:`Booking.uid` (stable for the life of the
  booking, so a calendar updates the same event on a reschedule or cancellation) and ``SEQUENCE`` is
  :attr:`Booking.sequence` (RFC 5545 section 3.8.7.4: bumped on every significant change).
  ``DTSTART``/``DTEND``/``DTSTAMP`` are UTC date-times written with a trailing ``Z`` (form #2 of
  section 3.3.5), so no ``VTIMEZONE`` is needed.
* Google Calendar: ``https://calendar.google.com/calendar/render?action=TEMPLATE&text=...&dates=
  START/END&details=...&location=...`` with ``dates`` as ``YYYYMMDDTHHMMSSZ/YYYYMMDDTHHMMSSZ`` (UTC).
  Google does not document this URL formally; the format follows the widely used reference at
  https://github.com/InteractionDesignFoundation/add-event-to-calendar-docs/blob/main/services/google.md
"""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode

from icalendar import Calendar, Event, vCalAddress, vText

from app.domain.booking_state import BookingStatus
from app.models import Booking, Business

GOOGLE_CALENDAR_URL = "https://calendar.google.com/calendar/render"
PRODID = "-//Flowkey//Booking link//EN"

_ICS_STATUS = {
    BookingStatus.PENDING: "TENTATIVE",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.COMPLETED: "CONFIRMED",
    BookingStatus.NO_SHOW: "CONFIRMED",
}


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
    if business.address:
        params["location"] = business.address
    if booking.client_timezone:
        params["ctz"] = booking.client_timezone
    return f"{GOOGLE_CALENDAR_URL}?{urlencode(params)}"


def new_calendar(method: str) -> Calendar:
    """An empty ``VCALENDAR`` with our PRODID and the given ``METHOD`` (PUBLISH, REQUEST, CANCEL)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    return cal


def base_event(booking: Booking, business: Business, *, sequence: int | None = None, now: datetime | None = None) -> Event:
    """The ``VEVENT`` properties every calendar object of ``booking`` shares: UID, SEQUENCE
    (default :attr:`Booking.sequence`), DTSTAMP (``now``), DTSTART/DTEND in UTC, SUMMARY,
    DESCRIPTION and LOCATION."""
    now = now or datetime.now(timezone.utc)
    event = Event()
    event.add("uid", booking.uid)
    event.add("sequence", (booking.sequence or 0) if sequence is None else sequence)
    event.add("dtstamp", now.astimezone(timezone.utc))
    event.add("dtstart", booking.start_at.astimezone(timezone.utc))
    event.add("dtend", booking.end_at.astimezone(timezone.utc))
    event.add("summary", event_title(booking, business))
    event.add("description", event_description(booking, business))
    if business.address:
        event.add("location", business.address)
    return event


def booking_ics(booking: Booking, business: Business, now: datetime | None = None) -> bytes:
    """The booking as an RFC 5545 ``VCALENDAR`` (UTF-8 bytes, CRLF line endings).

    ``now`` (aware) is the ``DTSTAMP``; defaults to the current instant. ``STATUS`` is
    ``CONFIRMED``, ``TENTATIVE`` (awaiting approval) or ``CANCELLED`` (rejected, expired, cancelled).
    """
    cal = new_calendar("PUBLISH")
    event = base_event(booking, business, now=now)
    if business.email:
        organizer = vCalAddress(f"mailto:{business.email}")
        organizer.params["cn"] = vText(business.name)
        event.add("organizer", organizer)
    event.add("status", _ICS_STATUS.get(booking.status, "CANCELLED"))
    cal.add_component(event)
    return cal.to_ical()
