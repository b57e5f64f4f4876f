"""Rescheduling end to end through a real SMTP server (aiosmtpd): request -> confirm ->
reschedule -> cancel, each change's e-mail jobs run before the next change, as in production.
The calendar attachments must update ONE event: same UID, SEQUENCE strictly increasing, METHOD
matching the MIME ``method=`` parameter, and the rescheduled one carrying the new DTSTART."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.jobs import run_job
from app.models import Booking, User
from app.models.outbox import JobStatus, OutboxJob, SentMessage
from app.services import booking_service, business_service
from tests.jobs.conftest import MONDAY, NOW, at
from tests.jobs.mail_support import event_of, parse

UTC = timezone.utc
TUESDAY = MONDAY + timedelta(days=1)


def owner_user(db) -> User:
    return db.session.scalar(select(User).where(User.email == "owner@example.com"))


def run_immediate(db, booking_id) -> list[str]:
    """Run the booking's pending e-mail jobs that are not reminders (they are due now)."""
    db.session.rollback()
    ids = db.session.scalars(
        select(OutboxJob.id)
        .where(OutboxJob.booking_id == booking_id, OutboxJob.kind == "booking_email", OutboxJob.status == JobStatus.PENDING,
               OutboxJob.idempotency_key.not_like("%:reminder:%"))
        .order_by(OutboxJob.id)
    ).all()
    return [run_job(i) for i in ids]


def reminder_jobs(db, booking_id) -> dict[str, tuple[int, datetime]]:
    db.session.rollback()
    rows = db.session.execute(
        select(OutboxJob.idempotency_key, OutboxJob.id, OutboxJob.run_at)
        .where(OutboxJob.booking_id == booking_id, OutboxJob.idempotency_key.like("%:reminder:%"))
    )
    return {key.split(":reminder:")[1]: (job_id, run_at) for key, job_id, run_at in rows}


@pytest.fixture
def approval_shop(shop):
    business, service = shop
    business_service.update_settings(business, requires_approval=True, reminder_offsets_minutes=[60])
    return shop


def test_request_confirm_reschedule_cancel_updates_one_calendar_event(approval_shop, make_booking, smtp_server, db):
    business, _ = approval_shop
    owner = owner_user(db)
    booking = make_booking("10:00")
    b, uid = booking.id, booking.uid
    assert run_immediate(db, b) == ["done", "done"]  # request received + owner's new request
    booking_service.approve(business, b, owner, now=NOW)
    assert run_immediate(db, b) == ["done"]  # confirmed (the owner approved: no owner e-mail)
    booking_service.reschedule(business, b, owner, at(TUESDAY, "14:00"), now=NOW)
    assert run_immediate(db, b) == ["done"]  # rescheduled
    booking_service.cancel(business, b, owner, "Pool closed")
    assert run_immediate(db, b) == ["done"]  # cancelled (by the owner: no owner e-mail)

    mails = [parse(m) for m in smtp_server.messages]
    assert [(m.template, m.rcpt_tos) for m in mails] == [
        ("request_received", ["ada@example.com"]),
        ("owner_new_request", ["hello@swimschool.test"]),
        ("confirmed", ["ada@example.com"]),
        ("rescheduled", ["ada@example.com"]),
        ("cancelled", ["ada@example.com"]),
    ]
    assert [m.calendar is None for m in mails[:2]] == [True, True]  # nothing in a calendar until confirmed
    invites = mails[2:]
    assert [m.subject for m in invites] == [
        "Confirmed: Private lesson on Monday 7 June 2027",
        "New time: Private lesson on Tuesday 8 June 2027",
        "Cancelled: Private lesson on Tuesday 8 June 2027",
    ]
    events = [event_of(m.attachment) for m in invites]
    assert [m.calendar.to_ical() for m in invites] == [m.attachment.to_ical() for m in invites]
    assert {str(e["UID"]) for e in events} == {uid}
    sequences = [e["SEQUENCE"] for e in events]
    assert sequences == [0, 1, 2] and sequences == sorted(set(sequences))
    for m in invites:
        assert m.calendar_method_param == m.attachment_method_param == str(m.attachment["METHOD"])
    assert [str(m.attachment["METHOD"]) for m in invites] == ["REQUEST", "REQUEST", "CANCEL"]
    assert [e.decoded("DTSTART") for e in events] == [
        datetime(2027, 6, 7, 9, 0, tzinfo=UTC),  # 10:00 London (BST)
        datetime(2027, 6, 8, 13, 0, tzinfo=UTC),  # the new time, 14:00 London
        datetime(2027, 6, 8, 13, 0, tzinfo=UTC),
    ]
    assert [e.decoded("DTEND") for e in events][1] == datetime(2027, 6, 8, 14, 0, tzinfo=UTC)
    # The client reads the new time in their own zone (New York, EDT).
    rescheduled = invites[1]
    assert "09:00–10:00 (America/New_York)" in rescheduled.text and "09:00–10:00 (America/New_York)" in rescheduled.html
    assert booking.reference in rescheduled.text

    # Reminders: the one for the old time (SEQUENCE 0, retired by the reschedule) and the re-timed
    # one (SEQUENCE 1, retired by the cancellation) never run and send nothing.
    reminders = reminder_jobs(db, b)
    assert {k: run_at for k, (_, run_at) in reminders.items()} == {
        "s0:60m": at(MONDAY, "09:00"), "s1:60m": at(TUESDAY, "13:00"),
    }
    assert [run_job(job_id, now=run_at) for job_id, run_at in reminders.values()] == ["skipped", "skipped"]
    assert len(smtp_server.messages) == 5


def test_a_rescheduled_booking_gets_its_reminder_at_the_new_time_only(shop, make_booking, smtp_server, db):
    business, _ = shop
    business_service.update_settings(business, reminder_offsets_minutes=[60])
    booking = make_booking("10:00")
    b = booking.id
    booking_service.reschedule(business, b, owner_user(db), at(TUESDAY, "11:00"), now=NOW)
    # The confirmation (SEQUENCE 0) had not gone out yet: it is stale, only the new time is sent.
    assert run_immediate(db, b) == ["done", "done", "done"]
    assert [parse(m).template for m in smtp_server.messages] == ["owner_confirmed", "rescheduled"]

    reminders = reminder_jobs(db, b)
    old_id, old_at = reminders["s0:60m"]
    new_id, new_at = reminders["s1:60m"]
    assert (old_at, new_at) == (at(MONDAY, "09:00"), at(TUESDAY, "10:00"))
    assert run_job(new_id, now=old_at) == "skipped"  # not due yet at the old time
    assert run_job(old_id, now=old_at) == "skipped"  # retired by the reschedule
    assert run_job(new_id, now=new_at) == "done"
    mails = [parse(m) for m in smtp_server.messages]
    assert [m.template for m in mails] == ["owner_confirmed", "rescheduled", "reminder"]
    assert "06:00–07:00 (America/New_York)" in mails[-1].text  # 11:00 London on the new day
    assert "Tuesday 8 June 2027" in mails[-1].text
    sent = db.session.scalars(select(SentMessage.idempotency_key).order_by(SentMessage.id)).all()
    assert sent == [f"email:booking:{b}:owner_confirmed:s0", f"email:booking:{b}:rescheduled:s1", f"email:booking:{b}:reminder:s1:60m"]
    assert db.session.get(Booking, b).sequence == 1
