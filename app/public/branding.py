"""The booking pages' branding: the brand colour theme, the logo's URL and the page that serves
it, and the embedded (``?embed=1``) mode for pages shown in a frame on the owner's site."""
from __future__ import annotations

from flask import abort, current_app, make_response, redirect, request, url_for

from app.domain.colors import page_theme
from app.models import Business
from app.public import bp
from app.services import branding

# The logo URL carries its digest: a new logo is a new URL, so the old one may be kept for a year.
LOGO_CACHE = "public, max-age=31536000, immutable"


def logo_url(business: Business, external: bool = False) -> str | None:
    """The URL of ``business``'s current logo (None without one); ``external`` prefixes
    ``BASE_URL`` (for e-mails)."""
    if not business.logo_digest:
        return None
    path = url_for("public.logo", slug=business.slug, digest=business.logo_digest)
    return current_app.config["BASE_URL"].rstrip("/") + path if external else path


def theme_css(business: Business) -> str:
    """A ``:root`` rule setting the theme's custom properties, or "" for the default colours.
    Every value is a colour :func:`app.domain.colors.page_theme` made (``#`` and hex digits), so
    nothing the owner typed reaches the style sheet as text."""
    theme = page_theme(business.brand_color)
    if theme is None:
        return ""
    declarations = "".join(f"{name}:{value};" for name, value in theme.css_variables().items())
    # :root[data-theme] outranks Pico's ":root:not([data-theme=dark])" by coming later at the same weight.
    return f":root[data-theme]{{{declarations}}}"


@bp.app_context_processor
def branding_context():
    return {"brand_theme_css": theme_css, "logo_url": logo_url, "embed_mode": request.args.get("embed") == "1"}


@bp.get("/book/<slug>/logo/<digest>")
def logo(slug: str, digest: str):
    """The logo as stored (PNG or JPEG), cacheable for a year under its digest. An older digest
    redirects to the current logo (e-mails sent before a change still show one); no logo is 404."""
    row = branding.logo_for_slug(slug)
    if row is None:
        abort(404)
    if digest != row.digest:
        response = redirect(url_for("public.logo", slug=slug, digest=row.digest), code=302)
        response.headers["Cache-Control"] = "no-cache"
        return response
    etag = f'"{row.digest}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = make_response("", 304)
    else:
        response = make_response(row.data)
        response.headers["Content-Type"] = row.content_type
        response.headers["Content-Length"] = str(len(row.data))
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = LOGO_CACHE
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Shown in e-mails and on other sites' pages (an embedded booking page): any origin may load it.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
