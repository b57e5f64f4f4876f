"""Which e-mails a booking change sends, recorded as outbox jobs in the change's transaction.

:func:`on_booking_event` is a booking-event subscriber (:mod:`app.services.booking_events`):
:data:`EVENTS` maps each event to the e-mail templates it implies (templates:
:data:`app.services.emails.TEMPLATES`). The ``send_booking_email`` job (:mod:`app.jobs.email`)
builds and sends each one later. Reminders are :mod:`app.services.reminders`'.
"""
from __future__ import annotations

from datetime import datetime

from app.domain.booking_events import BookingEvent
from app.domain.booking_state import BookingStatus
from app.extensions import db
from app.models import Booking
from app.models.outbox import OutboxJob
from app.services import notifications, outbox
from app.services.booking_events import BookingChange
from app.services.emails import OWNER, TEMPLATES

JOB_KIND = "booking_email"
# Workers take "notifications" before "default": a client waiting for their confirmation comes
# before the owner's copy (the owner also has the in-app bell), so under load clients' e-mails
# keep their pace and owners' catch up.
QUEUE = "notifications"
OWNER_QUEUE = "default"

E = BookingEvent

#: Booking events -> the e-mails they imply (owner ones are dropped when the owner made the change).
EVENTS: dict[BookingEvent, tuple[str, ...]] = {
    E.REQUESTED: ("request_received", "owner_new_request"),
    E.BOOKED: ("confirmed", "owner_confirmed"),
    E.APPROVED: ("confirmed",),
    E.REJECTED: ("rejected",),
    E.CANCELLED: ("cancelled", "owner_cancelled"),
    E.EXPIRED: ("expired", "owner_expired"),
    E.RESCHEDULED: ("rescheduled", "owner_rescheduled"),
}

#: A request the client moved themselves: they get it acknowledged at its new time, and the owner
#: is told it is back in the queue.
CLIENT_MOVED_REQUEST = ("request_received", "owner_rescheduled")


def on_booking_event(change: BookingChange) -> None:
    """Booking-event subscriber: record the e-mails ``change.event`` implies.

    A request the owner rescheduled sends nothing: the client's calendar has no event yet, and
    the confirmation they get on approval carries the new time. A request the client moved
    themselves sends :data:`CLIENT_MOVED_REQUEST`."""
    if change.event == E.RESCHEDULED and change.booking.status != BookingStatus.CONFIRMED:
        if change.by_client:
            for template in _wanted(change.booking, CLIENT_MOVED_REQUEST, by_owner=False):
                record_booking_email(change.booking, template)
        return
    if change.event in EVENTS:
        record_booking_emails(change.booking, change.event, by_owner=change.by_owner)


def job_key(booking: Booking, template: str, suffix: str = "") -> str:
    """The idempotency key of one booking e-mail: booking, template and the SEQUENCE it announces."""
    return f"email:booking:{booking.id}:{template}:s{booking.sequence}{suffix}"


def record_booking_email(booking: Booking, template: str, *, run_at: datetime | None = None, suffix: str = "") -> OutboxJob:
    """Record one e-mail job for ``booking`` in the current session (no commit). ``run_at``
    (aware) defaults to now. Raises ``ValueError`` for an unknown template."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown e-mail template {template!r}")
    if booking.id is None:
        db.session.flush()
    return outbox.record(
        JOB_KIND,
        {"booking_id": booking.id, "template": template, "sequence": booking.sequence},
        key=job_key(booking, template, suffix),
        run_at=run_at,
        queue=OWNER_QUEUE if TEMPLATES[template].audience == OWNER else QUEUE,
        booking_id=booking.id,
        business_id=booking.business_id,
    )


def record_booking_emails(booking: Booking, event: BookingEvent | str, *, by_owner: bool = False) -> list[OutboxJob]:
    """Record the e-mails booking ``event`` implies (:data:`EVENTS`), in the current session (no
    commit), after the change was applied (status, reasons, the SEQUENCE bump), so each job
    carries the SEQUENCE it announces.

    ``by_owner``: the owner made the change themselves, so they get no e-mail about it; owner
    e-mails are also dropped when every owner turned e-mail off for the event
    (:func:`app.services.notifications.owners_want_email`). Returns the jobs (existing ones for
    keys already recorded). Raises ``ValueError`` for an event that sends no e-mail."""
    event = BookingEvent(event)
    if event not in EVENTS:
        raise ValueError(f"booking event {event.value!r} sends no e-mail")
    return [record_booking_email(booking, t) for t in _wanted(booking, EVENTS[event], by_owner=by_owner)]


def _wanted(booking: Booking, templates: tuple[str, ...], *, by_owner: bool) -> list[str]:
    """``templates`` less the owner ones the owner does not get: their own change (``by_owner``),
    or one every owner turned e-mail off for."""
    templates = [t for t in templates if not (by_owner and TEMPLATES[t].audience == OWNER)]
    return [t for t in templates if TEMPLATES[t].audience != OWNER or notifications.owners_want_email(booking.business_id, t)]
