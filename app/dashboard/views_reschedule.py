"""Rescheduling a booking: pick a day, then one of its free times.

``GET /dashboard/bookings/<id>/reschedule?date=YYYY-MM-DD`` shows a date picker (a GET form) and
the free times of that day for the booking's service, per staff member who offers it (business
zone; the booking itself not counted, minimum notice ignored). Each time links to the
confirmation step ``GET /dashboard/bookings/<id>/reschedule/confirm?start=...&staff_id=...``:
old and new time side by side and an optional message for the client, whose form POSTs to
``/dashboard/bookings/<id>/reschedule``. Nothing moves before that POST. Success: a redirect to
the booking with a flash (HTMX: the booking's page swapped in, its URL pushed,
``HX-Trigger: bookings-changed``); a confirmed booking's client gets the "new time" e-mail with
the message. A time taken meanwhile or a booking that cannot move: 409 with the message and the
page again; a bad date or time: 422.

A staff user reschedules only their own bookings (another staff member's is a 404).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import flash, redirect, request, url_for

from app.dashboard import bp
from app.dashboard.common import BOOKINGS_CHANGED, actor, current_business
from app.dashboard.forms import DayForm, MoveForm
from app.dashboard.views_bookings import detail_context, scoped_booking, staff_scope
from app.domain.booking_state import BookingStatus
from app.models import Booking, Business, utcnow
from app.services import booking_service
from app.services.errors import Conflict, SlotUnavailable, ValidationFailed
from app.timezones import MAX_YEAR, MIN_YEAR, format_local
from app.web import render, wants_fragment

MOVABLE = (BookingStatus.PENDING, BookingStatus.CONFIRMED)
UTC = timezone.utc


def _today(business: Business) -> date:
    return utcnow().astimezone(ZoneInfo(business.timezone)).date()


def _default_day(business: Business, booking: Booking) -> date:
    """The booking's own day when it is still ahead, else today (business zone)."""
    return max(booking.start_at.astimezone(ZoneInfo(business.timezone)).date(), _today(business))


def _check_day(business: Business, form: DayForm) -> bool:
    """Validate the picked day: a real date, not before today, within the advance limit."""
    if not form.validate():
        if form.date.errors and "Not a valid date value." in form.date.errors:
            form.date.errors = ["Enter a date like 2027-06-07."]
        return False
    day = form.date.data
    if day is None:
        return True
    today = _today(business)
    limit = business.settings.max_advance_booking_days
    if day < today:
        form.date.errors = ["Pick today or a later date."]
    elif day > today + timedelta(days=limit):
        form.date.errors = [f"Bookings can be moved up to {limit} days ahead."]
    return not form.date.errors


def _page(business: Business, booking: Booking, form: DayForm, status: int = 200, error: str | None = None,
          alternatives=(), block: str = "picker"):
    """The reschedule page (or its ``block``): the picker and, for a valid day, its free times."""
    movable = booking.status in MOVABLE
    day = form.date.data if not form.date.errors else None
    groups = []
    if movable and day is not None:
        staff_by_id = {s.id: s for s in business.staff}
        # A staff user moves their own bookings within their own time only.
        per_staff = booking_service.reschedule_slots(business, booking, day, staff_id=staff_scope())
        groups = [(staff_by_id[sid], slots) for sid, slots in sorted(per_staff.items())]
    return render(
        "dashboard/reschedule.html", block=block, status=status, booking=booking, form=form,
        day=day, groups=groups, movable=movable, error=error, alternatives=list(alternatives),
        multiple_staff=len(groups) > 1,
    )


@bp.get("/bookings/<int:booking_id>/reschedule")
def booking_reschedule(booking_id: int):
    business = current_business()
    booking = scoped_booking(booking_id)
    form = DayForm(request.args)
    if not request.args.get("date"):
        form.date.data = _default_day(business, booking)
    if not _check_day(business, form):
        return _page(business, booking, form, status=422)
    if booking.status not in MOVABLE:
        message = f"This booking is {booking.status.label}; only requests and confirmed bookings can be rescheduled."
        return _page(business, booking, form, status=409, error=message)
    return _page(business, booking, form)


