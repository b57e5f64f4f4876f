"""booking_service: creating bookings and moving them through the state machine (SQLite and PostgreSQL)."""
from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.domain.availability import Slot
from app.domain.booking_state import BookingStatus as S
from app.extensions import db as _db
from app.models import Booking, BookingAuditEntry, BookingIdempotencyKey, Client
from app.services import availability_service, booking_service, business_service
from app.services.errors import BookingClosed, Conflict, IdempotencyKeyReused, NotFound, SlotUnavailable, ValidationFailed
from tests.services.support import MONDAY, NOW, at, later, request_for


def book(business, service, wall, n=1, now=NOW, day=MONDAY, **fields):
    return booking_service.create_booking(business, request_for(service, at(day, wall), n, **fields), now=now).booking


def events(booking):
    return [
        (e.from_status, e.to_status, e.actor_user_id, e.note)
        for e in _db.session.scalars(select(BookingAuditEntry).where(BookingAuditEntry.booking_id == booking.id).order_by(BookingAuditEntry.id))
    ]


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def hourly(walls, day=MONDAY, spots=1, staff_id=None):
    return [Slot(at(day, w), at(day, w) + timedelta(hours=1), spots, staff_id) for w in walls]


# ---------------------------------------------------------------- create


def test_create_confirmed_when_no_approval_needed(db, business, lesson, staff):
    result = booking_service.create_booking(business, request_for(lesson, at(MONDAY, "10:00")), now=NOW)
    b = result.booking
    assert result.created is True
    assert re.fullmatch(r"FK-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}", b.reference)
    assert (b.status, b.start_at, b.end_at, b.staff_id, b.seats) == (S.CONFIRMED, at(MONDAY, "10:00"), at(MONDAY, "11:00"), staff.id, 1)
    assert (b.approved_at, b.expires_at, b.created_at) == (NOW, None, NOW)
    assert (b.client.name, b.client.email, b.client.phone) == ("Client 1", "client1@example.com", None)
    assert events(b) == [(None, S.CONFIRMED, None, "booked online")]


def test_create_pending_expires_after_expiry_hours(db, business, lesson):
    business_service.update_settings(business, requires_approval=True, booking_expiry_hours=24)
    b = book(business, lesson, "10:00")
    assert (b.status, b.expires_at, b.approved_at) == (S.PENDING, NOW + timedelta(hours=24), None)
    assert events(b) == [(None, S.PENDING, None, "booked online")]


def test_pending_never_expires_after_its_own_start(db, business, lesson):
    """expires_at = min(now + expiry, start): a request for 14:00 today expires at 14:00."""
    business_service.update_settings(business, requires_approval=True, booking_expiry_hours=24)
    today = NOW.date()  # Tuesday; NOW is 09:00 London, minimum notice 2 h
    b = book(business, lesson, "14:00", day=today)
    assert (b.status, b.expires_at) == (S.PENDING, at(today, "14:00"))


@pytest.mark.parametrize("auto_approve,second_status", [(True, S.CONFIRMED), (False, S.PENDING)])
def test_returning_clients_auto_approved_only_when_enabled(db, business, lesson, owner, auto_approve, second_status):
    business_service.update_settings(business, requires_approval=True, auto_approve_returning_clients=auto_approve)
    first = book(business, lesson, "10:00", client_email="ann@example.com")
    assert first.status == S.PENDING
    # Still pending: not yet a returning client.
    assert book(business, lesson, "11:00", client_email="ann@example.com").status == S.PENDING
    booking_service.approve(business, first.id, owner, now=NOW)
    second = book(business, lesson, "14:00", client_email="ann@example.com")
    assert second.status == second_status
    assert second.client_id == first.client_id
    event = db.session.scalar(select(BookingAuditEntry).where(BookingAuditEntry.booking_id == second.id))
    assert event.data == {"auto_approved": auto_approve}


