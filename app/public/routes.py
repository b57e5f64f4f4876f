"""The public booking flow (no login): service -> time -> details -> confirmation.

Each step is one URL that renders a full page, or only its ``step`` block when HTMX swaps it into
``#booking-step`` (see :func:`app.web.render`).
"""
from __future__ import annotations

import calendar
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, redirect, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.exceptions import Gone

from app.domain.availability import Slot, group_by_local_date
from app.extensions import booking_limit
from app.models import Booking, Business, Service, utcnow
from app.public import bp
from app.public.forms import BookingDetailsForm
from app.services import availability_service, booking_queries, booking_service, calendar_files, calendar_links
from app.services.booking_service import BookingRequest
from app.services.errors import BookingClosed, IdempotencyKeyReused, NotFound, SlotUnavailable, ValidationFailed
from app.timezones import MAX_YEAR, MIN_YEAR, all_timezones, in_year_window, is_timezone
from app.web import render, wants_fragment

STEPS = ("Service", "Time", "Details", "Done")
_MONTH_RE = re.compile(r"^\d{4}-\d{2}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEARS_MESSAGE = f"Pick a time between the years {MIN_YEAR} and {MAX_YEAR} from the calendar."
_CURRENCY_SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€", "JPY": "¥", "INR": "₹", "AUD": "A$", "CAD": "C$", "NZD": "NZ$", "CHF": "CHF "}


class BadInput(Exception):
    """A malformed query parameter; ``field`` names it, ``message`` says what is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class LinkExpired(Gone):
    """410 for a confirmation link past its time (the error page shows ``name`` as its title)."""

    name = "This link has expired"
    description = (
        "This confirmation link has expired. Your booking e-mail has the details; "
        "contact the business if you need them again."
    )


# ------------------------------------------------------------------ template helpers

def format_price(amount: Decimal | None, currency: str) -> str:
    if amount is None or Decimal(amount) == 0:
        return "Free"
    symbol = _CURRENCY_SYMBOLS.get(currency)
    number = f"{Decimal(amount):,.0f}" if currency == "JPY" else f"{Decimal(amount):,.2f}"
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


def format_duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


def iso_z(instant: datetime) -> str:
    """An instant as ``2027-01-05T09:00:00Z`` (no ``+`` to escape in URLs)."""
    return instant.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.context_processor
def helpers():
    return {"format_price": format_price, "format_duration": format_duration, "iso_z": iso_z, "STEPS": STEPS}


# ------------------------------------------------------------------ parsing

def confirmation_token(reference: str) -> str:
    """The token of a booking's confirmation link: ``reference`` signed with the secret key
    (itsdangerous ``URLSafeSerializer``). The link stops working
    ``CONFIRMATION_LINK_DAYS`` after the appointment (see :func:`link_expired`)."""
    return URLSafeSerializer(current_app.secret_key, salt="booking-confirmation").dumps(reference)


def token_matches(reference: str, token: str | None) -> bool:
    if not token:
        return False
    try:
        return URLSafeSerializer(current_app.secret_key, salt="booking-confirmation").loads(token) == reference
    except BadSignature:
        return False


def link_expired(booking: Booking, now: datetime | None = None) -> bool:
    """True once ``CONFIRMATION_LINK_DAYS`` (default 30) days have passed since the booking's
    end: long enough to come back for the details or the calendar file, not a lasting handle on
    the client's name and contact. Taken from the booking as it is now, so a reschedule moves it."""
    days = current_app.config.get("CONFIRMATION_LINK_DAYS", 30)
    return (now or utcnow()) >= booking.end_at + timedelta(days=days)


def parse_tz(raw: str | None, default: str) -> str:
    if raw is None or raw == "":
        return default
    if not is_timezone(raw):
        raise BadInput("tz", f"“{raw[:64]}” is not a time zone we know. Pick one from the list, like Europe/London.")
    return raw


def parse_month(raw: str | None) -> date | None:
    if not raw:
        return None
    if _MONTH_RE.match(raw):
        try:
            month = date(int(raw[:4]), int(raw[5:7]), 1)
        except ValueError:
            pass
        else:
            if in_year_window(month):
                return month
            raise BadInput("month", _YEARS_MESSAGE)
    raise BadInput("month", "The month must look like 2027-01 (year-month).")


def parse_date(raw: str | None) -> date | None:
    if not raw:
        return None
    if _DATE_RE.match(raw):
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            pass
        else:
            if in_year_window(day):
                return day
            raise BadInput("date", _YEARS_MESSAGE)
    raise BadInput("date", "The date must be a real day written like 2027-01-31 (year-month-day).")


def parse_start(raw: str | None) -> datetime:
    message = "The chosen time is missing or malformed. Please pick a time from the calendar."
    if not raw:
        raise BadInput("start", message)
    try:
        value = datetime.fromisoformat(raw.strip().replace(" ", "+"))
    except ValueError:
        raise BadInput("start", message) from None
    if value.tzinfo is None:
        raise BadInput("start", "The chosen time must include its UTC offset. Please pick a time from the calendar.")
    try:
        # Near year 1 or 9999 an offset moves the instant out of datetime's range.
        value = value.astimezone(ZoneInfo("UTC"))
    except OverflowError:
        raise BadInput("start", _YEARS_MESSAGE) from None
    if not in_year_window(value):
        raise BadInput("start", _YEARS_MESSAGE)
    return value


def add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


# ------------------------------------------------------------------ loading

def load_business(slug: str) -> Business:
    business = availability_service.load_business_for_availability(slug)
    if business is None:
        abort(404)
    return business


def load_service(business: Business, service_id: int) -> Service:
    """The bookable service, else 404 with the same "page not found" page as an unknown link."""
    try:
        return availability_service.bookable_service(business, service_id)
    except NotFound:
        abort(404)


def closed_page(business: Business, status: int = 200):
    return render("public/closed.html", block="step", status=status, business=business)


def bad_input_page(business: Business, exc: BadInput, service: Service | None = None, tz: str | None = None):
    return render(
        "public/bad_input.html", block="step", status=422, business=business, service=service,
        tz=tz or business.timezone, error=exc,
    )


# ------------------------------------------------------------------ step 1: services

@bp.get("/book/<slug>")
def business_page(slug: str):
    business = load_business(slug)
    if not business.settings.is_active:
        return closed_page(business)
    try:
        tz = parse_tz(request.args.get("tz"), business.timezone)
    except BadInput as exc:
        return bad_input_page(business, exc)
    services = availability_service.bookable_services(business)
    return render(
        "public/services.html", block="step", business=business, services=services, tz=tz,
        tz_given=bool(request.args.get("tz")),
    )


# ------------------------------------------------------------------ step 2: month and times

@dataclass(frozen=True)
class Day:
    day: date
    in_month: bool
    slots: int  # free slots that day (0 = not selectable)
    is_today: bool


@bp.get("/book/<slug>/<int:service_id>")
def service_page(slug: str, service_id: int):
    business = load_business(slug)
    if not business.settings.is_active:
        return closed_page(business)
    service = load_service(business, service_id)
    try:
        tz = parse_tz(request.args.get("tz"), business.timezone)
        month = parse_month(request.args.get("month"))
        chosen = parse_date(request.args.get("date"))
    except BadInput as exc:
        return bad_input_page(business, exc, service)

    now = utcnow()
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    last_day = (now + timedelta(days=business.settings.max_advance_booking_days)).astimezone(zone).date()
    first_month, last_month = today.replace(day=1), last_day.replace(day=1)
    month = month or (chosen.replace(day=1) if chosen else first_month)
    month = min(max(month, first_month), last_month)  # never before this month or past the window
    if chosen and chosen.replace(day=1) != month:
        chosen = None
    month_end = add_months(month, 1) - timedelta(days=1)

    # ONE availability call over the month: business-zone dates around the client's month (a
    # client's local day can straddle two business days), clipped to the bookable window.
    business_zone = ZoneInfo(business.timezone)
    range_start = max(month - timedelta(days=1), now.astimezone(business_zone).date())
    range_end = min(month_end + timedelta(days=1), (now + timedelta(days=business.settings.max_advance_booking_days)).astimezone(business_zone).date())
    slots: list[Slot] = []
    if range_start <= range_end:
        slots = availability_service.available_slots(business, service, range_start, range_end, now=now)
    by_day = {d: s for d, s in group_by_local_date(slots, tz).items() if month <= d <= month_end}
    date_given = chosen is not None
    if chosen is None and by_day:
        chosen = min(by_day)  # show the first free day's times at once, without an extra click

    weeks = [
        [Day(d, d.month == month.month, len(by_day.get(d, ())), d == today) for d in week]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
    ]
    prev_month = add_months(month, -1) if month > first_month else None
    next_month = add_months(month, 1) if month < last_month else None
    next_free = None
    if not by_day and next_month:
        next_free = next_month
    return render(
        "public/times.html", block="step", business=business, service=service, tz=tz,
        tz_given=bool(request.args.get("tz")), month=month, weeks=weeks, chosen=chosen, date_given=date_given,
        day_slots=by_day.get(chosen, []) if chosen else [], free_days=len(by_day),
        prev_month=prev_month, next_month=next_month, next_free=next_free, zones=all_timezones(),
    )


# ------------------------------------------------------------------ step 3: details

def _free_slot(business: Business, service: Service, start: datetime) -> Slot | None:
    local = start.astimezone(ZoneInfo(business.timezone)).date()
    for slot in availability_service.available_slots(business, service, local, local):
        if slot.start == start:
            return slot
    return None


def _unavailable_page(business: Business, service: Service, tz: str, message: str, alternatives, start: datetime):
    return render(
        "public/unavailable.html", block="step", status=409, business=business, service=service, tz=tz,
        message=message, alternatives=alternatives, start=start,
    )


@bp.route("/book/<slug>/<int:service_id>/details", methods=["GET", "POST"])
@booking_limit
def details_page(slug: str, service_id: int):
    business = load_business(slug)
    if not business.settings.is_active:
        return closed_page(business, status=409 if request.method == "POST" else 200)
    service = load_service(business, service_id)
    try:
        tz = parse_tz(request.args.get("tz"), business.timezone)
        start = parse_start(request.args.get("start"))
    except BadInput as exc:
        return bad_input_page(business, exc, service)

    form = BookingDetailsForm()
    context = dict(business=business, service=service, tz=tz, start=start, end=start + timedelta(minutes=service.duration_minutes))

    if request.method == "GET":
        slot = _free_slot(business, service, start)
        if slot is None:
            alternatives = availability_service.nearest_alternatives(business, service, start)
            return _unavailable_page(business, service, tz, "Someone may have just booked it, or it is outside the hours we can offer. Here are the nearest free times.", alternatives, start)
        form.idempotency_key.data = str(uuid.uuid4())
        return render("public/details.html", block="step", form=form, **context)

    if not form.validate_on_submit():
        return render("public/details.html", block="step", status=422, form=form, **context)
    booking_request = BookingRequest(
        service_id=service.id,
        start=start,
        client_name=form.name.data,
        client_email=form.email.data or None,
        client_phone=form.phone.data or None,
        client_timezone=tz,
        notes=(form.notes.data or "").strip(),
        idempotency_key=form.idempotency_key.data or None,
    )
    try:
        result = booking_service.create_booking(business, booking_request)
    except SlotUnavailable as exc:
        return _unavailable_page(business, service, tz, exc.message, exc.alternatives, start)
    except BookingClosed:
        return closed_page(business, status=409)
    except IdempotencyKeyReused:
        # The form was sent before with other details (edited after going back): say so, and give
        # it a new key so that sending it again books these details.
        form.idempotency_key.data = str(uuid.uuid4())
        message = "This form was already sent with other details. Check them and send it again to make this booking."
        return render("public/details.html", block="step", status=422, form=form, general_error=message, **context)
    except ValidationFailed as exc:
        for name, message in exc.fields.items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = [*field.errors, message]
        return render("public/details.html", block="step", status=422, form=form, general_error=exc.message, **context)
    except NotFound:
        abort(404)

    booking = result.booking
    url = confirmation_url(business, booking, tz)
    if wants_fragment():
        return confirmation_response(business, booking, tz, headers={"HX-Push-Url": url})
    return redirect(url, code=303)


# ------------------------------------------------------------------ step 4: confirmation

def confirmation_url(business: Business, booking: Booking, tz: str | None = None, ics: bool = False) -> str:
    endpoint = "public.confirmation_ics" if ics else "public.confirmation"
    args = {"slug": business.slug, "reference": booking.reference, "token": confirmation_token(booking.reference)}
    if tz and not ics:
        args["tz"] = tz
    return url_for(endpoint, **args)


def confirmation_response(business: Business, booking: Booking, tz: str, headers: dict | None = None):
    return render(
        "public/confirmation.html", block="step", business=business, booking=booking, service=booking.service,
        tz=tz, google_url=calendar_links.google_calendar_url(booking, business),
        ics_url=confirmation_url(business, booking, ics=True), headers=headers,
    )


def _load_booking(slug: str, reference: str) -> tuple[Business, Booking]:
    business = load_business(slug)
    if not token_matches(reference, request.args.get("token")):
        abort(404)
    booking = booking_queries.get_by_reference(business, reference)
    if booking is None or booking.reference != reference:
        abort(404)
    if link_expired(booking):
        raise LinkExpired()
    return business, booking


@bp.get("/book/<slug>/confirmation/<reference>")
def confirmation(slug: str, reference: str):
    business, booking = _load_booking(slug, reference)
    raw_tz = request.args.get("tz")
    tz = raw_tz if is_timezone(raw_tz) else (booking.client_timezone if is_timezone(booking.client_timezone) else business.timezone)
    return confirmation_response(business, booking, tz)


@bp.get("/book/<slug>/confirmation/<reference>.ics")
def confirmation_ics(slug: str, reference: str):
    business, booking = _load_booking(slug, reference)
    body = calendar_files.booking_ics(booking, business)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{booking.reference}.ics"'},
    )
