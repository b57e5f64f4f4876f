"""The worker process (with ``REDIS_URL``): an RQ worker on the ``notifications``, ``sync`` and
``default`` queues running jobs in its own process and app context, plus the outbox dispatcher thread that moves due rows
(including delayed ones: reminders, expiry, the daily cleanup) onto those queues.

A root ``worker.py`` only needs::

    from app import create_app
    from app.jobs.worker import run_worker
    run_worker(create_app())
"""
from __future__ import annotations

from flask import Flask
from rq import SimpleWorker

from app.extensions import db
from app.jobs.dispatch import redis_from_config
from app.jobs.inprocess import Dispatcher
from app.services.outbox import QUEUES


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
    conn = redis_from_config(app.config)
    dispatcher = Dispatcher(app, conn)
    dispatcher.start()
    try:
        with app.app_context():
            AppWorker(list(queues), connection=conn).work(with_scheduler=True, burst=burst)
    finally:
        dispatcher.stop()
