"""CSRF protection for the public booking pages, which other sites may show in a frame.

Inside a frame on another site the browser does not send Flowkey's session cookie (it is
``SameSite=Lax``; and browsers that block third-party cookies would drop any cookie there), so
Flask-WTF's usual check, a token compared with one kept in the session, would refuse every
booking made through an embedded page. The public forms are checked here instead:

1. The request must come from a Flowkey page: the browser's ``Sec-Fetch-Site`` is ``same-origin``
   (or ``none``, typed by the user), or, from an older browser without it, ``Origin`` names this
   host (Fetch Metadata, https://www.w3.org/TR/fetch-metadata/). A form inside the frame is a
   Flowkey page, so its requests are same-origin; a form on another site posting here is
   ``cross-site`` and is refused.
2. The form must carry a token signed with ``SECRET_KEY`` (the one Flask-WTF renders). When the
   session cookie did arrive (a visitor on Flowkey itself) the token must also match the session,
   as everywhere else.

These forms act for nobody (the client has no account; a manage link's authority is its own
signed token), so there is no login for a forged request to borrow: the check keeps other sites'
pages from submitting them in visitors' browsers. The dashboard, log-in and API keep
Flask-WTF's session-bound check and are never framed.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, g, request, session
from flask_wtf.csrf import CSRFError, validate_csrf
from itsdangerous import BadData, URLSafeTimedSerializer
from wtforms import ValidationError

from app.public import bp

FLASK_WTF_SALT = "wtf-csrf-token"  # what Flask-WTF signs its tokens with (flask_wtf.csrf.generate_csrf)


def same_origin_request() -> bool:
    """True unless the browser says the request comes from another origin."""
    site = request.headers.get("Sec-Fetch-Site")
    if site:
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # neither header: not a browser of the last years; the token is still checked
    return urlsplit(origin).netloc == request.host


@bp.before_request
def check_public_form() -> None:
    """Refuse (``CSRFError``, 400) an unsafe request to a public page that fails the checks in
    the module docstring; mark it valid for the forms (``g.csrf_valid``, as Flask-WTF's own
    check does) otherwise."""
    config = current_app.config
    if not config.get("WTF_CSRF_ENABLED", True) or request.method not in config["WTF_CSRF_METHODS"]:
        return
    if not same_origin_request():
        raise CSRFError("The request came from another site.")
    field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    token = request.form.get(field) or next((request.headers.get(h) for h in config["WTF_CSRF_HEADERS"] if request.headers.get(h)), None)
    if not token:
        raise CSRFError("The CSRF token is missing.")
    if field in session:
        try:
            validate_csrf(token)
        except ValidationError as exc:
            raise CSRFError(exc.args[0]) from None
    else:
        serializer = URLSafeTimedSerializer(config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key, salt=FLASK_WTF_SALT)
        try:
            serializer.loads(token, max_age=config.get("WTF_CSRF_TIME_LIMIT"))
        except BadData:
            raise CSRFError("The CSRF token is invalid.") from None
    g.csrf_valid = True