def test_clients_deduplicated_by_email_case_insensitively_else_phone(db, business, lesson, factory):
    a = book(business, lesson, "09:00", 1, client_name="Ann", client_email="Ann@Example.com")
    b = book(business, lesson, "10:00", 2, client_name="Ann B", client_email="ann@example.com")
    c = book(business, lesson, "11:00", 3, client_name="Bob", client_email=None, client_phone="+447700900123")
    d = book(business, lesson, "12:00", 4, client_name="Bob", client_email="bob@example.com", client_phone="+447700900123")
    e = book(business, lesson, "13:00", 5, client_name="Cat", client_email="cat@example.com", client_phone=None)
    assert a.client_id == b.client_id
    assert c.client_id == d.client_id
    assert len({a.client_id, c.client_id, e.client_id}) == 3
    clients = db.session.execute(select(Client.name, Client.email, Client.phone).order_by(Client.id)).all()
    assert [tuple(c) for c in clients] == [
        ("Ann B", "ann@example.com", None),  # latest name kept
        ("Bob", "bob@example.com", "+447700900123"),  # e-mail filled in from the second booking
        ("Cat", "cat@example.com", None),
    ]
    # Another business's client with the same e-mail is a different client.
    other = factory.owner(business_name="Other Shop").business
    other_service = factory.service(other, duration_minutes=60, buffer_after_minutes=0)
    f = book(other, other_service, "09:00", client_email="ann@example.com")
    assert f.client_id not in {a.client_id, c.client_id, e.client_id}


def test_idempotency_key_returns_the_first_booking(db, business, lesson):
    first = booking_service.create_booking(business, request_for(lesson, at(MONDAY, "10:00"), idempotency_key="k-1"), now=NOW)
    again = booking_service.create_booking(business, request_for(lesson, at(MONDAY, "10:00"), idempotency_key="k-1"), now=NOW)
    assert (first.created, again.created) == (True, False)
    assert again.booking.id == first.booking.id
    assert count(db, Booking) == 1


def test_idempotency_key_with_another_request_is_refused(db, business, lesson):
    """A key reused with other details must not hand back someone else's booking."""
    booking_service.create_booking(business, request_for(lesson, at(MONDAY, "10:00"), idempotency_key="k-1"), now=NOW)
    for other in (
        request_for(lesson, at(MONDAY, "15:00"), idempotency_key="k-1"),
        request_for(lesson, at(MONDAY, "10:00"), 2, idempotency_key="k-1"),
        request_for(lesson, at(MONDAY, "10:00"), idempotency_key="k-1", notes="hi"),
    ):
        with pytest.raises(IdempotencyKeyReused) as info:
            booking_service.create_booking(business, other, now=NOW)
        assert (info.value.status_code, info.value.code) == (422, "idempotency_key_reused")
    assert count(db, Booking) == 1


def test_idempotency_fingerprint_is_canonical(lesson):
    """The same instant written with another UTC offset is the same request."""
    utc = request_for(lesson, at(MONDAY, "10:00"))
    tokyo = request_for(lesson, at(MONDAY, "10:00").astimezone(ZoneInfo("Asia/Tokyo")))
    assert booking_service.request_fingerprint(utc) == booking_service.request_fingerprint(tokyo)
    assert re.fullmatch(r"[0-9a-f]{64}", booking_service.request_fingerprint(utc))
    assert booking_service.request_fingerprint(utc) != booking_service.request_fingerprint(request_for(lesson, at(MONDAY, "10:00"), seats=2))


def test_idempotency_keys_are_per_business(db, business, lesson, factory):
    other = factory.owner().business
    other_lesson = factory.service(other, name="Lesson", duration_minutes=60, buffer_after_minutes=0)
    mine = booking_service.create_booking(business, request_for(lesson, at(MONDAY, "10:00"), idempotency_key="k-1"), now=NOW)
    theirs = booking_service.create_booking(other, request_for(other_lesson, at(MONDAY, "10:00"), idempotency_key="k-1"), now=NOW)
    assert (mine.created, theirs.created) == (True, True)
    assert mine.booking.id != theirs.booking.id


