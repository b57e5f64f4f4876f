"""Background threads that execute the outbox without a separate worker process.

* :class:`InProcessRunner` — the single-process default (no ``REDIS_URL``): polls the outbox every
  ``OUTBOX_POLL_SECONDS`` (default 2) and runs due jobs with the same :func:`run_job`, so the same
  retries and idempotency apply. A commit that recorded a job wakes it at once. Several web
  processes may each run one: claiming a row is atomic.
* :class:`Dispatcher` — with Redis: polls and moves due rows onto RQ queues
  (:func:`app.jobs.executors.redis_queue.dispatch_due`); run by the worker process
  (:func:`app.jobs.executors.redis_queue.run_worker`) and, woken by commits, by web processes.
"""
from __future__ import annotations

import abc
import logging
import threading
import time

from flask import Flask

from app.extensions import db
from app.jobs.executors.runner import run_job
from app.jobs.maintenance import schedule_daily
from app.services import outbox

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 2.0
SCHEDULE_EVERY_SECONDS = 3600


class _PollingThread(threading.Thread, abc.ABC):
    """A daemon thread calling :meth:`tick` in a fresh app context every ``poll_seconds``, or at
    once when :meth:`wake` is called (e.g. after a commit that recorded a job)."""

    def __init__(self, app: Flask, poll_seconds: float | None = None, name: str = "flowkey-outbox"):
        super().__init__(name=name, daemon=True)
        self.app = app
        self.poll_seconds = float(poll_seconds if poll_seconds is not None else app.config.get("OUTBOX_POLL_SECONDS", DEFAULT_POLL_SECONDS))
        self._stop_event = threading.Event()
        self._wake_event = threading.Event()
        self._next_schedule = 0.0

    def wake(self) -> None:
        self._wake_event.set()

    def stop(self, timeout: float | None = 10) -> None:
        """Ask the thread to stop after the job it is running, and wait for it."""
        self._stop_event.set()
        self._wake_event.set()
        outbox.remove_on_commit(self.wake)
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    @property
    def stopping(self) -> bool:
        return self._stop_event.is_set()

    def start(self) -> None:
        outbox.on_commit(self.wake)
        super().start()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self._wake_event.clear()
            with self.app.app_context():
                try:
                    if time.monotonic() >= self._next_schedule:
                        schedule_daily()
                        self._next_schedule = time.monotonic() + SCHEDULE_EVERY_SECONDS
                    self.tick()
                except Exception:  # noqa: BLE001  (a bad poll must not kill the thread; next poll retries)
                    log.exception("%s: poll failed", self.name)
                    db.session.rollback()
                finally:
                    db.session.remove()
            self._wake_event.wait(self.poll_seconds)

    @abc.abstractmethod
    def tick(self) -> None:
        """One poll: run (or dispatch) what is due."""


class InProcessRunner(_PollingThread):
    """Runs due outbox jobs in this process (see the module docstring)."""

    def __init__(self, app: Flask, poll_seconds: float | None = None, batch: int = 50):
        super().__init__(app, poll_seconds, name="flowkey-outbox-runner")
        self.batch = batch

    def tick(self) -> None:
        while not self.stopping:
            ids = [job.id for job in outbox.due(limit=self.batch)]
            db.session.rollback()  # no read snapshot held while the jobs run
            if not ids:
                return
            for job_id in ids:
                if self.stopping:
                    return
                run_job(job_id)
            if len(ids) < self.batch:
                return


class Dispatcher(_PollingThread):
    """Moves due outbox rows onto RQ queues every poll (see :func:`app.jobs.executors.redis_queue.dispatch_due`)."""

    def __init__(self, app: Flask, redis_conn, poll_seconds: float | None = None, batch: int = 100):
        super().__init__(app, poll_seconds, name="flowkey-outbox-dispatcher")
        self.redis_conn = redis_conn
        self.batch = batch

    def tick(self) -> None:
        from app.jobs.executors.redis_queue import dispatch_due  # imports this module

        while not self.stopping and dispatch_due(self.redis_conn, limit=self.batch) == self.batch:
            pass


def start_in_process_runner(app: Flask, *, force: bool = False) -> InProcessRunner | None:
    """Start the in-process runner for ``app`` unless ``REDIS_URL`` is set (workers do the work)
    or the app is TESTING (tests start runners themselves); ``force`` starts it regardless.
    Returns the running thread (also kept as ``app.extensions["outbox_runner"]``) or None."""
    if not force and (app.config.get("REDIS_URL") or app.config.get("TESTING")):
        return None
    existing = app.extensions.get("outbox_runner")
    if existing is not None and existing.is_alive():
        return existing
    runner = InProcessRunner(app)
    runner.start()
    app.extensions["outbox_runner"] = runner
    return runner


def start_web_dispatcher(app: Flask, *, force: bool = False) -> Dispatcher | None:
    """With ``REDIS_URL``, a web process enqueues the jobs its own commits record right away (the
    dispatcher thread is woken by the commit) instead of waiting for the worker's next poll; the
    worker's dispatcher still catches anything missed and the scheduled jobs. Not when TESTING
    unless ``force``."""
    if not app.config.get("REDIS_URL") or (app.config.get("TESTING") and not force):
        return None
    existing = app.extensions.get("outbox_dispatcher")
    if existing is not None and existing.is_alive():
        return existing
    from app.jobs.executors.redis_queue import redis_from_config

    dispatcher = Dispatcher(app, redis_from_config(app.config))
    dispatcher.start()
    app.extensions["outbox_dispatcher"] = dispatcher
    return dispatcher
