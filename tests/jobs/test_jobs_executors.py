"""Both executors against real servers: RQ on a real ``redis-server`` (started by the test on a
free port, skipped when the binary is missing) and the in-process runner thread.

(a) a booking recorded while Redis is down commits with its outbox rows; once Redis is back the
    dispatcher and a worker deliver each e-mail exactly once;
(b) a worker killed mid-job leaves no lost and no duplicated e-mail;
(c) the in-process runner delivers the same, with the same retries.
"""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import delete, func, select

from app.jobs import InProcessRunner, start_in_process_runner
from app.jobs.executors.redis_queue import dispatch_due
from app.models import utcnow
from app.models.outbox import JobStatus, OutboxJob, SentMessage
from app.domain.booking_events import created_event
from app.services import booking_emails
from app.services.locks import begin_write
from app.services.outbox import QUEUES
from tests.jobs.mail_support import parse
from tests.jobs.test_jobs_delivery import _kill_worker, row


def work(conn) -> None:
    SimpleWorker([Queue(q, connection=conn) for q in QUEUES], connection=conn).work(burst=True)


def statuses(db) -> list[JobStatus]:
    """Statuses of the e-mail jobs due now (the runner also records the daily cleanup; reminders
    are due in 2027)."""
    db.session.rollback()
    query = (
        select(OutboxJob.status)
        .where(OutboxJob.kind == booking_emails.JOB_KIND, OutboxJob.run_at <= utcnow() + timedelta(days=1))
        .order_by(OutboxJob.id)
    )
    return list(db.session.scalars(query))


def delivered_keys(db) -> list[str]:
    db.session.rollback()
    return sorted(db.session.scalars(select(SentMessage.idempotency_key)))


def assert_each_email_once(db, smtp_server, expected: int):
    keys = delivered_keys(db)
    message_ids = [parse(m).message["Message-ID"] for m in smtp_server.messages]
    assert len(keys) == len(set(keys)) == expected
    assert len(message_ids) == len(set(message_ids)) == expected


def book_and_record(make_booking, db, n=2):
    """``n`` bookings with their "created" e-mails (client + owner each), committed.

    The booking service records those jobs itself (recording again returns the same rows); the
    reminders it also records are dropped so these tests count only the e-mails sent at once.
    """
    jobs = []
    for i in range(n):
        booking = make_booking(f"{10 + i}:00", client_email=f"client{i}@example.com")
        begin_write(db.session, [booking.staff_id])  # as the booking service's transactions do
        jobs += booking_emails.record_booking_emails(booking, created_event(booking.status))
        db.session.execute(delete(OutboxJob).where(OutboxJob.booking_id == booking.id, OutboxJob.idempotency_key.like("%:reminder:%")))
        db.session.commit()
    return [j.id for j in jobs]


def test_redis_down_then_back_delivers_each_email_exactly_once(make_booking, smtp_server, redis_server, db):
    conn = redis_server.client()
    redis_server.stop()
    job_ids = book_and_record(make_booking, db)
    assert dispatch_due(conn) == 0
    assert statuses(db) == [JobStatus.PENDING] * 4  # committed, waiting, nothing lost

    redis_server.start()
    assert dispatch_due(conn) == 4
    assert statuses(db) == [JobStatus.DISPATCHED] * 4
    assert dispatch_due(conn) == 0  # already on the queue
    # The clients' e-mails on the queue workers take first, the owner's copies on the next one.
    assert (Queue("notifications", connection=conn).count, Queue("default", connection=conn).count) == (2, 2)
    work(conn)
    assert statuses(db) == [JobStatus.DONE] * 4
    assert_each_email_once(db, smtp_server, 4)
    assert sorted(r for p in map(parse, smtp_server.messages) for r in p.rcpt_tos) == [
        "client0@example.com", "client1@example.com", "hello@swimschool.test", "hello@swimschool.test"
    ]

    # Dispatching and working again finds nothing to do.
    assert dispatch_due(conn) == 0
    work(conn)
    assert_each_email_once(db, smtp_server, 4)
    assert len(job_ids) == 4


