"""Sending e-mail: a thin SMTP client over :mod:`smtplib`, and a file transport for development.

Configuration (``app.config``):

* ``SMTP_URL`` — ``smtp://user:password@host:587?starttls=1`` (plain, or STARTTLS with
  ``starttls=1``), ``smtps://user:password@host:465`` (implicit TLS). User and password are
  optional and percent-decoded. Unset: messages are written as ``.eml`` files to
  ``MAIL_OUTBOX_DIR`` (default ``instance/outbox/``) by :class:`FileTransport` — never dropped.
* ``SMTP_TIMEOUT`` — seconds for connecting and for every command (default 10).

Errors are :class:`SmtpError` with ``temporary`` True for what a later retry may fix (4xx replies,
refused or dropped connections, timeouts) and False for what it will not (5xx replies: a refused
recipient, bad credentials, a rejected message). SMTP reply codes: RFC 5321 section 4.2. Each is
also one of the shared kinds of :mod:`app.integrations.errors`: TemporaryError, PermanentError, or
AuthenticationRequired for refused credentials.
"""
from __future__ import annotations

import logging
import os
import re
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from app.integrations.errors import AuthenticationRequired, IntegrationError, PermanentError, TemporaryError

DEFAULT_TIMEOUT = 10.0
log = logging.getLogger(__name__)


#: Reply codes meaning the credentials are missing, wrong or too weak (RFC 4954 section 6).
AUTH_FAILURE_CODES = frozenset({530, 534, 535})


class SmtpError(IntegrationError):
    """Sending failed. ``temporary``: retrying later may succeed. ``code``: the SMTP reply code
    when the server gave one.

    Every instance is also one of the shared kinds (:mod:`app.integrations.errors`):
    ``SmtpError(message, temporary=..., code=...)`` returns, as ``OSError(errno.ENOENT, ...)``
    returns a ``FileNotFoundError``, an :class:`SmtpAuthenticationError` (AuthenticationRequired)
    for a permanent 530/534/535, an :class:`SmtpTemporaryError` (TemporaryError) when
    ``temporary``, else an :class:`SmtpPermanentError` (PermanentError).
    """

    def __new__(cls, message: str, *, temporary: bool | None = None, code: int | None = None):
        if cls is SmtpError:
            if temporary is None:
                raise TypeError("SmtpError() needs temporary=True or False")
            cls = SmtpTemporaryError if temporary else SmtpAuthenticationError if code in AUTH_FAILURE_CODES else SmtpPermanentError
        return super().__new__(cls, message)

    def __init__(self, message: str, *, temporary: bool | None = None, code: int | None = None):
        super().__init__(message, provider="smtp", code=code)

    @property
    def temporary(self) -> bool:
        return not self.permanent


class SmtpTemporaryError(SmtpError, TemporaryError):
    """A 4xx reply, a refused or dropped connection, a timeout."""


class SmtpPermanentError(SmtpError, PermanentError):
    """A 5xx reply other than an authentication failure: a refused recipient or message."""


class SmtpAuthenticationError(SmtpError, AuthenticationRequired):
    """530/534/535: the server refused the SMTP credentials (fix ``SMTP_URL``)."""


# The job runner stores a failure as "<type name>: <message>", shown on the Jobs page: every kind
# keeps reading "SmtpError: ..." there, as before the kinds existed.
for _kind in (SmtpTemporaryError, SmtpPermanentError, SmtpAuthenticationError):
    _kind.__name__ = "SmtpError"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    ssl: bool = False  # implicit TLS (smtps://, usually port 465)
    starttls: bool = False
    timeout: float = DEFAULT_TIMEOUT

    def __repr__(self) -> str:  # never show the password in logs
        return f"SmtpSettings({'smtps' if self.ssl else 'smtp'}://{self.host}:{self.port}, user={self.username!r}, starttls={self.starttls})"


