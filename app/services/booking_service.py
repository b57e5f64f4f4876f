"""Creating bookings and moving them through the state machine.

Every public function here that writes is one unit of work (:func:`app.services.locks.unit_of_work`):
it locks the staff members concerned, re-checks availability inside the lock, applies the change
and announces it once with :func:`app.services.booking_events.emit`, which writes the audit row
and lets every subscriber (e-mails, in-app notifications, reminders, request expiry, ...) record
its side effects in the same transaction. Errors are :mod:`app.services.errors` exceptions; on any
error the transaction is rolled back and nothing is written.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from app.domain.booking_events import BookingEvent, created_event, move_event
from app.domain.booking_state import BookingStatus, IllegalTransition, transition
from app.extensions import db
from app.models import ActorKind, Booking, BookingAuditEntry, BookingIdempotencyKey, Business, Client, Service, User, utcnow
from app.models.booking import new_manage_secret
from app.services import availability_service, booking_events, client_self_service
from app.services.business_service import require_single_line
from app.services.errors import (
    BookingClosed,
    Conflict,
    IdempotencyKeyReused,
    NotFound,
    SlotUnavailable,
    ValidationFailed,
)
from app.services.locks import StaffBusy, unit_of_work

# Crockford-style alphabet without 0/O/1/I/L: readable over the phone, 31^6 ~ 887 million codes.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

# How long an idempotency key answers for: long enough for any client retry, short enough that a
# key is not a lasting handle on a booking (the pattern of Stripe's and the IETF draft
# "The Idempotency-Key HTTP Header Field", section 2.3 on expiry).
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)


def new_reference() -> str:
    """A random booking reference like ``FK-7Q4M2X``."""
    return "FK-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))


@dataclass(frozen=True)
class BookingRequest:
    """A validated request to book. ``start`` is an aware instant; ``client_email`` is lower-cased
    and ``client_phone`` E.164 (see :mod:`app.services.clients`); at least one of them is set."""

    service_id: int
    start: datetime
    client_name: str
    client_email: str | None
    client_phone: str | None
    client_timezone: str
    notes: str = ""
    seats: int = 1
    staff_id: int | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class BookingResult:
    booking: Booking
    created: bool  # False when an earlier booking answered (the same idempotency key, or already_booked)
    # True when the client already held this slot: ``booking`` is theirs (see _clients_booking_of_slot).
    already_booked: bool = False


def request_fingerprint(request: BookingRequest) -> str:
    """SHA-256 (hex) of ``request`` as canonical JSON: every field but the key, sorted keys, no
    whitespace, ``start`` as UTC ISO 8601. The same booking asked for twice (keys in another order,
    another UTC offset for the same instant) has the same fingerprint."""
    canonical = {
        "service_id": request.service_id,
        "start": request.start.astimezone(availability_service.engine.UTC).isoformat(),
        "client_name": request.client_name,
        "client_email": request.client_email,
        "client_phone": request.client_phone,
        "client_timezone": request.client_timezone,
        "notes": request.notes,
        "seats": request.seats,
        "staff_id": request.staff_id,
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _find_by_idempotency_key(business_id: int, key: str | None, fingerprint: str, now: datetime) -> Booking | None:
    """The booking an unexpired ``key`` of the business answered, or None (no key, unknown or
    expired). Raises :class:`IdempotencyKeyReused` when the key came with another request."""
    if not key:
        return None
    row = db.session.scalar(
        select(BookingIdempotencyKey).where(
            BookingIdempotencyKey.business_id == business_id,
            BookingIdempotencyKey.key == key,
            BookingIdempotencyKey.created_at > now - IDEMPOTENCY_KEY_TTL,
        )
    )
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different request. Use a new key for a new booking.",
            {"Idempotency-Key": "Already used with other details."},
        )
    return db.session.get(Booking, row.booking_id)


def delete_expired_idempotency_keys(now: datetime | None = None) -> int:
    """Delete idempotency keys older than :data:`IDEMPOTENCY_KEY_TTL` (the daily cleanup calls
    this). Returns how many. Commits."""
    now = now or utcnow()
    with unit_of_work():
        result = db.session.execute(
            delete(BookingIdempotencyKey)
            .where(BookingIdempotencyKey.created_at <= now - IDEMPOTENCY_KEY_TTL)
            .execution_options(synchronize_session=False)
        )
    return result.rowcount or 0


def _upsert_client(business_id: int, name: str, email: str | None, phone: str | None) -> tuple[Client, bool]:
    """Find the business's client by e-mail, else by phone, or create one. Returns (client, returning)."""
    email = email.strip().lower() if email else None  # callers normalise; a stray capital must not split a client
    client = None
    if email:
        client = db.session.scalar(select(Client).where(Client.business_id == business_id, Client.email == email).limit(1))
    if client is None and phone:
        client = db.session.scalar(select(Client).where(Client.business_id == business_id, Client.phone == phone).limit(1))
    if client is None:
        client = Client(business_id=business_id, name=name, email=email, phone=phone)
        db.session.add(client)
        db.session.flush()
        return client, False
    client.name = name or client.name
    client.email = client.email or email
    client.phone = client.phone or phone
    returning = db.session.scalar(
        select(func.count(Booking.id)).where(
            Booking.client_id == client.id, Booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.COMPLETED])
        )
    )
    return client, bool(returning)


