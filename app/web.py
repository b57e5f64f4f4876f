"""One URL, two responses: a full page, or one block of it when HTMX asks for a fragment."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers
from flask import Flask, make_response, redirect, render_template, request, url_for
from jinja2_fragments.flask import render_block

from app.extensions import htmx


def wants_fragment() -> bool:
    """True for an HTMX request that will swap part of the page.

    Boosted navigation and history restores need the full page even though they carry
    ``HX-Request``.
    """
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(template: str, block: str | None = None, status: int = 200, headers: dict | None = None, **context):
    """Render ``template`` in full, or just ``block`` of it for a fragment request."""
    if block and wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.headers["Vary"] = "HX-Request"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


_ZONES: list[str] | None = None


def all_timezones() -> list[str]:
    """Sorted IANA zone names (for the client's zone picker)."""
    global _ZONES
    if _ZONES is None:
        _ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/"))) + ["UTC"]
    return _ZONES


def is_timezone(name: str | None) -> bool:
    return bool(name) and name in set(all_timezones()) | {"UTC"}


def format_local(instant: datetime, tz: str, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    return instant.astimezone(ZoneInfo(tz)).strftime(fmt)


def zone_label(zone: str | None) -> str:
    """An IANA zone name as people read it: ``America/New_York`` -> ``America/New York``."""
    return (zone or "").replace("_", " ")


def _parse_phone(raw: str) -> phonenumbers.PhoneNumber | None:
    """A valid number written with its country code (``+...``), else ``None``."""
    if not raw.startswith("+"):
        return None
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def format_phone(raw: str | None) -> str:
    """A phone number for display: ``+447911123457`` -> ``+44 7911 123457`` (phonenumbers'
    INTERNATIONAL format). Anything that does not parse as a valid international number is
    returned as written."""
    raw = (raw or "").strip()
    number = _parse_phone(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL) if number else raw


def phone_href(raw: str | None) -> str:
    """The ``tel:`` target for a phone number: E.164 when it parses, else the digits (and a
    leading ``+``) as written."""
    raw = (raw or "").strip()
    number = _parse_phone(raw)
    if number:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return ("+" if raw.startswith("+") else "") + re.sub(r"\D", "", raw)


def favicon():
    """Browsers ask for ``/favicon.ico`` whatever the page links; point them at the SVG."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


def register(app: Flask) -> None:
    app.jinja_env.filters["local"] = format_local
    app.jinja_env.filters["zone_label"] = zone_label
    app.jinja_env.filters["phone"] = format_phone
    app.jinja_env.filters["tel"] = phone_href
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject():
        return {"is_htmx": bool(htmx)}
