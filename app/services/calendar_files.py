"""Calendar files for a booking: the ``.ics`` download and the ``VEVENT`` every calendar object shares.

One ``VEVENT`` in a ``VCALENDAR`` (RFC 5545), built with the ``icalendar`` package. ``UID`` is
:attr:`Booking.uid` (stable for the life of the booking, so a calendar updates the same event on a
reschedule or cancellation) and ``SEQUENCE`` is :attr:`Booking.sequence` (RFC 5545 section
3.8.7.4: bumped on every significant change). ``DTSTART``/``DTEND``/``DTSTAMP`` are UTC date-times
written with a trailing ``Z`` (form #2 of section 3.3.5), so no ``VTIMEZONE`` is needed.
"""
from __future__ import annotations

from datetime import datetime, timezone

from icalendar import Calendar, Event, vCalAddress, vText

from app.domain.booking_state import BookingStatus
from app.models import Booking, Business
from app.services.calendar_links import event_description, event_title

PRODID = "-//Flowkey//Booking link//EN"

_ICS_STATUS = {
    BookingStatus.PENDING: "TENTATIVE",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.COMPLETED: "CONFIRMED",
    BookingStatus.NO_SHOW: "CONFIRMED",
}


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
    if place := booking.service.place(business):
        event.add("location", place)
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
