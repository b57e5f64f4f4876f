"""The team: staff members (whose time can be booked), their e-mail, zone and services, turning
them off and on, and invitations that give a staff member a login of their own.

Roles: the owner (``Role.OWNER``) runs everything; a staff member who accepted an invitation
(``Role.STAFF``) sees their own bookings and requests and edits their own hours (enforced by the
dashboard and the API, not here). Every function takes the current user's business and only
touches its rows: another business's id is a :class:`NotFound`, exactly like a missing one.

Deactivating a staff member is refused while they have future bookings (pending requests not yet
lapsed, confirmed bookings starting later): :class:`StaffHasBookings` lists them, and each can be
reassigned to another staff member at the same time (:func:`reassign_booking`, the owner's
reschedule path) or cancelled (:func:`cancel_booking`) first. The check and the change happen under
the staff member's lock, the one every new booking takes, so no booking slips in between.

Invitations (:class:`~app.models.StaffInvitation`): the e-mailed link carries a random nonce signed
with itsdangerous (``SECRET_KEY``, salt :data:`_SALT`, ``max_age`` :data:`INVITATION_DAYS` days),
recorded in the outbox like the sign-up e-mail. The row's ``expires_at`` and ``accepted_at`` make the
link expire and work once; sending again replaces the nonce, so only the newest link works;
revoking deletes the row. Accepting creates the user with a ``Role.STAFF`` membership, links it to
the staff member, and takes the password chosen on the accept page. An address that already has a
Flowkey account cannot be invited (an account belongs to one business).

Changes to staff members and to which services they offer bump the business's availability version
through :mod:`app.services.availability_versions` (a session listener), as hours changes do.
"""
from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.domain.booking_state import BookingStatus, HOLDING_STATUSES
from app.domain.passwords import password_problem
from app.extensions import db
from app.models import Booking, Business, Membership, Role, Service, StaffInvitation, StaffMember, User, utcnow
from app.models.user import hash_password
from app.services import booking_service, business_service, outbox
from app.services.clients import InvalidContact, normalise_email
from app.services.errors import Conflict, NotFound, ServiceError, ValidationFailed
from app.services.locks import unit_of_work
from app.text import BadText, check_line
from app.timezones import is_timezone

INVITATION_DAYS = 7
JOB_KIND = "staff_invitation_email"
QUEUE = "notifications"
TEMPLATE = "staff_invitation"  # templates/email/staff_invitation.html and .txt
_SALT = "flowkey-staff-invitation"
NAME_MAX = 120
EMAIL_MAX = 255

#: "Leave this field as it is" for :func:`update_staff` (``None`` means "clear it").
UNSET = object()

ACCOUNT_EXISTS = (
    "{email} already has a Flowkey account, and an account belongs to one business. "
    "Invite another address (a work address, for instance)."
)


class StaffHasBookings(Conflict):
    """Deactivation refused: ``bookings`` (soonest first) must be reassigned or cancelled first."""

    code = "staff_has_bookings"

    def __init__(self, message: str, bookings: list[Booking]):
        super().__init__(message)
        self.bookings = bookings


class InvitationInvalid(ServiceError):
    """An invitation link that is malformed, forged, expired, replaced, revoked or already used."""

    status_code = 400
    code = "invitation_invalid"


class AccountExists(ServiceError):
    """The invited address got a Flowkey account meanwhile: it cannot join a second business."""

    status_code = 409
    code = "account_exists"


@dataclass(frozen=True)
class StaffSummary:
    """One line of the Team page / the API's staff list.

    ``services``: the active services they offer; ``upcoming``: how many future bookings they have
    (see :func:`future_bookings`); ``role``: their login's role in the business, None without a
    login; ``invitation``: the invitation not yet accepted (open or expired), if any.
    """

    staff: StaffMember
    services: tuple[Service, ...]
    upcoming: int
    role: Role | None
    invitation: StaffInvitation | None

    def invitation_state(self, now: datetime) -> str | None:
        """``"pending"`` (sent, link still valid), ``"expired"``, or None (none outstanding)."""
        if self.invitation is None:
            return None
        return "pending" if self.invitation.is_open(now) else "expired"


# ------------------------------------------------------------------ reading

def _future(now: datetime):
    """Conditions of a booking that still holds time ahead: pending (and not lapsed) or confirmed,
    starting after ``now``."""
    return (
        Booking.status.in_(HOLDING_STATUSES),
        Booking.start_at > now,
        or_(Booking.status == BookingStatus.CONFIRMED, Booking.expires_at.is_(None), Booking.expires_at > now),
    )