def parse_smtp_url(url: str, timeout: float = DEFAULT_TIMEOUT) -> SmtpSettings:
    """``smtp[s]://[user[:password]@]host[:port][?starttls=1]`` -> :class:`SmtpSettings`.

    Default ports: 465 for ``smtps``, 587 with STARTTLS, else 25. Raises ``ValueError``."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_URL must look like smtp://user:pass@host:port (or smtps://...)")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[-1].lower() in ("1", "true", "yes", "on")
    use_ssl = parts.scheme == "smtps"
    port = parts.port or (465 if use_ssl else 587 if starttls else 25)
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        ssl=use_ssl,
        starttls=starttls and not use_ssl,
        timeout=timeout,
    )


def recipients_of(message: EmailMessage) -> list[str]:
    """Envelope recipients: the addresses in To, Cc and Bcc."""
    fields = [v for h in ("To", "Cc", "Bcc") for v in message.get_all(h, [])]
    return [addr for _name, addr in getaddresses(fields) if addr]


def _error_from_reply(code: int, text: bytes | str, what: str) -> SmtpError:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return SmtpError(f"{what}: {code} {text}".strip(), temporary=400 <= code < 500, code=code)


class _Tracked:
    """Notes whether DATA was started on this connection: until then the server cannot have
    taken the message, so a failure before it may be retried on a new connection without any
    risk of sending twice."""

    data_started = False

    def data(self, msg):
        self.data_started = True
        return super().data(msg)


class _SMTP(_Tracked, smtplib.SMTP):
    pass


class _SMTP_SSL(_Tracked, smtplib.SMTP_SSL):
    pass


class SmtpTransport:
    """Sends over SMTP, keeping one open connection per thread for the next message while it is
    younger than ``IDLE_SECONDS`` (servers drop idle sessions after a few minutes; RFC 5321
    section 4.5.3.2.7 suggests 5). A kept connection that fails before the message's DATA began
    (the server closed it meanwhile) is replaced by a new one and the message sent once on it;
    a failure from DATA on is never retried here (the server may have the message), and the
    connection is dropped after any failure, so none inherits a half-broken session."""

    name = "smtp"
    IDLE_SECONDS = 30.0

    def __init__(self, settings: SmtpSettings, envelope_from: str | None = None):
        self.settings = settings
        self.envelope_from = envelope_from
        self._local = threading.local()  # .smtp, .last_used: this thread's kept connection

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.ssl:
            return _SMTP_SSL(s.host, s.port, timeout=s.timeout, context=ssl.create_default_context())
        return _SMTP(s.host, s.port, timeout=s.timeout)

    def _open(self) -> smtplib.SMTP:
        smtp = self._connect()
        try:
            if self.settings.starttls:
                smtp.ehlo()
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.settings.username:
                smtp.login(self.settings.username, self.settings.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _kept(self) -> smtplib.SMTP | None:
        """This thread's kept connection if it is recent enough, else None (closing a stale one)."""
        smtp = getattr(self._local, "smtp", None)
        if smtp is None:
            return None
        if time.monotonic() - self._local.last_used > self.IDLE_SECONDS:
            self.close()
            return None
        return smtp

    def close(self) -> None:
        """Close this thread's kept connection, if any (QUIT, errors ignored)."""
        smtp, self._local.smtp = getattr(self._local, "smtp", None), None
        if smtp is not None:
            _close_quietly(smtp)

    def _send_on(self, smtp: smtplib.SMTP, message: EmailMessage, sender: str, to_addrs: list[str]) -> dict:
        smtp.data_started = False
        refused = smtp.send_message(message, from_addr=sender, to_addrs=to_addrs)
        self._local.smtp, self._local.last_used = smtp, time.monotonic()
        return refused

    def send(self, message: EmailMessage) -> str:
        """Send ``message`` to its To/Cc/Bcc; returns its Message-ID. Raises :class:`SmtpError`.

        Success means the server acknowledged DATA for at least one recipient; recipients it
        refused while accepting others are logged and not retried.
        """
        to_addrs = recipients_of(message)
        if not to_addrs:
            raise SmtpError("message has no recipients", temporary=False)
        sender = self.envelope_from or getaddresses([message["From"]])[0][1]
        kept = self._kept()
        self._local.smtp = None  # held by this send until it succeeds
        try:
            if kept is not None:
                try:
                    return self._finish(message, self._send_on(kept, message, sender, to_addrs))
                except BaseException as exc:
                    kept.close()  # no QUIT: the session is broken or timed out
                    if kept.data_started or not _gone(exc):
                        raise
                    # Closed by the server while idle, before this message's DATA: a new one.
            smtp = self._open()  # the timeout applies to every socket operation
            try:
                refused = self._send_on(smtp, message, sender, to_addrs)
            except BaseException:
                smtp.close()
                raise
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            temporary = any(400 <= c < 500 for c in codes)
            detail = "; ".join(f"{rcpt}: {code} {msg.decode('utf-8', 'replace') if isinstance(msg, bytes) else msg}" for rcpt, (code, msg) in exc.recipients.items())
            raise SmtpError(f"recipients refused: {detail}", temporary=temporary, code=codes[0] if codes else None) from exc
        except smtplib.SMTPSenderRefused as exc:
            raise _error_from_reply(exc.smtp_code, exc.smtp_error, "sender refused") from exc
        except smtplib.SMTPResponseException as exc:  # DATA refused, auth failed, ...
            raise _error_from_reply(exc.smtp_code, exc.smtp_error, "server refused") from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise SmtpError(f"server disconnected: {exc}", temporary=True) from exc
        except (socket.timeout, TimeoutError) as exc:
            raise SmtpError(f"timed out after {self.settings.timeout:g}s talking to {self.settings.host}:{self.settings.port}", temporary=True) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused connection, DNS, TLS, ...
            raise SmtpError(f"cannot send via {self.settings.host}:{self.settings.port}: {exc}", temporary=True) from exc
        return self._finish(message, refused)

    @staticmethod
    def _finish(message: EmailMessage, refused: dict) -> str:
        if refused:
            log.warning("SMTP accepted %s but refused %s", message["Message-ID"], refused)
        return message["Message-ID"] or ""


