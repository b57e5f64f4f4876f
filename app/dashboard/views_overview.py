"""Overview page and the nav's pending-requests badge."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from app.dashboard import bp
from app.dashboard.common import current_business, is_owner
from app.dashboard.views_bookings import staff_scope
from app.domain.booking_state import HOLDING_STATUSES
from app.models import utcnow
from app.services import booking_queries
from app.services import onboarding
from app.services.booking_queries import BookingFilter
from app.web import render


@bp.get("/")
def index():
    business = current_business()
    now = utcnow()
    today = now.astimezone(ZoneInfo(business.timezone)).date()
    scope = staff_scope()  # a staff user: their own bookings only
    week = booking_queries.list_bookings(
        business, BookingFilter(when="upcoming", date_from=today, date_to=today + timedelta(days=6), limit=500, staff_id=scope), now=now
    )
    week = [b for b in week if b.status in HOLDING_STATUSES]
    upcoming = [
        b for b in booking_queries.list_bookings(business, BookingFilter(when="upcoming", limit=50, staff_id=scope), now=now)
        if b.status in HOLDING_STATUSES
    ][:5]
    return render(
        "dashboard/overview.html",
        pending=booking_queries.pending_count(business, now, staff_id=scope),
        week_count=len(week),
        upcoming=upcoming,
        now=now,
        bookable=onboarding.is_bookable(business),
        checklist=onboarding.checklist(business) if is_owner() and onboarding.show_checklist(business) else None,
    )


@bp.get("/requests/count")
def requests_count():
    """The badge in the nav: reloaded on ``bookings-changed`` events."""
    return render(
        "dashboard/_requests_badge.html", headers={"Cache-Control": "no-store"},
        count=booking_queries.pending_count(current_business(), staff_id=staff_scope()),
    )
