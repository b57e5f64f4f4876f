"""Scheduled work: a pending request expires at ``expires_at`` through its own
outbox job, reminders go out at the owner's offsets (never for a cancelled booking), and the daily
cleanup of old done rows is scheduled by both executors."""
from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from redis import Redis
from sqlalchemy import select

import app.jobs.booking_expiry as booking_jobs
from app.domain.booking_state import BookingStatus
from app.jobs import InProcessRunner, run_job
from app.jobs.executors.threads import Dispatcher
from app.jobs.maintenance import CLEANUP_KIND, cleanup_outbox, schedule_daily
from app.models import Booking, BookingAuditEntry, utcnow
from app.models.outbox import JobStatus, OutboxJob, SentMessage
from app.services import booking_service, business_service, outbox
from tests.jobs.conftest import MONDAY, NOW, UTC, at


def jobs_of(db, booking_id) -> list[tuple[str, str, datetime, JobStatus]]:
    db.session.rollback()
    rows = db.session.scalars(select(OutboxJob).where(OutboxJob.booking_id == booking_id).order_by(OutboxJob.id))
    return [(j.kind, j.idempotency_key, j.run_at, j.status) for j in rows]


def job_id(db, key: str) -> int:
    db.session.rollback()
    return db.session.scalar(select(OutboxJob.id).where(OutboxJob.idempotency_key == key))


def reload(db, booking_id) -> Booking:
    db.session.rollback()
    return db.session.get(Booking, booking_id, populate_existing=True)


@pytest.fixture
def approval(shop):
    business, service = shop
    business_service.update_settings(business, requires_approval=True)
    return business, service


@pytest.fixture
def clock(monkeypatch):
    """Set the clock the expiry handler reads (it uses the real clock; bookings are in 2027)."""

    def _set(instant: datetime):
        monkeypatch.setattr(booking_jobs, "utcnow", lambda: instant)

    return _set


# ------------------------------------------------------------------ expiry

def test_a_pending_request_records_its_expiry_job_at_expires_at(approval, make_booking, db):
    business, _ = approval
    booking = make_booking()
    expires = NOW + timedelta(hours=24)
    assert booking.expires_at == expires
    b = booking.id
    assert jobs_of(db, b) == [
        ("booking_email", f"email:booking:{b}:request_received:s0", recorded_at(db, b, "request_received"), JobStatus.PENDING),
        ("booking_email", f"email:booking:{b}:owner_new_request:s0", recorded_at(db, b, "owner_new_request"), JobStatus.PENDING),
        ("expire_booking", f"expire_booking:{b}", expires, JobStatus.PENDING),
    ]
    job = db.session.get(OutboxJob, job_id(db, f"expire_booking:{b}"))
    assert (job.payload, job.business_id, job.queue) == ({"booking_id": b}, business.id, "default")


def recorded_at(db, booking_id, template):
    """Immediate e-mails run at the real time they were recorded; read it back."""
    return db.session.scalar(
        select(OutboxJob.run_at).where(OutboxJob.booking_id == booking_id, OutboxJob.idempotency_key.like(f"%:{template}:%"))
    )


def test_a_confirmed_booking_has_no_expiry_job(make_booking, db):
    booking = make_booking()
    assert [k for k, *_ in jobs_of(db, booking.id) if k == "expire_booking"] == []


def test_the_expiry_job_expires_the_request_once_and_records_its_emails(approval, make_booking, db, clock):
    booking = make_booking()
    b, expires = booking.id, booking.expires_at
    expiry = job_id(db, f"expire_booking:{b}")
    assert run_job(expiry, now=expires - timedelta(seconds=1)) == "skipped"  # not due yet

    clock(expires)
    assert run_job(expiry, now=expires) == "done"
    assert reload(db, b).status == BookingStatus.EXPIRED
    expected = [
        ("booking_email", f"email:booking:{b}:expired:s0", JobStatus.PENDING),
        ("booking_email", f"email:booking:{b}:owner_expired:s0", JobStatus.PENDING),
    ]
    assert [(k, key, s) for k, key, _, s in jobs_of(db, b) if ":expired:" in key or ":owner_expired:" in key] == expected

    # Safe to run twice: the handler again (e.g. a duplicate RQ copy) changes nothing.
    assert booking_jobs.expire_booking(b, key=f"expire_booking:{b}") is False
    assert run_job(expiry, now=expires + timedelta(hours=1)) == "skipped"  # already done
    assert [(k, key, s) for k, key, _, s in jobs_of(db, b) if ":expired:" in key or ":owner_expired:" in key] == expected
    events = db.session.scalars(select(BookingAuditEntry.to_status).where(BookingAuditEntry.booking_id == b).order_by(BookingAuditEntry.id))
    assert list(events) == [BookingStatus.PENDING, BookingStatus.EXPIRED]


