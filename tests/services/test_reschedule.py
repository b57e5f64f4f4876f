"""booking_service.reschedule: the owner moves a booking; it keeps its reference and calendar UID,
its SEQUENCE goes up, the change is audited and its e-mails and reminders are recorded."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.domain.availability import Slot
from app.domain.booking_state import BookingStatus as S
from app.extensions import db as _db
from app.jobs import run_job
from app.models import Booking, BookingAuditEntry
from app.models.outbox import JobStatus, OutboxJob, SentMessage
from app.services import booking_service, business_service
from app.services.errors import Conflict, NotFound, SlotUnavailable, ValidationFailed
from tests.services.support import MONDAY, NOW, at, request_for

TUESDAY = MONDAY + timedelta(days=1)


def book(business, service, wall, n=1, day=MONDAY, now=NOW, **fields):
    return booking_service.create_booking(business, request_for(service, at(day, wall), n, **fields), now=now).booking


def reload(booking_id) -> Booking:
    _db.session.rollback()
    return _db.session.get(Booking, booking_id, populate_existing=True)


def state(b: Booking):
    return (b.status, b.start_at, b.end_at, b.staff_id, b.sequence, b.expires_at)


def events(booking_id):
    return [
        (e.from_status, e.to_status, e.actor_user_id, e.note, e.data)
        for e in _db.session.scalars(select(BookingAuditEntry).where(BookingAuditEntry.booking_id == booking_id).order_by(BookingAuditEntry.id))
    ]


def jobs(booking_id):
    """(kind, key, run_at) of the booking's outbox jobs, in the order recorded. Immediate e-mails
    run at the real clock's "now" when recorded, so their run_at is replaced by None."""
    rows = _db.session.scalars(select(OutboxJob).where(OutboxJob.booking_id == booking_id).order_by(OutboxJob.id))
    return [(j.kind, j.idempotency_key, j.run_at if ":reminder:" in j.idempotency_key or j.kind == "expire_booking" else None) for j in rows]


def moved(old: datetime, new: datetime, old_staff: int, new_staff: int | None = None):
    return {
        "from_start": old.isoformat(), "to_start": new.isoformat(),
        "from_staff_id": old_staff, "to_staff_id": new_staff if new_staff is not None else old_staff,
    }


# ------------------------------------------------------------------ the happy path


def test_confirmed_booking_moves_keeps_its_identity_and_records_everything(db, business, lesson, staff, owner):
    b = book(business, lesson, "10:00")
    reference, uid = b.reference, b.uid
    result = booking_service.reschedule(business, b.id, owner, at(TUESDAY, "14:00"), now=NOW)

    after = reload(b.id)
    assert result.id == b.id
    assert state(after) == (S.CONFIRMED, at(TUESDAY, "14:00"), at(TUESDAY, "15:00"), staff.id, 1, None)
    assert (after.reference, after.uid, after.approved_at) == (reference, uid, NOW)
    assert events(b.id) == [
        (None, S.CONFIRMED, None, "booked online", {"auto_approved": False}),
        (S.CONFIRMED, S.CONFIRMED, owner.id, "rescheduled", moved(at(MONDAY, "10:00"), at(TUESDAY, "14:00"), staff.id)),
    ]
    i = b.id
    assert jobs(i) == [
        ("booking_email", f"email:booking:{i}:confirmed:s0", None),
        ("booking_email", f"email:booking:{i}:owner_confirmed:s0", None),
        ("booking_email", f"email:booking:{i}:reminder:s0:1440m", at(MONDAY, "10:00") - timedelta(hours=24)),
        ("booking_email", f"email:booking:{i}:reminder:s0:60m", at(MONDAY, "09:00")),
        # The owner moved it: the client is told (new SEQUENCE in the key), reminders re-timed.
        ("booking_email", f"email:booking:{i}:rescheduled:s1", None),
        ("booking_email", f"email:booking:{i}:reminder:s1:1440m", at(MONDAY, "14:00")),
        ("booking_email", f"email:booking:{i}:reminder:s1:60m", at(TUESDAY, "13:00")),
    ]
    payload = db.session.scalar(select(OutboxJob.payload).where(OutboxJob.idempotency_key == f"email:booking:{i}:rescheduled:s1"))
    assert payload == {"booking_id": i, "template": "rescheduled", "sequence": 1}


