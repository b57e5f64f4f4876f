"""Headers a browser enforces, on every response: Content-Security-Policy, framing, referrer,
MIME sniffing and, behind TLS, HSTS.

The policy (CSP Level 3, https://www.w3.org/TR/CSP3/) allows scripts and styles from this origin
and, for anything inline, only elements carrying the response's nonce (``csp_nonce()`` in
templates); no ``'unsafe-inline'``, no ``eval``. The page scripts live in ``static/`` and bind
their handlers there (no ``on*=`` attributes, no ``hx-on``), so a fragment htmx swaps in later,
whose nonce the page never saw, needs none.

Framing: the dashboard, sign-in pages and the API may never be framed (``frame-ancestors 'none'``
and ``X-Frame-Options: DENY``). The public booking pages may be shown on owners' own sites: a
business that lists its sites (``Business.embed_origins``) gets ``'self'`` and those; any other
gets ``PUBLIC_FRAME_ANCESTORS`` (default ``*``, any site). ``X-Frame-Options`` can say only DENY
or SAMEORIGIN, so those pages send it only when the list is exactly ``'self'``.
"""
from __future__ import annotations

import secrets

from flask import Flask, Response, current_app, g, request

from app.domain.embedding import FramingPolicy

# Endpoints whose policy differs, and why. The sent e-mail preview shows the stored HTML in a
# sandboxed srcdoc iframe (no scripts, no same-origin); srcdoc documents inherit the page's
# policy, and e-mail HTML is styled inline by necessity (mail clients ignore style sheets).
# A nonce would make browsers ignore 'unsafe-inline', so this page's styles go without one.
STYLE_OVERRIDES = {"dashboard.sent_email_view": "'self' 'unsafe-inline'"}

_NONCE_KEY = "flowkey.csp_nonce"
HSTS = "max-age=31536000"  # one year (RFC 6797 section 6.1.1); no includeSubDomains: other hosts are not ours


def csp_nonce() -> str:
    """This response's CSP nonce: 128 random bits, URL-safe base64, the same for every call in
    one request (put it on inline ``<script nonce>`` and ``<style nonce>`` elements)."""
    # Kept in the WSGI environ, not ``g``: an app context (and its ``g``) may outlive one request.
    environ = request.environ
    if _NONCE_KEY not in environ:
        environ[_NONCE_KEY] = secrets.token_urlsafe(16)
    return environ[_NONCE_KEY]


def _is_public_page() -> bool:
    return (request.blueprint or "") == "public"


def frame_ancestors() -> str:
    """The ``frame-ancestors`` source list for this request: on the public booking pages,
    ``'self'`` and the business's listed sites, or ``PUBLIC_FRAME_ANCESTORS`` when it lists none
    (or the page names no business: a 404); ``'none'`` everywhere else."""
    if _is_public_page():
        anywhere = current_app.config.get("PUBLIC_FRAME_ANCESTORS") or "*"
        business = g.get("public_business")  # put there by app.public.routes.load_business
        origins = tuple(business.embed_origins or ()) if business is not None else ()
        return FramingPolicy(origins).frame_ancestors(anywhere)
    return "'none'"


def content_security_policy() -> str:
    """The Content-Security-Policy value for this request. JSON and other non-HTML answers get
    ``default-src 'none'``: they load nothing."""
    ancestors = frame_ancestors()
    if request.path.startswith("/api/"):
        return f"default-src 'none'; frame-ancestors {ancestors}; base-uri 'none'; form-action 'none'"
    nonce = csp_nonce()
    style = STYLE_OVERRIDES.get(request.endpoint or "", f"'self' 'nonce-{nonce}'")
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src {style}",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {ancestors}",
        )
    )


def _x_frame_options(ancestors: str) -> str | None:
    """The legacy header for browsers without frame-ancestors: it can say only DENY or
    SAMEORIGIN (RFC 7034), so a list of other origins sends none and leaves it to the CSP."""
    return {"'none'": "DENY", "'self'": "SAMEORIGIN"}.get(ancestors.strip())


def set_security_headers(response: Response) -> Response:
    """Add the headers above to ``response`` (a header a view set itself is kept)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    if xfo := _x_frame_options(frame_ancestors()):
        headers.setdefault("X-Frame-Options", xfo)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # The confirmation URL carries its token: never send it to another site.
    headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def register(app: Flask) -> None:
    """Install the after-request hook and the ``csp_nonce()`` template global."""
    app.after_request(set_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
