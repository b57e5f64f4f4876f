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
   (:func:`app.services.email_messages.message_id`), which many mailbox providers (Gmail among them)
   use to show a single message.
"""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.integrations import smtp
from app.jobs.registry import handler
from app.models import Booking
from app.models.outbox import SentMessage
from app.services import email_messages

log = logging.getLogger(__name__)


def already_sent(key: str) -> SentMessage | None:
    return db.session.scalar(select(SentMessage).where(SentMessage.idempotency_key == key))


def deliver_email(
    email: email_messages.OutgoingEmail, *, key: str, booking_id: int | None = None, business_id: int | None = None
) -> SentMessage:
    """Send ``email`` once per ``key`` (see the module docstring for the exact guarantee).

    ``business_id`` (default: ``booking_id``'s business) lists it on that business's "sent e-mail"
    page. Returns the ``SentMessage`` (the earlier one when the key was already sent). Raises
    :class:`app.integrations.smtp.SmtpError` when the transport fails (nothing recorded)."""
    earlier = already_sent(key)
    if earlier is not None:
        log.info("e-mail %s already sent (%s); not sending again", key, earlier.transport_message_id)
        return earlier
    message = email_messages.to_mime(email, key=key)
    if business_id is None and booking_id is not None:
        business_id = db.session.scalar(select(Booking.business_id).where(Booking.id == booking_id))
    transport = smtp.transport_from_config(current_app.config)
    db.session.rollback()  # hold no transaction (or SQLite read snapshot) open while talking SMTP
    transport_id = transport.send(message)
    # --- the window described above starts here: keep it to one INSERT + COMMIT -----------------
    sent = SentMessage(
        idempotency_key=key,
        channel="email",
        recipient=", ".join(email.to)[:512],
        subject=email.subject[:255],
        booking_id=booking_id,
        business_id=business_id,
        transport=transport.name,
        transport_message_id=(transport_id or "")[:255],
    )
    db.session.add(sent)
    try:
        db.session.commit()
    except IntegrityError:  # another run of the same key recorded first (should not happen: claim)
        db.session.rollback()
        return already_sent(key)
    return sent


@handler(email_messages.JOB_KIND)
def send_booking_email(booking_id: int, template: str, sequence: int | None = None, *, key: str) -> SentMessage | None:
    """Send the ``template`` e-mail about booking ``booking_id`` (see
    :data:`app.services.email_messages.TEMPLATES`). Nothing to do (returns None) when the booking
    is gone or the e-mail became stale (e.g. a reminder for a cancelled booking)."""
    if already_sent(key) is not None:
        return already_sent(key)
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        log.info("e-mail %s: booking %s no longer exists", key, booking_id)
        return None
    email = email_messages.build_booking_email(booking, template, sequence=sequence)
    if email is None:
        log.info("e-mail %s not sent: %s", key, email_messages.skip_reason(booking, email_messages.TEMPLATES[template], sequence) or "no recipient")
        return None
    return deliver_email(email, key=key, booking_id=booking_id, business_id=booking.business_id)