def test_sequence_goes_0_1_2_across_reschedule_and_cancel_with_the_same_uid(db, business, lesson, owner):
    b = book(business, lesson, "10:00")
    uid = b.uid
    assert reload(b.id).sequence == 0
    booking_service.reschedule(business, b.id, owner, at(MONDAY, "12:00"), now=NOW)
    assert (reload(b.id).sequence, reload(b.id).uid) == (1, uid)
    booking_service.cancel(business, b.id, owner, "Pool closed")
    after = reload(b.id)
    assert (after.status, after.sequence, after.uid, after.start_at) == (S.CANCELLED, 2, uid, at(MONDAY, "12:00"))
    assert [(e[0], e[1], e[3]) for e in events(b.id)] == [
        (None, S.CONFIRMED, "booked online"), (S.CONFIRMED, S.CONFIRMED, "rescheduled"), (S.CONFIRMED, S.CANCELLED, "Pool closed"),
    ]


def test_old_reminders_and_the_unsent_confirmation_are_skipped_as_stale(db, business, lesson, owner, app, tmp_path):
    """The reminders recorded for the old time (SEQUENCE 0) are retired at once and never run; an
    unsent confirmation for the old time runs when due and sends nothing."""
    app.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "outbox")
    business_service.update_settings(business, reminder_offsets_minutes=[60])
    b = book(business, lesson, "10:00")
    booking_service.reschedule(business, b.id, owner, at(TUESDAY, "10:00"), now=NOW)
    old = {key: job_id for job_id, key in db.session.execute(select(OutboxJob.id, OutboxJob.idempotency_key).where(OutboxJob.booking_id == b.id))}
    retired = db.session.get(OutboxJob, old[f"email:booking:{b.id}:reminder:s0:60m"])
    assert (retired.status, retired.result) == (JobStatus.DONE, {"superseded": "booking rescheduled"})
    assert run_job(retired.id, now=at(MONDAY, "09:00")) == "skipped"
    # The stale confirmation completes without sending.
    assert run_job(old[f"email:booking:{b.id}:confirmed:s0"], now=at(MONDAY, "09:00")) == "done"
    assert db.session.scalar(select(func.count(SentMessage.id))) == 0
    # The new reminder is due an hour before the new time and does send.
    assert run_job(old[f"email:booking:{b.id}:reminder:s1:60m"], now=at(TUESDAY, "09:00")) == "done"
    sent = db.session.scalars(select(SentMessage.idempotency_key)).all()
    assert sent == [f"email:booking:{b.id}:reminder:s1:60m"]
    statuses = dict(db.session.execute(select(OutboxJob.idempotency_key, OutboxJob.status).where(OutboxJob.booking_id == b.id)).all())
    assert statuses[f"email:booking:{b.id}:reminder:s0:60m"] == JobStatus.DONE


def test_client_reschedule_without_actor_is_recorded_without_actor(db, business, lesson):
    b = book(business, lesson, "10:00")
    booking_service.reschedule(business, b.id, None, at(MONDAY, "11:00"), now=NOW)
    assert events(b.id)[-1][2:4] == (None, "rescheduled")


def test_owner_may_ignore_minimum_notice_but_not_the_past(db, business, lesson, owner):
    """NOW is 09:00 London on Tuesday 1 June; the minimum notice is 2 hours."""
    today = NOW.date()
    b = book(business, lesson, "10:00")
    booking_service.reschedule(business, b.id, owner, at(today, "10:00"), now=NOW)  # one hour away
    assert state(reload(b.id))[:2] == (S.CONFIRMED, at(today, "10:00"))
    with pytest.raises(ValidationFailed) as exc:
        booking_service.reschedule(business, b.id, owner, NOW - timedelta(hours=1), now=NOW)
    assert (exc.value.message, exc.value.fields) == (
        "That time has already passed. Pick a time in the future.", {"start": "Pick a time in the future."}
    )
    assert reload(b.id).sequence == 1


def test_naive_start_is_refused(db, business, lesson, owner):
    b = book(business, lesson, "10:00")
    with pytest.raises(ValidationFailed) as exc:
        booking_service.reschedule(business, b.id, owner, datetime(2027, 6, 7, 12, 0), now=NOW)
    assert exc.value.fields == {"start": "Include a UTC offset, e.g. +01:00."}


def test_moving_onto_its_own_time_changes_nothing(db, business, lesson, owner):
    b = book(business, lesson, "10:00")
    before = jobs(b.id)
    booking_service.reschedule(business, b.id, owner, at(MONDAY, "10:00"), now=NOW)
    assert state(reload(b.id)) == (S.CONFIRMED, at(MONDAY, "10:00"), at(MONDAY, "11:00"), b.staff_id, 0, None)
    assert (len(events(b.id)), jobs(b.id)) == (1, before)


