"""Booking e-mails: which ones a booking event implies, and building each one (HTML + plain text
from ``templates/email/``, plus an iMIP calendar part where the event changes the client's
calendar).

Each e-mail is written in the business's language (``Business.language``, see :mod:`app.i18n`;
subjects here and every template string are gettext messages, catalogs in ``app/translations``)
and the HTML part carries the business's colour (``Business.brand_color``, see :func:`email_theme`).

The booking service calls :func:`record_booking_emails` (and :func:`record_reminders`) inside its
transaction, after applying the change; the jobs in :mod:`app.jobs.notifications` later call
:func:`build_booking_email` and :func:`to_mime` and send the result.

MIME structure (api-notes.md section 8, RFC 6047)::

    multipart/mixed
      multipart/alternative
        text/plain
        text/html
        text/calendar; method=REQUEST|CANCEL; charset="utf-8"
      text/calendar; method=...; name="invite.ics"   (Content-Disposition: attachment)
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from urllib.parse import urlencode

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import select

from app.domain.booking_state import BookingStatus
from app.extensions import db
from app.i18n import Language, email_language, format_when
from app.models import Booking, Business, Membership, Role, User, utcnow
from app.models.outbox import OutboxJob
from app.services import notifications, outbox
from app.services.calendar_links import event_description, event_title, google_calendar_url
from app.services.invitations import CANCEL, REQUEST, Invitation, build_invitation

JOB_KIND = "booking_email"
QUEUE = "notifications"
DEFAULT_MAIL_FROM = "Flowkey <no-reply@flowkey.invalid>"

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
    ]
}

#: Booking events -> the e-mails they imply. ``created`` depends on the booking's status.
EVENTS: dict[str, tuple[str, ...]] = {
    "requested": ("request_received", "owner_new_request"),  # created pending (awaiting approval)
    "booked": ("confirmed", "owner_confirmed"),  # created confirmed
    "approved": ("confirmed",),
    "rejected": ("rejected",),
    "cancelled": ("cancelled", "owner_cancelled"),  # owner_cancelled dropped when the owner cancelled
    "expired": ("expired", "owner_expired"),
    "rescheduled": ("rescheduled",),
}


@dataclass(frozen=True)
class OutgoingEmail:
    template: str
    to: tuple[str, ...]
    subject: str
    text: str
    html: str
    from_name: str
    reply_to: str | None = None
    invitation: Invitation | None = None


# ------------------------------------------------------------------ recording (caller's transaction)

def job_key(booking: Booking, template: str, suffix: str = "") -> str:
    """The idempotency key of one booking e-mail: booking, template and the SEQUENCE it announces."""
    return f"email:booking:{booking.id}:{template}:s{booking.sequence}{suffix}"


def reminder_key_pattern(booking: Booking) -> str:
    """SQL ``LIKE`` pattern matching every reminder job key of ``booking`` (any SEQUENCE)."""
    return f"email:booking:{booking.id}:reminder:%"


def record_booking_email(booking: Booking, template: str, *, run_at: datetime | None = None, suffix: str = "") -> OutboxJob:
    """Record one e-mail job for ``booking`` in the current session (no commit)."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown e-mail template {template!r}")
    if booking.id is None:
        db.session.flush()
    return outbox.record(
        JOB_KIND,
        {"booking_id": booking.id, "template": template, "sequence": booking.sequence},
        key=job_key(booking, template, suffix),
        run_at=run_at,
        queue=QUEUE,
        booking_id=booking.id,
        business_id=booking.business_id,
    )


def record_booking_emails(booking: Booking, event: str, *, by_owner: bool = False) -> list[OutboxJob]:
    """Record the e-mails a booking ``event`` implies, in the current session (no commit).

    Call it inside the service's transaction AFTER applying the change (status, reasons, and the
    SEQUENCE bump), so the job carries the SEQUENCE it announces. ``event`` is ``created`` (picks
    ``requested`` or ``booked`` from the status) or a key of :data:`EVENTS`. ``by_owner``: the owner
    made the change themselves, so they get no e-mail about it; owner e-mails are also dropped when
    every owner turned e-mail off for the event (:func:`notifications.owners_want_email`). Returns the jobs (existing ones for
    keys already recorded). Raises ``ValueError`` for an unknown event.
    """
    if event == "created":
        event = "requested" if booking.status == BookingStatus.PENDING else "booked"
    if event not in EVENTS:
        raise ValueError(f"unknown booking event {event!r}")
    templates = [t for t in EVENTS[event] if not (by_owner and TEMPLATES[t].audience == OWNER)]
    # Owner e-mails honour the owners' notification preferences (all off for that event -> none).
    templates = [t for t in templates if TEMPLATES[t].audience != OWNER or notifications.owners_want_email(booking.business_id, t)]
    return [record_booking_email(booking, t) for t in templates]


