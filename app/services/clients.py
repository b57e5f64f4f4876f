"""Normalising client contact details so the same person is recognised across bookings."""
from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class InvalidContact(ValueError):
    pass


def normalise_email(raw: str | None) -> str | None:
    """Lower-cased, syntax-checked address (no DNS lookup), or ``None`` for blank input.

    Raises :class:`InvalidContact` with a human message.
    """
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidContact("Enter a valid e-mail address, like name@example.com.") from exc


def normalise_phone(raw: str | None, default_region: str | None = None) -> str | None:
    """E.164 form (``+447911123456``) of a phone number, or ``None`` for blank input.

    Numbers without a leading ``+`` need ``default_region`` (ISO 3166 alpha-2). Raises
    :class:`InvalidContact`.
    """
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, None if raw.startswith("+") else (default_region or "US"))
    except phonenumbers.NumberParseException as exc:
        raise InvalidContact("Enter a phone number with its country code, like +44 7911 123456.") from exc
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise InvalidContact("That phone number does not look right; include the country code, like +1 212 555 0123.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