def future_bookings(business: Business, staff: StaffMember, now: datetime | None = None) -> list[Booking]:
    """``staff``'s bookings that still hold time ahead (see :func:`_future`), soonest first."""
    now = now or utcnow()
    q = (
        select(Booking)
        .where(Booking.business_id == business.id, Booking.staff_id == staff.id, *_future(now))
        .options(joinedload(Booking.service))
        .order_by(Booking.start_at, Booking.id)
    )
    return list(db.session.scalars(q).unique())


def _summaries(business: Business, staff_rows: list[StaffMember], now: datetime) -> list[StaffSummary]:
    ids = [s.id for s in staff_rows]
    if not ids:
        return []
    counts = Counter(dict(db.session.execute(
        select(Booking.staff_id, func.count(Booking.id))
        .where(Booking.business_id == business.id, Booking.staff_id.in_(ids), *_future(now))
        .group_by(Booking.staff_id)
    ).all()))
    invitations = {
        inv.staff_id: inv
        for inv in db.session.scalars(select(StaffInvitation).where(StaffInvitation.staff_id.in_(ids), StaffInvitation.accepted_at.is_(None)))
    }
    roles = {m.user_id: m.role for m in business.memberships}
    offered: dict[int, list[Service]] = {i: [] for i in ids}
    for service in business.services:
        if service.is_active:
            for member in service.staff:
                if member.id in offered:
                    offered[member.id].append(service)
    return [
        StaffSummary(
            staff=s, services=tuple(offered[s.id]), upcoming=counts.get(s.id, 0),
            role=roles.get(s.user_id) if s.user_id is not None else None,
            invitation=None if s.user_id is not None else invitations.get(s.id),
        )
        for s in staff_rows
    ]


def list_staff(business: Business, now: datetime | None = None) -> list[StaffSummary]:
    """Every staff member of ``business`` (active first, then by name), summarised. Read-only;
    the upcoming counts and invitations take one query each for the whole team."""
    rows = sorted(business.staff, key=lambda s: (not s.is_active, s.display_name.lower(), s.id))
    return _summaries(business, rows, now or utcnow())


def get_summary(business: Business, staff_id: int, now: datetime | None = None) -> StaffSummary:
    """The summary of one staff member. Raises :class:`NotFound`."""
    return _summaries(business, [business_service.get_staff(business, staff_id)], now or utcnow())[0]


# ------------------------------------------------------------------ validation

def _display_name(value) -> str:
    name = (value or "").strip() if isinstance(value, str) else ""
    if not name:
        raise ValidationFailed("Please correct the highlighted fields.", {"display_name": "Please enter a name."})
    if len(name) > NAME_MAX:
        raise ValidationFailed("Please correct the highlighted fields.", {"display_name": f"Use at most {NAME_MAX} characters."})
    try:
        check_line(name)
    except BadText as exc:
        raise ValidationFailed("Please correct the highlighted fields.", {"display_name": str(exc)}) from None
    return name


def _email(value) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValidationFailed("Please correct the highlighted fields.", {"email": "Enter a valid e-mail address."})
    try:
        check_line(value or "")
        email = normalise_email(value)
    except (BadText, InvalidContact) as exc:
        raise ValidationFailed("Please correct the highlighted fields.", {"email": str(exc)}) from None
    if email is not None and len(email) > EMAIL_MAX:
        raise ValidationFailed("Please correct the highlighted fields.", {"email": f"Use at most {EMAIL_MAX} characters."})
    return email


def _timezone(value) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not is_timezone(value):
        raise ValidationFailed(
            "Please correct the highlighted fields.", {"timezone": "Unknown time zone; choose one from the list (e.g. Europe/London)."}
        )
    return value


def _services(business: Business, service_ids) -> list[Service]:
    by_id = {s.id: s for s in business.services}
    missing = [i for i in service_ids if i not in by_id]
    if missing:
        raise ValidationFailed(
            "Please correct the highlighted fields.", {"service_ids": f"No such service: {', '.join(map(str, missing))}."}
        )
    return [by_id[i] for i in dict.fromkeys(service_ids)]


def _check_email_free(business: Business, email: str | None, staff: StaffMember | None) -> None:
    """Raise :class:`ValidationFailed` (field ``email``) when another staff member of ``business``
    has ``email`` (their own address or their login's)."""
    if email is None:
        return
    for other in business.staff:
        if other is not staff and (other.contact_email or "").lower() == email:
            raise ValidationFailed(
                "Please correct the highlighted fields.", {"email": f"{other.display_name} already has this address."}
            )


