"""Normalising client contact details so the same person is recognised across bookings, and
saying (masked) where a booking's messages went."""
from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext


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
        raise InvalidContact(gettext("Enter a valid e-mail address, like name@example.com.")) from exc


def phone_example(region: str | None) -> str:
    """How a number is written in ``region`` (ISO 3166 alpha-2), for hints and messages:
    ``"07400 123456 or +44 7400 123456"`` (libphonenumber's example mobile number, nationally
    and internationally); without a known region, ``"+44 7911 123456"``."""
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE) if region else None
    if number is None:
        return "+44 7911 123456"
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return gettext("%(national)s or %(international)s", national=national, international=international)


def normalise_phone(raw: str | None, default_region: str | None = None) -> str | None:
    """E.164 form (``+447911123456``) of a phone number, or ``None`` for blank input.

    A number with a leading ``+`` (or the country's international prefix) is read as written;
    any other is read as dialled in ``default_region`` (ISO 3166 alpha-2, e.g. ``"GB"`` reads
    ``020 7946 0999`` as ``+442079460999``), else in the US. Raises :class:`InvalidContact`
    with a human message (giving the region's own example when it is known).
    """
    raw = (raw or "").strip()
    if not raw:
        return None
    region = (default_region or "").upper() or None
    if region not in phonenumbers.SUPPORTED_REGIONS:
        region = None
    try:
        number = phonenumbers.parse(raw, None if raw.startswith("+") else (region or "US"))
    except phonenumbers.NumberParseException as exc:
        if region:
            raise InvalidContact(gettext("Enter a phone number, like %(example)s.", example=phone_example(region))) from exc
        raise InvalidContact(gettext("Enter a phone number with its country code, like +44 7911 123456.")) from exc
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        if region:
            raise InvalidContact(gettext("That phone number does not look right; write it like %(example)s.", example=phone_example(region)))
        raise InvalidContact(gettext("That phone number does not look right; include the country code, like +1 212 555 0123."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_email(address: str) -> str:
    """An address with its local part hidden but its first character: ``ada@example.com`` ->
    ``a…@example.com``."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}…@{domain}" if local else address


def mask_phone(e164: str) -> str:
    """A number with all but its country code and last 4 digits hidden: ``+442079460999`` ->
    ``+44 … 0999``. A value that does not parse keeps only its last 4 characters."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return f"… {e164[-4:]}"
    national = str(number.national_number)
    return f"+{number.country_code} … {national[-4:]}"


@dataclass(frozen=True)
class ConfirmationNotice:
    """Where a booking's confirmation went, for the confirmation page: ``channel`` is
    ``"email"`` (an e-mail to the client was recorded or sent), ``"phone"`` (no e-mail address:
    the business has the client's phone only), or ``None`` (the client has an e-mail address
    but no e-mail was recorded for this booking, e.g. e-mails are off for it); ``masked`` the
    address or number as :func:`mask_email`/:func:`mask_phone` show it ("" for ``None``)."""

    channel: str | None
    masked: str


def confirmation_notice(booking) -> ConfirmationNotice:
    """Where ``booking``'s confirmation went (see :class:`ConfirmationNotice`). An e-mail counts
    once a client e-mail job for the booking is in the outbox (queued or done) or the mailer
    accepted one addressed to the client. Two small reads."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import OutboxJob, SentMessage
    from app.services.emails import OWNER, TEMPLATES

    if booking.client_email:
        payloads = db.session.scalars(
            select(OutboxJob.payload).where(OutboxJob.booking_id == booking.id, OutboxJob.kind == "booking_email")
        ).all()
        to_client = {name for name, template in TEMPLATES.items() if template.audience != OWNER}
        sent = any((p or {}).get("template") in to_client for p in payloads) or db.session.scalar(
            select(SentMessage.id).where(SentMessage.booking_id == booking.id, SentMessage.recipient == booking.client_email).limit(1)
        ) is not None
        return ConfirmationNotice("email", mask_email(booking.client_email)) if sent else ConfirmationNotice(None, "")
    if booking.client_phone:
        return ConfirmationNotice("phone", mask_phone(booking.client_phone))
    return ConfirmationNotice(None, "")
