"""A running job's lease: renewed while its worker lives, lapsing soon after the worker dies.

The lease used to be sized for the slowest job (300 s), so a job whose worker was killed sat
``running`` that long. Now the runner renews it every third of ``OUTBOX_LEASE_SECONDS``: a slow
job keeps it, a dead worker's job is taken again within one lease.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from app.jobs import run_job
from app.jobs.registry import HANDLERS
from app.models import utcnow
from app.models.outbox import JobStatus, OutboxJob
from app.services import outbox

UTC = timezone.utc
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def _row(db, job_id) -> OutboxJob:
    db.session.rollback()
    return db.session.get(OutboxJob, job_id, populate_existing=True)


def test_renew_lease_extends_only_the_claim_that_holds_it(app, db):
    lease = timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"])
    job = outbox.record("noop", {}, key="k", run_at=T0)
    db.session.commit()
    job_id = job.id
    assert outbox.claim(job_id, now=T0).attempts == 1

    assert outbox.renew_lease(job_id, 1, now=T0 + timedelta(seconds=20))
    assert _row(db, job_id).locked_until == T0 + timedelta(seconds=20) + lease
    assert not outbox.renew_lease(job_id, 2, now=T0 + timedelta(seconds=21))  # not this claim
    assert _row(db, job_id).locked_until == T0 + timedelta(seconds=20) + lease

    # The worker missed its beats: another takes the job (attempt 2); the first may not take it back.
    late = T0 + timedelta(seconds=20) + lease
    assert outbox.claim(job_id, now=late).attempts == 2
    assert not outbox.renew_lease(job_id, 1, now=late + timedelta(seconds=1))
    assert _row(db, job_id).locked_until == late + lease

    assert outbox.complete(job_id, now=late)
    assert not outbox.renew_lease(job_id, 2, now=late + timedelta(seconds=2))
    assert (_row(db, job_id).status, _row(db, job_id).locked_until) == (JobStatus.DONE, None)


@pytest.fixture
def slow_handler():
    """A job kind whose handler runs until released (or 10 s)."""
    release, started = threading.Event(), threading.Event()

    def slow(key):
        started.set()
        release.wait(10)

    HANDLERS["test_slow"] = slow
    yield started, release
    release.set()
    HANDLERS.pop("test_slow", None)


def test_a_job_running_longer_than_its_lease_keeps_it(app, db, slow_handler):
    started, release = slow_handler
    app.config["OUTBOX_LEASE_SECONDS"] = 1  # beats every 1/3 s
    job = outbox.record("test_slow", {}, key="slow")
    db.session.commit()
    job_id = job.id
    outcome: list[str] = []

    def worker():
        with app.app_context():
            outcome.append(run_job(job_id))
            db.session.remove()

    thread = threading.Thread(target=worker)
    thread.start()
    assert started.wait(10)
    # For three leases' time, another worker finds the job held: the beats keep moving the lease.
    deadline = time.monotonic() + 3
    takeovers, leases = 0, set()
    while time.monotonic() < deadline:
        takeovers += outbox.claim(job_id) is not None
        leases.add(_row(db, job_id).locked_until)
        time.sleep(0.2)
    release.set()
    thread.join(10)
    assert (takeovers, outcome) == (0, ["done"])
    assert len(leases) >= 4  # renewed at least every beat over three seconds, roughly nine times
    job = _row(db, job_id)
    assert (job.status, job.attempts) == (JobStatus.DONE, 1)


def test_a_dead_workers_job_is_taken_again_within_one_lease(app, db):
    """A claim with no runner behind it (the worker was killed after claiming) is free again after
    ``OUTBOX_LEASE_SECONDS`` (30 s by default), not after a slowest-job lease."""
    assert app.config["OUTBOX_LEASE_SECONDS"] == 30
    job = outbox.record("noop", {}, key="k")
    db.session.commit()
    job_id = job.id
    claimed_at = utcnow()
    assert outbox.claim(job_id, now=claimed_at) is not None
    assert outbox.claim(job_id, now=claimed_at + timedelta(seconds=29)) is None
    assert outbox.claim(job_id, now=claimed_at + timedelta(seconds=30)).attempts == 2
