"""Owner authentication for the API: ``Authorization: Bearer <api key>`` or a dashboard session.

A bearer key acts for its business (and the user who created it). A session cookie acts for the
logged-in user's business; since a browser sends cookies on its own, unsafe methods with a
session must also carry a valid ``X-CSRFToken`` header (the same token the pages use). Anything
else is a 401 JSON error.

The owner endpoints are for owners: a staff member's session gets a 403 JSON error, and so does
a key whose creator is no longer an owner of its business (keys belong to owners; the dashboard's
API keys page is owner-only).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from flask import current_app, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms.validators import ValidationError

from app.extensions import db
from app.models import Business, Role, User
from app.services import api_keys
from app.services.errors import ServiceError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Unauthorized(ServiceError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    status_code = 403
    code = "forbidden"


OWNERS_ONLY = "Only the business's owner can use the API."


def _is_owner(user: User | None, business_id: int) -> bool:
    if user is None:
        return False
    membership = next((m for m in user.memberships if m.business_id == business_id), None)
    return membership is not None and membership.role == Role.OWNER


@dataclass(frozen=True)
class Owner:
    business: Business
    user: User | None
    via: str  # "api_key" or "session"


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def _authenticate() -> Owner:
    if "Authorization" in request.headers:
        token = _bearer_token()
        key = api_keys.authenticate(token) if token else None
        if key is None:
            raise Unauthorized("Invalid or revoked API key.")
        if not _is_owner(key.user, key.business_id):
            raise Forbidden(OWNERS_ONLY)
        return Owner(db.session.get(Business, key.business_id), key.user, "api_key")
    if current_user.is_authenticated and current_user.business is not None:
        if not _is_owner(current_user, current_user.business.id):
            raise Forbidden(OWNERS_ONLY)
        if request.method not in SAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
            try:
                validate_csrf(request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token"))
            except ValidationError as exc:
                raise CSRFError(exc.args[0] if exc.args else "CSRF token missing.") from None
        return Owner(current_user.business, current_user, "session")
    raise Unauthorized("Log in or send Authorization: Bearer <api key>.")


def owner_required(view):
    """Run ``view`` with ``g.owner`` (an :class:`Owner`) set, or answer 401/400, or 403 for a
    staff member's session (or a key whose creator is no longer an owner)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.owner = _authenticate()
        return view(*args, **kwargs)

    return wrapper


def current_owner() -> Owner:
    return g.owner