def test_redis_losing_queued_jobs_redispatches_after_the_lease(make_booking, smtp_server, redis_server, db):
    conn = redis_server.client()
    book_and_record(make_booking, db, n=1)
    assert dispatch_due(conn) == 2
    redis_server.stop()  # no persistence: the queued jobs are gone
    redis_server.start()
    assert dispatch_due(conn) == 0
    later = utcnow() + timedelta(seconds=901)
    assert dispatch_due(conn, now=later) == 2
    work(conn)
    assert statuses(db) == [JobStatus.DONE] * 2
    assert_each_email_once(db, smtp_server, 2)


def test_smtp_down_under_rq_retries_and_delivers_once(make_booking, smtp_server, redis_server, db):
    conn = redis_server.client()
    book_and_record(make_booking, db, n=1)
    smtp_server.stop()
    dispatch_due(conn)
    work(conn)
    assert statuses(db) == [JobStatus.PENDING] * 2
    smtp_server.start()
    assert dispatch_due(conn) == 0  # backing off
    retry_at = max(j.run_at for j in db.session.scalars(select(OutboxJob)))
    assert dispatch_due(conn, now=retry_at) == 2
    work(conn)
    assert statuses(db) == [JobStatus.DONE] * 2
    assert_each_email_once(db, smtp_server, 2)


def test_rq_worker_killed_mid_job_neither_loses_nor_duplicates(make_booking, smtp_server, redis_server, db, database_url):
    conn = redis_server.client()
    booking = make_booking()
    db.session.execute(delete(OutboxJob))  # keep just the one job this test follows
    job = booking_emails.record_booking_email(booking, "confirmed")
    db.session.commit()
    job_id = job.id
    assert dispatch_due(conn) == 1
    _kill_worker(database_url, smtp_server, "before-complete", "rq", redis_server.url)  # sent, then died
    stuck = row(db, job_id)
    assert stuck.status == JobStatus.RUNNING and len(smtp_server.messages) == 1

    assert dispatch_due(conn) == 0  # its lease still runs
    assert dispatch_due(conn, now=stuck.locked_until) == 1
    work(conn)
    assert row(db, job_id).status == JobStatus.DONE
    assert_each_email_once(db, smtp_server, 1)


# ------------------------------------------------------------------ in-process

@pytest.fixture
def runner(app):
    runners = []

    def _start(**kwargs):
        r = InProcessRunner(app, **kwargs)
        r.start()
        runners.append(r)
        return r

    yield _start
    for r in runners:
        r.stop()


