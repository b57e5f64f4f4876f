"""The outbox service: recording in the caller's transaction, claiming, retries, cleanup."""
from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.models.outbox import JobStatus, OutboxJob
from app.services import job_admin, outbox

UTC = timezone.utc
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=outbox.DEFAULTS["OUTBOX_LEASE_SECONDS"])


def _row(db, job_id):
    db.session.rollback()
    return db.session.get(OutboxJob, job_id, populate_existing=True)


def _state(db, job_id):
    job = _row(db, job_id)
    return job.status, job.attempts


def test_record_joins_the_callers_transaction(db):
    outbox.record("noop", {"x": 1}, key="k1", run_at=T0)
    db.session.rollback()
    assert db.session.scalars(select(OutboxJob)).all() == []

    job = outbox.record("noop", {"x": 1}, key="k1", run_at=T0, queue="notifications")
    db.session.commit()
    rows = db.session.scalars(select(OutboxJob)).all()
    assert [(r.kind, r.payload, r.queue, r.run_at, r.status, r.attempts, r.max_attempts) for r in rows] == [
        ("noop", {"x": 1}, "notifications", T0, JobStatus.PENDING, 0, 5)
    ]
    assert rows[0].id == job.id


def test_record_same_key_returns_the_existing_row(db):
    first = outbox.record("noop", {}, key="same")
    db.session.commit()
    second = outbox.record("noop", {"other": True}, key="same")
    db.session.commit()
    assert second.id == first.id
    assert db.session.scalar(select(OutboxJob.payload)) == {}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(payload={"when": T0}), "not JSON"),
        (dict(payload={}, queue="emails"), "unknown queue"),
        (dict(payload={}, run_at=datetime(2030, 1, 1)), "aware"),
    ],
)
def test_record_rejects_bad_input(db, kwargs, message):
    with pytest.raises(ValueError, match=message):
        outbox.record("noop", key="bad", **kwargs)


def test_due_returns_due_pending_and_expired_leases_oldest_first(db):
    a = outbox.record("noop", {}, key="a", run_at=T0)
    b = outbox.record("noop", {}, key="b", run_at=T0 - timedelta(minutes=5))
    future = outbox.record("noop", {}, key="future", run_at=T0 + timedelta(seconds=1))
    done = outbox.record("noop", {}, key="done", run_at=T0 - timedelta(hours=1))
    db.session.commit()
    ids = a.id, b.id, done.id, future.id
    assert outbox.claim(ids[2], now=T0) is not None and outbox.complete(ids[2], now=T0)
    assert [j.id for j in outbox.due(T0)] == [ids[1], ids[0]]

    assert outbox.claim(ids[0], now=T0) is not None  # running, one lease (OUTBOX_LEASE_SECONDS)
    assert [j.id for j in outbox.due(T0 + LEASE - timedelta(seconds=1))] == [ids[1], ids[3]]
    assert [j.id for j in outbox.due(T0 + LEASE, limit=5)] == [ids[1], ids[0], ids[3]]
    assert [j.id for j in outbox.due(T0 + LEASE, limit=1)] == [ids[1]]


def test_claim_is_exclusive_and_respects_run_at(db):
    job = outbox.record("noop", {}, key="k", run_at=T0)
    db.session.commit()
    job_id = job.id
    assert outbox.claim(job_id, now=T0 - timedelta(seconds=1)) is None
    claimed = outbox.claim(job_id, now=T0)
    assert (claimed.status, claimed.attempts, claimed.locked_until) == (JobStatus.RUNNING, 1, T0 + LEASE)
    assert outbox.claim(job_id, now=T0) is None
    # A worker presumed dead after its lease: the job can be taken again (a second attempt).
    again = outbox.claim(job_id, now=T0 + LEASE)
    assert (again.status, again.attempts) == (JobStatus.RUNNING, 2)


def test_two_threads_racing_for_a_job_one_wins(app, db):
    jobs = [outbox.record("noop", {}, key=f"race{i}", run_at=T0) for i in range(10)]
    db.session.commit()
    ids = [j.id for j in jobs]
    wins: list[int] = []
    barrier = threading.Barrier(4)

    def worker():
        with app.app_context():
            barrier.wait()
            for job_id in ids:
                if outbox.claim(job_id, now=T0) is not None:
                    wins.append(job_id)
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(wins) == ids


