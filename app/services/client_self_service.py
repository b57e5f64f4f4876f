"""What a client may do with their own booking through its manage link, and the link itself.

The link (``/book/<slug>/manage/<token>``) is the client's only credential: no account, no log-in.
Its token is the booking's reference and a digest of the booking's ``manage_secret``, signed with
the app's secret key (itsdangerous ``URLSafeSerializer``, salt ``booking-manage``, as the
confirmation link is signed). So a link

* opens that booking only, and only under its business's slug;
* stops working ``MANAGE_LINK_DAYS_AFTER`` days (default 7) after the appointment's end, taken
  from the booking as it is now (a reschedule moves it);
* is revoked, with every other link of the booking, when the owner replaces the secret
  (:func:`app.services.booking_service.revoke_client_links`); e-mails sent afterwards carry a
  new one.

The policy (:func:`client_policy`) is the business's settings applied to the booking at an
instant: clients may reschedule and cancel online (each can be switched off) until a number of
hours before the start (``client_reschedule_notice_hours``, ``client_cancel_notice_hours``; 0 =
until the start itself). A request awaiting approval can always be withdrawn. The booking
service enforces the same policy under its lock (:func:`app.services.booking_service.client_reschedule`,
:func:`~app.services.booking_service.client_cancel`).
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from app.domain.booking_state import BookingStatus
from app.extensions import db
from app.models import Booking, BookingSettings, Business, utcnow
from app.services.errors import Conflict, NotFound

SALT = "booking-manage"
DEFAULT_DAYS_AFTER = 7
RESCHEDULE = "reschedule"
CANCEL = "cancel"


# ------------------------------------------------------------------ the link

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=SALT)


def secret_digest(secret: str) -> str:
    """The part of a manage token that ties it to ``secret``: 16 hex digits of its SHA-256.
    The secret itself never appears in a link."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def manage_token(booking: Booking) -> str:
    """The token of ``booking``'s manage link: ``[reference, secret digest]`` signed (see the
    module docstring). Needs an app context."""
    return _serializer().dumps([booking.reference, secret_digest(booking.manage_secret)])


def manage_path(booking: Booking) -> str:
    """``/book/<business slug>/manage/<token>``: the manage page of ``booking``."""
    return f"/book/{booking.business.slug}/manage/{manage_token(booking)}"


def manage_url(booking: Booking) -> str:
    """The absolute manage link (``BASE_URL`` + :func:`manage_path`), as e-mails carry it."""
    return current_app.config.get("BASE_URL", "").rstrip("/") + manage_path(booking)


def link_expires_at(booking: Booking) -> datetime:
    """When ``booking``'s manage links stop working: ``MANAGE_LINK_DAYS_AFTER`` days (default 7)
    after its end (UTC)."""
    days = current_app.config.get("MANAGE_LINK_DAYS_AFTER", DEFAULT_DAYS_AFTER)
    return booking.end_at + timedelta(days=days)


class LinkNotFound(NotFound):
    """A token that is not a manage token of this business's booking (malformed, tampered with,
    signed for another booking or another business): the same 404 as an unknown page."""


class LinkGone(Conflict):
    """A genuine manage token that no longer works: ``reason`` is ``"revoked"`` (the business
    replaced the booking's links) or ``"expired"`` (the appointment is long past). Answered with
    410 and a page saying what to do; ``booking`` is the booking it named."""

    status_code = 410
    code = "link_gone"

    def __init__(self, message: str, reason: str, booking: Booking):
        super().__init__(message)
        self.reason = reason
        self.booking = booking


def booking_for_token(business: Business, token: str, now: datetime | None = None) -> Booking:
    """The booking of ``business`` that manage ``token`` opens.

    Raises :class:`LinkNotFound` (bad signature, wrong shape, no such booking at this business)
    or :class:`LinkGone` (``reason`` ``"revoked"``: the booking's secret was replaced since the
    link was made; ``"expired"``: past :func:`link_expires_at`)."""
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        raise LinkNotFound("This link is not valid.") from None
    if not (isinstance(payload, list) and len(payload) == 2 and all(isinstance(p, str) for p in payload)):
        raise LinkNotFound("This link is not valid.")
    reference, digest = payload
    booking = db.session.scalar(
        db.select(Booking).where(Booking.business_id == business.id, Booking.reference == reference)
    )
    if booking is None:
        raise LinkNotFound("This link is not valid.")
    if not hmac.compare_digest(digest, secret_digest(booking.manage_secret)):
        raise LinkGone("This link has been replaced by a newer one.", "revoked", booking)
    if (now or utcnow()) >= link_expires_at(booking):
        raise LinkGone("This link has expired.", "expired", booking)
    return booking


# ------------------------------------------------------------------ the policy

