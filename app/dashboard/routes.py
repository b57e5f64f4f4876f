"""The owner dashboard (login required). Every view loads its business from ``current_user`` and
reads rows only through services that check ``business_id`` (another business's id -> 404).

The views live in ``views_*`` modules, one per page; this module holds the blueprint-wide hooks.
"""
from __future__ import annotations

from flask import abort, current_app, make_response, request, url_for
from flask_login import current_user

from app.dashboard import bp
from app.dashboard.common import current_business, is_owner, time_until
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


@bp.context_processor
def dashboard_context():
    business = current_business() if current_user.is_authenticated else None
    return {
        "business": business,
        "nav": [(endpoint, label) for endpoint, label, owners_only in NAV if is_owner() or not owners_only]
        if business else [],
        "advanced_nav": ADVANCED_NAV if business and is_owner() else [],
        "pending_total": (lambda: booking_queries.pending_count(business)) if business else (lambda: 0),
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
