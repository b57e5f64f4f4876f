"""Helpers shared by the dashboard views."""
from __future__ import annotations

from datetime import datetime

from flask import redirect, request, url_for
from flask_login import current_user

from app.auth.routes import safe_next
from app.models import Business, Role, StaffMember, User, utcnow

#: Sent with every response that changes a booking, so the nav badge and lists refresh.
BOOKINGS_CHANGED = {"HX-Trigger": "bookings-changed"}


def current_business() -> Business:
    """The logged-in user's business (``require_login`` guarantees there is one)."""
    return current_user.business


def current_role() -> Role:
    """The logged-in user's role in their business (``Role.OWNER`` or ``Role.STAFF``)."""
    return current_user.membership.role


def is_owner() -> bool:
    """Whether the logged-in user owns the business (sees settings, services, keys, everyone's data)."""
    return current_role() == Role.OWNER


def current_staff_member() -> StaffMember | None:
    """The staff member the logged-in user is (their own bookings and hours), or None when the
    user has no staff row in the business (an owner who is not bookable)."""
    user_id = current_user.id
    return next((s for s in current_business().staff if s.user_id == user_id), None)


def actor() -> User:
    return current_user._get_current_object()


def back(default_endpoint: str, **values):
    """Redirect (303) to the form's safe ``next`` field, else to ``default_endpoint``."""
    return redirect(safe_next(request.form.get("next")) or url_for(default_endpoint, **values), code=303)


def time_until(instant: datetime | None, now: datetime | None = None) -> str:
    """``"in 3 h 20 min"`` / ``"in 2 days"`` / ``"now"``: how long until ``instant``."""
    if instant is None:
        return ""
    seconds = int((instant - (now or utcnow())).total_seconds())
    if seconds <= 0:
        return "now"
    minutes = seconds // 60
    if minutes < 60:
        return f"in {max(minutes, 1)} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"in {hours} h {minutes} min" if minutes else f"in {hours} h"
    return f"in {hours // 24} days"


def form_errors_from(exc_fields: dict[str, str], form) -> None:
    """Attach a service's ``ValidationFailed.fields`` to the matching form fields."""
    for name, message in exc_fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + [message]
        else:
            form.form_errors.append(message)