def _set_services(business: Business, staff: StaffMember, services: list[Service]) -> None:
    wanted = {s.id for s in services}
    for service in business.services:
        has = staff in service.staff
        if service.id in wanted and not has:
            service.staff.append(staff)
        elif service.id not in wanted and has:
            service.staff.remove(staff)


def _unique_violation(exc: IntegrityError) -> ValidationFailed:
    return ValidationFailed("Please correct the highlighted fields.", {"email": "Another staff member has this address."})


# ------------------------------------------------------------------ staff members

def create_staff(
    business: Business, *, display_name: str, email: str | None = None, timezone: str | None = None,
    service_ids: list[int] | None = None,
) -> StaffMember:
    """Add an active staff member (no login, no hours yet) and commit.

    ``email`` is where an invitation would go (optional, unique in the team); ``timezone`` an IANA
    name or None for the business's; ``service_ids`` the services they offer (default none).
    Raises :class:`ValidationFailed` naming the field (``display_name``, ``email``, ``timezone``,
    ``service_ids``)."""
    name, address, zone = _display_name(display_name), _email(email), _timezone(timezone)
    services = _services(business, service_ids or [])
    _check_email_free(business, address, None)
    try:
        with unit_of_work():
            staff = StaffMember(business=business, display_name=name, email=address, timezone=zone, is_active=True)
            db.session.add(staff)
            db.session.flush()
            _set_services(business, staff, services)
    except IntegrityError as exc:
        raise _unique_violation(exc) from None
    return staff


def update_staff(
    business: Business, staff_id: int, *, display_name=UNSET, email=UNSET, timezone=UNSET, service_ids=UNSET,
) -> StaffMember:
    """Rename a staff member, set their e-mail (None: none) or zone (None: the business's), or
    replace the services they offer (a list of the business's service ids); fields left
    :data:`UNSET` keep their value. Commits.

    The e-mail of a staff member with a login is their login's and cannot be changed here.
    Changing the address of someone with an invitation outstanding withdraws it (the link went to
    the old address). Raises :class:`NotFound` and :class:`ValidationFailed` (field named)."""
    staff = business_service.get_staff(business, staff_id)
    changes: dict = {}
    if display_name is not UNSET:
        changes["display_name"] = _display_name(display_name)
    if timezone is not UNSET:
        changes["timezone"] = _timezone(timezone)
    new_email = UNSET
    if email is not UNSET:
        new_email = _email(email)
        if staff.user is not None and new_email != staff.user.email.lower():
            raise ValidationFailed(
                "Please correct the highlighted fields.",
                {"email": f"{staff.display_name} logs in with {staff.user.email}; only they can change it."},
            )
        if staff.user is None:
            _check_email_free(business, new_email, staff)
    services = _services(business, service_ids) if service_ids is not UNSET else None
    try:
        with unit_of_work():
            for key, value in changes.items():
                setattr(staff, key, value)
            if new_email is not UNSET and staff.user is None and new_email != staff.email:
                staff.email = new_email
                _delete_invitation(staff)
            if services is not None:
                _set_services(business, staff, services)
    except IntegrityError as exc:
        raise _unique_violation(exc) from None
    return staff


def _delete_invitation(staff: StaffMember) -> bool:
    invitation = db.session.scalar(
        select(StaffInvitation).where(StaffInvitation.staff_id == staff.id, StaffInvitation.accepted_at.is_(None))
    )
    if invitation is not None:
        db.session.delete(invitation)
    return invitation is not None


def _membership(business: Business, user_id: int | None) -> Membership | None:
    return next((m for m in business.memberships if m.user_id == user_id), None) if user_id is not None else None


def deactivate(business: Business, staff_id: int, now: datetime | None = None) -> StaffMember:
    """Stop offering a staff member's time (their services keep them, for a reactivation) and,
    if they log in as staff, end their sessions and access; an outstanding invitation is
    withdrawn. Commits. Deactivating an inactive member changes nothing.

    Raises :class:`NotFound`, and :class:`StaffHasBookings` (nothing changed) while they have
    future bookings, checked under the staff member's lock."""
    now = now or utcnow()
    staff = business_service.get_staff(business, staff_id)
    with unit_of_work([staff.id]):
        db.session.refresh(staff)
        if not staff.is_active:
            return staff
        ahead = future_bookings(business, staff, now)
        if ahead:
            n = len(ahead)
            raise StaffHasBookings(
                f"{staff.display_name} has {n} future booking{'s' if n != 1 else ''}. "
                "Reassign or cancel each one first.",
                ahead,
            )
        staff.is_active = False
        _delete_invitation(staff)
        membership = _membership(business, staff.user_id)
        if membership is not None and membership.role == Role.STAFF:
            staff.user.end_sessions()
    return staff


