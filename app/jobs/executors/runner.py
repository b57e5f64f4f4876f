"""Running one outbox job: claim it, call its handler, then complete it or record the failure.

Both executors call :func:`run_job`: the RQ job in :mod:`app.jobs.executors.redis_queue` and the
in-process runner in :mod:`app.jobs.executors.threads`. Needs an app context.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from flask import current_app

from sqlalchemy.exc import SQLAlchemyError

from app import metrics
from app.extensions import db
from app.jobs import account_email, booking_expiry, email, maintenance, staff_invitation  # noqa: F401  (their handlers register themselves)
from app.jobs.registry import HANDLERS
from app.services import outbox

log = logging.getLogger(__name__)


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


@contextmanager
def lease_heartbeat(job_id: int, attempt: int) -> Iterator[None]:
    """Renew the lease of running job ``job_id`` (claim number ``attempt``) every third of
    ``OUTBOX_LEASE_SECONDS`` while the block runs, on a daemon thread with its own connection.

    A live worker keeps its job however long it takes; a killed one stops renewing, and the job is
    taken again within one lease rather than after a lease sized for the slowest job. A renewal
    that fails (database busy or restarting) is logged and tried again at the next beat."""
    app = current_app._get_current_object()
    interval = max(float(outbox.setting("OUTBOX_LEASE_SECONDS")) / 3, 0.05)
    stop = threading.Event()

    def beat() -> None:
        with app.app_context():
            while not stop.wait(interval):
                try:
                    if not outbox.renew_lease(job_id, attempt):
                        return  # finished, or taken over after a missed beat: nothing left to hold
                except SQLAlchemyError as exc:
                    log.warning("job %s: lease not renewed: %s", job_id, describe(exc))

    thread = threading.Thread(target=beat, name=f"lease-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        # No join: a beat waiting on a row lock of the handler's own unfinished transaction would
        # wait forever. A late beat is harmless, it only renews a row still running this claim.
        stop.set()


def run_job(job_id: int, now: datetime | None = None) -> str:
    """Run outbox job ``job_id`` if it can be claimed now.

    Returns ``"done"``, ``"skipped"`` (not due, already running elsewhere, or finished),
    ``"pending"`` (failed; will retry after the backoff) or ``"failed"`` (gave up). Handler
    exceptions are recorded on the row, never raised; ``BaseException`` (a killed worker) is not
    caught, leaving the row ``running`` until its lease expires and another worker takes it. While
    the handler runs, :func:`lease_heartbeat` keeps renewing that lease.
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
        with lease_heartbeat(job_id, attempt):
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
