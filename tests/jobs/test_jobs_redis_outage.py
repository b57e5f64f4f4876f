"""Redis going away under the RQ executor, against a real ``redis-server`` (no persistence, so a
restart loses everything it held):

(a) dispatched rows whose RQ jobs a restart lost are dispatched again within seconds, not after
    the 900-second dispatch lease;
(b) ``worker.py`` outlives Redis stopping while it runs a job: it reconnects when Redis is back,
    runs what was recorded since, and still stops on SIGTERM;
(c) the leases are settings.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from rq import Queue
from sqlalchemy import delete, select

from app.domain.booking_events import created_event
from app.jobs.executors import redis_queue
from app.jobs.executors.redis_queue import dispatch_due, redispatch_lost, rq_job_id
from app.jobs.executors.threads import Dispatcher
from app.models import utcnow
from app.models.outbox import JobStatus, OutboxJob
from app.services import booking_emails, outbox
from app.services.locks import begin_write
from tests.jobs.test_jobs_executors import assert_each_email_once, book_and_record, statuses, work

ROOT = Path(__file__).resolve().parents[2]


def wait_until(condition, timeout: float, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"{message} not met within {timeout} s")


def test_rows_lost_by_a_redis_restart_are_dispatched_again_at_once(make_booking, smtp_server, redis_server, db):
    conn = redis_server.client()
    job_ids = book_and_record(make_booking, db, n=1)
    assert dispatch_due(conn) == 2
    assert all(Queue(q, connection=conn).fetch_job(rq_job_id(i)) for i, q in zip(job_ids, ("notifications", "default")))
    redis_server.stop()  # no persistence: the queued jobs are gone
    redis_server.start()

    assert dispatch_due(conn) == 0  # just dispatched: may still be on its way to Redis
    soon = utcnow() + timedelta(seconds=redis_queue.LOST_CHECK_AFTER_SECONDS + 1)
    assert dispatch_due(conn, now=soon) == 2  # seconds later, not OUTBOX_DISPATCH_LEASE_SECONDS
    assert dispatch_due(conn, now=soon) == 0  # on the queue again, so not lost
    work(conn)
    assert statuses(db) == [JobStatus.DONE] * 2
    assert_each_email_once(db, smtp_server, 2)


def test_a_dispatched_row_whose_rq_job_still_exists_is_left_alone(make_booking, redis_server, db):
    conn = redis_server.client()
    book_and_record(make_booking, db, n=1)
    assert dispatch_due(conn) == 2
    much_later = utcnow() + timedelta(seconds=60)
    assert redispatch_lost(conn, now=much_later) == 0
    assert statuses(db) == [JobStatus.DISPATCHED] * 2


def test_a_redis_error_while_checking_leaves_the_rows_dispatched(make_booking, redis_server, db):
    conn = redis_server.client()
    book_and_record(make_booking, db, n=1)
    assert dispatch_due(conn) == 2
    redis_server.stop()
    assert redispatch_lost(conn, now=utcnow() + timedelta(seconds=60)) == 0
    assert statuses(db) == [JobStatus.DISPATCHED] * 2


def test_dispatcher_redelivers_within_seconds_after_redis_is_flushed(app, make_booking, smtp_server, redis_server, db):
    """The dispatcher thread and a worker, Redis restarted empty between dispatch and work: every
    e-mail arrives once, a few seconds later."""
    app.config["REDIS_URL"] = redis_server.url
    conn = redis_server.client()
    book_and_record(make_booking, db, n=2)
    assert dispatch_due(conn) == 4
    redis_server.stop()
    redis_server.start()
    started = time.monotonic()
    dispatcher = Dispatcher(app, conn, poll_seconds=0.1)
    dispatcher.start()
    try:
        def requeued() -> bool:
            return sum(Queue(q, connection=conn).count for q in outbox.QUEUES) >= 4

        wait_until(requeued, timeout=redis_queue.LOST_CHECK_AFTER_SECONDS + 5, message="re-dispatch")
    finally:
        dispatcher.stop()
    work(conn)
    assert statuses(db) == [JobStatus.DONE] * 4
    assert_each_email_once(db, smtp_server, 4)
    assert time.monotonic() - started < redis_queue.LOST_CHECK_AFTER_SECONDS + 5


def _start_worker(database_url: str, redis_url: str, smtp_url: str, tmp_path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SMTP_URL": smtp_url,
        "MAIL_FROM": "Flowkey <bookings@flowkey.test>",
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "OUTBOX_POLL_SECONDS": "0.2",
        "SECRET_KEY": "test-secret",
        "FLOWKEY_ENCRYPTION_KEYS": "Zmxvd2tleS10ZXN0LWVuY3J5cHRpb24ta2V5LTAwMDE=",
    }
    log = open(tmp_path / "worker.log", "w")
    return subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def _running(db) -> bool:
    db.session.rollback()
    return db.session.scalar(select(OutboxJob.id).where(OutboxJob.status == JobStatus.RUNNING)) is not None


def test_worker_outlives_redis_stopping_mid_job(make_booking, smtp_server, redis_server, db, database_url, tmp_path):
    smtp_server.delay = 2.0  # the first e-mail is mid-send while Redis goes away
    book_and_record(make_booking, db, n=1)
    worker = _start_worker(database_url, redis_server.url, smtp_server.url, tmp_path)
    try:
        wait_until(lambda: _running(db), timeout=20, message="a job running")
        redis_server.stop()
        smtp_server.wait_for(1, timeout=10)  # the job finished its send without Redis
        smtp_server.delay = 0.0
        time.sleep(1.5)  # RQ notices: before the fix, "found an unhandled exception, quitting"
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
        redis_server.start()  # same port, empty

        # Recorded after Redis came back: the surviving worker (and its dispatcher) deliver it;
        # the first booking's second e-mail, lost from the flushed queue, follows.
        book_and_record_at(make_booking, db, "14:00")
        smtp_server.wait_for(4, timeout=redis_queue.LOST_CHECK_AFTER_SECONDS + 20)
        assert worker.poll() is None
        wait_until(lambda: statuses(db) == [JobStatus.DONE] * 4, timeout=10, message="all jobs done")
        assert_each_email_once(db, smtp_server, 4)

        worker.send_signal(signal.SIGTERM)
        assert worker.wait(20) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)


def book_and_record_at(make_booking, db, wall: str) -> None:
    """One more booking with its two "created" e-mails (as :func:`book_and_record`)."""
    booking = make_booking(wall, client_email="later@example.com")
    begin_write(db.session, [booking.staff_id])
    booking_emails.record_booking_emails(booking, created_event(booking.status))
    db.session.execute(delete(OutboxJob).where(OutboxJob.booking_id == booking.id, OutboxJob.idempotency_key.like("%:reminder:%")))
    db.session.commit()


@pytest.mark.parametrize("name, env, expected", [
    ("OUTBOX_LEASE_SECONDS", "120", 120),
    ("OUTBOX_DISPATCH_LEASE_SECONDS", "60", 60),
])
def test_leases_are_settings(name, env, expected):
    script = f"from app.config import Config; print(Config.{name})"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**os.environ, name: env}, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == str(expected), result.stderr


def test_the_dispatch_lease_comes_from_the_config(app, make_booking, db):
    app.config["OUTBOX_DISPATCH_LEASE_SECONDS"] = 42
    [job_id, *_] = book_and_record(make_booking, db, n=1)
    now = utcnow()
    assert outbox.mark_dispatched(job_id, now)
    db.session.rollback()
    job = db.session.get(OutboxJob, job_id, populate_existing=True)
    assert abs((job.locked_until - now).total_seconds() - 42) < 1