def record_reminders(booking: Booking, offsets: list[timedelta] | None = None, now: datetime | None = None) -> list[OutboxJob]:
    """Record reminder e-mails ``offsets`` before the start (default 24 h and 1 h), skipping the
    ones already in the past. Keys include the SEQUENCE, so after a reschedule (SEQUENCE + 1) new
    reminders are recorded and the old ones are skipped as stale when they come due."""
    now = now or utcnow()
    offsets = offsets if offsets is not None else [timedelta(hours=24), timedelta(hours=1)]
    jobs = []
    for offset in offsets:
        run_at = booking.start_at - offset
        if run_at > now:
            minutes = int(offset.total_seconds() // 60)
            jobs.append(record_booking_email(booking, "reminder", run_at=run_at, suffix=f":{minutes}m"))
    return jobs


# ------------------------------------------------------------------ branding

DEFAULT_BRAND = "#1f5fbf"  # the header band and buttons when the business set no colour
DEFAULT_LINK = "#1f5fbf"
WHITE = "#ffffff"
DARK = "#000000"  # text on light brand colours: black reaches 4.5:1 on any colour white does not
PAGE_BACKGROUND = "#f4f5f7"  # links sit on it (footer) or on white (card): check the darker one
MIN_CONTRAST = 4.5  # WCAG 2.1 AA, normal text


@dataclass(frozen=True)
class Theme:
    brand: str  # "#rrggbb" background of the header band and buttons
    on_brand: str  # text colour on ``brand``
    link: str  # link colour on the white card and the grey page


def _luminance(hex_color: str) -> float:
    """WCAG 2.1 relative luminance of ``#rrggbb``."""
    channels = [int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio of two ``#rrggbb`` colours, 1.0 to 21.0."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def email_theme(brand_color: str | None) -> Theme:
    """The HTML e-mail colours for a business colour (``#rrggbb``; None or malformed = default).

    White text on the colour only when it reaches 4.5:1, else black; links take the colour only
    when it reaches 4.5:1 on the page background, else the default link blue."""
    brand = (brand_color or "").lower()
    if len(brand) != 7 or not brand.startswith("#") or any(c not in "0123456789abcdef" for c in brand[1:]):
        brand = DEFAULT_BRAND
    on_brand = WHITE if contrast_ratio(brand, WHITE) >= MIN_CONTRAST else DARK
    link = brand if contrast_ratio(brand, PAGE_BACKGROUND) >= MIN_CONTRAST else DEFAULT_LINK
    return Theme(brand=brand, on_brand=on_brand, link=link)


# ------------------------------------------------------------------ building


def outlook_calendar_url(booking: Booking, business: Business) -> str:
    """Outlook on the web "add event" deep link (outlook.live.com; times as UTC ISO 8601).

    Like Google's, this URL is not formally documented by Microsoft; the parameters follow
    https://github.com/InteractionDesignFoundation/add-event-to-calendar-docs/blob/main/services/outlook-web.md
    """
    params = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": event_title(booking, business),
        "startdt": booking.start_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "enddt": booking.end_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "body": event_description(booking, business),
    }
    if business.address:
        params["location"] = business.address
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(params)


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


def mail_from() -> str:
    return current_app.config.get("MAIL_FROM") or DEFAULT_MAIL_FROM


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
        to, tz_name, reply_to = [booking.client_email], booking.client_timezone or business.timezone, business.email or None
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
        organizer = getaddresses([mail_from()])[0][1]
        invitation = build_invitation(booking, business, spec.method, sequence=sequence, now=now, fallback_organizer=organizer)
    return OutgoingEmail(
        template=template,
        to=tuple(to),
        subject=subject,
        text=text,
        html=html,
        from_name=business.name,
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
    }
    env = current_app.jinja_env  # not render_template: no request-bound context processors
    text = env.get_template(f"email/{template}.txt").render(**context)
    html = env.get_template(f"email/{template}.html").render(**context)
    return text, html, context["subject"]


def message_id(key: str, domain: str | None = None) -> str:
    """A Message-ID derived from the idempotency key: if a message is ever sent twice (see
    :mod:`app.jobs.notifications` for the one window where that can happen), both copies carry the
    same Message-ID, which mail stores such as Gmail use to show one."""
    domain = domain or (getaddresses([mail_from()])[0][1].rpartition("@")[2] or "flowkey.invalid")
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def to_mime(email: OutgoingEmail, *, key: str, now: datetime | None = None) -> EmailMessage:
    """The RFC 5322 message for ``email``: From is ``"<business name>" <MAIL_FROM address>``,
    Reply-To the business (client e-mails) or the client (owner e-mails)."""
    now = now or utcnow()
    sender = getaddresses([mail_from()])[0][1]
    msg = EmailMessage()
    msg["From"] = str(Address(display_name=email.from_name, addr_spec=sender))
    msg["To"] = ", ".join(email.to)
    if email.reply_to:
        msg["Reply-To"] = email.reply_to
    msg["Subject"] = email.subject
    msg["Date"] = format_datetime(now.astimezone(timezone.utc))
    msg["Message-ID"] = message_id(key)
    msg["X-Flowkey-Template"] = email.template
    msg.set_content(email.text)
    msg.add_alternative(email.html, subtype="html")
    if email.invitation is not None:
        method = email.invitation.method
        msg.add_alternative(email.invitation.text, subtype="calendar", params={"method": method})
        msg.add_attachment(
            email.invitation.ics,
            maintype="text",
            subtype="calendar",
            filename="invite.ics",
            params={"method": method, "charset": "utf-8", "name": "invite.ics"},
        )
    return msg
