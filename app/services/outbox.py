"""The transactional outbox: the queue of side effects that is never lost.

A service that wants a side effect (an e-mail, a calendar sync) calls :func:`record` inside its own
transaction: the job row commits or rolls back with the change that caused it. Executors (the RQ
dispatcher and the in-process runner in :mod:`app.jobs.executors`) then take rows with
:func:`due` / :func:`claim` and finish them with :func:`complete` or :func:`fail`; :func:`on_commit`
lets them start at once after a commit that recorded a job. The Jobs page's queries and "resend all
failed" are :mod:`app.services.job_admin`'s.

Row life cycle (``OutboxJob.status``)::

    pending --claim--> running --complete--> done
       |                  '------fail------> pending (run_at = now + backoff) ... -> failed
       '--mark_dispatched--> dispatched --claim--> running          failed --retry--> pending

``dispatched`` and ``running`` rows carry ``locked_until``: once it passes, the holder (an RQ job
lost with Redis, a worker killed mid-job) is presumed dead and the row is due again. Taking a row
is a conditional ``UPDATE ... WHERE status = ...``, so two workers never run the same job at once.

Every function except :func:`record`, :func:`supersede` and the read-only queries is its own unit of
work (:func:`app.services.locks.unit_of_work`, which commits first whatever the session had open).
All instants are aware UTC.
"""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, delete, event, func, or_, select, update
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import Booking, utcnow
from app.models.outbox import JobStatus, OutboxJob
from app.redaction import redact
from app.services.locks import unit_of_work

# Defaults for the config keys (all optional; see app/config.py).
DEFAULTS = {
    "OUTBOX_MAX_ATTEMPTS": 5,
    "OUTBOX_BACKOFF_SECONDS": 60,  # first retry after ~1 min, then x4: 1, 4, 16, 64 min (±20 %)
    "OUTBOX_BACKOFF_FACTOR": 4,
    "OUTBOX_BACKOFF_JITTER": 0.2,
    "OUTBOX_LEASE_SECONDS": 30,  # a running job whose lease was not renewed for this long is taken again
    "OUTBOX_DISPATCH_LEASE_SECONDS": 900,  # a dispatched job not started after this is re-dispatched
}

QUEUES = ("notifications", "sync", "default")


def setting(name: str):
    return current_app.config.get(name, DEFAULTS[name])


# ------------------------------------------------------------------ writing (caller's transaction)

def record(
    kind: str,
    payload: dict[str, Any],
    *,
    key: str,
    run_at: datetime | None = None,
    queue: str = "default",
    booking_id: int | None = None,
    business_id: int | None = None,
    max_attempts: int | None = None,
) -> OutboxJob:
    """Add a job to the CURRENT session without committing (call it inside your transaction).

    ``payload`` is the handler's keyword arguments and must be JSON (ids and plain values; it is
    checked here so a bad payload fails the caller's transaction, not a worker later). ``key`` is
    the side effect's idempotency key: recording a key that already exists returns the existing
    row instead of adding a second one. ``run_at`` (aware) defaults to now. ``queue`` is one of
    :data:`QUEUES`. ``business_id`` attributes the job to a business (its dashboard lists it); when
    omitted it is taken from ``booking_id``'s booking; None for system jobs. Raises ``ValueError`` for a naive ``run_at``, an unknown queue or a non-JSON
    payload.
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; use one of {QUEUES}")
    if run_at is not None and run_at.tzinfo is None:
        raise ValueError("run_at must be an aware datetime")
    try:
        payload = json.loads(json.dumps(payload))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"outbox payload for {kind} is not JSON: {exc}") from exc
    # No autoflush: the jobs a booking change records are inserted together at the next flush
    # (one round trip) rather than one by one before each lookup; so unflushed ones are looked
    # up in the session first.
    with db.session.no_autoflush:
        existing = next(
            (obj for obj in db.session.new if isinstance(obj, OutboxJob) and obj.idempotency_key == key), None
        ) or db.session.scalar(select(OutboxJob).where(OutboxJob.idempotency_key == key))
        if existing is not None:
            return existing
        if business_id is None and booking_id is not None:
            booking = db.session.get(Booking, booking_id)  # usually in the session already: no query
            business_id = booking.business_id if booking is not None else None
    now = utcnow()
    job = OutboxJob(
        kind=kind,
        payload=payload,
        queue=queue,
        run_at=run_at or now,
        status=JobStatus.PENDING,
        attempts=0,
        max_attempts=max_attempts or setting("OUTBOX_MAX_ATTEMPTS"),
        idempotency_key=key,
        booking_id=booking_id,
        business_id=business_id,
        created_at=now,
        updated_at=now,
    )
    db.session.add(job)
    db.session.info[_RECORDED] = True  # wake the runners once this transaction commits
    return job


# ------------------------------------------------------------------ waking runners after commit

_RECORDED = "flowkey_outbox_recorded"
_wakers: list = []


def on_commit(callback) -> None:
    """Call ``callback()`` after any commit that recorded an outbox job (used by the in-process
    runner to start at once instead of waiting for its next poll). Callbacks must be quick."""
    if callback not in _wakers:
        _wakers.append(callback)


def remove_on_commit(callback) -> None:
    if callback in _wakers:
        _wakers.remove(callback)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_RECORDED, False):
        for callback in list(_wakers):
            callback()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_RECORDED, None)


# ------------------------------------------------------------------ executing (own transactions)

def _due_condition(now: datetime):
    return or_(
        and_(OutboxJob.status == JobStatus.PENDING, OutboxJob.run_at <= now),
        and_(OutboxJob.status.in_([JobStatus.DISPATCHED, JobStatus.RUNNING]), OutboxJob.locked_until <= now),
    )


def due(now: datetime | None = None, limit: int = 100) -> list[OutboxJob]:
    """Jobs that may be taken at ``now``: pending ones whose ``run_at`` has come, and dispatched or
    running ones whose lease expired. Oldest ``run_at`` first, at most ``limit``. Read-only."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(OutboxJob).where(_due_condition(now)).order_by(OutboxJob.run_at, OutboxJob.id).limit(limit)
        )
    )


