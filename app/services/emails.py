"""Building booking e-mails: which templates exist, and rendering one for a booking.

Each e-mail is HTML + plain text from ``templates/email/`` in the business's language
(``Business.language``, see :mod:`app.i18n`; subjects here and every template string are gettext
messages, catalogs in ``app/translations``), with the business's colour
(:func:`app.domain.colors.email_theme`), "add to calendar" links (:mod:`app.services.calendar_links`)
and, where the e-mail changes the client's calendar, an iTIP invitation
(:mod:`app.services.invitations`). The result is an :class:`app.integrations.mail.OutgoingEmail`;
MIME assembly and sending are the mail integration's.

Which e-mails a booking change implies is decided by :mod:`app.services.booking_emails`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import select

from app.domain.booking_events import BookingEvent
from app.domain.booking_state import HOLDING_STATUSES, BookingStatus
from app.domain.colors import email_theme
from app.extensions import db
from app.i18n import Language, email_language, format_when
from app.integrations.mail import OutgoingEmail, mailer_for
from app.models import Booking, Business, Membership, Role, User, utcnow
from app.services.calendar_links import google_calendar_url, outlook_calendar_url
from app.services.client_self_service import manage_url
from app.services.invitations import CANCEL, REQUEST, build_invitation

CLIENT = "client"
OWNER = "owner"


def N_(message: str) -> str:
    """Mark ``message`` for extraction (pybabel's default keywords); translated when rendered."""
    return message


@dataclass(frozen=True)
class Template:
    name: str  # templates/email/<name>.html and .txt
    audience: str  # CLIENT or OWNER
    subject: str  # gettext msgid; fills %(service)s, %(date)s, %(client)s
    method: str | None = None  # iTIP method of the calendar part, if any
    needs_status: frozenset[BookingStatus] | None = None  # skip (stale) unless the booking is in one of these
    current_sequence_only: bool = False  # skip if the booking changed (SEQUENCE moved) since recording


_CONFIRMED = frozenset({BookingStatus.CONFIRMED})

TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in [
        Template("request_received", CLIENT, N_("Request received: %(service)s on %(date)s")),
        Template("confirmed", CLIENT, N_("Confirmed: %(service)s on %(date)s"), REQUEST, _CONFIRMED, True),
        Template("rescheduled", CLIENT, N_("New time: %(service)s on %(date)s"), REQUEST, _CONFIRMED, True),
        Template("rejected", CLIENT, N_("Not confirmed: %(service)s on %(date)s")),
        Template("cancelled", CLIENT, N_("Cancelled: %(service)s on %(date)s"), CANCEL),
        Template("expired", CLIENT, N_("Request expired: %(service)s on %(date)s")),
        Template("reminder", CLIENT, N_("Reminder: %(service)s on %(date)s"), None, _CONFIRMED, True),
        Template("owner_new_request", OWNER, N_("New booking request: %(client)s for %(service)s on %(date)s")),
        Template("owner_confirmed", OWNER, N_("New booking: %(client)s for %(service)s on %(date)s")),
        Template("owner_cancelled", OWNER, N_("Booking cancelled: %(client)s for %(service)s on %(date)s")),
        Template("owner_expired", OWNER, N_("Request expired unanswered: %(client)s for %(service)s on %(date)s")),
        Template("owner_rescheduled", OWNER, N_("Booking moved: %(client)s for %(service)s on %(date)s"), None, None, True),
    ]
}

def owner_addresses(business: Business) -> list[str]:
    """Where owner e-mails go: the business's e-mail, else every owner's login e-mail."""
    if business.email:
        return [business.email]
    return list(
        db.session.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.business_id == business.id, Membership.role == Role.OWNER)
            .order_by(User.id)
        )
    )


def skip_reason(booking: Booking, template: Template, sequence: int | None) -> str | None:
    """Why a recorded e-mail should not go out any more (None = send it)."""
    if template.needs_status is not None and booking.status not in template.needs_status:
        return f"booking is {booking.status.value}"
    if template.current_sequence_only and sequence is not None and sequence != booking.sequence:
        return f"booking changed since (SEQUENCE {sequence} -> {booking.sequence})"
    if template.audience == CLIENT and not booking.client_email:
        return "client has no e-mail address"
    return None


