"""Phone numbers for display: the ``phone`` and ``tel`` template filters.

Whether a number is valid is decided by :func:`app.services.clients.normalise_phone`, the same
check that stores clients' numbers, so the two never disagree.
"""
from __future__ import annotations

import re

import phonenumbers

from app.services.clients import InvalidContact, normalise_phone


def _e164(raw: str) -> str | None:
    """The E.164 form of a valid number written with its country code (``+...``), else ``None``.

    Without a ``+`` the country is unknown, and guessing one would show a wrong number.
    """
    if not raw.startswith("+"):
        return None
    try:
        return normalise_phone(raw)
    except InvalidContact:
        return None


def format_phone(raw: str | None) -> str:
    """A phone number for display: ``+447911123457`` -> ``+44 7911 123457`` (phonenumbers'
    INTERNATIONAL format). Anything that does not parse as a valid international number is
    returned as written."""
    raw = (raw or "").strip()
    e164 = _e164(raw)
    if e164 is None:
        return raw
    return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_href(raw: str | None) -> str:
    """The ``tel:`` target for a phone number: E.164 when it parses, else the digits (and a
    leading ``+``) as written."""
    raw = (raw or "").strip()
    return _e164(raw) or ("+" if raw.startswith("+") else "") + re.sub(r"\D", "", raw)