class _SlotTaken(Exception):
    """The slot asked for is not free: raised inside the unit of work so that it rolls back and
    releases the lock before the nearest alternatives are looked up (a two-week search, the
    slowest read a booking makes, which other bookings need not wait for). ``staff_id``: whose
    alternatives to offer (None: any staff member's)."""

    def __init__(self, staff_id: int | None = None):
        super().__init__(staff_id)
        self.staff_id = staff_id


class _LostRace(Exception):
    """The staff member chosen before locking no longer has the slot once locked: another booking
    took it in between. The create path tries the next staff member."""


# How many lost races a booking naming no staff member tolerates before it locks every eligible
# staff member and picks under that lock (what it always did before choosing first).
OPTIMISTIC_ATTEMPTS = 3


def _free_slots(business: Business, service: Service, start: datetime, seats: int, staff_id: int | None, now: datetime):
    """The slots starting at ``start`` with at least ``seats`` left, one per eligible staff member
    (``staff_id``'s only, when given), in the order bookings take them: fewest seats left first,
    then lowest staff id (fills one instructor's class before the next)."""
    local_date = start.astimezone(ZoneInfo(business.timezone)).date()
    per_staff = availability_service.slots_per_staff(business, service, local_date, local_date, now, staff_id)
    candidates = [
        slot for slots in per_staff.values() for slot in slots if slot.start == start and slot.available_spots >= seats
    ]
    candidates.sort(key=lambda s: (s.available_spots, s.staff_id))
    return candidates


def _pick_slot(business: Business, service: Service, start: datetime, seats: int, staff_id: int | None, now: datetime):
    """The first of :func:`_free_slots`, or None."""
    free = _free_slots(business, service, start, seats, staff_id, now)
    return free[0] if free else None


def _client_lock_keys(business_id: int, request: BookingRequest) -> list[str]:
    """The advisory lock keys of the request's client, one per e-mail and phone: two bookings of
    one client wait for each other even on different staff members, so a resubmitted form finds
    the first one's booking and a new client gets one client row."""
    keys = []
    if request.client_email:
        keys.append(f"client:{business_id}:email:{request.client_email.strip().lower()}")
    if request.client_phone:
        keys.append(f"client:{business_id}:phone:{request.client_phone}")
    return keys