def test_fail_backs_off_exponentially_with_jitter_then_parks_failed(db, monkeypatch):
    rng = random.Random(7)
    monkeypatch.setattr(outbox.random, "uniform", rng.uniform)
    job = outbox.record("noop", {}, key="k", run_at=T0)
    db.session.commit()
    job_id, now, waits = job.id, T0, []
    for attempt in range(1, 5):
        assert outbox.claim(job_id, now=now) is not None
        assert outbox.fail(job_id, f"boom {attempt}", now=now) == JobStatus.PENDING
        row = _row(db, job_id)
        waits.append((row.run_at - now).total_seconds() / 60)
        assert (row.status, row.attempts, row.last_error, row.locked_until) == (JobStatus.PENDING, attempt, f"boom {attempt}", None)
        now = row.run_at
    for wait, nominal in zip(waits, [1, 4, 16, 64]):
        assert nominal * 0.8 <= wait <= nominal * 1.2
    assert len({round(w / n, 6) for w, n in zip(waits, [1, 4, 16, 64])}) > 1  # jittered, not a fixed ratio
    assert outbox.claim(job_id, now=now) is not None
    assert outbox.fail(job_id, "boom 5", now=now) == JobStatus.FAILED
    assert _state(db, job_id) == (JobStatus.FAILED, 5)
    assert outbox.due(now + timedelta(days=365)) == []
    assert job_admin.failed_count() == 1


def test_permanent_failure_parks_at_once_and_retry_brings_it_back(db):
    job = outbox.record("noop", {}, key="k", run_at=T0)
    db.session.commit()
    job_id = job.id
    outbox.claim(job_id, now=T0)
    assert outbox.fail(job_id, "550 no such user", now=T0, permanent=True) == JobStatus.FAILED
    assert outbox.retry(job_id, now=T0 + timedelta(hours=1))
    row = _row(db, job_id)
    assert (row.status, row.attempts, row.run_at, row.last_error) == (JobStatus.PENDING, 0, T0 + timedelta(hours=1), "550 no such user")
    assert not outbox.retry(job_id)  # only failed jobs
    assert outbox.fail(job_id, "not running") is None


def test_a_job_whose_workers_keep_dying_is_parked(db):
    job = outbox.record("noop", {}, key="k", run_at=T0, max_attempts=2)
    db.session.commit()
    job_id, now = job.id, T0
    assert outbox.claim(job_id, now=now) is not None
    now += timedelta(seconds=300)
    assert outbox.claim(job_id, now=now) is not None
    now += timedelta(seconds=300)
    assert outbox.claim(job_id, now=now) is None
    row = _row(db, job_id)
    assert row.status == JobStatus.FAILED and "lost too many times" in row.last_error


def test_dispatch_marks_and_release(db):
    job = outbox.record("noop", {}, key="k", run_at=T0)
    db.session.commit()
    job_id = job.id
    assert outbox.mark_dispatched(job_id, now=T0)
    assert not outbox.mark_dispatched(job_id, now=T0)  # a second dispatcher gets nothing
    assert outbox.due(T0) == []
    assert outbox.release_dispatch(job_id, now=T0)
    assert _state(db, job_id) == (JobStatus.PENDING, 0)
    # A dispatched job the queue lost is due again after the dispatch lease (900 s).
    assert outbox.mark_dispatched(job_id, now=T0)
    assert [j.id for j in outbox.due(T0 + timedelta(seconds=900))] == [job_id]
    # ... and a worker may claim a dispatched one.
    assert outbox.claim(job_id, now=T0).status == JobStatus.RUNNING


def test_cleanup_deletes_only_old_done_rows(db):
    jobs = {key: outbox.record("noop", {}, key=key, run_at=T0) for key in ("old", "new", "pending")}
    db.session.commit()
    ids = {key: job.id for key, job in jobs.items()}
    for key, when in (("old", T0), ("new", T0 + timedelta(days=8))):
        outbox.claim(ids[key], now=when)
        outbox.complete(ids[key], now=when)
    assert outbox.cleanup(T0 + timedelta(days=7)) == 1
    assert sorted(db.session.scalars(select(OutboxJob.idempotency_key))) == ["new", "pending"]


def test_commit_that_recorded_a_job_wakes_runners(db):
    calls = []
    waker = lambda: calls.append(1)  # noqa: E731
    outbox.on_commit(waker)
    try:
        db.session.commit()
        assert calls == []
        outbox.record("noop", {}, key="k")
        db.session.commit()
        assert calls == [1]
        outbox.record("noop", {}, key="k2")
        db.session.rollback()
        db.session.commit()
        assert calls == [1]
    finally:
        outbox.remove_on_commit(waker)