def _conditional_update(job_id: int, condition, **values) -> bool:
    with unit_of_work():
        result = db.session.execute(
            update(OutboxJob)
            .where(OutboxJob.id == job_id, condition)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return result.rowcount == 1


def mark_dispatched(job_id: int, now: datetime | None = None) -> bool:
    """Take a due job for an RQ queue: ``pending``/expired -> ``dispatched`` with a lease.

    Returns False if the job is not due (someone else took it). Commits."""
    now = now or utcnow()
    return _conditional_update(
        job_id,
        _due_condition(now),
        status=JobStatus.DISPATCHED,
        locked_until=now + timedelta(seconds=setting("OUTBOX_DISPATCH_LEASE_SECONDS")),
        updated_at=now,
    )


def dispatched_before(cutoff: datetime, limit: int = 500) -> list[int]:
    """Ids of ``dispatched`` rows handed to a queue at or before ``cutoff`` (aware UTC), oldest
    first, at most ``limit``: the ones whose queue entry a dispatcher should check is still there.
    Read-only."""
    return list(
        db.session.scalars(
            select(OutboxJob.id)
            .where(OutboxJob.status == JobStatus.DISPATCHED, OutboxJob.updated_at <= cutoff)
            .order_by(OutboxJob.updated_at, OutboxJob.id)
            .limit(limit)
        )
    )


def expire_dispatch(job_id: int, cutoff: datetime, now: datetime | None = None) -> bool:
    """End the dispatch lease of a ``dispatched`` row at once (its queue entry is gone: Redis
    restarted without persistence), so the next :func:`due` returns it. Only if the row was still
    dispatched at or before ``cutoff``: a row dispatched again since is left alone. Commits."""
    now = now or utcnow()
    return _conditional_update(
        job_id,
        and_(OutboxJob.status == JobStatus.DISPATCHED, OutboxJob.updated_at <= cutoff),
        locked_until=now,
        updated_at=now,
    )


def release_dispatch(job_id: int, now: datetime | None = None) -> bool:
    """Undo :func:`mark_dispatched` when the enqueue failed (Redis down): back to ``pending``."""
    now = now or utcnow()
    return _conditional_update(
        job_id, OutboxJob.status == JobStatus.DISPATCHED, status=JobStatus.PENDING, locked_until=None, updated_at=now
    )


def claim(job_id: int, now: datetime | None = None) -> OutboxJob | None:
    """Atomically take job ``job_id`` to run it now, or return None if it is not takeable.

    Takeable: ``pending`` with ``run_at <= now``, ``dispatched`` (the dispatcher found it due), or
    ``running`` whose lease expired (a lost worker). The conditional UPDATE sets ``running``, ``attempts + 1``
    and a lease of ``OUTBOX_LEASE_SECONDS``; only one of two racing workers gets a row back. A job
    taken back from lost workers more than ``max_attempts`` times is parked as ``failed``. Commits.
    """
    now = now or utcnow()
    taken = _conditional_update(
        job_id,
        or_(
            and_(OutboxJob.status == JobStatus.PENDING, OutboxJob.run_at <= now),
            # The dispatcher judged it due (no second look at run_at: worker clocks may differ).
            OutboxJob.status == JobStatus.DISPATCHED,
            and_(OutboxJob.status == JobStatus.RUNNING, OutboxJob.locked_until <= now),
        ),
        status=JobStatus.RUNNING,
        attempts=OutboxJob.attempts + 1,
        locked_until=now + timedelta(seconds=setting("OUTBOX_LEASE_SECONDS")),
        updated_at=now,
    )
    if not taken:
        return None
    job = db.session.get(OutboxJob, job_id, populate_existing=True)
    if job.attempts > job.max_attempts:
        _conditional_update(
            job_id,
            OutboxJob.status == JobStatus.RUNNING,
            status=JobStatus.FAILED,
            locked_until=None,
            last_error=(job.last_error or "") + "\n[gave up: the job's worker was lost too many times]",
            updated_at=now,
        )
        return None
    return job


def renew_lease(job_id: int, attempt: int, now: datetime | None = None) -> bool:
    """Extend the lease of a job this worker is running: ``locked_until = now + OUTBOX_LEASE_SECONDS``,
    only while the row is still ``running`` with ``attempts == attempt`` (the claim this worker
    made; a worker that lost its lease to another must not take it back). Returns whether it did.

    Called from a heartbeat thread, so it uses its own connection and short transaction rather than
    the thread-bound session. Commits.
    """
    now = now or utcnow()
    statement = (
        update(OutboxJob)
        .where(OutboxJob.id == job_id, OutboxJob.status == JobStatus.RUNNING, OutboxJob.attempts == attempt)
        .values(locked_until=now + timedelta(seconds=setting("OUTBOX_LEASE_SECONDS")))
    )
    with db.engine.begin() as connection:
        return connection.execute(statement).rowcount == 1


def complete(job_id: int, now: datetime | None = None, result: dict[str, Any] | None = None) -> bool:
    """``running`` -> ``done`` (keeping ``result``, JSON, when given). Returns False if the job
    was not running. Commits."""
    now = now or utcnow()
    extra = {"result": json.loads(json.dumps(result, default=str))} if result is not None else {}
    return _conditional_update(
        job_id, OutboxJob.status == JobStatus.RUNNING, status=JobStatus.DONE, done_at=now, locked_until=None, updated_at=now, **extra
    )


def backoff(attempt: int, rng: random.Random | None = None) -> timedelta:
    """The wait after failed attempt number ``attempt`` (1-based): base * factor^(attempt-1),
    ±jitter. With the defaults: ~1, 4, 16, 64 minutes, each ±20 %."""
    base, factor, jitter = setting("OUTBOX_BACKOFF_SECONDS"), setting("OUTBOX_BACKOFF_FACTOR"), setting("OUTBOX_BACKOFF_JITTER")
    spread = (rng or random).uniform(1 - jitter, 1 + jitter)
    return timedelta(seconds=base * factor ** max(attempt - 1, 0) * spread)


def fail(job_id: int, error: str, *, now: datetime | None = None, permanent: bool = False) -> JobStatus | None:
    """Record a failed attempt of a ``running`` job.

    Back to ``pending`` with ``run_at = now + backoff(attempts)``, or ``failed`` once
    ``attempts >= max_attempts`` or when ``permanent`` (an error retrying cannot fix, e.g. an SMTP
    550). ``error`` is kept in ``last_error`` (truncated to 2,000 characters). Returns the new
    status, or None if the job was not running. Commits.
    """
    now = now or utcnow()
    db.session.rollback()
    job = db.session.get(OutboxJob, job_id, populate_existing=True)
    if job is None or job.status != JobStatus.RUNNING:
        return None
    error = redact(error or "error")[:2000]
    if permanent or job.attempts >= job.max_attempts:
        status, run_at = JobStatus.FAILED, job.run_at
    else:
        status, run_at = JobStatus.PENDING, now + backoff(job.attempts)
    moved = _conditional_update(
        job_id,
        and_(OutboxJob.status == JobStatus.RUNNING, OutboxJob.attempts == job.attempts),
        status=status,
        run_at=run_at,
        locked_until=None,
        last_error=error,
        updated_at=now,
    )
    return status if moved else None


def retry(job_id: int, now: datetime | None = None) -> bool:
    """The dashboard's Retry: ``failed`` -> ``pending`` now, with a fresh set of attempts.
    Returns False if the job is not failed. Commits."""
    now = now or utcnow()
    return _conditional_update(
        job_id,
        OutboxJob.status == JobStatus.FAILED,
        status=JobStatus.PENDING,
        attempts=0,
        run_at=now,
        locked_until=None,
        updated_at=now,
    )


def supersede(booking_id: int, key_like: str, reason: str, now: datetime | None = None) -> int:
    """Retire the booking's still-pending jobs whose idempotency key matches the SQL ``LIKE``
    pattern ``key_like`` (a reminder of a cancelled booking, the expiry of an approved request):
    they become ``done`` without running, with ``result = {"superseded": reason}``. Runs in the
    caller's transaction (no commit); returns how many. Jobs already handed to a worker are left
    alone: their handlers skip stale work themselves."""
    now = now or utcnow()
    result = db.session.execute(
        update(OutboxJob)
        .where(OutboxJob.booking_id == booking_id, OutboxJob.status == JobStatus.PENDING, OutboxJob.idempotency_key.like(key_like))
        .values(status=JobStatus.DONE, done_at=now, updated_at=now, locked_until=None, result={"superseded": reason})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def cleanup(older_than: datetime) -> int:
    """Delete ``done`` jobs finished before ``older_than``; returns how many. ``SentMessage`` rows
    stay (they are the idempotency record and the "sent email" history). Commits."""
    with unit_of_work():
        result = db.session.execute(
            delete(OutboxJob)
            .where(OutboxJob.status == JobStatus.DONE, OutboxJob.done_at < older_than)
            .execution_options(synchronize_session=False)
        )
    return result.rowcount


# ------------------------------------------------------------------ progress a person watches

def set_progress(
    job_id: int, percent: int | None, message: str | None = None, *, result: dict[str, Any] | None = None
) -> bool:
    """Record how far job ``job_id`` got: ``percent`` (clamped to 0-100; None leaves it), a short
    ``message`` (truncated to 255 characters; None leaves it) and, when given, its ``result``
    (JSON). Shown by ``partials/_job_status.html``. Returns False for an unknown job. Commits at
    once (its own tiny transaction) so a poller sees it while the job goes on."""
    values: dict[str, Any] = {"updated_at": utcnow()}
    if percent is not None:
        values["progress"] = max(0, min(100, int(percent)))
    if message is not None:
        values["progress_message"] = message[:255]
    if result is not None:
        values["result"] = json.loads(json.dumps(result))
    return _conditional_update(job_id, OutboxJob.id == job_id, **values)


def depth(now: datetime | None = None) -> list[tuple[str, str, int, float]]:
    """The queue as monitoring sees it: ``(status, kind, rows, oldest due age in seconds)`` for
    every status other than ``done`` and every kind present. The age is ``now - run_at`` of the
    oldest row already due (``run_at <= now``), 0.0 when none is. Read-only, one GROUP BY."""
    now = now or utcnow()
    rows = db.session.execute(
        select(OutboxJob.status, OutboxJob.kind, func.count(OutboxJob.id), func.min(OutboxJob.run_at))
        .where(OutboxJob.status != JobStatus.DONE)
        .group_by(OutboxJob.status, OutboxJob.kind)
    ).all()
    oldest_due = dict(
        ((status, kind), first)
        for status, kind, first in db.session.execute(
            select(OutboxJob.status, OutboxJob.kind, func.min(OutboxJob.run_at))
            .where(OutboxJob.status != JobStatus.DONE, OutboxJob.run_at <= now)
            .group_by(OutboxJob.status, OutboxJob.kind)
        )
    )
    result = []
    for status, kind, count, _first in rows:
        first_due = oldest_due.get((status, kind))
        if first_due is not None and first_due.tzinfo is None:  # SQLite hands back naive UTC
            first_due = first_due.replace(tzinfo=now.tzinfo)
        age = max((now - first_due).total_seconds(), 0.0) if first_due is not None else 0.0
        result.append((JobStatus(status).value, kind, int(count), age))
    return result


def job_id_for_key(key: str) -> int | None:
    """The id of the job with idempotency key ``key`` (handlers get their key, not their id)."""
    return db.session.scalar(select(OutboxJob.id).where(OutboxJob.idempotency_key == key))


