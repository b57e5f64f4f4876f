"""The Jobs page: listing a business's background jobs, retrying one, and "resend all failed".

Every query is scoped to one business (system jobs such as the daily cleanup have none and are
never listed). Retrying goes through :func:`app.services.outbox.retry`.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import utcnow
from app.models.outbox import JobStatus, OutboxJob
from app.services import outbox
from app.services.errors import Conflict, NotFound
from app.services.locks import unit_of_work

def list_jobs(
    business_id: int | None = None, status: JobStatus | None = None, booking_id: int | None = None, limit: int = 100,
    offset: int = 0,
) -> list[OutboxJob]:
    """Newest first, with ``job.booking`` loaded. ``business_id`` keeps one business's jobs
    (system jobs such as the cleanup have none and are left out); optionally one status or one
    booking. At most ``limit`` rows, after skipping ``offset``."""
    query = (
        select(OutboxJob).options(selectinload(OutboxJob.booking)).order_by(OutboxJob.id.desc()).limit(limit).offset(offset)
    )
    if business_id is not None:
        query = query.where(OutboxJob.business_id == business_id)
    if status is not None:
        query = query.where(OutboxJob.status == status)
    if booking_id is not None:
        query = query.where(OutboxJob.booking_id == booking_id)
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class JobsPage:
    """One page of the Jobs list: ``jobs`` (newest first), its number (from 1) and whether an
    older page follows."""

    jobs: list[OutboxJob]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def jobs_page(business_id: int, status: JobStatus | None = None, page: int = 1, per_page: int = 50) -> JobsPage:
    """Page ``page`` (from 1) of business ``business_id``'s jobs, ``per_page`` a page (see
    :func:`list_jobs`). A page past the end is empty."""
    page = max(page, 1)
    rows = list_jobs(business_id, status=status, limit=per_page + 1, offset=(page - 1) * per_page)
    return JobsPage(jobs=rows[:per_page], number=page, has_next=len(rows) > per_page)


def superseded_reason(job: OutboxJob) -> str | None:
    """Why a job finished without running (a reminder for a booking that moved or was
    cancelled: :func:`app.services.outbox.supersede`), or None for one that ran."""
    if job.status == JobStatus.DONE and isinstance(job.result, dict) and job.result.get("superseded"):
        return str(job.result["superseded"])
    return None


def get_job(business_id: int, job_id: int) -> OutboxJob:
    """Business ``business_id``'s job ``job_id``, read fresh; :class:`NotFound` for another
    business's job, a system job or an unknown id."""
    job = db.session.get(OutboxJob, job_id, populate_existing=True)
    if job is None or job.business_id != business_id:
        raise NotFound("No such job.")
    return job


def retry_for_business(business_id: int, job_id: int, now: datetime | None = None) -> OutboxJob:
    """The dashboard's Retry button: :func:`retry` job ``job_id`` of business ``business_id``.

    Returns the job as it is afterwards. Raises :class:`NotFound` (not this business's) or
    :class:`~app.services.errors.Conflict` (the job is not failed, e.g. retried already)."""
    get_job(business_id, job_id)
    if not outbox.retry(job_id, now=now):
        raise Conflict("Only failed jobs can be retried; this one is already queued or done.")
    return get_job(business_id, job_id)


def failed_count(business_id: int | None = None) -> int:
    """How many jobs are parked as ``failed`` (the nav counter); all businesses' when None."""
    query = select(func.count(OutboxJob.id)).where(OutboxJob.status == JobStatus.FAILED)
    if business_id is not None:
        query = query.where(OutboxJob.business_id == business_id)
    return db.session.scalar(query)


# ------------------------------------------------------------------ "resend all failed"

RETRY_FAILED_KIND = "retry_failed"
_ACTIVE = (JobStatus.PENDING, JobStatus.DISPATCHED, JobStatus.RUNNING)


def start_retry_failed(business_id: int, now: datetime | None = None) -> OutboxJob:
    """Record ONE ``retry_failed`` job that puts every failed job of business ``business_id`` back
    in the queue (see :func:`retry_failed_jobs`), and commit. While one is still pending or
    running, returns that one instead (a double click starts one job). Watch it with
    :func:`get_job` (``progress``, ``progress_message``, ``result``)."""
    now = now or utcnow()
    with unit_of_work():
        active = db.session.scalar(
            select(OutboxJob)
            .where(OutboxJob.business_id == business_id, OutboxJob.kind == RETRY_FAILED_KIND, OutboxJob.status.in_(_ACTIVE))
            .order_by(OutboxJob.id.desc())
            .limit(1)
        )
        if active is not None:
            return active
        job = outbox.record(
            RETRY_FAILED_KIND,
            {"business_id": business_id},
            key=f"{RETRY_FAILED_KIND}:{business_id}:{now.isoformat()}:{random.getrandbits(32):08x}",
            business_id=business_id,
            max_attempts=3,
        )
        job.progress = 0
    return job


def retry_failed_jobs(business_id: int, job_id: int | None = None, now: datetime | None = None) -> dict[str, int]:
    """Put each ``failed`` job of business ``business_id`` back to ``pending`` (:func:`retry`),
    reporting progress on job ``job_id`` (the ``retry_failed`` job doing this) after each one.

    Returns ``{"total": n, "retried": r}`` (``r < n`` when someone retried a job meanwhile); the
    same dict is stored as the job's ``result``. Each retry commits on its own, so running this
    twice is harmless (the second run finds nothing failed)."""
    ids = list(
        db.session.scalars(
            select(OutboxJob.id)
            .where(OutboxJob.business_id == business_id, OutboxJob.status == JobStatus.FAILED, OutboxJob.kind != RETRY_FAILED_KIND)
            .order_by(OutboxJob.id)
        )
    )
    db.session.rollback()
    total, retried = len(ids), 0
    if job_id is not None:
        outbox.set_progress(job_id, 0, f"Retrying {total} failed job{'s' if total != 1 else ''}…")
    for n, failed_id in enumerate(ids, start=1):
        if outbox.retry(failed_id, now=now):
            retried += 1
        if job_id is not None:
            outbox.set_progress(job_id, n * 100 // total, f"Retried {n} of {total}")
    result = {"total": total, "retried": retried}
    if job_id is not None:
        summary = f"Queued {retried} failed job{'s' if retried != 1 else ''} to run again." if total else "There were no failed jobs."
        outbox.set_progress(job_id, 100, summary, result=result)
    return result
