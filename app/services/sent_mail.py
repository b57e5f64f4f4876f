"""Sent e-mail: the delivered-messages list and the copies the file transport wrote.

A :class:`~app.models.outbox.SentMessage` row is the record that a message left (and the
idempotency record of its job). Without ``SMTP_URL`` the mail integration writes each message as an
``.eml`` file (:class:`app.integrations.smtp.FileTransport`); :func:`read_stored_email` shows it on
the dashboard's "Sent e-mail" page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.integrations.mail import mailer_for
from app.models.outbox import SentMessage
from app.services.errors import NotFound


def sent_messages(business_id: int | None = None, booking_id: int | None = None, limit: int = 100) -> list[SentMessage]:
    """Delivered messages, newest first (the dashboard's "sent email" page)."""
    query = select(SentMessage).order_by(SentMessage.id.desc()).limit(limit)
    if business_id is not None:
        query = query.where(SentMessage.business_id == business_id)
    if booking_id is not None:
        query = query.where(SentMessage.booking_id == booking_id)
    return list(db.session.scalars(query))


@dataclass
class StoredEmail:
    """An ``.eml`` written by the file transport, taken apart for display."""

    message: SentMessage
    headers: list[tuple[str, str]]  # From, To, Reply-To, Subject, Date, Message-ID (those present)
    text: str | None
    html: str | None
    attachments: list[tuple[str, str]] = field(default_factory=list)  # (file name, content type)


def writes_files() -> bool:
    """True when no mail server is configured and messages are written as ``.eml`` files."""
    return mailer_for(current_app).transport.name == "file"


def mail_outbox_dir() -> Path:
    """Where the file transport writes (``MAIL_OUTBOX_DIR``)."""
    return mailer_for(current_app).outbox_dir


def read_stored_email(business_id: int, message_id: int) -> StoredEmail:
    """The ``.eml`` of business ``business_id``'s sent message ``message_id``, parsed.

    The file is found from the row (``transport_message_id``, a bare file name the transport
    chose), never from a path the caller supplies, and must resolve inside :func:`mail_outbox_dir`.
    Raises :class:`NotFound` for another business's message, one not sent by the file transport,
    or a file that is gone (e.g. the directory was cleared)."""
    message = db.session.get(SentMessage, message_id)
    if message is None or message.business_id != business_id:
        raise NotFound("No such message.")
    name = message.transport_message_id or ""
    if message.transport != "file" or not name or name != Path(name).name or name.startswith("."):
        raise NotFound("This message was sent by SMTP; there is no copy to show.")
    directory = mail_outbox_dir().resolve()
    path = (directory / name).resolve()
    if path.parent != directory or not path.is_file():
        raise NotFound("The copy of this message is no longer on disk.")
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    headers = [(h, str(parsed[h])) for h in ("From", "To", "Reply-To", "Subject", "Date", "Message-ID") if parsed[h]]
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    attachments = [(part.get_filename() or "(unnamed)", part.get_content_type()) for part in parsed.iter_attachments()]
    return StoredEmail(
        message=message,
        headers=headers,
        text=text_part.get_content() if text_part is not None else None,
        html=html_part.get_content() if html_part is not None else None,
        attachments=attachments,
    )
