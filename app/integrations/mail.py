"""Outgoing e-mail: the message shape services build, its MIME assembly, and the configured sender.

:class:`Mailer` is built once per app from its config (:func:`mailer_for`): the From address
(``MAIL_FROM``) and the transport (SMTP with ``SMTP_URL``/``SMTP_TIMEOUT``, else ``.eml`` files in
``MAIL_OUTBOX_DIR``; see :mod:`app.integrations.smtp`). Nothing else reads mail configuration.

MIME structure (RFC 6047, iMIP, section 2.4: the calendar part is an alternative of the text, and
the same object is attached for clients that only look at attachments)::

    multipart/mixed
      multipart/alternative
        text/plain
        text/html
        text/calendar; method=REQUEST|CANCEL; charset="utf-8"
      text/calendar; method=...; name="invite.ics"   (Content-Disposition: attachment)
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from pathlib import Path

from app.integrations import smtp

DEFAULT_MAIL_FROM = "Flowkey <no-reply@flowkey.invalid>"
_EXTENSION = "flowkey_mailer"
# Control characters (C0, DEL, C1) and the Unicode line/paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def header_value(value: str) -> str:
    """``value`` as one header line: every run of whitespace or control characters (CR and LF
    among them) becomes one space, and the ends are stripped. RFC 5322 section 2.2: a header
    body is one logical line; the ``email`` package raises ``ValueError`` for a CR or LF in a
    value, so a name stored before that was refused would otherwise stop every e-mail it is in."""
    return " ".join(_CONTROL.sub(" ", value).split())


@dataclass(frozen=True)
class Invitation:
    """An iTIP calendar object to carry in an e-mail (RFC 5546)."""

    method: str  # REQUEST or CANCEL; also the MIME method= parameter
    ics: bytes  # the VCALENDAR, UTF-8, CRLF line endings

    @property
    def text(self) -> str:
        return self.ics.decode("utf-8")


@dataclass(frozen=True)
class OutgoingEmail:
    """A rendered e-mail, ready to assemble: ``to`` are bare addresses; ``from_name`` is the
    display name put before the configured sender address."""

    template: str
    to: tuple[str, ...]
    subject: str
    text: str
    html: str
    from_name: str
    reply_to: str | None = None
    invitation: Invitation | None = None


class Mailer:
    """The configured sender and transport.

    ``mail_from`` is an RFC 5322 address (``"Name <addr>"`` or ``addr``); ``transport`` has
    ``name`` and ``send(EmailMessage) -> str`` and raises :class:`app.integrations.smtp.SmtpError`."""

    def __init__(self, mail_from: str, transport, outbox_dir: Path | None = None):
        self.mail_from = mail_from or DEFAULT_MAIL_FROM
        self.transport = transport
        self.outbox_dir = outbox_dir  # where the file transport writes (or wrote, before SMTP was set up)

    @property
    def sender(self) -> str:
        """The bare address of ``mail_from`` (envelope sender, calendar organizer fallback)."""
        return getaddresses([self.mail_from])[0][1]

    def message_id(self, key: str) -> str:
        """A Message-ID derived from the idempotency key: if a message is ever sent twice (a
        worker dying between the server's acceptance and our record of it), both copies carry
        the same Message-ID, which mail stores such as Gmail use to show one."""
        domain = self.sender.rpartition("@")[2] or "flowkey.invalid"
        return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"

    def to_mime(self, email: OutgoingEmail, *, key: str, now: datetime) -> EmailMessage:
        """The RFC 5322 message for ``email``: From is ``"<from_name>" <sender>``, Reply-To as
        given, Date ``now`` (aware), Message-ID from ``key``; every header value made one line by
        :func:`header_value`. Raises ``ValueError`` (or its ``email.errors.HeaderParseError``
        subclass) when a value still cannot be a header, e.g. an address that does not parse:
        building the same message again cannot help."""
        msg = EmailMessage()
        msg["From"] = str(Address(display_name=header_value(email.from_name), addr_spec=self.sender))
        msg["To"] = ", ".join(header_value(address) for address in email.to)
        if email.reply_to and header_value(email.reply_to):
            msg["Reply-To"] = header_value(email.reply_to)
        msg["Subject"] = header_value(email.subject)
        msg["Date"] = format_datetime(now.astimezone(timezone.utc))
        msg["Message-ID"] = self.message_id(key)
        msg["X-Flowkey-Template"] = email.template
        msg.set_content(email.text)
        msg.add_alternative(email.html, subtype="html")
        if email.invitation is not None:
            method = email.invitation.method
            msg.add_alternative(email.invitation.text, subtype="calendar", params={"method": method})
            msg.add_attachment(
                email.invitation.ics,
                maintype="text",
                subtype="calendar",
                filename="invite.ics",
                params={"method": method, "charset": "utf-8", "name": "invite.ics"},
            )
        return msg

    def send(self, message: EmailMessage) -> str:
        """Hand ``message`` to the transport; returns its id there (Message-ID, or the file
        name). Raises :class:`app.integrations.smtp.SmtpError`."""
        return self.transport.send(message)


def mailer_from_config(config: Mapping) -> Mailer:
    """A :class:`Mailer` for ``config`` (``MAIL_FROM``, ``SMTP_URL``, ``SMTP_TIMEOUT``,
    ``MAIL_OUTBOX_DIR``). Raises ``ValueError`` for a malformed ``SMTP_URL``."""
    from app.config import INSTANCE

    outbox_dir = Path(config.get("MAIL_OUTBOX_DIR") or INSTANCE / "outbox")
    return Mailer(config.get("MAIL_FROM") or DEFAULT_MAIL_FROM, smtp.transport_from_config(config), outbox_dir)


def mailer_for(app) -> Mailer:
    """The app's :class:`Mailer`, built from its config on first use and kept in
    ``app.extensions``."""
    mailer = app.extensions.get(_EXTENSION)
    if mailer is None:
        mailer = app.extensions[_EXTENSION] = mailer_from_config(app.config)
    return mailer