def test_overlapping_its_own_old_time_is_fine(db, business, factory, owner):
    """The booking does not block itself: 10:00-11:00 can move to 10:30-11:30."""
    service = factory.service(business, name="Lesson", duration_minutes=60, slot_interval_minutes=30,
                              buffer_before_minutes=0, buffer_after_minutes=0)
    b = book(business, service, "10:00")
    booking_service.reschedule(business, b.id, owner, at(MONDAY, "10:30"), now=NOW)
    assert state(reload(b.id))[1:3] == (at(MONDAY, "10:30"), at(MONDAY, "11:30"))


# ------------------------------------------------------------------ refusals change nothing


def test_taken_time_raises_slot_unavailable_with_alternatives_and_changes_nothing(db, business, lesson, owner, staff):
    b = book(business, lesson, "10:00")
    book(business, lesson, "14:00", n=2)
    before_jobs = jobs(b.id)
    with pytest.raises(SlotUnavailable) as exc:
        booking_service.reschedule(business, b.id, owner, at(MONDAY, "14:00"), now=NOW)
    assert exc.value.message == "That time is not free. Please pick another."
    # Nearest free times for the same staff member (not its own 10:00, not the taken 14:00).
    assert exc.value.alternatives == [
        Slot(at(MONDAY, w), at(MONDAY, w) + timedelta(hours=1), 1, staff.id) for w in ("12:00", "13:00", "15:00")
    ]
    after = reload(b.id)
    assert state(after) == (S.CONFIRMED, at(MONDAY, "10:00"), at(MONDAY, "11:00"), staff.id, 0, None)
    assert (len(events(b.id)), jobs(b.id)) == (1, before_jobs)


def test_outside_hours_is_unavailable(db, business, lesson, owner):
    b = book(business, lesson, "10:00")
    with pytest.raises(SlotUnavailable):
        booking_service.reschedule(business, b.id, owner, at(MONDAY, "20:00"), now=NOW)
    with pytest.raises(SlotUnavailable):  # Saturday: closed
        booking_service.reschedule(business, b.id, owner, at(MONDAY - timedelta(days=2), "10:00"), now=NOW)


def test_a_pending_request_holding_the_time_blocks_it(db, business, lesson, owner):
    b = book(business, lesson, "10:00")
    business_service.update_settings(business, requires_approval=True)
    held = book(business, lesson, "15:00", n=2)
    assert held.status == S.PENDING
    with pytest.raises(SlotUnavailable):
        booking_service.reschedule(business, b.id, owner, at(MONDAY, "15:00"), now=NOW)


@pytest.mark.parametrize("final", ["cancelled", "rejected"])
def test_only_pending_or_confirmed_bookings_move(db, business, lesson, owner, final):
    business_service.update_settings(business, requires_approval=True)
    b = book(business, lesson, "10:00")
    if final == "cancelled":
        booking_service.cancel(business, b.id, owner, "No")
    else:
        booking_service.reject(business, b.id, owner, "No")
    with pytest.raises(Conflict) as exc:
        booking_service.reschedule(business, b.id, owner, at(MONDAY, "12:00"), now=NOW)
    assert exc.value.message == f"This booking is {final}; only requests and confirmed bookings can be rescheduled."
    assert state(reload(b.id))[1] == at(MONDAY, "10:00")


def test_an_expired_request_does_not_move(db, business, lesson, owner):
    business_service.update_settings(business, requires_approval=True, booking_expiry_hours=1)
    b = book(business, lesson, "10:00")
    with pytest.raises(Conflict, match="expired"):
        booking_service.reschedule(business, b.id, owner, at(MONDAY, "12:00"), now=NOW + timedelta(hours=2))


def test_another_business_booking_is_not_found(db, business, lesson, factory):
    other = factory.owner(email="other@example.com", business_name="Other")
    b = book(business, lesson, "10:00")
    with pytest.raises(NotFound):
        booking_service.reschedule(other.business, b.id, other, at(MONDAY, "12:00"), now=NOW)
    assert reload(b.id).sequence == 0


# ------------------------------------------------------------------ pending requests


