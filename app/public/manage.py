"""The client's manage page: their own booking through its signed link, no log-in.

``/book/<slug>/manage/<token>`` shows the booking and the business's rules for changes; from
there the client reschedules (the public month picker for the same service, then a confirm
step) or cancels (a confirm step with an optional reason); a request awaiting approval can be
withdrawn at any time. Every step is one URL answering a full page, or its ``step`` block when
HTMX swaps it into ``#booking-step`` (:func:`app.web.render`), so it all works without
JavaScript. The token and the policy are :mod:`app.services.client_self_service`'s; the changes
are :func:`app.services.booking_service.client_reschedule` and ``client_cancel``.

A link that is malformed, tampered with or for another business answers 404 like any unknown
page; a genuine link the business revoked, or one past its expiry, answers 410 with a page
saying how to reach the business.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import wraps
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from app.domain.availability import group_by_local_date
from app.extensions import booking_limit
from app.i18n import month_weeks
from app.models import Booking, Business, utcnow
from app.public import bp
from app.public.routes import BadInput, Day, add_months, load_business, parse_date, parse_month, parse_start
from app.services import booking_service, client_self_service
from app.services.client_self_service import ChangeNotAllowed, LinkGone, LinkNotFound
from app.services.errors import Conflict, SlotUnavailable, ValidationFailed
from app.text import paragraph_filter
from app.timezones import is_timezone
from app.web import render, wants_fragment

REASON_MAX = 2000


class CancelForm(FlaskForm):
    """The optional reason a client gives when cancelling or withdrawing."""

    reason = TextAreaField(
        _l("Reason (optional)"),
        validators=[Length(max=REASON_MAX, message=_l("Please keep the reason under %(max)d characters.", max=REASON_MAX))],
        filters=[paragraph_filter],
        render_kw={"rows": 3},
    )


class ConfirmForm(FlaskForm):
    """The confirm step of a reschedule: nothing but the CSRF token (the time is in the URL)."""


def manage_path(booking: Booking) -> str:
    """The manage page of ``booking`` (a path), for templates (e.g. the confirmation page)."""
    return client_self_service.manage_path(booking)


@bp.context_processor
def manage_helpers():
    return {"manage_path": manage_path}


# ------------------------------------------------------------------ loading

def client_tz(business: Business, booking: Booking) -> str:
    """The zone to show times in: ``tz`` from the query or form if it is a zone we know, else
    the client's own (from booking), else the business's."""
    raw = request.values.get("tz")
    if is_timezone(raw):
        return raw
    return booking.client_timezone if is_timezone(booking.client_timezone) else business.timezone


def with_booking(view):
    """Resolve ``slug`` and ``token`` to the business and the booking, then call
    ``view(business, booking, token)``; 404 for an unknown business or a bad link, the 410 page
    for a revoked or expired one."""

    @wraps(view)
    def wrapper(slug: str, token: str):
        business = load_business(slug)
        try:
            booking = client_self_service.booking_for_token(business, token)
        except LinkNotFound:
            abort(404)
        except LinkGone as exc:
            # htmx swaps no 410: a step asked for with it loads the whole page instead.
            headers = {"HX-Redirect": url_for("public.manage", slug=slug, token=token)} if wants_fragment() else None
            return render(
                "public/manage_gone.html", block="step", status=410, headers=headers, business=business, booking=exc.booking,
                reason=exc.reason, expired_at=client_self_service.link_expires_at(exc.booking),
            )
        return view(business, booking, token)

    return wrapper


def page_url(token: str, booking: Booking, endpoint: str = "public.manage", **args) -> str:
    return url_for(endpoint, slug=booking.business.slug, token=token, **args)


# ------------------------------------------------------------------ the manage page

def manage_response(business: Business, booking: Booking, token: str, *, status: int = 200, message: str | None = None,
                    error: str | None = None, headers: dict | None = None):
    policy = client_self_service.client_policy(booking, business.settings)
    return render(
        "public/manage.html", block="step", status=status, headers=headers, business=business, booking=booking,
        service=booking.service, token=token, tz=client_tz(business, booking), policy=policy, message=message, error=error,
    )


@bp.get("/book/<slug>/manage/<token>")
@with_booking
def manage(business: Business, booking: Booking, token: str):
    return manage_response(business, booking, token)


def done(business: Business, booking: Booking, token: str, message: str):
    """After a change: the manage page with ``message`` (HTMX: swapped in, URL pushed), or a
    redirect to it with the message flashed (303, so reloading does not send the form again)."""
    tz = client_tz(business, booking)
    url = page_url(token, booking, tz=tz)
    if wants_fragment():
        return manage_response(business, booking, token, message=message, headers={"HX-Push-Url": url})
    flash(message, "success")
    return redirect(url, code=303)


def refused(business: Business, booking: Booking, token: str, exc: Conflict):
    """The manage page again (409) with why the change was refused; its policy box says whom to call."""
    return manage_response(business, booking, token, status=409, error=exc.message)


# ------------------------------------------------------------------ rescheduling: the picker

@bp.get("/book/<slug>/manage/<token>/reschedule")
@with_booking
def manage_reschedule(business: Business, booking: Booking, token: str):
    try:
        policy = client_self_service.require_allowed(booking, business.settings, client_self_service.RESCHEDULE, utcnow())
    except ChangeNotAllowed as exc:
        return refused(business, booking, token, exc)
    tz = client_tz(business, booking)
    try:
        month = parse_month(request.args.get("month"))
        chosen = parse_date(request.args.get("date"))
    except BadInput as exc:
        return bad_input(business, booking, token, tz, exc)

    now = utcnow()
    settings = business.settings
    zone, business_zone = ZoneInfo(tz), ZoneInfo(business.timezone)
    last_instant = now + timedelta(days=settings.max_advance_booking_days)
    today, last_day = now.astimezone(zone).date(), last_instant.astimezone(zone).date()
    first_month, last_month = today.replace(day=1), last_day.replace(day=1)
    month = month or (chosen.replace(day=1) if chosen else first_month)
    month = min(max(month, first_month), last_month)
    if chosen and chosen.replace(day=1) != month:
        chosen = None
    month_end = add_months(month, 1) - timedelta(days=1)
    # As on the booking page: business-zone dates around the client's month, clipped to the window.
    range_start = max(month - timedelta(days=1), now.astimezone(business_zone).date())
    range_end = min(month_end + timedelta(days=1), last_instant.astimezone(business_zone).date())
    slots = booking_service.client_reschedule_slots(business, booking, range_start, range_end, now) if range_start <= range_end else []
    by_day = {d: s for d, s in group_by_local_date(slots, tz).items() if month <= d <= month_end}
    if chosen is None and by_day:
        chosen = min(by_day)
    weeks = [
        [Day(d, d.month == month.month, len(by_day.get(d, ())), d == today) for d in week]
        for week in month_weeks(month.year, month.month)
    ]
    prev_month = add_months(month, -1) if month > first_month else None
    next_month = add_months(month, 1) if month < last_month else None
    return render(
        "public/manage_reschedule.html", block="step", business=business, booking=booking, service=booking.service,
        token=token, tz=tz, month=month, weeks=weeks, chosen=chosen, day_slots=by_day.get(chosen, []) if chosen else [],
        free_days=len(by_day), prev_month=prev_month, next_month=next_month,
        next_free=next_month if not by_day and next_month else None, policy=policy,
    )


def bad_input(business: Business, booking: Booking, token: str, tz: str, exc: BadInput):
    return render(
        "public/manage_bad_input.html", block="step", status=422, business=business, booking=booking, token=token,
        tz=tz, error=exc,
    )


# ------------------------------------------------------------------ rescheduling: confirm

@bp.route("/book/<slug>/manage/<token>/reschedule/confirm", methods=["GET", "POST"])
@booking_limit
@with_booking
def manage_reschedule_confirm(business: Business, booking: Booking, token: str):
    tz = client_tz(business, booking)
    try:
        start = parse_start(request.args.get("start"))
    except BadInput as exc:
        return bad_input(business, booking, token, tz, exc)
    form = ConfirmForm()
    context = dict(
        business=business, booking=booking, service=booking.service, token=token, tz=tz, start=start,
        end=start + (booking.end_at - booking.start_at), form=form,
    )
    if request.method == "GET":
        try:
            client_self_service.require_allowed(booking, business.settings, client_self_service.RESCHEDULE, utcnow())
        except ChangeNotAllowed as exc:
            return refused(business, booking, token, exc)
        local = start.astimezone(ZoneInfo(business.timezone)).date()
        if not any(s.start == start for s in booking_service.client_reschedule_slots(business, booking, local, local)):
            message = _("That time is not free, or is outside the times you can move to. Here are the nearest free times.")
            return unavailable(business, booking, token, tz, start, message)
        return render("public/manage_confirm.html", block="step", **context)

    if not form.validate_on_submit():  # the CSRF token (CSRFProtect answers a missing one first)
        return render("public/manage_confirm.html", block="step", status=422, **context)
    try:
        booking = booking_service.client_reschedule(business, booking.id, start)
    except SlotUnavailable as exc:
        return unavailable(business, booking, token, tz, start, exc.message, exc.alternatives)
    except ChangeNotAllowed as exc:
        return refused(business, booking, token, exc)
    except ValidationFailed as exc:
        return bad_input(business, booking, token, tz, BadInput("start", exc.fields.get("start", exc.message)))
    except Conflict as exc:
        return refused(business, booking, token, exc)
    if booking.status.value == "pending":
        message = _("Your request has moved to its new time. %(business)s will confirm it soon.", business=business.name)
    else:
        message = _("Your booking has moved to its new time. We have e-mailed you the details.")
    return done(business, booking, token, message)


def unavailable(business: Business, booking: Booking, token: str, tz: str, start: datetime, message: str, alternatives=None):
    if alternatives is None:
        alternatives = booking_service.client_alternatives(business, booking, start)
    return render(
        "public/manage_unavailable.html", block="step", status=409, business=business, booking=booking,
        service=booking.service, token=token, tz=tz, start=start, message=message, alternatives=alternatives,
    )


# ------------------------------------------------------------------ cancelling / withdrawing

@bp.route("/book/<slug>/manage/<token>/cancel", methods=["GET", "POST"])
@booking_limit
@with_booking
def manage_cancel(business: Business, booking: Booking, token: str):
    try:
        client_self_service.require_allowed(booking, business.settings, client_self_service.CANCEL, utcnow())
    except ChangeNotAllowed as exc:
        return refused(business, booking, token, exc)
    tz = client_tz(business, booking)
    form = CancelForm()
    context = dict(business=business, booking=booking, service=booking.service, token=token, tz=tz, form=form)
    if request.method == "GET":
        return render("public/manage_cancel.html", block="step", **context)
    if not form.validate_on_submit():
        return render("public/manage_cancel.html", block="step", status=422, **context)
    withdrawing = booking.status.value == "pending"
    try:
        booking = booking_service.client_cancel(business, booking.id, form.reason.data)
    except ValidationFailed as exc:
        form.reason.errors = [exc.fields.get("reason", exc.message)]
        return render("public/manage_cancel.html", block="step", status=422, **context)
    except Conflict as exc:
        return refused(business, booking, token, exc)
    if withdrawing:
        message = _("Your request is withdrawn. %(business)s has been told.", business=business.name)
    else:
        message = _("Your booking is cancelled. %(business)s has been told, and we have e-mailed you a confirmation.", business=business.name)
    return done(business, booking, token, message)