def test_a_request_approved_meanwhile_is_left_alone(approval, make_booking, db, clock):
    business, _ = approval
    booking = make_booking()
    b, expires = booking.id, booking.expires_at
    booking_service.approve(business, b, None, now=NOW + timedelta(hours=1))
    clock(expires)
    assert run_job(job_id(db, f"expire_booking:{b}"), now=expires) == "skipped"  # retired by the approval
    assert reload(db, b).status == BookingStatus.CONFIRMED
    assert [key for _, key, *_ in jobs_of(db, b) if "expired" in key] == []


def test_the_expiry_job_retries_while_the_deadline_is_still_ahead(approval, make_booking, db, clock):
    booking = make_booking()
    b, expires = booking.id, booking.expires_at
    expiry = job_id(db, f"expire_booking:{b}")
    clock(expires - timedelta(minutes=5))  # this worker's clock is behind the dispatcher's
    assert run_job(expiry, now=expires) == "pending"
    row = db.session.get(OutboxJob, expiry, populate_existing=True)
    assert row.attempts == 1 and row.last_error.startswith("NotDueYet: booking")
    assert reload(db, b).status == BookingStatus.PENDING


# ------------------------------------------------------------------ reminders at the owner's offsets

def reminder_jobs(db, booking_id) -> list[tuple[str, datetime]]:
    return [(key, run_at) for kind, key, run_at, _ in jobs_of(db, booking_id) if ":reminder:" in key]


def test_reminders_default_to_24h_and_1h_before(make_booking, db):
    booking = make_booking("10:00")
    start, b = at(MONDAY, "10:00"), booking.id
    assert reminder_jobs(db, b) == [
        (f"email:booking:{b}:reminder:s0:1440m", start - timedelta(hours=24)),
        (f"email:booking:{b}:reminder:s0:60m", start - timedelta(hours=1)),
    ]


def test_reminders_follow_the_owners_offsets(shop, make_booking, db):
    business, _ = shop
    business_service.update_settings(business, reminder_offsets_minutes=[2880, 90, 15])
    booking = make_booking("10:00")
    start, b = at(MONDAY, "10:00"), booking.id
    assert reminder_jobs(db, b) == [
        (f"email:booking:{b}:reminder:s0:2880m", start - timedelta(days=2)),
        (f"email:booking:{b}:reminder:s0:90m", start - timedelta(minutes=90)),
        (f"email:booking:{b}:reminder:s0:15m", start - timedelta(minutes=15)),
    ]


def test_no_reminders_when_the_owner_wants_none(shop, make_booking, db):
    business_service.update_settings(shop[0], reminder_offsets_minutes=[])
    assert reminder_jobs(db, make_booking().id) == []


def test_approving_a_request_records_reminders_at_the_owners_offsets(approval, make_booking, db):
    business, _ = approval
    business_service.update_settings(business, reminder_offsets_minutes=[30])
    booking = make_booking("10:00")
    assert reminder_jobs(db, booking.id) == []  # not while pending
    booking_service.approve(business, booking.id, None, now=NOW + timedelta(hours=1))
    assert reminder_jobs(db, booking.id) == [(f"email:booking:{booking.id}:reminder:s0:30m", at(MONDAY, "09:30"))]


def test_a_reminder_for_a_booking_cancelled_meanwhile_is_not_sent(shop, make_booking, smtp_server, db):
    business, _ = shop
    business_service.update_settings(business, reminder_offsets_minutes=[60])
    kept, cancelled = make_booking("10:00"), make_booking("14:00", client_email="grace@example.com")
    booking_service.cancel(business, cancelled.id, None, "Pool closed")
    for booking, wall, outcome in ((kept, "09:00", "done"), (cancelled, "13:00", "skipped")):
        key = f"email:booking:{booking.id}:reminder:s0:60m"
        assert run_job(job_id(db, key), now=at(MONDAY, wall)) == outcome
    sent = db.session.scalars(select(SentMessage.idempotency_key).where(SentMessage.idempotency_key.like("%:reminder:%")))
    assert list(sent) == [f"email:booking:{kept.id}:reminder:s0:60m"]
    assert [m.rcpt_tos for m in smtp_server.messages] == [["ada@example.com"]]


# ------------------------------------------------------------------ daily cleanup

