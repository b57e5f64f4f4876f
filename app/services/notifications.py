"""In-app notifications for the people of a business, and which events each wants by e-mail or in-app.

Recording: :func:`on_booking_event` is a booking-event subscriber (see
:mod:`app.services.booking_events`), so a notification exists exactly when the change committed.
Reading and marking are scoped to one user: another user's notification id is
:class:`NotFound`, never someone else's row.

Preferences: one :class:`NotificationPreference` row per (user, event) that differs from the
default; no row means both channels on. E-mail preferences are honoured by the booking e-mail
subscriber (:mod:`app.services.booking_emails`) through :func:`owners_want_email`.
"""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update

from app.domain.booking_events import BookingEvent
from app.domain.booking_state import BookingStatus
from app.extensions import db
from app.models import Booking, Membership, Role, User, utcnow
from app.models.notification import BookingNotification, NotificationPreference
from app.services.booking_events import BookingChange
from app.services.errors import NotFound, ValidationFailed
from app.services.locks import unit_of_work

E = BookingEvent


@dataclass(frozen=True)
class EventKind:
    type: BookingEvent
    label: str  # shown on the preferences page
    email_template: str | None  # the owner e-mail this event sends (None: no owner e-mail exists)


#: Every event people are told about, in the order the preferences page lists them.
EVENT_KINDS: tuple[EventKind, ...] = (
    EventKind(E.REQUESTED, "New request awaiting approval", "owner_new_request"),
    EventKind(E.BOOKED, "New booking (confirmed straight away)", "owner_confirmed"),
    EventKind(E.APPROVED, "Request approved by someone else", None),
    EventKind(E.REJECTED, "Request rejected by someone else", None),
    EventKind(E.CANCELLED, "Booking cancelled", "owner_cancelled"),
    EventKind(E.EXPIRED, "Request expired unanswered", "owner_expired"),
    EventKind(E.RESCHEDULED, "Booking moved to another time", "owner_rescheduled"),
)
KINDS: dict[BookingEvent, EventKind] = {k.type: k for k in EVENT_KINDS}
_TYPE_OF_TEMPLATE: dict[str, BookingEvent] = {k.email_template: k.type for k in EVENT_KINDS if k.email_template}


@dataclass(frozen=True)
class Channels:
    email: bool = True
    in_app: bool = True


# ------------------------------------------------------------------ recording (caller's transaction)

def _when(booking: Booking) -> str:
    tz = booking.business.timezone
    start = booking.start_at.astimezone(ZoneInfo(tz))
    return f"{start:%a} {start.day} {start:%b %Y, %H:%M} ({tz})"


def _content(booking: Booking, type_: BookingEvent, actor: User | None, by_client: bool = False) -> tuple[str, str]:
    """(title, message) for the event, with the time in the business's zone. ``by_client``: the
    client made the change themselves (the manage link)."""
    who = (actor.name or actor.email) if actor else None
    what = f"{booking.client_name}'s {booking.service.name} on {_when(booking)}"
    if type_ == E.RESCHEDULED:
        pending = " It awaits your approval." if booking.status == BookingStatus.PENDING else ""
        if by_client:
            return "Booking moved", f"{booking.client_name} moved their {booking.service.name} to {_when(booking)}.{pending}"
        return "Booking moved", f"{who or 'Someone'} moved {booking.client_name}'s {booking.service.name} to {_when(booking)}.{pending}"
    if type_ == E.CANCELLED and by_client:
        reason = f" Reason: {booking.cancellation_reason}" if booking.cancellation_reason else ""
        if booking.approved_at is None:
            return "Request withdrawn", f"{booking.client_name} withdrew their request for {booking.service.name} on {_when(booking)}.{reason}"
        return "Booking cancelled", f"{booking.client_name} cancelled their {booking.service.name} on {_when(booking)}.{reason}"
    if type_ == E.REQUESTED:
        return "New booking request", f"{booking.client_name} asked for {booking.service.name} on {_when(booking)}."
    if type_ == E.BOOKED:
        return "New booking", f"{booking.client_name} booked {booking.service.name} on {_when(booking)}."
    if type_ == E.APPROVED:
        return "Request approved", f"{who or 'Someone'} approved {what}."
    if type_ == E.REJECTED:
        reason = f" Reason: {booking.rejection_reason}" if booking.rejection_reason else ""
        return "Request rejected", f"{who or 'Someone'} rejected {what}.{reason}"
    if type_ == E.CANCELLED:
        reason = f" Reason: {booking.cancellation_reason}" if booking.cancellation_reason else ""
        lead = f"{who} cancelled {what}." if who else f"{what[0].upper()}{what[1:]} was cancelled."
        return "Booking cancelled", lead + reason
    return "Request expired", f"{booking.client_name}'s request for {booking.service.name} on {_when(booking)} expired unanswered."