def test_idempotency_key_expires_after_24_hours(db, business, lesson):
    first = booking_service.create_booking(business, request_for(lesson, at(MONDAY, "10:00"), idempotency_key="k-1"), now=NOW)
    within = booking_service.create_booking(business, request_for(lesson, at(MONDAY, "10:00"), idempotency_key="k-1"), now=later(23.9))
    assert (within.created, within.booking.id) == (False, first.booking.id)
    # A day later the key is free again, even with another request and before any cleanup ran.
    fresh = booking_service.create_booking(business, request_for(lesson, at(MONDAY, "15:00"), idempotency_key="k-1"), now=later(24))
    assert fresh.created and fresh.booking.id != first.booking.id
    keys = db.session.execute(select(BookingIdempotencyKey.key, BookingIdempotencyKey.booking_id)).all()
    assert keys == [("k-1", fresh.booking.id)]


def test_cleanup_deletes_expired_idempotency_keys(db, business, lesson):
    booking_service.create_booking(business, request_for(lesson, at(MONDAY, "10:00"), idempotency_key="old"), now=NOW)
    booking_service.create_booking(business, request_for(lesson, at(MONDAY, "15:00"), idempotency_key="new"), now=later(12))
    assert booking_service.delete_expired_idempotency_keys(now=later(24)) == 1
    assert db.session.scalars(select(BookingIdempotencyKey.key)).all() == ["new"]


def test_seats_over_capacity(db, business, factory):
    group = factory.service(business, name="Group", duration_minutes=60, capacity=6, buffer_after_minutes=0)
    with pytest.raises(ValidationFailed) as info:
        book(business, group, "10:00", seats=7)
    assert info.value.fields == {"seats": "At most 6 seat(s)."}
    assert count(db, Booking) == 0


def test_six_seat_class_fills_up(db, business, factory):
    group = factory.service(business, name="Group", duration_minutes=60, capacity=6, buffer_after_minutes=0)
    book(business, group, "10:00", 1, seats=5)
    with pytest.raises(SlotUnavailable):
        book(business, group, "10:00", 2, seats=2)
    book(business, group, "10:00", 3, seats=1)
    with pytest.raises(SlotUnavailable):
        book(business, group, "10:00", 4, seats=1)
    assert db.session.scalar(select(func.sum(Booking.seats))) == 6


def test_inactive_link_is_closed(db, business, lesson):
    business_service.update_settings(business, is_active=False)
    with pytest.raises(BookingClosed):
        book(business, lesson, "10:00")
    assert count(db, Booking) == 0


def test_service_of_another_business_or_inactive_is_not_found(db, business, lesson, factory):
    other = factory.owner(business_name="Other Shop").business
    foreign = factory.service(other, duration_minutes=60)
    with pytest.raises(NotFound) as info:
        book(business, foreign, "10:00")
    assert info.value.fields == {"service_id": "Unknown service."}
    business_service.save_service(business, lesson, is_active=False)
    with pytest.raises(NotFound):
        book(business, lesson, "10:00")
    assert count(db, Booking) == 0


def test_staff_not_offering_the_service_is_not_found(db, business, lesson):
    with pytest.raises(NotFound) as info:
        book(business, lesson, "10:00", staff_id=999_999)
    assert info.value.fields == {"staff_id": "Unknown staff member."}


def test_taken_slot_offers_the_nearest_alternatives(db, business, lesson, staff):
    book(business, lesson, "10:00", 1)
    with pytest.raises(SlotUnavailable) as info:
        book(business, lesson, "10:00", 2)
    assert info.value.alternatives == hourly(["09:00", "11:00", "12:00"], staff_id=staff.id)
    for wall in ["08:00", "17:00", "10:30"]:  # outside hours, off the grid
        with pytest.raises(SlotUnavailable):
            book(business, lesson, wall, 3)
    with pytest.raises(SlotUnavailable):  # inside the 2-hour minimum notice
        book(business, lesson, "10:00", 4, day=NOW.date())
    assert count(db, Booking) == 1


# ---------------------------------------------------------------- transitions