def wait_until(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_in_process_runner_delivers_each_email_once(make_booking, smtp_server, runner, db):
    # A poll far longer than delivery takes even on a busy machine: delivery before it can only
    # come from the commit waking the runner.
    poll = 30
    runner(poll_seconds=poll)
    started = time.monotonic()
    book_and_record(make_booking, db)
    smtp_server.wait_for(4, timeout=poll - 5)
    assert time.monotonic() - started < poll - 5
    wait_until(lambda: statuses(db) == [JobStatus.DONE] * 4)
    time.sleep(0.3)
    assert_each_email_once(db, smtp_server, 4)


@pytest.fixture
def quick_retries(config_overrides):
    config_overrides.update(OUTBOX_BACKOFF_SECONDS=0.3, OUTBOX_BACKOFF_FACTOR=1, OUTBOX_BACKOFF_JITTER=0.2)
    return config_overrides


def test_in_process_runner_retries_while_smtp_is_down(quick_retries, make_booking, smtp_server, runner, db):
    smtp_server.stop()
    runner(poll_seconds=0.05)
    book_and_record(make_booking, db, n=1)
    wait_until(lambda: all(j.attempts >= 1 and j.status == JobStatus.PENDING for j in _jobs(db)))
    smtp_server.start()
    wait_until(lambda: statuses(db) == [JobStatus.DONE] * 2)
    assert_each_email_once(db, smtp_server, 2)
    assert all(j.last_error and "cannot send" in j.last_error for j in _jobs(db))


def _jobs(db):
    db.session.rollback()
    query = select(OutboxJob).where(OutboxJob.kind == booking_emails.JOB_KIND, ~OutboxJob.idempotency_key.like("%:reminder:%"))
    return list(db.session.scalars(query))


def test_two_runners_share_the_outbox_without_duplicates(make_booking, smtp_server, runner, db):
    runner(poll_seconds=0.05)
    runner(poll_seconds=0.05)
    book_and_record(make_booking, db, n=3)
    wait_until(lambda: statuses(db).count(JobStatus.DONE) == 6)
    time.sleep(0.2)
    assert_each_email_once(db, smtp_server, 6)


def test_runner_schedules_the_daily_cleanup(smtp_server, runner, db):
    runner(poll_seconds=5)
    wait_until(lambda: db.session.rollback() or db.session.scalar(select(func.count(OutboxJob.id)).where(OutboxJob.kind == "cleanup_outbox")) == 1)


def test_start_in_process_runner_only_without_redis_and_outside_tests(app):
    assert start_in_process_runner(app) is None  # TESTING
    app.config.update(TESTING=False, REDIS_URL="redis://127.0.0.1:1/0")
    try:
        assert start_in_process_runner(app) is None  # workers do it
        app.config["REDIS_URL"] = None
        started = start_in_process_runner(app)
        assert started is not None and started.is_alive()
        assert start_in_process_runner(app) is started
        started.stop()
        assert not started.is_alive()
    finally:
        app.config.update(TESTING=True)


def test_worker_runs_jobs_in_the_app_context(make_booking, smtp_server, redis_server, app, db):
    """``run_worker`` (what ``worker.py`` calls): an RQ worker running jobs in the app context,
    plus the dispatcher thread."""
    from app.jobs.executors.redis_queue import run_worker

    app.config["REDIS_URL"] = redis_server.url
    book_and_record(make_booking, db, n=1)
    assert dispatch_due(redis_server.client()) == 2
    run_worker(app, burst=True)
    assert statuses(db) == [JobStatus.DONE] * 2
    assert_each_email_once(db, smtp_server, 2)


def test_web_dispatcher_enqueues_a_commit_s_jobs_without_waiting_for_a_poll(make_booking, smtp_server, redis_server, app, db):
    from app.jobs import start_web_dispatcher

    app.config["REDIS_URL"] = redis_server.url
    dispatcher = start_web_dispatcher(app, force=True)
    dispatcher.poll_seconds = 60  # only the commit's wake-up can enqueue within the test
    try:
        book_and_record(make_booking, db, n=1)
        conn = redis_server.client()
        wait_until(lambda: sum(Queue(q, connection=conn).count for q in QUEUES) == 2, timeout=5)
    finally:
        dispatcher.stop()
    work(conn)
    assert statuses(db) == [JobStatus.DONE] * 2
    assert_each_email_once(db, smtp_server, 2)


def test_a_claim_the_database_refuses_hands_the_job_back(make_booking, redis_server, db, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from app.jobs.executors import runner
    from app.services import outbox

    [job_id, *_] = book_and_record(make_booking, db, n=1)
    assert outbox.mark_dispatched(job_id)

    def locked(*args, **kwargs):
        raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    monkeypatch.setattr(outbox, "claim", locked)
    assert runner.run_job(job_id) == "skipped"
    assert row(db, job_id).status == JobStatus.PENDING


def test_clients_emails_go_on_the_queue_workers_take_first(make_booking, db):
    """A worker listens on notifications, sync, default in that order: under load the client's
    confirmation leaves before the owner's copy."""
    book_and_record(make_booking, db, n=1)
    jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.kind == booking_emails.JOB_KIND).order_by(OutboxJob.id)).all()
    assert [(job.payload["template"], job.queue) for job in jobs] == [("confirmed", "notifications"), ("owner_confirmed", "default")]
    assert QUEUES.index("notifications") < QUEUES.index("default")