def reactivate(business: Business, staff_id: int) -> StaffMember:
    """Make a staff member bookable again (with the hours and services they had). Commits.
    Raises :class:`NotFound`."""
    staff = business_service.get_staff(business, staff_id)
    with unit_of_work():
        staff.is_active = True
    return staff


def staff_booking(business: Business, staff_id: int, booking_id: int) -> Booking:
    """``staff_id``'s booking ``booking_id``. Raises :class:`NotFound` when either is not this
    business's, or the booking is another staff member's."""
    booking = booking_service.get_booking(business, booking_id)
    if booking.staff_id != staff_id:
        raise NotFound("No such booking.")
    return booking


def reassign_booking(
    business: Business, staff_id: int, booking_id: int, to_staff_id: int, actor: User | None, now: datetime | None = None,
) -> Booking:
    """Give ``staff_id``'s booking ``booking_id`` to the active staff member ``to_staff_id`` at the
    same time (:func:`app.services.booking_service.reschedule` with a new staff member: re-checked
    under both locks, the client told, SEQUENCE + 1). Raises :class:`NotFound` (either id not
    this business's, or the booking not ``staff_id``'s), :class:`ValidationFailed` (field
    ``staff_id``: same or inactive member, or one who does not offer the service),
    :class:`~app.services.errors.SlotUnavailable` when they are not free then, :class:`Conflict`."""
    staff = business_service.get_staff(business, staff_id)
    booking = staff_booking(business, staff.id, booking_id)
    target = business_service.get_staff(business, to_staff_id)
    if target.id == staff.id or not target.is_active:
        raise ValidationFailed("Choose another active staff member.", {"staff_id": "Choose another active staff member."})
    return booking_service.reschedule(business, booking.id, actor, booking.start_at, staff_id=target.id, now=now)


def cancel_booking(business: Business, staff_id: int, booking_id: int, actor: User | None, reason: str) -> Booking:
    """Cancel ``staff_id``'s booking ``booking_id`` with ``reason`` (the client is told), as the
    bookings page does. Raises :class:`NotFound`, :class:`ValidationFailed` (no reason),
    :class:`Conflict`."""
    staff = business_service.get_staff(business, staff_id)
    booking = staff_booking(business, staff.id, booking_id)
    return booking_service.cancel(business, booking.id, actor, reason)


# ------------------------------------------------------------------ invitations

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def nonce_digest(nonce: str) -> str:
    """A short digest of an invitation's nonce: names one sending of it (job keys, payloads)
    without putting the nonce itself in the outbox."""
    return hashlib.sha256(nonce.encode()).hexdigest()[:16]


def invitation_token(invitation: StaffInvitation) -> str:
    """The signed, timestamped token of ``invitation``'s link (URL-safe)."""
    return _serializer().dumps(invitation.nonce)


def invite(
    business: Business, staff_id: int, invited_by: User | None, *, email: str | None = None, now: datetime | None = None,
) -> StaffInvitation:
    """Send (or send again) the staff member ``staff_id`` an invitation to set a password, at
    ``email`` (default: their address, which ``email`` replaces). A new link replaces any earlier
    one and works for :data:`INVITATION_DAYS` days. Records the e-mail in the outbox; commits.

    Raises :class:`NotFound`; :class:`Conflict` when they already have a login or are inactive;
    :class:`ValidationFailed` (field ``email``) for no or a bad address, one another staff member
    has, or one that already has a Flowkey account."""
    now = now or utcnow()
    staff = business_service.get_staff(business, staff_id)
    if staff.user_id is not None:
        raise Conflict(f"{staff.display_name} already has a login.")
    if not staff.is_active:
        raise Conflict(f"{staff.display_name} is inactive; reactivate them before inviting them.")
    address = _email(email) if email is not None else staff.email
    if address is None:
        raise ValidationFailed("Please correct the highlighted fields.", {"email": "Enter the address to send the invitation to."})
    _check_email_free(business, address, staff)
    if business_service.find_user_by_email(address) is not None:
        raise ValidationFailed("Please correct the highlighted fields.", {"email": ACCOUNT_EXISTS.format(email=address)})
    business_id, staff_id = business.id, staff.id
    fields = {
        "email": address, "nonce": secrets.token_urlsafe(24), "invited_by_id": invited_by.id if invited_by is not None else None,
        "sent_at": now, "expires_at": now + timedelta(days=INVITATION_DAYS), "accepted_at": None,
    }
    try:
        with unit_of_work([staff_id]):
            staff.email = address
            invitation = db.session.scalar(select(StaffInvitation).where(StaffInvitation.staff_id == staff_id))
            if invitation is None:
                invitation = StaffInvitation(business_id=business_id, staff_id=staff_id, created_at=now, **fields)
                db.session.add(invitation)
            else:
                for key, value in fields.items():
                    setattr(invitation, key, value)
            db.session.flush()
            digest = nonce_digest(invitation.nonce)
            outbox.record(
                JOB_KIND,
                {"invitation_id": invitation.id, "nonce_digest": digest, "business_id": business_id},
                key=f"email:{TEMPLATE}:{invitation.id}:{digest}",
                queue=QUEUE,
                business_id=business_id,
            )
    except IntegrityError as exc:
        raise _unique_violation(exc) from None
    return invitation