def build_booking_email(
    booking: Booking, template: str, *, sequence: int | None = None, now: datetime | None = None
) -> OutgoingEmail | None:
    """Render ``template`` for ``booking``; None when it should not be sent (see :func:`skip_reason`,
    or an owner e-mail for a business with no address). ``sequence`` is the SEQUENCE recorded with
    the job (default: the booking's current one).

    Subject and both parts are in the business's language (English when unknown), dates and times
    formatted for it in the recipient's zone (the client's, or the business's for owner e-mails).
    Needs an app context, not a request."""
    spec = TEMPLATES[template]
    if skip_reason(booking, spec, sequence) is not None:
        return None
    business = booking.business
    now = now or utcnow()
    base_url = current_app.config.get("BASE_URL", "").rstrip("/")
    if spec.audience == CLIENT:
        to, tz_name = [booking.client_email], booking.client_timezone or business.timezone
        reply_to = business.email_reply_to or business.email or None
    else:
        to, tz_name, reply_to = owner_addresses(business), business.timezone, booking.client_email
    if not to:
        return None
    language = email_language(business.language)
    with force_locale(language.code):
        text, html, subject = _render(booking, business, spec, language, tz_name, base_url)
    invitation = None
    if spec.method == REQUEST or (spec.method == CANCEL and booking.approved_at is not None):
        # A CANCEL only for an event the client was sent (a confirmed booking); a declined or
        # withdrawn request never reached their calendar.
        organizer = mailer_for(current_app).sender
        invitation = build_invitation(booking, business, spec.method, sequence=sequence, now=now, fallback_organizer=organizer)
    return OutgoingEmail(
        template=template,
        to=tuple(to),
        subject=subject,
        text=text,
        html=html,
        # The sender name only for clients: owner e-mails keep the business name they know.
        from_name=(business.email_sender_name or business.name) if spec.audience == CLIENT else business.name,
        reply_to=reply_to,
        invitation=invitation,
    )


def _render(booking: Booking, business: Business, spec: Template, language: Language, tz_name: str, base_url: str) -> tuple[str, str, str]:
    """(text, html, subject) of ``spec`` in the current (forced) locale."""
    date, times = format_when(booking.start_at, booking.end_at, tz_name, language)
    fields = {"service": booking.service.name, "date": date, "client": booking.client_name}
    template = spec.name
    context = {
        "lang": language.code,
        "theme": email_theme(business.brand_color),
        "booking": booking,
        "business": business,
        "service": booking.service,
        "staff": booking.staff,
        "date": date,
        "times": times,
        "timezone": tz_name,
        "reference": booking.reference,
        "google_url": google_calendar_url(booking, business),
        "outlook_url": outlook_calendar_url(booking, business),
        "requests_url": f"{base_url}/dashboard/requests",
        "booking_url": f"{base_url}/dashboard/bookings/{booking.id}",
        "base_url": base_url,
        "reason": booking.rejection_reason if template == "rejected" else booking.cancellation_reason,
        "subject": gettext(spec.subject, **fields),
        # The client's "Manage booking" link, while there is still something to manage.
        "manage_url": manage_url(booking) if spec.audience == CLIENT and booking.status in HOLDING_STATUSES else None,
    }
    if template == "owner_rescheduled":
        context["previous_date"], context["previous_times"] = _previous_time(booking, tz_name, language)
    if template == "rescheduled":
        context["owner_message"] = _reschedule_message(booking)
    env = current_app.jinja_env  # not render_template: no request-bound context processors
    text = env.get_template(f"email/{template}.txt").render(**context)
    html = env.get_template(f"email/{template}.html").render(**context)
    return text, html, context["subject"]


def _reschedule_message(booking: Booking) -> str | None:
    """The business's message to the client with the booking's latest reschedule (the audit
    row's ``message``), or None."""
    moves = [e for e in booking.events if e.event == BookingEvent.RESCHEDULED]
    return (moves[-1].data or {}).get("message") or None if moves else None


def _previous_time(booking: Booking, tz_name: str, language: Language) -> tuple[str | None, str | None]:
    """``(date, times)`` of where ``booking`` was before its latest reschedule (the audit row's
    ``from_start``; the duration is the booking's), or ``(None, None)`` if it never moved."""
    moves = [e for e in booking.events if e.event == BookingEvent.RESCHEDULED and (e.data or {}).get("from_start")]
    if not moves:
        return None, None
    start = datetime.fromisoformat(moves[-1].data["from_start"])
    return format_when(start, start + (booking.end_at - booking.start_at), tz_name, language)
