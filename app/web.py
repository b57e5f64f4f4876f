"""One URL, two responses: a full page, or one block of it when HTMX asks for a fragment."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

from flask import Flask, make_response, render_template, request
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


def register(app: Flask) -> None:
    app.jinja_env.filters["local"] = format_local
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject():
        return {"is_htmx": bool(htmx)}