def test_pending_request_moves_keeps_its_deadline_unless_the_new_time_is_sooner(db, business, lesson, owner):
    business_service.update_settings(business, requires_approval=True, booking_expiry_hours=24)
    b = book(business, lesson, "10:00")
    deadline = NOW + timedelta(hours=24)
    booking_service.reschedule(business, b.id, owner, at(TUESDAY, "10:00"), now=NOW)
    assert state(reload(b.id)) == (S.PENDING, at(TUESDAY, "10:00"), at(TUESDAY, "11:00"), b.staff_id, 1, deadline)
    # Today at 15:00 London is sooner than the deadline: the request cannot hold it past its start.
    today = NOW.date()
    booking_service.reschedule(business, b.id, owner, at(today, "15:00"), now=NOW)
    assert state(reload(b.id)) == (S.PENDING, at(today, "15:00"), at(today, "16:00"), b.staff_id, 2, at(today, "15:00"))
    i = b.id
    # No client e-mail (nothing is in their calendar yet); a new expiry job at the sooner deadline.
    assert jobs(i) == [
        ("booking_email", f"email:booking:{i}:request_received:s0", None),
        ("booking_email", f"email:booking:{i}:owner_new_request:s0", None),
        ("expire_booking", f"expire_booking:{i}", deadline),
        ("expire_booking", f"expire_booking:{i}:s2", at(today, "15:00")),
    ]
    # Approving later confirms it at the new time, with reminders for it.
    booking_service.approve(business, i, owner, now=NOW)
    assert state(reload(i))[:2] == (S.CONFIRMED, at(today, "15:00"))


# ------------------------------------------------------------------ staff and seats


def test_move_to_another_staff_member(db, business, lesson, owner, staff):
    ben = business_service.add_staff(business, "Ben")
    business_service.set_weekly_hours(ben, {0: [(at(MONDAY, "09:00").time(), at(MONDAY, "12:00").time())]})
    business_service.save_service(business, lesson, staff_ids=[staff.id, ben.id])
    b = book(business, lesson, "10:00", staff_id=staff.id)
    booking_service.reschedule(business, b.id, owner, at(MONDAY, "10:00"), staff_id=ben.id, now=NOW)
    after = reload(b.id)
    assert state(after) == (S.CONFIRMED, at(MONDAY, "10:00"), at(MONDAY, "11:00"), ben.id, 1, None)
    assert after.staff.display_name == "Ben"
    assert events(b.id)[-1][4] == moved(at(MONDAY, "10:00"), at(MONDAY, "10:00"), staff.id, ben.id)


def test_staff_member_who_does_not_offer_the_service_is_refused(db, business, lesson, owner):
    outsider = business_service.add_staff(business, "Cleo")
    b = book(business, lesson, "10:00")
    with pytest.raises(ValidationFailed) as exc:
        booking_service.reschedule(business, b.id, owner, at(MONDAY, "12:00"), staff_id=outsider.id, now=NOW)
    assert exc.value.fields == {"staff_id": "Pick a staff member who offers this service."}


def test_seats_must_fit_at_the_new_time(db, business, factory, owner):
    group = factory.service(business, name="Group", duration_minutes=60, capacity=3, buffer_before_minutes=0, buffer_after_minutes=0)
    mine = book(business, group, "10:00", seats=2)
    book(business, group, "14:00", n=2, seats=2)  # one seat left at 14:00
    with pytest.raises(SlotUnavailable):
        booking_service.reschedule(business, mine.id, owner, at(MONDAY, "14:00"), now=NOW)
    book(business, group, "15:00", n=3, seats=1)  # two seats left at 15:00
    booking_service.reschedule(business, mine.id, owner, at(MONDAY, "15:00"), now=NOW)
    assert state(reload(mine.id))[1] == at(MONDAY, "15:00")


def test_reschedule_slots_lists_free_times_without_the_booking_itself(db, business, lesson, owner, staff):
    b = book(business, lesson, "10:00")
    book(business, lesson, "14:00", n=2)
    slots = booking_service.reschedule_slots(business, b, MONDAY, now=NOW)
    walls = ["09:00", "11:00", "12:00", "13:00", "15:00", "16:00"]
    assert slots == {staff.id: [Slot(at(MONDAY, w), at(MONDAY, w) + timedelta(hours=1), 1, staff.id) for w in walls]}
    # Today: only what is still ahead of NOW (09:00 London), minimum notice ignored.
    today = booking_service.reschedule_slots(business, b, NOW.date(), now=NOW)[staff.id]
    assert today[0].start == at(NOW.date(), "10:00") and today[0].start > NOW
