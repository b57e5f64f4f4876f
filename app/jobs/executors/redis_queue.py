"""RQ executor: move due outbox rows onto RQ queues; the RQ job just calls :func:`run_job`.

The outbox stays the source of truth. :func:`dispatch_due` marks a due row ``dispatched``
(a conditional UPDATE, so two dispatchers never both enqueue it) and then enqueues
``perform(job_id)`` on the row's queue (``notifications``, ``sync`` or ``default``). If Redis is
down the mark is undone and the row stays ``pending``: nothing is lost, the next poll tries again.
If Redis loses a job after accepting it (restart without persistence), the row's dispatch lease
expires and it is dispatched again; a duplicate RQ job is harmless because :func:`run_job` claims
the row first and delivery is idempotent.
"""
from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from app.services import outbox

log = logging.getLogger(__name__)

_app: Flask | None = None  # the app a worker process without a pushed context builds once


def perform(job_id: int) -> str:
    """The RQ job: run outbox job ``job_id`` in an app context (the worker's, or one built from
    the environment's config when the worker pushed none)."""
    from app.jobs.runner import run_job

    if has_app_context():
        return run_job(job_id)
    global _app
    if _app is None:
        from app import create_app

        _app = create_app()
    with _app.app_context():
        return run_job(job_id)


def redis_from_config(config=None) -> Redis:
    """A Redis client for ``REDIS_URL`` with short timeouts (a down Redis must not hang a poll)."""
    config = config if config is not None else current_app.config
    return Redis.from_url(
        config["REDIS_URL"],
        socket_connect_timeout=config.get("REDIS_TIMEOUT", 5),
        socket_timeout=config.get("REDIS_TIMEOUT", 5),
    )


def dispatch_due(redis_conn: Redis, now: datetime | None = None, limit: int = 100) -> int:
    """Enqueue up to ``limit`` due outbox rows on their RQ queues; returns how many were enqueued.

    Stops at the first Redis error (the row is put back to ``pending``; later rows were never
    touched) and returns the count so far. Needs an app context."""
    count = 0
    for job in outbox.due(now, limit):
        job_id, queue, kind = job.id, job.queue, job.kind
        if not outbox.mark_dispatched(job_id, now):
            continue
        try:
            Queue(queue, connection=redis_conn).enqueue(
                perform,
                job_id,
                description=f"outbox {kind} #{job_id}",
                job_timeout=current_app.config.get("OUTBOX_JOB_TIMEOUT", 120),
                result_ttl=3600,
                failure_ttl=7 * 86400,
            )
        except (RedisError, OSError) as exc:
            outbox.release_dispatch(job_id, now)
            log.warning("Redis unavailable, outbox job %s stays pending: %s", job_id, exc)
            break
        count += 1
    return count