def create_booking(business: Business, request: BookingRequest, now: datetime | None = None) -> BookingResult:
    """Book ``request`` at ``business``.

    Returns the new booking (``confirmed``, or ``pending`` with ``expires_at`` when the business
    requires approval and the client is not an auto-approved returning one), or the earlier
    booking with the same idempotency key and the same request (see :func:`request_fingerprint`)
    within :data:`IDEMPOTENCY_KEY_TTL`; an older key counts as new; or, when the same client
    (e-mail or phone) already holds this slot of the service, pending or confirmed, that booking
    (``created=False, already_booked=True``): a resubmitted form finds its booking, not "taken".

    Raises :class:`IdempotencyKeyReused` (the key came with another request), :class:`BookingClosed` (link off), :class:`NotFound` (service/staff not bookable here),
    :class:`ValidationFailed` (seats over capacity), :class:`SlotUnavailable` with the nearest
    alternatives (time not free, in the past, outside hours or full).
    """
    now = now or utcnow()
    require_single_line(client_name=request.client_name, client_email=request.client_email, client_phone=request.client_phone)
    fingerprint = request_fingerprint(request)
    existing = _find_by_idempotency_key(business.id, request.idempotency_key, fingerprint, now)
    if existing is not None:
        return BookingResult(existing, created=False)
    settings = business.settings
    if not settings.is_active:
        raise BookingClosed(f"{business.name} is not taking bookings right now.")
    service = availability_service.bookable_service(business, request.service_id)
    staff = availability_service.eligible_staff(service, request.staff_id)
    if not staff:
        raise NotFound("That staff member does not offer this service.", {"staff_id": "Unknown staff member."})
    if request.seats > service.capacity:
        raise ValidationFailed(
            f"At most {service.capacity} seat(s) per booking.", {"seats": f"At most {service.capacity} seat(s)."}
        )
    business_id = business.id
    start = request.start.astimezone(availability_service.engine.UTC)
    staff_ids = [s.id for s in staff]
    client_keys = _client_lock_keys(business_id, request)

    try:
        # Choose from a read without a lock (as the page's availability is read) and lock only the
        # chosen staff member: bookings going to different staff members do not wait for each other.
        candidates = _free_slots(business, service, start, request.seats, request.staff_id, now)
        if not candidates:
            # Nothing to lock: a booking that took the slot has committed before this read.
            held = _clients_booking_of_slot(business_id, service.id, start, request, now)
            if held is not None:
                return BookingResult(held, created=False, already_booked=True)
            raise _SlotTaken
        # One seat: a staff member another booking is locking is passed over for the next free one
        # (any of them will do), and waited for only when all are. A class: wait, so it fills first.
        skip_busy = service.capacity == 1 and len(candidates) > 1
        queue = deque((slot.staff_id, skip_busy) for slot in candidates)
        result, lost = None, 0
        while queue and result is None and lost < OPTIMISTIC_ATTEMPTS:
            staff_id, skip_locked = queue.popleft()
            try:
                result = _book_locked(
                    business, service, request, fingerprint, start, now, [staff_id], staff_id, client_keys,
                    skip_locked=skip_locked, final=len(staff_ids) == 1,
                )
            except StaffBusy:
                queue.append((staff_id, False))
            except _LostRace:
                lost += 1
        if result is None:
            # Lost every race tried: lock every eligible staff member and pick under that lock.
            result = _book_locked(
                business, service, request, fingerprint, start, now, staff_ids, request.staff_id, client_keys, final=True
            )
    except _SlotTaken:
        raise SlotUnavailable(
            _("That time is no longer available. Please pick another."),
            availability_service.nearest_alternatives(business, service, start, now, staff_id=request.staff_id),
        ) from None
    except IntegrityError:
        # Unique idempotency key (a concurrent duplicate) or, very rarely, a reference collision.
        existing = _find_by_idempotency_key(business_id, request.idempotency_key, fingerprint, now)
        if existing is not None:
            return BookingResult(existing, created=False)
        raise
    return result


def _book_locked(
    business: Business, service: Service, request: BookingRequest, fingerprint: str, start: datetime, now: datetime,
    lock_staff: list[int], staff_id: int | None, client_keys: list[str], *, skip_locked: bool = False, final: bool = False,
) -> BookingResult:
    """One try of :func:`create_booking`, one unit of work: lock ``lock_staff`` (skipping rather
    than waiting with ``skip_locked``) and the client's keys, re-check the slot of ``staff_id``
    (None: any of them) for one day, insert the booking and emit its event. Raises
    :class:`StaffBusy`, :class:`_SlotTaken` (``final``) or :class:`_LostRace` (the slot is gone)."""
    settings = business.settings
    business_id = business.id
    with unit_of_work(lock_staff, skip_locked=skip_locked, lock_keys=client_keys):
        # Another request with the same key may have committed while we waited for the lock.
        existing = _find_by_idempotency_key(business_id, request.idempotency_key, fingerprint, now)
        if existing is not None:
            return BookingResult(existing, created=False)
        held = _clients_booking_of_slot(business_id, service.id, start, request, now)
        if held is not None:
            return BookingResult(held, created=False, already_booked=True)
        slot = _pick_slot(business, service, start, request.seats, staff_id, now)
        if slot is None:
            raise _SlotTaken if final else _LostRace
        client, returning = _upsert_client(business_id, request.client_name, request.client_email, request.client_phone)
        needs_approval = settings.requires_approval and not (returning and settings.auto_approve_returning_clients)
        before, after = service.buffers(settings)
        booking = Booking(
            reference=new_reference(),
            business_id=business_id,
            service_id=service.id,
            staff_id=slot.staff_id,
            client=client,
            start_at=slot.start,
            end_at=slot.end,
            buffer_before_minutes=before,
            buffer_after_minutes=after,
            seats=request.seats,
            client_name=request.client_name,
            client_email=request.client_email,
            client_phone=request.client_phone,
            client_timezone=request.client_timezone,
            notes=request.notes,
            status=BookingStatus.PENDING if needs_approval else BookingStatus.CONFIRMED,
            created_at=now,
        )
        if needs_approval:
            # A request cannot hold a slot past the slot itself.
            booking.expires_at = min(now + timedelta(hours=settings.booking_expiry_hours), slot.start)
        else:
            booking.approved_at = now
        db.session.add(booking)
        if request.idempotency_key:
            _record_idempotency_key(business_id, request.idempotency_key, fingerprint, booking, now)
        booking_events.emit(
            booking, created_event(booking.status), previous_status=None, actor_kind=ActorKind.CLIENT, now=now,
            note="booked online", auto_approved=bool(settings.requires_approval and not needs_approval),
        )
    return BookingResult(booking, created=True)


