"""The worker process (with ``REDIS_URL``): an RQ worker on the ``notifications``, ``sync`` and
``default`` queues, in the app context, plus the outbox dispatcher thread that moves due rows
(including delayed ones: reminders, expiry, the daily cleanup) onto those queues.

A root ``worker.py`` only needs::

    from app import create_app
    from app.jobs.worker import run_worker
    run_worker(create_app())
"""
from __future__ import annotations

from flask import Flask
from rq import Worker

from app.extensions import db
from app.jobs.dispatch import redis_from_config
from app.jobs.inprocess import Dispatcher
from app.services.outbox import QUEUES


class AppWorker(Worker):
    """A forking RQ worker whose work horses do not reuse the parent's database connections."""

    def main_work_horse(self, job, queue):
        db.engine.dispose(close=False)  # SQLAlchemy's recipe for a forked child
        return super().main_work_horse(job, queue)


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
