"""Delivery guarantees with a real SMTP server: retries with backoff when SMTP refuses or is down,
and no second e-mail when a job runs again after its worker died."""
from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.jobs import run_job
from app.models import utcnow
from app.models.outbox import JobStatus, OutboxJob, SentMessage
from app.services import booking_emails, job_admin, outbox
from tests.jobs.mail_support import parse

ROOT = __file__.rsplit("/tests/", 1)[0]


@pytest.fixture
def confirmed_job(make_booking, db):
    """The id of the client's "confirmed" e-mail job for a fresh booking."""
    booking = make_booking()
    job = booking_emails.record_booking_email(booking, "confirmed")
    db.session.commit()
    return job.id


def row(db, job_id) -> OutboxJob:
    db.session.rollback()
    return db.session.get(OutboxJob, job_id, populate_existing=True)


def sent_count(db) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(SentMessage.id)))


def test_smtp_down_retries_with_backoff_then_delivers_once(confirmed_job, smtp_server, db):
    smtp_server.stop()
    before = utcnow()
    assert run_job(confirmed_job) == "pending"
    job = row(db, confirmed_job)
    assert (job.status, job.attempts) == (JobStatus.PENDING, 1)
    assert "cannot send via 127.0.0.1" in job.last_error
    assert timedelta(seconds=47) <= job.run_at - before <= timedelta(seconds=73)  # 1 min ±20 %
    assert run_job(confirmed_job) == "skipped"  # not due yet

    smtp_server.start()
    assert run_job(confirmed_job, now=job.run_at) == "done"
    assert run_job(confirmed_job, now=job.run_at + timedelta(days=1)) == "skipped"
    assert len(smtp_server.messages) == 1 and sent_count(db) == 1
    assert row(db, confirmed_job).status == JobStatus.DONE


def test_a_451_is_retried_and_a_550_parks_the_job(confirmed_job, smtp_server, db):
    smtp_server.refuse(451)
    assert run_job(confirmed_job) == "pending"
    assert "451" in row(db, confirmed_job).last_error
    smtp_server.refuse(554)
    assert run_job(confirmed_job, now=row(db, confirmed_job).run_at) == "failed"
    job = row(db, confirmed_job)
    assert (job.status, job.attempts, job.last_error.startswith("SmtpError: server refused: 554")) == (JobStatus.FAILED, 2, True)
    # The owner fixes it and presses Retry.
    smtp_server.refuse(None)
    assert outbox.retry(confirmed_job)
    assert run_job(confirmed_job) == "done"
    assert len(smtp_server.messages) == 1


def test_five_failed_attempts_park_the_job(confirmed_job, smtp_server, db):
    smtp_server.stop()
    now = utcnow()
    statuses = []
    for _ in range(5):
        statuses.append(run_job(confirmed_job, now=now))
        now = row(db, confirmed_job).run_at + timedelta(seconds=1)
    assert statuses == ["pending"] * 4 + ["failed"]
    assert job_admin.failed_count() == 1


class WorkerKilled(BaseException):
    """Stands in for the process dying: not an Exception, so run_job does not record it."""


def test_killed_before_completing_does_not_send_twice(confirmed_job, smtp_server, db, monkeypatch):
    real_complete = outbox.complete

    def die(*_a, **_k):
        raise WorkerKilled

    monkeypatch.setattr(outbox, "complete", die)
    with pytest.raises(WorkerKilled):
        run_job(confirmed_job)
    db.session.rollback()
    assert row(db, confirmed_job).status == JobStatus.RUNNING
    assert len(smtp_server.messages) == 1 and sent_count(db) == 1

    monkeypatch.setattr(outbox, "complete", real_complete)
    lease_over = row(db, confirmed_job).locked_until
    assert run_job(confirmed_job, now=lease_over - timedelta(seconds=1)) == "skipped"  # the worker may be alive
    assert run_job(confirmed_job, now=lease_over) == "done"
    job = row(db, confirmed_job)
    assert (job.status, job.attempts) == (JobStatus.DONE, 2)
    assert len(smtp_server.messages) == 1 and sent_count(db) == 1


def _kill_worker(database_url, smtp_server, point, mode, target):
    result = subprocess.run(
        [sys.executable, "-m", "tests.jobs.killed_worker", database_url, smtp_server.url, point, mode, str(target)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 137, result.stderr[-3000:]


def test_a_really_killed_worker_leaves_one_email(confirmed_job, smtp_server, db, database_url):
    _kill_worker(database_url, smtp_server, "before-complete", "run_job", confirmed_job)
    job = row(db, confirmed_job)
    assert (job.status, len(smtp_server.messages), sent_count(db)) == (JobStatus.RUNNING, 1, 1)
    assert run_job(confirmed_job, now=job.locked_until) == "done"
    assert len(smtp_server.messages) == 1 and sent_count(db) == 1


def test_the_documented_window_sends_again_with_the_same_message_id(confirmed_job, smtp_server, db, database_url):
    """Dying between the SMTP server's 250 and the commit of the SentMessage row is the one case
    that duplicates (see app/jobs/notifications.py): nothing is lost, and both copies carry the
    same Message-ID so mailbox providers that de-duplicate show one."""
    _kill_worker(database_url, smtp_server, "after-send", "run_job", confirmed_job)
    job = row(db, confirmed_job)
    assert (job.status, len(smtp_server.messages), sent_count(db)) == (JobStatus.RUNNING, 1, 0)
    assert run_job(confirmed_job, now=job.locked_until) == "done"
    first, second = (parse(m).message for m in smtp_server.messages)
    assert first["Message-ID"] == second["Message-ID"]
    assert sent_count(db) == 1
