"""The public booking flow (no login): service -> time -> details -> confirmation.

Each step is one URL that renders a full page, or only its ``step`` block when HTMX swaps it into
``#booking-step`` (see :func:`app.web.render`).
"""
from __future__ import annotations

import hmac
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.exceptions import Gone

from app.domain.availability import Slot, group_by_local_date
from app.domain.booking_state import BookingStatus
from app.domain.day_parts import group_by_part_of_day
from app.extensions import booking_limit
from app.i18n import format_duration, format_price, month_weeks
from app.models import Booking, Business, Service, utcnow
from app.phones import phone_region
from app.public import bp
from app.public.forms import BookingDetailsForm
from app.services import (
    availability_service, booking_queries, booking_service, business_service, calendar_files, calendar_links,
    client_self_service, clients,
)
from app.services.clients import phone_example
from app.services.booking_service import BookingRequest
from app.services.errors import BookingClosed, IdempotencyKeyReused, NotFound, SlotUnavailable, ValidationFailed
from app.timezones import MAX_YEAR, MIN_YEAR, REGION_LABELS, in_year_window, is_timezone, selected_zone, zone_options_html
from app.web import render, wants_fragment

STEPS = (_l("Service"), _l("Time"), _l("Details"), _l("Done"))
_MONTH_RE = re.compile(r"^\d{4}-\d{2}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEARS_MESSAGE = _l("Pick a time between the years %(first)d and %(last)d from the calendar.", first=MIN_YEAR, last=MAX_YEAR)


class BadInput(Exception):
    """A malformed query parameter; ``field`` names it, ``message`` says what is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class LinkExpired(Gone):
    """410 for a confirmation link past its time (the error page shows ``name`` as its title)."""

    name = _l("This link has expired")
    description = _l(
        "This confirmation link has expired. Your booking e-mail has the details; "
        "contact the business if you need them again."
    )


# ------------------------------------------------------------------ template helpers

def iso_z(instant: datetime) -> str:
    """An instant as ``2027-01-05T09:00:00Z`` (no ``+`` to escape in URLs)."""
    return instant.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.context_processor
def helpers():
    return {
        "format_price": format_price, "format_duration": format_duration, "iso_z": iso_z, "STEPS": STEPS,
        "day_parts": group_by_part_of_day,
    }


# ------------------------------------------------------------------ parsing

def confirmation_token(booking: Booking) -> str:
    """The token of a booking's confirmation link: ``[reference, digest of the manage secret]``
    signed with the secret key (itsdangerous ``URLSafeSerializer``), so revoking the booking's
    client links (a new manage secret) revokes this one too. The link stops working
    ``CONFIRMATION_LINK_DAYS`` after the appointment (see :func:`link_expired`)."""
    payload = [booking.reference, client_self_service.secret_digest(booking.manage_secret)]
    return URLSafeSerializer(current_app.secret_key, salt="booking-confirmation").dumps(payload)


def token_check(reference: str, token: str | None) -> tuple[bool, str | None]:
    """``(matches, digest)`` for a confirmation ``token`` of ``reference``: ``digest`` is the
    manage-secret digest it carries, or None for a token made before links were tied to the
    secret (the reference alone), which still opens the page but without the manage link."""
    if not token:
        return False, None
    try:
        payload = URLSafeSerializer(current_app.secret_key, salt="booking-confirmation").loads(token)
    except BadSignature:
        return False, None
    if isinstance(payload, str):
        return payload == reference, None
    if isinstance(payload, list) and len(payload) == 2 and all(isinstance(p, str) for p in payload):
        return payload[0] == reference, payload[1]
    return False, None


def link_expired(booking: Booking, now: datetime | None = None) -> bool:
    """True once ``CONFIRMATION_LINK_DAYS`` (default 30) days have passed since the booking's
    end: long enough to come back for the details or the calendar file, not a lasting handle on
    the client's name and contact. Taken from the booking as it is now, so a reschedule moves it."""
    days = current_app.config.get("CONFIRMATION_LINK_DAYS", 30)
    return (now or utcnow()) >= booking.end_at + timedelta(days=days)


def parse_tz(raw: str | None, default: str) -> str:
    """The client's zone from ``?tz=``: ``default`` when absent, an alias as its canonical zone
    (``Asia/Calcutta`` -> ``Asia/Kolkata``, as the zone picker lists it); BadInput when unknown."""
    if raw is None or raw == "":
        return default
    if not is_timezone(raw):
        raise BadInput("tz", _("“%(zone)s” is not a time zone we know. Pick one from the list, like Europe/London.", zone=raw[:64]))
    return selected_zone(raw)


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
    raise BadInput("month", _("The month must look like 2027-01 (year-month)."))


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
    raise BadInput("date", _("The date must be a real day written like 2027-01-31 (year-month-day)."))


def parse_start(raw: str | None) -> datetime:
    message = _("The chosen time is missing or malformed. Please pick a time from the calendar.")
    if not raw:
        raise BadInput("start", message)
    try:
        value = datetime.fromisoformat(raw.strip().replace(" ", "+"))
    except ValueError:
        raise BadInput("start", message) from None
    if value.tzinfo is None:
        raise BadInput("start", _("The chosen time must include its UTC offset. Please pick a time from the calendar."))
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
    """The business with booking link ``slug``; 404 when there is none, and a 301 (308 for a
    form post) to the same page under the business's current slug when ``slug`` is one it used
    before."""
    business = availability_service.load_business_for_availability(slug)
    if business is None:
        current = business_service.current_slug(slug)
        if current is None:
            abort(404)
        prefix = f"/book/{slug}"
        path = f"/book/{current}{request.path[len(prefix):]}" if request.path.startswith(prefix) else url_for("public.business_page", slug=current)
        query = request.query_string.decode("latin-1")
        abort(redirect(f"{path}?{query}" if query else path, code=301 if request.method in ("GET", "HEAD") else 308))
    g.public_business = business  # its framing setting decides who may frame the page (app.security_headers)
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

@bp.get("/<slug>/book")
def business_page_other_order(slug: str):
    """``/<slug>/book``, as people sometimes type the link: 301 to ``/book/<slug>`` (its current
    slug for an old one); 404 unless a business has or had that slug."""
    business = availability_service.load_business_for_availability(slug)
    current = business.slug if business is not None else business_service.current_slug(slug)
    if current is None:
        abort(404)
    query = request.query_string.decode("latin-1")
    path = url_for("public.business_page", slug=current)
    return redirect(f"{path}?{query}" if query else path, code=301)


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
        for week in month_weeks(month.year, month.month)
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
        prev_month=prev_month, next_month=next_month, next_free=next_free, zone_options=zone_options_html(now, tz, REGION_LABELS),
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
    form.region = phone_region(business)
    context = dict(
        business=business, service=service, tz=tz, start=start, end=start + timedelta(minutes=service.duration_minutes),
        phone_hint=_("Like %(example)s.", example=phone_example(form.region)) if form.region
        else _("With country code, like %(example)s.", example=phone_example(None)),
    )

    if request.method == "GET":
        slot = _free_slot(business, service, start)
        if slot is None:
            mine = _remembered_booking(business, service, start)
            if mine is not None:  # Back to a time this browser has just booked: their booking
                return _booked_response(business, mine, tz, already=True)
            alternatives = availability_service.nearest_alternatives(business, service, start)
            return _unavailable_page(business, service, tz, _("Someone may have just booked it, or it is outside the hours we can offer. Here are the nearest free times."), alternatives, start)
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
        message = _("This form was already sent with other details. Check them and send it again to make this booking.")
        return render("public/details.html", block="step", status=422, form=form, general_error=message, **context)
    except ValidationFailed as exc:
        for name, message in exc.fields.items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = [*field.errors, message]
        return render("public/details.html", block="step", status=422, form=form, general_error=exc.message, **context)
    except NotFound:
        abort(404)

    _remember_booking(result.booking)
    # Not created: this client already had it (the same form sent again, or the same time asked
    # for again), so the page says so.
    return _booked_response(business, result.booking, tz, already=not result.created)


# The references this browser booked lately (in the signed session cookie), so that going Back
# to a time it already holds shows that booking rather than "someone may have just booked it".
_REMEMBERED = "booked"
_REMEMBER_AT_MOST = 10


def _remember_booking(booking: Booking) -> None:
    references = [r for r in session.get(_REMEMBERED, []) if isinstance(r, str) and r != booking.reference]
    session[_REMEMBERED] = [*references, booking.reference][-_REMEMBER_AT_MOST:]


def _remembered_booking(business: Business, service: Service, start: datetime) -> Booking | None:
    """This browser's pending or confirmed booking of ``service`` at ``start``, if it made one lately."""
    for reference in reversed(session.get(_REMEMBERED, [])):
        booking = booking_queries.get_by_reference(business, reference) if isinstance(reference, str) else None
        if (
            booking is not None and booking.service_id == service.id and booking.start_at == start
            and booking.status in (BookingStatus.PENDING, BookingStatus.CONFIRMED)
        ):
            return booking
    return None


def _booked_response(business: Business, booking: Booking, tz: str, *, already: bool):
    """After booking: the confirmation page (303 to it; in place with its URL pushed for htmx).
    ``already``: the client held this time before, so the page says so."""
    url = confirmation_url(business, booking, tz, already=already)
    if wants_fragment():
        return confirmation_response(business, booking, tz, headers={"HX-Push-Url": url}, already=already)
    return redirect(url, code=303)


# ------------------------------------------------------------------ step 4: confirmation

def confirmation_url(business: Business, booking: Booking, tz: str | None = None, ics: bool = False, already: bool = False) -> str:
    endpoint = "public.confirmation_ics" if ics else "public.confirmation"
    args = {"slug": business.slug, "reference": booking.reference, "token": confirmation_token(booking)}
    if tz and not ics:
        args["tz"] = tz
    if already and not ics:
        args["already"] = "1"
    return url_for(endpoint, **args)


def hold_until(booking: Booking) -> datetime | None:
    """Until when a request holds its time, to show the client: its expiry when that comes
    before the appointment, else None (the request is held until the appointment itself, and a
    deadline at or after the start would read as nonsense)."""
    if booking.status != BookingStatus.PENDING or booking.expires_at is None:
        return None
    return booking.expires_at if booking.expires_at < booking.start_at else None


def confirmation_response(
    business: Business, booking: Booking, tz: str, headers: dict | None = None, *, already: bool = False,
    show_manage: bool = True,
):
    """The confirmation page of ``booking``. ``already``: say the client held this time before;
    ``show_manage``: offer the manage link (not for a link made before links were revocable)."""
    confirmed = booking.status == BookingStatus.CONFIRMED
    return render(
        "public/confirmation.html", block="step", business=business, booking=booking, service=booking.service,
        tz=tz, already=already, show_manage=show_manage, notice=clients.confirmation_notice(booking),
        hold_until=hold_until(booking),
        google_url=calendar_links.google_calendar_url(booking, business) if confirmed else None,
        outlook_url=calendar_links.outlook_calendar_url(booking, business) if confirmed else None,
        ics_url=confirmation_url(business, booking, ics=True) if confirmed else None, headers=headers,
    )


def _load_booking(slug: str, reference: str) -> tuple[Business, Booking, bool]:
    """``(business, booking, current)`` for a confirmation link; ``current`` is False for a
    token made before links were tied to the manage secret. 404 for a bad link, the 410 page
    once the business revoked the booking's client links, :class:`LinkExpired` when old."""
    business = load_business(slug)
    matches, digest = token_check(reference, request.args.get("token"))
    if not matches:
        abort(404)
    booking = booking_queries.get_by_reference(business, reference)
    if booking is None or booking.reference != reference:
        abort(404)
    if digest is not None and not hmac.compare_digest(digest, client_self_service.secret_digest(booking.manage_secret)):
        abort(render(
            "public/manage_gone.html", block="step", status=410, business=business, booking=booking, reason="revoked",
            expired_at=None,
        ))
    if link_expired(booking):
        raise LinkExpired()
    return business, booking, digest is not None


@bp.get("/book/<slug>/confirmation/<reference>")
def confirmation(slug: str, reference: str):
    business, booking, current = _load_booking(slug, reference)
    raw_tz = request.args.get("tz")
    tz = raw_tz if is_timezone(raw_tz) else (booking.client_timezone if is_timezone(booking.client_timezone) else business.timezone)
    return confirmation_response(business, booking, tz, already=request.args.get("already") == "1", show_manage=current)


@bp.get("/book/<slug>/confirmation/<reference>.ics")
def confirmation_ics(slug: str, reference: str):
    business, booking, _current = _load_booking(slug, reference)
    body = calendar_files.booking_ics(booking, business)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{booking.reference}.ics"'},
    )