def _clients_booking_of_slot(
    business_id: int, service_id: int, start: datetime, request: BookingRequest, now: datetime
) -> Booking | None:
    """The client's own booking of this slot, if they already hold it: a booking of the business
    for ``service_id`` starting at ``start`` (UTC), pending (and not past its expiry) or
    confirmed, whose e-mail (stored lower-cased) or E.164 phone is the request's, with the
    request's staff member when it names one. Oldest first. Read inside the create path's unit
    of work, under the client's locks (:func:`_client_lock_keys`), so two submits of the same
    client cannot both miss it even when they go to two staff members."""
    contact = []
    if request.client_email:
        contact.append(Booking.client_email == request.client_email.strip().lower())
    if request.client_phone:
        contact.append(Booking.client_phone == request.client_phone)
    if not contact:
        return None
    query = select(Booking).where(
        Booking.business_id == business_id,
        Booking.service_id == service_id,
        Booking.start_at == start,
        or_(*contact),
        or_(
            Booking.status == BookingStatus.CONFIRMED,
            (Booking.status == BookingStatus.PENDING) & (or_(Booking.expires_at.is_(None), Booking.expires_at > now)),
        ),
    )
    if request.staff_id is not None:
        query = query.where(Booking.staff_id == request.staff_id)
    return db.session.scalar(query.order_by(Booking.id).limit(1))


def _record_idempotency_key(business_id: int, key: str, fingerprint: str, booking: Booking, now: datetime) -> None:
    """Remember that ``key`` answered with ``booking``. An expired row with the same key may
    linger until the daily cleanup: it goes now, or the unique (business, key) would refuse."""
    db.session.execute(
        delete(BookingIdempotencyKey).where(
            BookingIdempotencyKey.business_id == business_id,
            BookingIdempotencyKey.key == key,
            BookingIdempotencyKey.created_at <= now - IDEMPOTENCY_KEY_TTL,
        ).execution_options(synchronize_session=False)
    )
    db.session.flush()  # the booking's id
    db.session.add(
        BookingIdempotencyKey(business_id=business_id, key=key, fingerprint=fingerprint, booking_id=booking.id, created_at=now)
    )


