"""Phone numbers for display (the ``phone`` and ``tel`` template filters) and the country a
business's clients dial from.

Whether a number is valid is decided by :func:`app.services.clients.normalise_phone`, the same
check that stores clients' numbers, so the two never disagree.
"""
from __future__ import annotations

import re

import phonenumbers
from babel import Locale
from babel.core import get_global

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


def country_for_timezone(zone: str | None) -> str | None:
    """The country (ISO 3166 alpha-2) of an IANA time zone, from CLDR's zone territories as
    Babel ships them (``"Europe/London"`` -> ``"GB"``; a link such as ``"US/Eastern"`` is
    followed), or None for a zone of no country (``"UTC"``) or an unknown one."""
    if not zone:
        return None
    territories = get_global("zone_territories")
    country = territories.get(zone) or territories.get(get_global("zone_aliases").get(zone, ""))
    return country if country and country in phonenumbers.SUPPORTED_REGIONS else None


def country_for_phone(raw: str | None) -> str | None:
    """The country (ISO 3166 alpha-2) of a valid number written with its country code, else None
    (``"+44 20 7946 0000"`` -> ``"GB"``)."""
    e164 = _e164((raw or "").strip())
    if e164 is None:
        return None
    region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    return region if region in phonenumbers.SUPPORTED_REGIONS else None


def guess_country(phone: str | None, zone: str | None) -> str | None:
    """A business's country when it has not set one: its phone number's country, else its time
    zone's, else None."""
    return country_for_phone(phone) or country_for_timezone(zone)


def phone_region(business) -> str | None:
    """The country a business's clients are taken to dial from (``business.country``, else
    :func:`guess_country`): the default region for numbers written without ``+``."""
    return business.country or guess_country(business.phone, business.timezone)


def country_choices() -> list[tuple[str, str]]:
    """``[(code, name), ...]`` of the countries phone numbers can be read for, by English name."""
    territories = Locale("en").territories
    return sorted(
        ((code, territories.get(code, code)) for code in phonenumbers.SUPPORTED_REGIONS if code != "001"),
        key=lambda pair: pair[1],
    )
