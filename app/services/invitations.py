"""iTIP/iMIP calendar invitations for a booking.

RFC 5545 (iCalendar), RFC 5546 (iTIP: what REQUEST and CANCEL must contain) and RFC 6047 (iMIP:
sending them by e-mail). Built with the ``icalendar`` package.

* ``METHOD:REQUEST`` for a confirmation or an update (reschedule), ``METHOD:CANCEL`` for a
  cancellation; the MIME ``method=`` parameter of the part carrying it must be the same value
  (:class:`app.integrations.mail.Mailer` uses :attr:`Invitation.method` for both).
* ``UID`` is :attr:`Booking.uid`, the same for the life of the booking, so calendar clients update
  or remove the event they already have instead of adding another.
* ``SEQUENCE`` is the booking's :attr:`Booking.sequence` as of the change being announced; the
  booking service bumps it on every significant change (time, status), cancellations included,
  since clients ignore a CANCEL whose SEQUENCE was not raised (RFC 5546 section 3.2.5).
* ``DTSTART``/``DTEND``/``DTSTAMP`` are UTC with a ``Z`` suffix (RFC 5545 section 3.3.5 form #2), so
  no ``TZID`` is used and no ``VTIMEZONE`` is needed; clients show the event in their own zone.
* ``ORGANIZER`` is the business (its e-mail; ``fallback_organizer`` when it has none) and the client
  is the one ``ATTENDEE`` (``RSVP=TRUE;PARTSTAT=NEEDS-ACTION`` on a REQUEST).
"""
from __future__ import annotations

from datetime import datetime

from icalendar import vCalAddress, vText

from app.integrations.mail import Invitation
from app.models import Booking, Business
from app.services.calendar_files import base_event, new_calendar

REQUEST = "REQUEST"
CANCEL = "CANCEL"


def _address(email: str, name: str | None, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["cn"] = vText(name)
    for key, value in params.items():
        address.params[key.replace("_", "-")] = vText(value)
    return address


def build_invitation(
    booking: Booking,
    business: Business,
    method: str,
    *,
    sequence: int | None = None,
    now: datetime | None = None,
    fallback_organizer: str | None = None,
) -> Invitation:
    """The booking as an iTIP ``REQUEST`` or ``CANCEL``.

    ``sequence`` defaults to ``booking.sequence`` (pass the value recorded with the job, so a late
    job announces the change it was recorded for). ``now`` (aware) is the ``DTSTAMP``. Raises
    ``ValueError`` for another method, or when the booking has no client e-mail (the ATTENDEE).
    """
    if method not in (REQUEST, CANCEL):
        raise ValueError(f"unsupported iTIP method {method!r}")
    if not booking.client_email:
        raise ValueError("an invitation needs the client's e-mail address")
    organizer_email = business.email or fallback_organizer
    if not organizer_email:
        raise ValueError("an invitation needs an organizer e-mail address")
    cal = new_calendar(method)
    event = base_event(booking, business, sequence=sequence, now=now)
    event.add("organizer", _address(organizer_email, business.name))
    attendee_params = {"role": "REQ-PARTICIPANT", "cutype": "INDIVIDUAL"}
    if method == REQUEST:
        attendee_params.update(partstat="NEEDS-ACTION", rsvp="TRUE")
    event.add("attendee", _address(booking.client_email, booking.client_name, **attendee_params))
    event.add("status", "CONFIRMED" if method == REQUEST else "CANCELLED")
    event.add("transp", "OPAQUE")
    cal.add_component(event)
    return Invitation(method=method, ics=cal.to_ical())
