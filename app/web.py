"""One URL, two responses: a full page, or one block of it when HTMX asks for a fragment."""
from __future__ import annotations

from flask import Flask, make_response, redirect, render_template, url_for
from jinja2_fragments.flask import render_block

from app.extensions import htmx
from app.phones import format_phone, phone_href
from app.timezones import format_local, zone_label


def wants_fragment() -> bool:
    """True for an HTMX request that will swap part of the page.

    Boosted navigation and history restores need the full page even though they carry
    ``HX-Request``.
    """
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(template: str, block: str | None = None, status: int = 200, headers: dict | None = None, **context):
    """Render ``template`` in full, or just ``block`` of it for a fragment request.

    Without ``block`` the whole template is rendered either way: that is how a partial (a table
    row, a badge, a polled status) answers its HTMX request. Every response carries
    ``Vary: HX-Request`` (one URL, two bodies), then ``headers`` (e.g. ``HX-Trigger``), with
    ``status`` (e.g. 286, which stops htmx polling).
    """
    if block and wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.headers["Vary"] = "HX-Request"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def favicon():
    """Browsers ask for ``/favicon.ico`` whatever the page links; point them at the SVG."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


def register(app: Flask) -> None:
    """Install the template filters (``local``, ``zone_label``, ``phone``, ``tel``), the favicon
    route and the ``is_htmx`` template variable."""
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
