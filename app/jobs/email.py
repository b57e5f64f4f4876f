"""E-mail jobs, and idempotent delivery.

Delivery guarantee (honest version). Each e-mail job has an idempotency key; a
:class:`~app.models.outbox.SentMessage` row with that key means "the transport accepted it".

1. Before sending, :func:`deliver_email` looks the key up and does nothing if it is there: a job
   run twice (a retry after a lost ack, a lease taken over from a killed worker, two RQ copies of
   one row) sends once.
2. After the transport accepts the message (SMTP: the server's 250 reply to the end of DATA), the
   ``SentMessage`` row is inserted and committed at once, in its own tiny transaction, before
   anything else happens (the job row is completed afterwards; if the worker dies in between, the
   retry finds the row and just completes the job).
3. What is left: the worker dying (or the database refusing the commit) in the few milliseconds
   between the server's 250 and that commit. SMTP has no two-phase commit, so the retry cannot
   know the message went out and sends it again: at-least-once, never lost, with at most one
   duplicate per such crash. The duplicate carries the same deterministic ``Message-ID``
   (:meth:`app.integrations.mail.Mailer.message_id`), which many mailbox providers (Gmail among
   them) use to show a single message.
"""
from __future__ import annotations

import logging
from email.errors import MessageError

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app import metrics
from app.extensions import db
from app.integrations.mail import OutgoingEmail, mailer_for
from app.jobs.registry import PermanentJobError, handler
from app.models import Booking, utcnow
from app.models.outbox import SentMessage
from app.services import booking_emails, emails

log = logging.getLogger(__name__)


class UnbuildableEmail(PermanentJobError):
    """The e-mail cannot be turned into a MIME message (a header the ``email`` package refuses):
    every attempt would fail the same way, so the job fails at once with this message."""


def already_sent(key: str) -> SentMessage | None:
    return db.session.scalar(select(SentMessage).where(SentMessage.idempotency_key == key))


def deliver_email(
    email: OutgoingEmail, *, key: str, booking_id: int | None = None, business_id: int | None = None
) -> SentMessage:
    """Send ``email`` once per ``key`` (see the module docstring for the exact guarantee).

    ``business_id`` (default: ``booking_id``'s business) lists it on that business's "sent e-mail"
    page. Returns the ``SentMessage`` (the earlier one when the key was already sent). Raises
    :class:`UnbuildableEmail` (permanent) when the message cannot be assembled, and
    :class:`app.integrations.smtp.SmtpError` when the transport fails (nothing recorded); the
    error's ``permanent`` tells the job runner whether a retry can help."""
    earlier = already_sent(key)
    if earlier is not None:
        log.info("e-mail %s already sent (%s); not sending again", key, earlier.transport_message_id)
        return earlier
    return _send_unsent(email, key=key, booking_id=booking_id, business_id=business_id)


def _send_unsent(email: OutgoingEmail, *, key: str, booking_id: int | None, business_id: int | None) -> SentMessage:
    """:func:`deliver_email` once ``key`` was found not sent, in this transaction."""
    mailer = mailer_for(current_app)
    try:
        message = mailer.to_mime(email, key=key, now=utcnow())
        message.as_bytes()  # the transport serialises it too: find out now, before any send
    except (ValueError, MessageError) as exc:
        raise UnbuildableEmail(f"The e-mail cannot be built, so it was not sent: {type(exc).__name__}: {exc}") from exc
    if business_id is None and booking_id is not None:
        business_id = db.session.scalar(select(Booking.business_id).where(Booking.id == booking_id))
    db.session.rollback()  # hold no transaction (or SQLite read snapshot) open while talking SMTP
    try:
        transport_id = mailer.send(message)
    except Exception:
        metrics.record_email(mailer.transport.name, sent=False)
        raise
    # --- the window described above starts here: keep it to one INSERT + COMMIT -----------------
    sent = SentMessage(
        idempotency_key=key,
        channel="email",
        recipient=", ".join(email.to)[:512],
        subject=email.subject[:255],
        booking_id=booking_id,
        business_id=business_id,
        transport=mailer.transport.name,
        transport_message_id=(transport_id or "")[:255],
    )
    db.session.add(sent)
    try:
        db.session.commit()
    except IntegrityError:  # another run of the same key recorded first (should not happen: claim)
        db.session.rollback()
        return already_sent(key)
    metrics.record_email(mailer.transport.name, sent=True)
    return sent


@handler(booking_emails.JOB_KIND)
def send_booking_email(booking_id: int, template: str, sequence: int | None = None, *, key: str) -> SentMessage | None:
    """Send the ``template`` e-mail about booking ``booking_id`` (see
    :data:`app.services.emails.TEMPLATES`). Nothing to do (returns None) when the booking
    is gone or the e-mail became stale (e.g. a reminder for a cancelled booking)."""
    earlier = already_sent(key)
    if earlier is not None:
        return earlier
    # What the e-mail shows, in the same round trip as the booking rather than one lazy load each.
    booking = db.session.get(
        Booking, booking_id,
        options=[joinedload(Booking.business), joinedload(Booking.service), joinedload(Booking.staff)],
    )
    if booking is None:
        log.info("e-mail %s: booking %s no longer exists", key, booking_id)
        return None
    email = emails.build_booking_email(booking, template, sequence=sequence)
    if email is None:
        log.info("e-mail %s not sent: %s", key, emails.skip_reason(booking, emails.TEMPLATES[template], sequence) or "no recipient")
        return None
    return _send_unsent(email, key=key, booking_id=booking_id, business_id=booking.business_id)