#: Events after which a request no longer waits in the queue.
REQUEST_DECIDED = frozenset({E.APPROVED, E.REJECTED, E.EXPIRED, E.CANCELLED})


def on_booking_event(change: BookingChange) -> None:
    """Booking-event subscriber: notify the business's people of the events in :data:`KINDS`;
    once a request is decided (approved, rejected, expired, withdrawn or cancelled) its "new
    request" notifications are marked read for everyone (:func:`mark_request_read`), so the bell
    never counts a request the requests badge no longer does."""
    if change.event in REQUEST_DECIDED:
        mark_request_read(change.booking)
    if change.event in KINDS:
        record_for_booking(change.booking, change.event, actor=change.actor, by_client=change.by_client)


def mark_request_read(booking: Booking) -> int:
    """Mark every unread "new request" notification about ``booking`` read, whoever it was for,
    in the current session (no commit; the caller's transaction). Returns how many changed."""
    if booking.id is None:
        return 0
    result = db.session.execute(
        update(BookingNotification)
        .where(
            BookingNotification.booking_id == booking.id,
            BookingNotification.type == E.REQUESTED,
            BookingNotification.read_at.is_(None),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def record_for_booking(
    booking: Booking, type_: BookingEvent | str, *, actor: User | None = None, by_client: bool = False
) -> list[BookingNotification]:
    """Add one notification per owner of the booking's business, and for the staff member the
    booking is with when they log in, whose in-app preference for ``type_`` is on, except ``actor`` (the person who made the change), to the
    current session (no commit). Call it after applying the change (status, reasons).
    Returns the new rows (ordered by user id). Raises ``ValueError`` for an event people are
    not notified of."""
    requested, type_ = type_, next((k.type for k in EVENT_KINDS if k.type == type_), None)
    if type_ is None:
        raise ValueError(f"unknown notification type {requested!r}")
    if booking.id is None:
        db.session.flush()
    opted_out = select(NotificationPreference.user_id).where(
        NotificationPreference.type == type_, NotificationPreference.in_app.is_(False)
    )
    # Owners hear of every booking; a staff member only of their own (they may not see the others').
    own = booking.staff.user_id if booking.staff is not None else None
    query = (
        select(Membership.user_id)
        .where(
            Membership.business_id == booking.business_id, Membership.user_id.not_in(opted_out),
            or_(Membership.role == Role.OWNER, Membership.user_id == own),
        )
        .order_by(Membership.user_id)
    )
    if actor is not None:
        query = query.where(Membership.user_id != actor.id)
    user_ids = db.session.scalars(query).all()
    if not user_ids:
        return []
    title, message = _content(booking, type_, actor, by_client)
    data = {
        "reference": booking.reference,
        "client_name": booking.client_name,
        "service": booking.service.name,
        "start_at": booking.start_at.isoformat(),
        "status": booking.status.value,
        "actor_id": actor.id if actor else None,
    }
    rows = [
        BookingNotification(
            business_id=booking.business_id, user_id=user_id, booking_id=booking.id,
            type=type_, title=title, message=message, data=data,
        )
        for user_id in user_ids
    ]
    db.session.add_all(rows)
    return rows


def owners_want_email(business_id: int, template: str) -> bool:
    """Whether an owner-audience e-mail ``template`` should be recorded for the business: False
    only when every owner turned e-mail off for its event type (owner e-mails go to one shared
    address, the business's or else the owners' own). Templates without an event type: True."""
    type_ = _TYPE_OF_TEMPLATE.get(template)
    if type_ is None:
        return True
    owners = select(Membership.user_id).where(Membership.business_id == business_id, Membership.role == Role.OWNER)
    total = db.session.scalar(select(func.count()).select_from(owners.subquery()))
    off = db.session.scalar(
        select(func.count(NotificationPreference.id)).where(
            NotificationPreference.user_id.in_(owners),
            NotificationPreference.type == type_,
            NotificationPreference.email.is_(False),
        )
    )
    return total == 0 or off < total


# ------------------------------------------------------------------ reading and marking (one user)

def _mine(user: User):
    """Rows of ``user`` in their current business (none once they have left it)."""
    business = user.business
    return (
        BookingNotification.user_id == user.id,
        BookingNotification.business_id == (business.id if business else None),
    )


def unread_count(user: User) -> int:
    """How many of ``user``'s notifications are unread."""
    return db.session.scalar(select(func.count(BookingNotification.id)).where(*_mine(user), BookingNotification.read_at.is_(None)))


def list_for(user: User, unread_only: bool = False, limit: int = 50) -> list[BookingNotification]:
    """``user``'s notifications, newest first, at most ``limit``."""
    query = select(BookingNotification).where(*_mine(user))
    if unread_only:
        query = query.where(BookingNotification.read_at.is_(None))
    query = query.order_by(BookingNotification.created_at.desc(), BookingNotification.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def get(user: User, notification_id: int) -> BookingNotification:
    """``user``'s notification ``notification_id``; :class:`NotFound` for anyone else's or none."""
    row = db.session.scalar(select(BookingNotification).where(BookingNotification.id == notification_id, *_mine(user)))
    if row is None:
        raise NotFound("No such notification.")
    return row


def mark_read(user: User, notification_id: int) -> BookingNotification:
    """Mark one of ``user``'s notifications read (keeps the first ``read_at``) and commit.
    Raises :class:`NotFound` for another user's id."""
    with unit_of_work():
        row = get(user, notification_id)
        if row.read_at is None:
            row.read_at = utcnow()
    return row


def mark_all_read(user: User) -> int:
    """Mark all of ``user``'s unread notifications read and commit; returns how many changed."""
    with unit_of_work():
        result = db.session.execute(
            update(BookingNotification)
            .where(*_mine(user), BookingNotification.read_at.is_(None))
            .values(read_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    return result.rowcount


# ------------------------------------------------------------------ preferences

def get_preferences(user: User) -> dict[BookingEvent, Channels]:
    """Every event type -> ``user``'s :class:`Channels` (defaults for types never saved), in
    :data:`EVENT_KINDS` order."""
    saved = {
        p.type: Channels(email=p.email, in_app=p.in_app)
        for p in db.session.scalars(select(NotificationPreference).where(NotificationPreference.user_id == user.id))
    }
    return {k.type: saved.get(k.type, Channels()) for k in EVENT_KINDS}


def set_preferences(user: User, prefs: dict) -> dict[BookingEvent, Channels]:
    """Save ``prefs``: type (enum or its value) -> ``{"email": bool, "in_app": bool}`` or
    :class:`Channels`; a missing channel keeps its current value, unlisted types are unchanged.
    Commits; returns :func:`get_preferences`. Raises :class:`ValidationFailed` for an unknown
    type or a non-boolean value."""
    parsed: dict[BookingEvent, dict[str, bool]] = {}
    errors: dict[str, str] = {}
    for key, value in prefs.items():
        type_ = next((k.type for k in EVENT_KINDS if k.type == key), None)
        if type_ is None:
            errors[str(key)] = "Unknown event type."
            continue
        values = {"email": value.email, "in_app": value.in_app} if isinstance(value, Channels) else dict(value)
        for channel, flag in values.items():
            if channel not in ("email", "in_app") or not isinstance(flag, bool):
                errors[f"{type_.value}.{channel}"] = "Expected email/in_app set to true or false."
        parsed[type_] = values
    if errors:
        raise ValidationFailed("Some preferences could not be saved.", errors)
    with unit_of_work():
        existing = {
            p.type: p for p in db.session.scalars(select(NotificationPreference).where(NotificationPreference.user_id == user.id))
        }
        for type_, values in parsed.items():
            row = existing.get(type_)
            if row is None:
                row = NotificationPreference(user_id=user.id, type=type_, email=True, in_app=True)
                db.session.add(row)
            for channel, flag in values.items():
                setattr(row, channel, flag)
    return get_preferences(user)