def get_booking(business: Business, booking_id: int) -> Booking:
    """The business's booking ``booking_id``, or :class:`NotFound` (also for another business's)."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.business_id != business.id:
        raise NotFound("No such booking.")
    return booking


@contextmanager
def _locked(business: Business, booking_id: int, extra_staff: Iterable[int] = ()) -> Iterator[Booking]:
    """The business's booking ``booking_id`` inside a unit of work holding its staff member's lock
    (and ``extra_staff``'s), read as of the lock. Raises :class:`NotFound` before locking."""
    booking = get_booking(business, booking_id)
    with unit_of_work([booking.staff_id, *extra_staff]):
        db.session.refresh(booking)  # the state as of the lock, not as first read
        yield booking


def _move(
    booking: Booking, target: BookingStatus, *, actor: User | None, now: datetime, note: str = "",
    actor_kind: ActorKind | None = None, **fields,
) -> None:
    """Move ``booking`` to ``target``, set ``fields`` on it, and emit the move's event
    (``actor_kind`` as for :func:`app.services.booking_events.emit`).
    Raises :class:`Conflict` for a move the state machine does not allow."""
    current = booking.status
    try:
        transition(current, target)
    except IllegalTransition as exc:
        raise Conflict(f"This booking is {current.label}; it cannot be {target.label}.") from exc
    booking.status = target
    for name, value in fields.items():
        setattr(booking, name, value)
    booking_events.emit(
        booking, move_event(current, target), previous_status=current, actor=actor, actor_kind=actor_kind, now=now, note=note
    )


def _expired_request(booking: Booking, now: datetime) -> bool:
    return booking.status == BookingStatus.PENDING and booking.expires_at is not None and booking.expires_at <= now


def approve(business: Business, booking_id: int, actor: User | None, now: datetime | None = None) -> Booking:
    """Confirm a pending request after re-checking its slot inside the lock.

    A request found past its ``expires_at`` is expired there and then (that commits) before
    :class:`Conflict` is raised. Raises :class:`NotFound`, :class:`Conflict` (not pending, or
    expired), or :class:`SlotUnavailable` when another booking took the time meanwhile.
    """
    now = now or utcnow()
    with _locked(business, booking_id) as booking:
        expired = _expired_request(booking, now)
        if expired:
            _move(booking, BookingStatus.EXPIRED, actor=None, now=now, note="expired before approval")
        else:
            _check_approvable(business, booking, now)
            _move(
                booking, BookingStatus.CONFIRMED, actor=actor, now=now, note="approved",
                approved_at=now, approved_by_id=actor.id if actor else None, expires_at=None,
            )
    if expired:
        raise Conflict("This request expired before it was approved.")
    return booking


def _check_approvable(business: Business, booking: Booking, now: datetime) -> None:
    """Raise unless pending ``booking``'s time is still free for it (see :func:`approve`)."""
    if booking.status != BookingStatus.PENDING:
        raise Conflict(f"This booking is {booking.status.label}; only requests awaiting approval can be approved.")
    local_date = booking.start_at.astimezone(ZoneInfo(business.timezone)).date()
    per_staff = availability_service.slots_per_staff(
        business, booking.service, local_date, local_date, now=now,
        staff_id=booking.staff_id, exclude_booking_id=booking.id, window=_owner_window(business.settings),
        # Only confirmed bookings block an approval: two requests that overlap (or more
        # requests than seats after a capacity cut) must not block each other forever; the
        # first approved wins and the others then conflict.
        include_pending=False,
    )
    free = any(
        s.start == booking.start_at and s.end == booking.end_at and s.available_spots >= booking.seats
        for s in per_staff.get(booking.staff_id, [])
    )
    if not free and booking.start_at > now:
        raise SlotUnavailable("Another booking has taken this time since the request was made.")
    if not free:
        raise Conflict("This request's time has already passed.")


def reject(business: Business, booking_id: int, actor: User | None, reason: str, now: datetime | None = None) -> Booking:
    """Reject a pending request with a reason (required). Raises NotFound, ValidationFailed, Conflict."""
    return _close_with_reason(business, booking_id, actor, reason, BookingStatus.REJECTED, now)


def cancel(business: Business, booking_id: int, actor: User | None, reason: str, now: datetime | None = None) -> Booking:
    """Cancel a pending or confirmed booking with a reason (required); SEQUENCE goes up by 1 so
    calendars apply the cancellation (RFC 5546 section 3.2.5). Raises NotFound,
    ValidationFailed, Conflict."""
    return _close_with_reason(business, booking_id, actor, reason, BookingStatus.CANCELLED, now)


def _close_with_reason(
    business: Business, booking_id: int, actor: User | None, reason: str, target: BookingStatus, now: datetime | None
) -> Booking:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Please give a reason.", {"reason": "A reason is required."})
    now = now or utcnow()
    with _locked(business, booking_id) as booking:
        if target == BookingStatus.CANCELLED:
            fields = {"cancellation_reason": reason, "sequence": booking.sequence + 1}
        else:
            fields = {"rejection_reason": reason}
        _move(booking, target, actor=actor, now=now, note=reason, **fields)
    return booking


def expire_pending(now: datetime | None = None, booking_id: int | None = None) -> int:
    """Mark every pending request whose ``expires_at`` has passed as ``expired`` (only booking
    ``booking_id`` when given); returns how many. Safe to run twice: each booking is re-checked
    under its lock, so an approved (or already expired) one is left alone."""
    now = now or utcnow()
    query = select(Booking).where(Booking.status == BookingStatus.PENDING, Booking.expires_at <= now)
    if booking_id is not None:
        query = query.where(Booking.id == booking_id)
    bookings = db.session.scalars(query).all()
    count = 0
    for stale in bookings:
        with _locked(stale.business, stale.id) as booking:
            if _expired_request(booking, now):
                _move(booking, BookingStatus.EXPIRED, actor=None, now=now, note="not approved in time")
                count += 1
    return count


# ------------------------------------------------------------------ rescheduling by the owner

def _owner_window(settings) -> availability_service.engine.BookingWindow:
    """The owner may ignore the minimum notice (as when approving), not the advance limit."""
    return availability_service.engine.BookingWindow(0, settings.max_advance_booking_days)


def _where_it_is(booking: Booking):
    """A slot predicate: True for ``booking``'s own current slot (same start, same staff member)."""
    start, staff_id = booking.start_at, booking.staff_id
    return lambda slot: slot.start == start and slot.staff_id == staff_id


def reschedule_slots(
    business: Business, booking: Booking, local_date, staff_id: int | None = None, now: datetime | None = None,
    *, window: availability_service.engine.BookingWindow | None = None,
):
    """Where ``booking`` could move on ``local_date`` (a date in the business's zone).

    Returns ``{staff_id: [Slot, ...]}`` for each active staff member offering the booking's
    service (only ``staff_id`` when given), each slot free for the booking's seats when the
    booking itself is not counted, minimum notice ignored (the owner decides; ``window`` other
    than the owner's for the client's own moves), nothing in the past. The booking's own current
    slot (same start and staff) is left out. Read-only.
    """
    now = now or utcnow()
    per_staff = availability_service.slots_per_staff(
        business, booking.service, local_date, local_date, now=now, staff_id=staff_id,
        exclude_booking_id=booking.id, window=window or _owner_window(business.settings),
    )
    here = _where_it_is(booking)
    return {
        sid: [s for s in slots if s.available_spots >= booking.seats and s.start > now and not here(s)]
        for sid, slots in per_staff.items()
    }


def reschedule(
    business: Business,
    booking_id: int,
    actor: User | None,
    new_start: datetime,
    *,
    staff_id: int | None = None,
    now: datetime | None = None,
    message: str | None = None,
) -> Booking:
    """Move a pending or confirmed booking to ``new_start`` (an aware instant), optionally to
    another staff member ``staff_id`` (default: the same one). A reschedule keeps the booking
    (same reference, same calendar UID) and bumps its SEQUENCE. ``message`` (optional, cleaned
    paragraph text) goes into the event's details as ``message`` and into the client's
    "new time" e-mail.

    Inside the write lock of the old and new staff members, the new slot is re-checked: it must
    be one of the service's slots for that staff member, free for the booking's seats when the
    booking itself is not counted (pending requests still holding time count), not in the past
    and within the advance limit (the minimum notice does not apply: the owner decides). Then
    ``start_at``/``end_at`` (the service's duration), ``staff_id`` and the buffers (the service's
    current ones, which the check used) are updated, ``sequence`` goes up by 1, a pending
    request's ``expires_at`` becomes ``min(expires_at, new start)`` (a request cannot hold a slot
    past the slot), and the ``rescheduled`` event is emitted (status unchanged, note
    ``"rescheduled"``, details ``from_start``/``to_start`` as ISO-8601 UTC and
    ``from_staff_id``/``to_staff_id``): its subscribers re-time reminders and the request's
    expiry and send the client the new time (confirmed bookings only; a request's calendar has
    no event yet).

    Moving a booking to where it already is (same start and staff) changes nothing and returns it.

    Returns the booking. Raises :class:`NotFound` (not this business's booking),
    :class:`ValidationFailed` (naive or past ``new_start`` -> field ``start``; a staff member
    who does not offer the service -> field ``staff_id``), :class:`Conflict` (the booking is not
    pending or confirmed, or its request has expired) or :class:`SlotUnavailable` with up to 3
    nearest free alternatives for the same staff member.
    """
    now = now or utcnow()
    if new_start.tzinfo is None or new_start.utcoffset() is None:
        raise ValidationFailed(_("Give the new time with its UTC offset."), {"start": _("Include a UTC offset, e.g. +01:00.")})
    try:
        new_start = new_start.astimezone(availability_service.engine.UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+14:00
        raise ValidationFailed(_("That time is out of range."), {"start": _("Pick one of the free times.")}) from None
    booking = get_booking(business, booking_id)
    if staff_id is not None and not availability_service.eligible_staff(booking.service, staff_id):
        raise ValidationFailed(
            "That staff member does not offer this service.", {"staff_id": "Pick a staff member who offers this service."}
        )
    settings = business.settings
    try:
        _reschedule_locked(business, booking, new_start, staff_id, actor, now, message=message)
    except _SlotTaken as taken:
        target_staff = taken.staff_id
        raise SlotUnavailable(
            "That time is not free. Please pick another.",
            availability_service.nearest_alternatives(
                business, booking.service, new_start, now, staff_id=target_staff, seats=booking.seats,
                exclude_booking_id=booking.id, window=_owner_window(settings), skip=_where_it_is(booking),
            ),
        ) from None
    return booking


def _reschedule_locked(
    business: Business, booking: Booking, new_start: datetime, staff_id: int | None, actor: User | None, now: datetime,
    *, by_client: bool = False, message: str | None = None,
) -> None:
    """The locked part of :func:`reschedule` (and of :func:`client_reschedule` with
    ``by_client``: the client's policy re-checked under the lock, the business's booking window,
    a fresh expiry for a request); raises :class:`_SlotTaken` when the time is not free."""
    settings = business.settings
    with _locked(business, booking.id, [staff_id] if staff_id is not None else []) as booking:
        target_staff = staff_id if staff_id is not None else booking.staff_id
        if by_client:
            client_self_service.require_allowed(booking, settings, client_self_service.RESCHEDULE, now)
        if booking.status not in (BookingStatus.PENDING, BookingStatus.CONFIRMED):
            raise Conflict(f"This booking is {booking.status.label}; only requests and confirmed bookings can be rescheduled.")
        if _expired_request(booking, now):
            raise Conflict(_("This request has expired; it cannot be rescheduled."))
        if new_start <= now:
            raise ValidationFailed(_("That time has already passed. Pick a time in the future."), {"start": _("Pick a time in the future.")})
        if new_start == booking.start_at and target_staff == booking.staff_id:
            return
        local_date = new_start.astimezone(ZoneInfo(business.timezone)).date()
        window = availability_service.booking_window(settings) if by_client else None
        free = reschedule_slots(business, booking, local_date, staff_id=target_staff, now=now, window=window).get(target_staff, [])
        slot = next((s for s in free if s.start == new_start), None)
        if slot is None:
            raise _SlotTaken(target_staff)
        before = (booking.start_at, booking.staff_id)
        booking.start_at, booking.end_at = slot.start, slot.end
        if target_staff != booking.staff_id:
            booking.staff = availability_service.eligible_staff(booking.service, target_staff)[0]
        booking.buffer_before_minutes, booking.buffer_after_minutes = booking.service.buffers(settings)
        booking.sequence += 1
        if by_client and booking.status == BookingStatus.PENDING:
            # Back to the queue: the owner gets a whole expiry period to answer the new time.
            booking.expires_at = min(now + timedelta(hours=settings.booking_expiry_hours), slot.start)
        elif booking.status == BookingStatus.PENDING and booking.expires_at is not None and slot.start < booking.expires_at:
            booking.expires_at = slot.start  # a request cannot hold a slot past the slot
        booking_events.emit(
            booking, BookingEvent.RESCHEDULED, previous_status=booking.status, actor=actor,
            actor_kind=ActorKind.CLIENT if by_client else None, now=now, note="rescheduled",
            from_start=before[0].isoformat(), to_start=slot.start.isoformat(), from_staff_id=before[1], to_staff_id=target_staff,
            **({"message": message} if message else {}),
        )


# ------------------------------------------------------------------ changes by the client (the manage link)

def client_staff_id(booking: Booking) -> int | None:
    """Whose time a client's reschedule of ``booking`` takes: the same staff member while they
    still offer the service, else None (any staff member who does)."""
    return booking.staff_id if availability_service.eligible_staff(booking.service, booking.staff_id) else None


def client_reschedule_slots(business: Business, booking: Booking, start_date, end_date, now: datetime | None = None):
    """The free times a client may move ``booking`` to, for local dates (business zone)
    ``start_date..end_date`` inclusive: the booking's service with the same staff member where
    possible (:func:`client_staff_id`), as the public page offers them (the business's minimum
    notice and advance limit; pending requests holding), free for the booking's seats when the
    booking itself is not counted, in the future, the booking's current time left out.
    Returns the slots merged across staff members (:func:`app.domain.availability.merge_slots`),
    sorted by start. Read-only."""
    now = now or utcnow()
    per_staff = availability_service.slots_per_staff(
        business, booking.service, start_date, end_date, now=now, staff_id=client_staff_id(booking),
        exclude_booking_id=booking.id, window=availability_service.booking_window(business.settings),
    )
    here = _where_it_is(booking)
    return availability_service.engine.merge_slots(
        {sid: [s for s in free if s.available_spots >= booking.seats and s.start > now and not here(s)] for sid, free in per_staff.items()}
    )


def client_reschedule(business: Business, booking_id: int, new_start: datetime, *, now: datetime | None = None) -> Booking:
    """The client moves their own booking to ``new_start`` (an aware instant) through its manage link.

    The same move as :func:`reschedule` (one unit of work under the staff locks: the old time is
    freed and the new one taken together; same reference and calendar UID; SEQUENCE + 1;
    reminders re-timed; the ``rescheduled`` event, its actor the client), with the client's
    rules: the business's policy (:func:`app.services.client_self_service.client_policy`) is
    checked under the lock; the new time must be one the public page offers (the business's
    minimum notice and advance limit); the staff member stays the same where possible
    (:func:`client_staff_id`); a request awaiting approval stays pending, back in the queue with a
    fresh expiry (``booking_expiry_hours`` from now, never past its new start).

    Returns the booking. Raises :class:`NotFound`, :class:`ValidationFailed` (naive or past
    ``new_start``), :class:`~app.services.client_self_service.ChangeNotAllowed` (409: the policy
    refuses it now), :class:`Conflict` or :class:`SlotUnavailable` with up to 3 nearest times the
    client could take instead.
    """
    now = now or utcnow()
    if new_start.tzinfo is None or new_start.utcoffset() is None:
        raise ValidationFailed(_("Give the new time with its UTC offset."), {"start": _("Include a UTC offset, e.g. +01:00.")})
    try:
        new_start = new_start.astimezone(availability_service.engine.UTC)
    except OverflowError:
        raise ValidationFailed(_("That time is out of range."), {"start": _("Pick one of the free times.")}) from None
    booking = get_booking(business, booking_id)
    client_self_service.require_allowed(booking, business.settings, client_self_service.RESCHEDULE, now)  # again under the lock
    staff_id = client_staff_id(booking)
    if staff_id is None:
        # Their staff member no longer offers the service: whoever is free then, as a new booking would.
        local_date = new_start.astimezone(ZoneInfo(business.timezone)).date()
        slot = next((s for s in client_reschedule_slots(business, booking, local_date, local_date, now) if s.start == new_start), None)
        staff_id = slot.staff_id if slot is not None else None
    try:
        if staff_id is None:
            raise _SlotTaken
        _reschedule_locked(business, booking, new_start, staff_id, None, now, by_client=True)
    except _SlotTaken:
        raise SlotUnavailable(
            _("That time is no longer free. Please pick another."), client_alternatives(business, booking, new_start, now)
        ) from None
    return booking


def client_alternatives(business: Business, booking: Booking, around: datetime, now: datetime | None = None):
    """Up to 3 free times nearest ``around`` that the client could move ``booking`` to (as
    :func:`client_reschedule_slots` offers them), in time order. Read-only."""
    return availability_service.nearest_alternatives(
        business, booking.service, around, now, staff_id=client_staff_id(booking), seats=booking.seats,
        exclude_booking_id=booking.id, skip=_where_it_is(booking),
    )


def client_cancel(business: Business, booking_id: int, reason: str | None = None, *, now: datetime | None = None) -> Booking:
    """The client cancels their confirmed booking, or withdraws their request, through its
    manage link; ``reason`` is optional.

    Under the booking's lock: the policy is checked (:func:`app.services.client_self_service.require_allowed`;
    a request can always be withdrawn), the booking becomes ``cancelled`` with the reason (None
    when blank) and SEQUENCE + 1 (calendars apply the CANCEL), and the ``cancelled`` event is
    emitted with the client as its actor: the client gets the cancellation (with the iTIP CANCEL
    for a booking their calendar has), the owner an e-mail and an in-app notification per their
    preferences, reminders and the request's expiry are retired. Returns the booking.
    Raises :class:`NotFound`, :class:`ValidationFailed` (reason over 2000 characters),
    :class:`~app.services.client_self_service.ChangeNotAllowed` (409).
    """
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > 2000:
        raise ValidationFailed(_("Please keep the reason under 2000 characters."), {"reason": _("At most 2000 characters.")})
    now = now or utcnow()
    with _locked(business, booking_id) as booking:
        client_self_service.require_allowed(booking, business.settings, client_self_service.CANCEL, now)
        withdrawn = booking.status == BookingStatus.PENDING
        _move(
            booking, BookingStatus.CANCELLED, actor=None, actor_kind=ActorKind.CLIENT, now=now,
            note=reason or ("request withdrawn" if withdrawn else "cancelled online"),
            cancellation_reason=reason, sequence=booking.sequence + 1,
        )
    return booking


def revoke_client_links(business: Business, booking_id: int, actor: User | None = None, *, now: datetime | None = None) -> Booking:
    """Replace the booking's manage secret, so every manage link and confirmation link already
    sent stops working (410); later e-mails and the confirmation page carry a new one. Writes a
    ``links_revoked`` row in the booking's history (``actor``: who of the business; status
    unchanged) and announces nothing else: no e-mail, no notification. Commits. Raises :class:`NotFound`."""
    booking = get_booking(business, booking_id)
    now = now or utcnow()
    with unit_of_work():
        db.session.refresh(booking)
        booking.manage_secret = new_manage_secret()
        db.session.add(BookingAuditEntry(
            booking=booking, event=BookingEvent.LINKS_REVOKED, from_status=booking.status, to_status=booking.status,
            actor_user_id=actor.id if actor else None, actor_kind=ActorKind.OWNER if actor else ActorKind.SYSTEM,
            note="client links revoked", data={}, created_at=now,
        ))
    return booking