def cleanup_rows(db) -> list[tuple[str, datetime, int | None]]:
    db.session.rollback()
    return [(j.idempotency_key, j.run_at, j.business_id) for j in db.session.scalars(select(OutboxJob).where(OutboxJob.kind == CLEANUP_KIND))]


def test_schedule_daily_records_one_cleanup_per_day_at_0330_utc(db):
    before = datetime(2030, 1, 1, 2, 0, tzinfo=UTC)
    schedule_daily(before)
    schedule_daily(before + timedelta(minutes=30))
    assert cleanup_rows(db) == [("cleanup_outbox:2030-01-01", datetime(2030, 1, 1, 3, 30, tzinfo=UTC), None)]
    schedule_daily(datetime(2030, 1, 1, 3, 30, tzinfo=UTC))  # today's is due now: the next is tomorrow
    assert [key for key, *_ in cleanup_rows(db)] == ["cleanup_outbox:2030-01-01", "cleanup_outbox:2030-01-02"]


def test_the_cleanup_job_deletes_old_done_rows_only(db):
    t0 = utcnow() - timedelta(days=30)
    ids = {}
    for key in ("old-done", "recent-done", "old-failed", "pending"):
        job = outbox.record("noop", {}, key=key, run_at=t0)
        db.session.commit()
        ids[key] = job.id
    for key, when in (("old-done", t0), ("recent-done", utcnow() - timedelta(days=1)), ("old-failed", t0)):
        assert outbox.claim(ids[key], now=when)
        if key == "old-failed":
            outbox.fail(ids[key], "boom", now=when, permanent=True)
        else:
            outbox.complete(ids[key], now=when)
    assert cleanup_outbox(key="cleanup") == 1
    db.session.rollback()
    assert sorted(db.session.scalars(select(OutboxJob.idempotency_key))) == ["old-failed", "pending", "recent-done"]
    assert cleanup_outbox(days=0, key="cleanup") == 1  # OUTBOX_KEEP_DAYS overridable per run


def test_the_cleanup_runs_as_an_outbox_job(db):
    schedule_daily(datetime(2030, 1, 1, 2, 0, tzinfo=UTC))
    [(key, run_at, _)] = cleanup_rows(db)
    assert run_job(job_id(db, key), now=run_at) == "done"


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def _expected_cleanup(now: datetime) -> tuple[str, datetime, None]:
    run_at = datetime.combine(now.date(), datetime.min.time().replace(hour=3, minute=30), tzinfo=UTC)
    if run_at <= now:
        run_at += timedelta(days=1)
    return (f"cleanup_outbox:{run_at.date().isoformat()}", run_at, None)


def test_the_in_process_runner_schedules_the_daily_cleanup(app, db):
    started = utcnow()
    runner = InProcessRunner(app, poll_seconds=0.05)
    runner.start()
    try:
        wait_until(lambda: cleanup_rows(db) != [])
    finally:
        runner.stop()
    assert cleanup_rows(db) == [_expected_cleanup(started)]


def test_the_rq_worker_dispatcher_schedules_the_daily_cleanup(app, db):
    """The worker process (app.jobs.executors.redis_queue.run_worker) runs this Dispatcher beside the RQ worker;
    nothing is due, so it never talks to Redis here (the port is closed)."""
    started = utcnow()
    dispatcher = Dispatcher(app, Redis(port=1, socket_connect_timeout=0.2), poll_seconds=0.05)
    dispatcher.start()
    try:
        wait_until(lambda: cleanup_rows(db) != [])
    finally:
        dispatcher.stop()
    assert cleanup_rows(db) == [_expected_cleanup(started)]


def test_leaving_pending_retires_the_expiry_and_cancelling_retires_the_reminders(approval, make_booking, db):
    """Jobs that can no longer do anything are marked done at once instead of lingering as pending."""
    business, _ = approval
    business_service.update_settings(business, reminder_offsets_minutes=[60])
    booking = make_booking()
    b = booking.id
    booking_service.approve(business, b, None, now=NOW + timedelta(hours=1))
    booking_service.cancel(business, b, None, "Pool closed")
    retired = {
        key: (status, result)
        for key, status, result in db.session.execute(
            select(OutboxJob.idempotency_key, OutboxJob.status, OutboxJob.result).where(OutboxJob.booking_id == b)
        )
        if result and "superseded" in result
    }
    assert retired == {
        f"expire_booking:{b}": (JobStatus.DONE, {"superseded": "request confirmed"}),
        f"email:booking:{b}:reminder:s0:60m": (JobStatus.DONE, {"superseded": "booking cancelled"}),
    }