def _parse_start(value: str | None) -> datetime | None:
    """An aware instant from the slot button's ``start`` (ISO-8601 with offset), else None."""
    try:
        start = datetime.fromisoformat((value or "").strip())
        if start.tzinfo is None or start.utcoffset() is None:
            return None
        start = start.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return start if MIN_YEAR <= start.year <= MAX_YEAR else None


@bp.get("/bookings/<int:booking_id>/reschedule/confirm")
def booking_reschedule_confirm(booking_id: int):
    """The confirmation step for one free time: nothing changes until its form is posted."""
    business = current_business()
    booking = scoped_booking(booking_id)
    move = MoveForm(request.args, meta={"csrf": False})
    start = _parse_start(move.start.data) if move.validate() else None
    staff = next((s for s in business.staff if s.id == move.staff_id.data), None)
    scope = staff_scope()
    if start is None or staff is None or (scope is not None and staff.id != scope):
        day_form = DayForm(formdata=None)
        day_form.date.data = _default_day(business, booking)
        return _page(business, booking, day_form, status=422, error="Pick one of the free times.", block="picker")
    if booking.status not in MOVABLE:
        day_form = DayForm(formdata=None)
        day_form.date.data = _default_day(business, booking)
        message = f"This booking is {booking.status.label}; only requests and confirmed bookings can be rescheduled."
        return _page(business, booking, day_form, status=409, error=message, block="picker")
    duration = booking.end_at - booking.start_at
    return render(
        "dashboard/reschedule.html", block="picker", booking=booking, form=move, confirm=True,
        new_start=start, new_end=start + duration, new_staff=staff,
        emails_client=booking.status == BookingStatus.CONFIRMED and bool(booking.client_email),
        back_url=url_for("dashboard.booking_reschedule", booking_id=booking.id, date=start.astimezone(ZoneInfo(business.timezone)).date().isoformat()),
    )


@bp.post("/bookings/<int:booking_id>/reschedule")
def booking_reschedule_post(booking_id: int):
    business = current_business()
    booking = scoped_booking(booking_id)  # 404 before anything else
    move = MoveForm()
    start = _parse_start(move.start.data) if move.validate_on_submit() else None
    day_form = DayForm(formdata=None)
    tz = ZoneInfo(business.timezone)
    day_form.date.data = start.astimezone(tz).date() if start else _default_day(business, booking)
    if start is None:
        error = move.message.errors[0] if move.message.errors else "Pick one of the free times."
        return _page(business, booking, day_form, status=422, error=error, block="page")
    scope = staff_scope()
    if scope is not None and move.staff_id.data != scope:
        return _page(business, booking, day_form, status=422, error="Pick one of your own free times.", block="page")
    try:
        booking = booking_service.reschedule(
            business, booking_id, actor(), start, staff_id=move.staff_id.data, message=(move.message.data or "").strip() or None,
        )
    except SlotUnavailable as exc:
        return _page(business, booking, day_form, status=409, error=exc.message, alternatives=exc.alternatives, block="page")
    except Conflict as exc:
        return _page(business, booking, day_form, status=409, error=exc.message, block="page")
    except ValidationFailed as exc:
        if day_form.date.data < _today(business):
            day_form.date.data = _default_day(business, booking)
        return _page(business, booking, day_form, status=422, error=exc.message, block="page")
    when = format_local(booking.start_at, business.timezone)
    message = f"Moved {booking.client_name}'s booking ({booking.reference}) to {when}."
    detail_url = url_for("dashboard.booking_detail", booking_id=booking.id)
    if wants_fragment():
        return render(
            "dashboard/booking_detail.html", block="page", booking=booking, error=None, form=None, message=message,
            headers={**BOOKINGS_CHANGED, "HX-Push-Url": detail_url}, **detail_context(booking),
        )
    flash(message, "success")
    return redirect(detail_url, code=303)
