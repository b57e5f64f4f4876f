"""The RQ executor (with ``REDIS_URL``): move due outbox rows onto RQ queues, and the worker
process that runs them; the RQ job just calls :func:`~app.jobs.executors.runner.run_job`.

The outbox stays the source of truth. :func:`dispatch_due` marks a due row ``dispatched``
(a conditional UPDATE, so two dispatchers never both enqueue it) and then enqueues
``perform(job_id)`` on the row's queue (``notifications``, ``sync`` or ``default``). If Redis is
down the mark is undone and the row stays ``pending``: nothing is lost, the next poll tries again.
Each RQ job's id is :func:`rq_job_id` of its row, so a dispatcher can ask Redis whether the job
behind a ``dispatched`` row still exists: if Redis lost it (a restart without persistence, a
flush), :func:`redispatch_lost` makes the row due at once instead of letting it wait out its
dispatch lease (``OUTBOX_DISPATCH_LEASE_SECONDS``, which stays the backstop). A duplicate RQ job is
harmless because :func:`run_job` claims the row first and delivery is idempotent.

The worker process (``worker.py``) is :func:`run_worker`: an RQ worker on the ``notifications``,
``sync`` and ``default`` queues running jobs in its own process and app context, plus the
:class:`~app.jobs.executors.threads.Dispatcher` thread that moves due rows (including delayed
ones: reminders, expiry, the daily cleanup) onto those queues. When Redis goes away the RQ worker
loop ends ("found an unhandled exception, quitting"); :func:`run_worker` then waits for Redis with
exponential backoff and starts a new one, so the process outlives an outage. The app is passed in
by whoever starts the worker; nothing here builds one.
"""
from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timedelta

from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.job import Job

from app.extensions import db
from app.jobs.executors.runner import run_job
from app.jobs.executors.threads import Dispatcher
from app.models import utcnow
from app.services import outbox
from app.services.outbox import QUEUES

log = logging.getLogger(__name__)

# A dispatched row younger than this may still be on its way to Redis (marked, not yet enqueued).
LOST_CHECK_AFTER_SECONDS = 5
# RQ job states after which the job will not run again: a row still dispatched behind one is lost.
_ENDED = {b"finished", b"failed", b"stopped", b"canceled"}
# Waiting for Redis to come back: 1 s, doubling, at most 30 s between attempts.
RECONNECT_FIRST_SECONDS = 1.0
RECONNECT_MAX_SECONDS = 30.0

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


def rq_job_id(job_id: int) -> str:
    """The RQ job id of outbox row ``job_id`` (the same on every dispatch of the row)."""
    return f"flowkey-outbox-{job_id}"


def redispatch_lost(redis_conn: Redis, now: datetime | None = None, limit: int = 500) -> int:
    """Make due again the ``dispatched`` rows (older than :data:`LOST_CHECK_AFTER_SECONDS`)
    whose RQ job no longer exists in Redis or has ended without running them; returns how many.

    One pipelined ``HGET status`` per row (RQ keeps a job as the hash ``rq:job:<id>``, see
    :meth:`rq.job.Job.key_for`). A Redis error leaves every row as it is (their lease still
    expires) and returns 0. Needs an app context."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=LOST_CHECK_AFTER_SECONDS)
    ids = outbox.dispatched_before(cutoff, limit)
    if not ids:
        return 0
    try:
        pipe = redis_conn.pipeline(transaction=False)
        for job_id in ids:
            pipe.hget(Job.key_for(rq_job_id(job_id)), "status")
        states = pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("Redis unavailable, cannot check dispatched outbox jobs: %s", exc)
        return 0
    lost = [job_id for job_id, state in zip(ids, states) if state is None or state in _ENDED]
    count = sum(1 for job_id in lost if outbox.expire_dispatch(job_id, cutoff, now))
    if count:
        log.warning("%s dispatched outbox job(s) were lost by Redis; dispatching them again", count)
    return count


def dispatch_due(redis_conn: Redis, now: datetime | None = None, limit: int = 100) -> int:
    """Enqueue up to ``limit`` due outbox rows on their RQ queues; returns how many were enqueued.

    First takes back dispatched rows Redis lost (:func:`redispatch_lost`). Stops at the first
    Redis error (the row is put back to ``pending``; later rows were never touched) and returns
    the count so far. Needs an app context."""
    redispatch_lost(redis_conn, now)
    count = 0
    for job in outbox.due(now, limit):
        job_id, queue, kind = job.id, job.queue, job.kind
        if not outbox.mark_dispatched(job_id, now):
            continue
        try:
            Queue(queue, connection=redis_conn).enqueue(
                perform,
                job_id,
                job_id=rq_job_id(job_id),
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

    stop_requested = False  # set by SIGTERM/SIGINT (RQ's warm shutdown), not by a lost Redis

    def perform_job(self, job, queue):
        try:
            return super().perform_job(job, queue)
        finally:
            db.session.remove()  # each job starts with a fresh session

    def handle_warm_shutdown_request(self):
        self.stop_requested = True
        super().handle_warm_shutdown_request()


def wait_for_redis(conn: Redis, stop: threading.Event, first: float = RECONNECT_FIRST_SECONDS,
                   most: float = RECONNECT_MAX_SECONDS) -> bool:
    """Block until ``conn`` answers PING (True) or ``stop`` is set (False), trying after
    ``first`` seconds and then doubling the wait up to ``most`` seconds."""
    delay = first
    while not stop.wait(delay):
        try:
            if conn.ping():
                return True
        except (RedisError, OSError) as exc:
            log.warning("Redis still unavailable (%s); next attempt in %.0f s", exc, min(delay * 2, most))
        delay = min(delay * 2, most)
    return False


def run_worker(app: Flask, queues: tuple[str, ...] = QUEUES, *, burst: bool = False) -> None:
    """Run until stopped by SIGTERM/SIGINT (or, with ``burst``, until the queues are empty).

    RQ's work loop quits on a Redis connection error (or one raised while it registers or tears
    down the worker); this loop then waits for Redis (:func:`wait_for_redis`) and starts a fresh
    :class:`AppWorker`. A signal during that wait stops the process."""
    global _worker_app
    _worker_app = app
    conn = redis_from_config(app.config)
    dispatcher = Dispatcher(app, conn)
    dispatcher.start()
    stop = threading.Event()
    try:
        with app.app_context():
            while not stop.is_set():
                worker = None
                try:
                    # Inside the try: RQ's worker names itself in Redis as it is made, and Redis
                    # may have gone again since wait_for_redis saw it.
                    worker = AppWorker(list(queues), connection=conn)
                    worker.work(with_scheduler=True, burst=burst)
                    lost = False
                except (RedisError, OSError) as exc:
                    lost = True
                    log.warning("RQ worker lost Redis: %s", exc)
                if (worker is not None and worker.stop_requested) or (burst and not lost):
                    return
                db.session.remove()
                log.warning("RQ worker stopped without being asked to (Redis unavailable?); reconnecting")
                _on_stop_signal(stop)  # RQ's handlers would ask the absent Redis for the worker state
                if not wait_for_redis(conn, stop):
                    return
    finally:
        dispatcher.stop()


def _on_stop_signal(stop: threading.Event) -> None:
    """Have SIGTERM and SIGINT set ``stop`` (main thread only: Python runs handlers there)."""
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
