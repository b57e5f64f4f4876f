"""The RQ executor (with ``REDIS_URL``): move due outbox rows onto RQ queues, and the worker
process that runs them; the RQ job just calls :func:`~app.jobs.executors.runner.run_job`.

The outbox stays the source of truth. :func:`dispatch_due` marks a due row ``dispatched``
(a conditional UPDATE, so two dispatchers never both enqueue it) and then enqueues
``perform(job_id)`` on the row's queue (``notifications``, ``sync`` or ``default``). If Redis is
down the mark is undone and the row stays ``pending``: nothing is lost, the next poll tries again.
If Redis loses a job after accepting it (restart without persistence), the row's dispatch lease
expires and it is dispatched again; a duplicate RQ job is harmless because :func:`run_job` claims
the row first and delivery is idempotent.

The worker process (``worker.py``) is :func:`run_worker`: an RQ worker on the ``notifications``,
``sync`` and ``default`` queues running jobs in its own process and app context, plus the
:class:`~app.jobs.executors.threads.Dispatcher` thread that moves due rows (including delayed
ones: reminders, expiry, the daily cleanup) onto those queues. The app is passed in by whoever
starts the worker; nothing here builds one.
"""
from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker

from app.extensions import db
from app.jobs.executors.runner import run_job
from app.jobs.executors.threads import Dispatcher
from app.services import outbox
from app.services.outbox import QUEUES

log = logging.getLogger(__name__)

_worker_app: Flask | None = None  # set by run_worker, for jobs RQ runs without a pushed context


def perform(job_id: int) -> str:
    """The RQ job: run outbox job ``job_id`` in an app context (the worker's). Raises
    ``RuntimeError`` in a process that has neither a pushed context nor a :func:`run_worker` app."""
    if has_app_context():
        return run_job(job_id)
    if _worker_app is None:
        raise RuntimeError("no Flask app: start workers with run_worker(app) (see worker.py)")
    with _worker_app.app_context():
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


class AppWorker(SimpleWorker):
    """An RQ worker that runs each job in its own process, inside the app context.

    Not RQ's default fork per job: a child forked while the dispatcher thread holds a SQLite write
    lock inherits that lock state and its first write waits out ``busy_timeout`` and fails, and a
    fork plus a fresh database connection costs ~100 ms per e-mail. A killed worker loses nothing:
    the outbox row's lease expires and it is dispatched again (see :mod:`app.services.outbox`).
    """

    def perform_job(self, job, queue):
        try:
            return super().perform_job(job, queue)
        finally:
            db.session.remove()  # each job starts with a fresh session


def run_worker(app: Flask, queues: tuple[str, ...] = QUEUES, *, burst: bool = False) -> None:
    """Run until stopped (or, with ``burst``, until the queues are empty)."""
    global _worker_app
    _worker_app = app
    conn = redis_from_config(app.config)
    dispatcher = Dispatcher(app, conn)
    dispatcher.start()
    try:
        with app.app_context():
            AppWorker(list(queues), connection=conn).work(with_scheduler=True, burst=burst)
    finally:
        dispatcher.stop()
