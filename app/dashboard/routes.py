"""The dashboard (login required). Every view loads its business from ``current_user`` and
reads rows only through services that check ``business_id`` (another business's id -> 404).

Roles: an owner may use every page. A staff member may use only the endpoints in
:data:`STAFF_ENDPOINTS` (their overview, requests, bookings, hours and notifications, where the
views show them their own rows only); every other endpoint answers them 403, so a page added
later is owner-only until someone adds it there. A staff member whose staff row was deactivated
(or removed) gets 403 everywhere.

The views live in ``views_*`` modules, one per page; this module holds the blueprint-wide hooks.
"""
from __future__ import annotations

from flask import abort, current_app, make_response, request, url_for
from flask_login import current_user

from app.dashboard import bp
from app.dashboard.common import current_business, current_staff_member, is_owner, time_until
from app.extensions import htmx
from app.services import booking_queries

#: The main menu: (endpoint, label, owners only).
NAV = [
    ("dashboard.index", "Overview", False),
    ("dashboard.requests", "Requests", False),
    ("dashboard.bookings", "Bookings", False),
    ("dashboard.services", "Services", True),
    ("dashboard.hours", "Hours", False),
    ("dashboard.team", "Team", True),
    ("dashboard.settings", "Booking link & settings", True),
]
#: The "Advanced" menu (owners only): (endpoint, label).
ADVANCED_NAV = [
    ("dashboard.jobs", "Jobs"),
    ("dashboard.sent_email", "Sent e-mail"),
    ("dashboard.api_keys", "API keys"),
]
#: What a staff member may use (deny by default: anything else is 403 for them). The views
#: scope these to the staff member's own bookings, requests and hours.
STAFF_ENDPOINTS = frozenset({
    "dashboard.index",
    "dashboard.requests",
    "dashboard.requests_count",
    "dashboard.request_approve",
    "dashboard.request_reject",
    "dashboard.bookings",
    "dashboard.booking_detail",
    "dashboard.booking_cancel",
    "dashboard.booking_revoke_links",
    "dashboard.booking_reschedule",
    "dashboard.booking_reschedule_confirm",
    "dashboard.booking_reschedule_post",
    "dashboard.hours",
    "dashboard.hours_save",
    "dashboard.override_add",
    "dashboard.override_delete",
    "dashboard.notifications",
    "dashboard.notifications_count",
    "dashboard.notification_read",
    "dashboard.notifications_read_all",
    "dashboard.notification_preferences",
    "dashboard.notification_preferences_save",
})


def staff_may_use(endpoint: str | None) -> bool:
    """Whether a staff member (not an owner) may use the dashboard ``endpoint``."""
    return endpoint in STAFF_ENDPOINTS


@bp.before_request
def require_login():
    if not current_user.is_authenticated:
        if htmx and not htmx.boosted:
            # A fragment request would swap the login page into a row: send the browser there instead.
            response = make_response("", 401)
            response.headers["HX-Redirect"] = url_for("auth.login", next=request.full_path.rstrip("?"))
            return response
        return current_app.login_manager.unauthorized()
    if current_user.business is None:
        abort(403)
    if not is_owner():
        staff = current_staff_member()
        if staff is None or not staff.is_active:
            abort(403, "Your access to this business's dashboard has been turned off. Ask the owner.")
        if not staff_may_use(request.endpoint):
            abort(403, "Only the business's owner can open this page.")


def _own_staff_id() -> int | None:
    """None for an owner (everyone's counts), the staff member's id for a staff user."""
    if is_owner():
        return None
    staff = current_staff_member()
    return staff.id if staff is not None else 0


@bp.context_processor
def dashboard_context():
    business = current_business() if current_user.is_authenticated else None
    return {
        "business": business,
        "nav": [(endpoint, label) for endpoint, label, owners_only in NAV if is_owner() or not owners_only]
        if business else [],
        "advanced_nav": ADVANCED_NAV if business and is_owner() else [],
        # Templates hide links to owner-only pages from staff (they would answer 403).
        "is_owner": bool(business) and is_owner(),
        "pending_total": (lambda: booking_queries.pending_count(business, staff_id=_own_staff_id())) if business else (lambda: 0),
        "time_until": time_until,
        "booking_url": (current_app.config["BASE_URL"] + "/book/" + business.slug) if business else "",
    }


from app.dashboard import (  # noqa: E402,F401  (register the views)
    views_api_keys,
    views_bookings,
    views_branding,
    views_hours,
    views_jobs,
    views_notifications,
    views_overview,
    views_services,
    views_onboarding,
    views_settings,
    views_team,
)
from app.dashboard import views_reschedule  # noqa: E402,F401  (rescheduling)
