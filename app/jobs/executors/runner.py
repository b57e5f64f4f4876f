"""Running one outbox job: claim it, call its handler, then complete it or record the failure.

Both executors call :func:`run_job`: the RQ job in :mod:`app.jobs.executors.redis_queue` and the
in-process runner in :mod:`app.jobs.executors.threads`. Needs an app context.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from app import metrics
from app.extensions import db
from app.jobs import account_email, booking_expiry, email, maintenance  # noqa: F401  (their handlers register themselves)
from app.jobs.registry import HANDLERS
from app.services import outbox

log = logging.getLogger(__name__)


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def run_job(job_id: int, now: datetime | None = None) -> str:
    """Run outbox job ``job_id`` if it can be claimed now.

    Returns ``"done"``, ``"skipped"`` (not due, already running elsewhere, or finished),
    ``"pending"`` (failed; will retry after the backoff) or ``"failed"`` (gave up). Handler
    exceptions are recorded on the row, never raised; ``BaseException`` (a killed worker) is not
    caught, leaving the row ``running`` until its lease expires and another worker takes it.
    """
    try:
        job = outbox.claim(job_id, now=now)
    except SQLAlchemyError as exc:
        # The database refused the claim (locked, restarting): hand the row back at once rather
        # than leave it "dispatched" until its lease runs out.
        db.session.rollback()
        log.warning("job %s could not be claimed: %s", job_id, describe(exc))
        try:
            outbox.release_dispatch(job_id, now)
        except SQLAlchemyError:
            db.session.rollback()  # the lease expiry will release it
        return "skipped"
    if job is None:
        return "skipped"
    kind, payload, key, attempt = job.kind, dict(job.payload or {}), job.idempotency_key, job.attempts
    metrics.record_job_attempt(kind)
    fn = HANDLERS.get(kind)
    if fn is None:
        outbox.fail(job_id, f"no handler for job kind {kind!r}", now=now, permanent=True)
        metrics.record_job_failure(kind, "failed")
        return "failed"
    try:
        returned = fn(key=key, **payload)
    except Exception as exc:  # noqa: BLE001  (any failure is recorded on the row and retried)
        db.session.rollback()
        permanent = bool(getattr(exc, "permanent", False))
        status = outbox.fail(job_id, describe(exc), now=now, permanent=permanent)
        metrics.record_job_failure(kind, status.value if status else "lost")
        log.warning("job %s (%s) attempt %s failed: %s -> %s", job_id, kind, attempt, describe(exc), status and status.value)
        return status.value if status else "skipped"
    # A handler returning a dict (a summary such as {"total": 3, "retried": 3}) has it kept as the
    # job's result, shown by partials/_job_status.html.
    outbox.complete(job_id, now=now, result=returned if isinstance(returned, dict) else None)
    return "done"