@pytest.fixture
def approval(business):
    business_service.update_settings(business, requires_approval=True, booking_expiry_hours=24)
    return business


def test_approve_records_who_and_when(db, approval, lesson, owner):
    b = book(approval, lesson, "10:00")
    approved = booking_service.approve(approval, b.id, owner, now=later(1))
    assert (approved.status, approved.approved_at, approved.approved_by_id, approved.expires_at) == (S.CONFIRMED, later(1), owner.id, None)
    assert events(approved) == [(None, S.PENDING, None, "booked online"), (S.PENDING, S.CONFIRMED, owner.id, "approved")]


def test_reject_needs_a_reason(db, approval, lesson, owner):
    b = book(approval, lesson, "10:00")
    with pytest.raises(ValidationFailed) as info:
        booking_service.reject(approval, b.id, owner, "   ")
    assert info.value.fields == {"reason": "A reason is required."}
    rejected = booking_service.reject(approval, b.id, owner, " Pool closed ")
    assert (rejected.status, rejected.rejection_reason) == (S.REJECTED, "Pool closed")
    assert events(rejected)[-1] == (S.PENDING, S.REJECTED, owner.id, "Pool closed")
    # A rejected request frees its slot.
    assert book(approval, lesson, "10:00", 2).status == S.PENDING


def test_cancel_confirmed_bumps_sequence_and_frees_the_slot(db, business, lesson, owner, staff):
    b = book(business, lesson, "10:00")
    assert b.sequence == 0
    cancelled = booking_service.cancel(business, b.id, owner, "Client ill")
    assert (cancelled.status, cancelled.cancellation_reason, cancelled.sequence) == (S.CANCELLED, "Client ill", 1)
    assert events(cancelled) == [(None, S.CONFIRMED, None, "booked online"), (S.CONFIRMED, S.CANCELLED, owner.id, "Client ill")]
    assert availability_service.available_slots(business, lesson, MONDAY, MONDAY, now=NOW) == hourly(
        ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"], staff_id=staff.id
    )


def test_full_audit_trail(db, approval, lesson, owner):
    b = book(approval, lesson, "10:00")
    booking_service.approve(approval, b.id, owner, now=NOW)
    booking_service.cancel(approval, b.id, None, "Weather")
    assert events(b) == [
        (None, S.PENDING, None, "booked online"),
        (S.PENDING, S.CONFIRMED, owner.id, "approved"),
        (S.CONFIRMED, S.CANCELLED, None, "Weather"),
    ]


@pytest.mark.parametrize(
    "setup,action",
    [
        ("confirmed", "approve"),
        ("confirmed", "reject"),
        ("rejected", "approve"),
        ("rejected", "reject"),
        ("rejected", "cancel"),
        ("cancelled", "approve"),
        ("cancelled", "cancel"),
    ],
)
def test_illegal_transitions_are_conflicts(db, approval, lesson, owner, setup, action):
    b = book(approval, lesson, "10:00")
    if setup == "confirmed":
        booking_service.approve(approval, b.id, owner, now=NOW)
    elif setup == "rejected":
        booking_service.reject(approval, b.id, owner, "No")
    else:
        booking_service.cancel(approval, b.id, owner, "No")
    before = events(b)
    status = db.session.get(Booking, b.id).status
    with pytest.raises(Conflict):
        if action == "approve":
            booking_service.approve(approval, b.id, owner, now=NOW)
        else:
            getattr(booking_service, action)(approval, b.id, owner, "again")
    assert db.session.get(Booking, b.id).status == status
    assert events(b) == before


def test_other_business_booking_is_not_found(db, business, lesson, owner, factory):
    b = book(business, lesson, "10:00")
    other = factory.owner(business_name="Other Shop")
    for call in (
        lambda: booking_service.get_booking(other.business, b.id),
        lambda: booking_service.approve(other.business, b.id, other, now=NOW),
        lambda: booking_service.reject(other.business, b.id, other, "x"),
        lambda: booking_service.cancel(other.business, b.id, other, "x"),
    ):
        with pytest.raises(NotFound):
            call()
    assert db.session.get(Booking, b.id).status == S.CONFIRMED


