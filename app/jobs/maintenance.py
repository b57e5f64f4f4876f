"""Housekeeping jobs: the daily cleanup of delivered outbox rows, and "resend all failed".

Scheduled work is an outbox row with a future ``run_at`` (no cron): :func:`schedule_daily`
records the next cleanup under a per-date idempotency key, so every executor may call it on
every poll and exactly one row per day exists. Both executors call it: the polling threads in
:mod:`app.jobs.executors.threads` (the in-process runner, and the dispatcher the RQ worker process runs)
call it when they start and every hour after.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.jobs.registry import handler
from app.models import utcnow
from app.services import booking_service, job_admin, outbox
from app.services.locks import unit_of_work

CLEANUP_KIND = "cleanup_outbox"
CLEANUP_AT = time(3, 30)  # UTC


@handler(CLEANUP_KIND)
def cleanup_outbox(days: int | None = None, *, key: str) -> int:
    """Delete ``done`` outbox rows finished more than ``days`` (config ``OUTBOX_KEEP_DAYS``,
    default 7) days ago, and expired booking idempotency keys. Returns how many outbox rows."""
    days = days if days is not None else current_app.config.get("OUTBOX_KEEP_DAYS", 7)
    booking_service.delete_expired_idempotency_keys()
    return outbox.cleanup(utcnow() - timedelta(days=days))


@handler(job_admin.RETRY_FAILED_KIND)
def retry_failed(business_id: int, *, key: str) -> dict[str, int]:
    """The dashboard's "Resend all failed": put each failed job of ``business_id`` back in the
    queue, reporting progress on this job's row (``partials/_job_status.html`` shows it)."""
    return job_admin.retry_failed_jobs(business_id, job_id=outbox.job_id_for_key(key))


def schedule_daily(now: datetime | None = None) -> None:
    """Make sure the next daily cleanup is recorded (idempotent; commits)."""
    now = now or utcnow()
    run_at = datetime.combine(now.date(), CLEANUP_AT, tzinfo=timezone.utc)
    if run_at <= now:
        run_at += timedelta(days=1)
    try:
        with unit_of_work():
            outbox.record(CLEANUP_KIND, {}, key=f"{CLEANUP_KIND}:{run_at.date().isoformat()}", run_at=run_at)
    except IntegrityError:  # another process recorded it at the same moment
        pass
