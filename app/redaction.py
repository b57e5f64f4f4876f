"""Keeping secrets out of error text and logs.

:func:`redact` is applied wherever text that may quote a secret is produced for people or storage:
a job's ``last_error``, the Jobs page, log records (see :func:`install_log_filter`).
"""
from __future__ import annotations

import json
import logging
import re
import threading
from urllib.parse import quote

from flask import Flask, current_app

_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")
_SECRET_CONFIG = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY$|_KEYS$")
# A token in a logged URL (the booking confirmation link's ``?token=``, as an access log line
# quotes it): whoever reads the log must not be able to open the page.
_URL_TOKEN = re.compile(r"(?i)([?&;]token=)[^&\s\"'#]+")

# Secret values this process has seen (app.services.credentials registers every value it encrypts
# or decrypts), longest first so a secret containing another is replaced whole. Rebuilt under the
# lock on each addition and read without it (rebinding a name is atomic). Bounded, oldest dropped
# first, so a long-lived worker refreshing tokens for years does not grow without end.
MIN_SECRET_LENGTH = 6
MAX_KNOWN_SECRETS = 2048
_known: dict[str, None] = {}
_known_sorted: tuple[str, ...] = ()
_known_lock = threading.Lock()


def remember_secret(value: str | None) -> None:
    """Have :func:`redact` (and so job errors, the Jobs page and every log record) replace
    ``value`` with ``***`` from now on, in this process. Values shorter than
    :data:`MIN_SECRET_LENGTH` (6) characters are ignored: masking them would mangle ordinary
    words. The forms a value takes when quoted (``repr``, JSON, URL-encoded) are remembered too."""
    global _known_sorted
    if not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH:
        return
    forms = {value, repr(value)[1:-1], json.dumps(value)[1:-1], quote(value, safe="")}
    with _known_lock:
        if all(form in _known for form in forms):
            return
        for form in forms:
            _known.pop(form, None)
            _known[form] = None
        while len(_known) > MAX_KNOWN_SECRETS:
            del _known[next(iter(_known))]
        _known_sorted = tuple(sorted(_known, key=len, reverse=True))


def _replace_known(text: str) -> str:
    for secret in _known_sorted:
        if secret in text:
            text = text.replace(secret, "***")
    return text


def redact(text: str | None) -> str:
    """``text`` (an error message) with URL credentials (``smtp://user:pw@host`` ->
    ``smtp://***@host``) and the values of secret config keys (``*SECRET*``, ``*PASSWORD*``,
    ``*TOKEN*``, ``*_KEY``, ``*_KEYS``; each item of a list), ``token=`` values in URLs and the values given to
    :func:`remember_secret` replaced by ``***``. Used before storing and before showing errors."""
    if not text:
        return text or ""
    text = _URL_CREDENTIALS.sub(r"\1***@", text)
    text = _URL_TOKEN.sub(r"\1***", text)
    text = _replace_known(text)
    try:
        config = current_app.config
    except RuntimeError:  # no app context
        return text
    secrets = [
        v
        for k, value in config.items()
        if _SECRET_CONFIG.search(k)
        for v in (value if isinstance(value, (list, tuple)) else [value])
        if isinstance(v, str) and len(v) >= 6
    ]
    for url_key in ("SMTP_URL", "REDIS_URL", "DATABASE_URL", "SQLALCHEMY_DATABASE_URI"):
        url = config.get(url_key)
        match = re.match(r"[^:]+://[^:/@]*:([^@/]+)@", url) if isinstance(url, str) else None
        if match and len(match.group(1)) >= 3:
            secrets.append(match.group(1))
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


# ------------------------------------------------------------------ logs

class RedactingFilter(logging.Filter):
    """Rewrites a record's message (``msg`` with its ``args`` merged in), ``exc_text`` (the
    traceback, formatted here if need be) and ``stack_info`` through :func:`redact`. Never drops
    a record. The record object is shared by every handler, so redacting it once covers them all."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact ``record`` in place (once: a redacted record is marked) and return it."""
    if getattr(record, "_flowkey_redacted", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001  (a bad format string: the handler reports it as logging does)
        return record
    clean = redact(message)
    if clean != message or record.args:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        # Formatters reuse exc_text when set, so the traceback they print is the redacted one.
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record._flowkey_redacted = True
    return record


_FILTER = RedactingFilter()


def install_log_filter(app: Flask) -> None:
    """Redact every log record of this process: :class:`RedactingFilter` on the root logger's
    handlers and on ``app.logger`` and its handlers, and a record factory that redacts records as
    they are made, for handlers added later (RQ's worker, gunicorn's, a test harness's), which
    the filter would not reach. Idempotent."""
    for target in (*logging.getLogger().handlers, app.logger, *app.logger.handlers):
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)
    factory = logging.getLogRecordFactory()
    if getattr(factory, "_flowkey_redacting", False):
        return

    def redacting_factory(*args, **kwargs) -> logging.LogRecord:
        return redact_record(factory(*args, **kwargs))

    redacting_factory._flowkey_redacting = True
    logging.setLogRecordFactory(redacting_factory)