def test_approve_rechecks_the_slot(db, approval, lesson, owner, staff):
    """Another booking took the time meanwhile (here: entered straight into the calendar)."""
    b = book(approval, lesson, "10:00")
    client = db.session.get(Client, b.client_id)
    db.session.add(
        Booking(
            reference="FK-ZZZZZZ", business_id=approval.id, service_id=lesson.id, staff_id=staff.id, client_id=client.id,
            start_at=at(MONDAY, "10:30"), end_at=at(MONDAY, "11:30"), client_name="Walk-in", client_email="w@example.com",
            client_timezone="Europe/London", status=S.CONFIRMED,
        )
    )
    db.session.commit()
    with pytest.raises(SlotUnavailable):
        booking_service.approve(approval, b.id, owner, now=NOW)
    assert db.session.get(Booking, b.id).status == S.PENDING
    assert events(b) == [(None, S.PENDING, None, "booked online")]


def test_approve_rechecks_hours(db, approval, lesson, owner, staff):
    b = book(approval, lesson, "10:00")
    business_service.set_override(staff, MONDAY, [], now=NOW)
    with pytest.raises(SlotUnavailable):
        booking_service.approve(approval, b.id, owner, now=NOW)
    assert db.session.get(Booking, b.id).status == S.PENDING


def test_approve_inside_the_minimum_notice(db, approval, lesson, owner):
    """A request made days ahead can still be approved an hour before it starts."""
    business_service.update_settings(approval, booking_expiry_hours=24 * 14)  # expires at its start
    b = book(approval, lesson, "10:00")
    assert b.expires_at == at(MONDAY, "10:00")
    approved = booking_service.approve(approval, b.id, owner, now=at(MONDAY, "09:00"))
    assert approved.status == S.CONFIRMED


def test_approve_the_last_seat_of_a_class(db, approval, factory, owner):
    group = factory.service(approval, name="Group", duration_minutes=60, capacity=2, buffer_after_minutes=0)
    a = book(approval, group, "10:00", 1)
    b = book(approval, group, "10:00", 2)
    booking_service.approve(approval, a.id, owner, now=NOW)
    assert booking_service.approve(approval, b.id, owner, now=NOW).status == S.CONFIRMED


# ---------------------------------------------------------------- expiry


def test_expired_request_frees_its_slot_and_is_marked(db, business, lesson, owner, staff):
    business_service.update_settings(business, requires_approval=True, booking_expiry_hours=1)
    a = book(business, lesson, "10:00", 1)
    all_day = ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]
    without_10 = [w for w in all_day if w != "10:00"]
    assert availability_service.available_slots(business, lesson, MONDAY, MONDAY, now=later(0.5)) == hourly(without_10, staff_id=staff.id)
    # One hour on the request is no longer a hold, even before the sweep runs.
    assert availability_service.available_slots(business, lesson, MONDAY, MONDAY, now=later(1)) == hourly(all_day, staff_id=staff.id)
    b = book(business, lesson, "10:00", 2, now=later(2))
    assert b.status == S.PENDING

    assert booking_service.expire_pending(now=later(2)) == 1
    assert (db.session.get(Booking, a.id).status, db.session.get(Booking, b.id).status) == (S.EXPIRED, S.PENDING)
    assert events(a) == [(None, S.PENDING, None, "booked online"), (S.PENDING, S.EXPIRED, None, "not approved in time")]
    assert booking_service.expire_pending(now=later(2)) == 0


def test_approving_an_expired_request_marks_it_expired(db, business, lesson, owner):
    business_service.update_settings(business, requires_approval=True, booking_expiry_hours=1)
    a = book(business, lesson, "10:00")
    with pytest.raises(Conflict):
        booking_service.approve(business, a.id, owner, now=later(1))
    assert db.session.get(Booking, a.id).status == S.EXPIRED
    assert events(a)[-1] == (S.PENDING, S.EXPIRED, None, "expired before approval")