def _gone(exc: BaseException) -> bool:
    """True for the ways a kept connection fails when the server has closed it: a dropped or
    timed-out socket, or a 421 ("closing transmission channel")."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421
    return isinstance(exc, (smtplib.SMTPServerDisconnected, OSError))


def _close_quietly(smtp: smtplib.SMTP) -> None:
    """QUIT and close ``smtp``; a connection already broken is just closed."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


class FileTransport:
    """Development transport: writes each message to ``directory`` as ``<time>-<id>.eml``
    (RFC 5322 bytes, openable in any mail client). Returns the file name."""

    name = "file"

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)

    def send(self, message: EmailMessage) -> str:
        from datetime import datetime, timezone

        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            msgid = re.sub(r"[^A-Za-z0-9.@_-]", "", message["Message-ID"] or "") or "message"
            name = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}-{msgid}.eml"
            tmp = self.directory / (name + ".tmp")
            tmp.write_bytes(message.as_bytes())
            tmp.replace(self.directory / name)  # atomic: a reader never sees half a file
        except OSError as exc:
            raise SmtpError(f"cannot write {self.directory}: {exc}", temporary=True) from exc
        return name


def transport_from_config(config) -> SmtpTransport | FileTransport:
    """The transport ``config`` asks for: SMTP when ``SMTP_URL`` is set, else files."""
    url = config.get("SMTP_URL")
    if url:
        settings = parse_smtp_url(url, timeout=float(config.get("SMTP_TIMEOUT") or DEFAULT_TIMEOUT))
        return SmtpTransport(settings, envelope_from=_address(config.get("MAIL_FROM")))
    from app.config import INSTANCE

    return FileTransport(config.get("MAIL_OUTBOX_DIR") or INSTANCE / "outbox")


def _address(value: str | None) -> str | None:
    if not value:
        return None
    return getaddresses([value])[0][1] or None