def revoke_invitation(business: Business, staff_id: int) -> None:
    """Withdraw the staff member's outstanding invitation: its link stops working. Commits.
    Raises :class:`NotFound` (no such staff member, or no invitation outstanding)."""
    staff = business_service.get_staff(business, staff_id)
    with unit_of_work([staff.id]):
        if not _delete_invitation(staff):
            raise NotFound(f"{staff.display_name} has no invitation outstanding.")


INVALID_LINK = (
    "This invitation link has expired, was replaced by a newer one, or was already used. "
    "Ask whoever invited you to send a new one, or log in if you already set your password."
)


def invitation_for_token(token: str, *, now: datetime | None = None, for_update: bool = False) -> StaffInvitation:
    """The open invitation a link's ``token`` names. Raises :class:`InvitationInvalid` when the
    token is forged or malformed, older than :data:`INVITATION_DAYS` days, replaced by a newer
    sending, revoked, accepted, past its ``expires_at``, or its staff member is inactive or has a
    login. ``for_update`` locks the row (PostgreSQL) for the caller's transaction."""
    try:
        nonce = _serializer().loads(token, max_age=INVITATION_DAYS * 86400)
    except (SignatureExpired, BadSignature):
        raise InvitationInvalid(INVALID_LINK) from None
    if not isinstance(nonce, str):
        raise InvitationInvalid(INVALID_LINK)
    query = select(StaffInvitation).where(StaffInvitation.nonce == nonce)
    if for_update:
        query = query.with_for_update()
    invitation = db.session.scalar(query)
    if (
        invitation is None or not invitation.is_open(now or utcnow())
        or not invitation.staff.is_active or invitation.staff.user_id is not None
    ):
        raise InvitationInvalid(INVALID_LINK)
    return invitation


def accept_invitation(token: str, *, password: str, name: str | None = None, now: datetime | None = None) -> User:
    """Create the invited staff member's login: a user with the invitation's e-mail, ``name``
    (default: the staff member's name) and ``password``, a ``Role.STAFF`` membership of the
    business, linked to the staff member; the invitation is marked accepted (the link is spent).
    One transaction. Returns the user.

    Raises :class:`ValidationFailed` (field ``password``: too weak, see
    :func:`app.domain.passwords.password_problem`; ``name``: control characters),
    :class:`InvitationInvalid` (see :func:`invitation_for_token`) and :class:`AccountExists` when
    the address got a Flowkey account meanwhile."""
    now = now or utcnow()
    invitation = invitation_for_token(token, now=now)
    chosen = (name or "").strip() or invitation.staff.display_name
    if len(chosen) > NAME_MAX:
        raise ValidationFailed("Please correct the highlighted fields.", {"name": f"Use at most {NAME_MAX} characters."})
    business_service.require_single_line(name=chosen)
    problem = password_problem(password or "", email=invitation.email, names=(chosen, invitation.business.name))
    if problem:
        raise ValidationFailed("Please choose another password.", {"password": problem})
    password_hash = hash_password(password)  # slow on purpose: before the write lock
    exists = AccountExists(ACCOUNT_EXISTS.format(email=invitation.email) + " Ask for an invitation at another address.")
    try:
        with unit_of_work([invitation.staff_id]):
            invitation = invitation_for_token(token, now=now, for_update=True)
            if business_service.find_user_by_email(invitation.email) is not None:
                raise exists
            user = User(email=invitation.email, name=chosen, password_hash=password_hash)
            user.end_sessions()  # a first session token
            db.session.add(user)
            db.session.add(Membership(user=user, business=invitation.business, role=Role.STAFF))
            invitation.staff.user = user
            invitation.accepted_at = now
    except IntegrityError:
        # The same address signed up between the check and the commit (the e-mail index is unique).
        raise exists from None
    return user
