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


def landing():
    """``/``: what Flowkey is, with sign-up and log-in; a signed-in owner goes to the dashboard.
    Links to the demo business's booking page when the demo is loaded."""
    from flask_login import current_user

    from app.demo import SLUG as DEMO_SLUG
    from app.extensions import db
    from app.models import Business

    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    demo = db.session.scalar(db.select(Business.id).where(Business.slug == DEMO_SLUG))
    return render("landing.html", demo_url=url_for("public.business_page", slug=DEMO_SLUG) if demo else None)


def error_links() -> list[tuple[str, str]]:
    """Where an error page sends the visitor next, as ``[(label, url), ...]``: the business's
    booking page when the failed URL named a business that exists, the dashboard for someone
    logged in, else Flowkey's home page. Never the failed URL itself."""
    from flask import request
    from flask_babel import gettext as _
    from flask_login import current_user

    from app.extensions import db
    from app.models import Business

    links = []
    slug = (request.view_args or {}).get("slug")
    if isinstance(slug, str) and request.blueprint == "public":
        try:
            name = db.session.scalar(db.select(Business.name).where(Business.slug == slug))
        except Exception:  # the database may be why this is an error page
            db.session.rollback()
            name = None
        if name:
            links.append((_("Book with %(business)s", business=name), url_for("public.business_page", slug=slug)))
    if current_user and current_user.is_authenticated:
        links.append((_("Go to your dashboard"), url_for("dashboard.index")))
    else:
        links.append((_("Flowkey home"), url_for("landing")))
    return [(label, url) for label, url in links if url != request.path]


def register(app: Flask) -> None:
    """Install the template filters (``local``, ``zone_label``, ``phone``, ``tel``), the landing
    page at ``/``, the favicon route and the ``is_htmx`` template variable."""
    app.jinja_env.filters["local"] = format_local
    app.jinja_env.filters["zone_label"] = zone_label
    app.jinja_env.filters["phone"] = format_phone
    app.jinja_env.filters["tel"] = phone_href
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.add_url_rule("/", "landing", landing)
    app.jinja_env.globals["error_links"] = error_links
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject():
        return {"is_htmx": bool(htmx)}