@dataclass(frozen=True)
class ClientPolicy:
    """What the client may do with a booking at one instant (see :func:`client_policy`).

    ``can_reschedule``/``can_cancel``: allowed now (``can_cancel`` covers withdrawing a request).
    ``reschedule_until``/``cancel_until``: the last instant (UTC) the business allows it online,
    None when the business does not offer it at all (or, for withdrawing a request, when there is
    no limit). ``*_notice_hours``: the business's notices, for stating the policy.
    ``closed_reason``: why nothing can change any more (``"status"``: no longer pending or
    confirmed; ``"started"``: the appointment has begun or passed), else None."""

    is_request: bool
    can_reschedule: bool
    can_cancel: bool
    reschedule_offered: bool
    cancel_offered: bool
    reschedule_until: datetime | None
    cancel_until: datetime | None
    reschedule_notice_hours: int
    cancel_notice_hours: int
    closed_reason: str | None = None

    @property
    def too_late(self) -> bool:
        """True when the business offers a change online but its notice window has closed."""
        return self.closed_reason is None and (
            (self.reschedule_offered and not self.can_reschedule) or (self.cancel_offered and not self.can_cancel)
        )


def _deadline(start: datetime, hours: int) -> datetime:
    return start - timedelta(hours=max(hours, 0))


def _open(now: datetime, start: datetime, deadline: datetime) -> bool:
    # "Until 12 hours before": a change exactly 12 hours before the start is still allowed.
    return now <= deadline and now < start


def client_policy(booking: Booking, settings: BookingSettings, now: datetime | None = None) -> ClientPolicy:
    """What the client may do with ``booking`` at ``now`` (aware; default the current instant)
    under the business's ``settings``.

    * Only a pending (not yet expired) or confirmed booking whose start is still ahead can change.
    * Rescheduling: when ``clients_can_reschedule``, the business's booking link is on and the
      service still active, until ``client_reschedule_notice_hours`` before the start.
    * Cancelling a confirmed booking: when ``clients_can_cancel``, until
      ``client_cancel_notice_hours`` before the start.
    * Withdrawing a request awaiting approval: always, whatever the settings and notices.
    """
    now = now or utcnow()
    start = booking.start_at
    is_request = booking.status == BookingStatus.PENDING
    closed = None
    if booking.status not in (BookingStatus.PENDING, BookingStatus.CONFIRMED) or (
        is_request and booking.expires_at is not None and booking.expires_at <= now
    ):
        closed = "status"
    elif now >= start:
        closed = "started"
    reschedule_offered = bool(settings.clients_can_reschedule and settings.is_active and booking.service.is_active)
    cancel_offered = bool(settings.clients_can_cancel) or is_request
    reschedule_until = _deadline(start, settings.client_reschedule_notice_hours) if reschedule_offered else None
    cancel_until = None if is_request or not cancel_offered else _deadline(start, settings.client_cancel_notice_hours)
    can_reschedule = closed is None and reschedule_until is not None and _open(now, start, reschedule_until)
    if is_request:
        can_cancel = closed is None
    else:
        can_cancel = closed is None and cancel_until is not None and _open(now, start, cancel_until)
    return ClientPolicy(
        is_request=is_request,
        can_reschedule=can_reschedule,
        can_cancel=can_cancel,
        reschedule_offered=reschedule_offered,
        cancel_offered=cancel_offered,
        reschedule_until=reschedule_until,
        cancel_until=cancel_until,
        reschedule_notice_hours=settings.client_reschedule_notice_hours,
        cancel_notice_hours=settings.client_cancel_notice_hours,
        closed_reason=closed,
    )


class ChangeNotAllowed(Conflict):
    """The client may not make this change online now (see :func:`client_policy`); ``action``
    is ``"reschedule"`` or ``"cancel"``, ``policy`` the policy that refused it. 409."""

    code = "change_not_allowed"

    def __init__(self, message: str, action: str, policy: ClientPolicy):
        super().__init__(message)
        self.action = action
        self.policy = policy


def require_allowed(booking: Booking, settings: BookingSettings, action: str, now: datetime) -> ClientPolicy:
    """Raise :class:`ChangeNotAllowed` unless the client may ``action`` (:data:`RESCHEDULE` or
    :data:`CANCEL`) ``booking`` at ``now``; returns the policy."""
    policy = client_policy(booking, settings, now)
    allowed = policy.can_reschedule if action == RESCHEDULE else policy.can_cancel
    if allowed:
        return policy
    if policy.closed_reason == "status":
        from app.i18n import status_label

        message = _("This booking is %(status)s; it can no longer be changed.", status=status_label(booking.status))
    elif policy.closed_reason == "started":
        message = _("This appointment has already started; it can no longer be changed online.")
    elif action == RESCHEDULE and not policy.reschedule_offered:
        message = _("This booking cannot be rescheduled online. Please contact the business.")
    elif action == CANCEL and not policy.cancel_offered:
        message = _("This booking cannot be cancelled online. Please contact the business.")
    elif action == RESCHEDULE:
        message = _(
            "It is too late to change this booking online: it can be rescheduled online until %(hours)d hours "
            "before the start. Please contact the business.", hours=policy.reschedule_notice_hours,
        )
    else:
        message = _(
            "It is too late to change this booking online: it can be cancelled online until %(hours)d hours "
            "before the start. Please contact the business.", hours=policy.cancel_notice_hours,
        )
    raise ChangeNotAllowed(message, action, policy)
