"""Background jobs (DESIGN.md, "Background work that is never lost").

Jobs are outbox rows (:mod:`app.services.outbox`) executed by :func:`run_job`, either on RQ
(:mod:`app.jobs.dispatch`, :mod:`app.jobs.worker`) or in-process
(:mod:`app.jobs.inprocess`). Handlers live in :mod:`app.jobs.notifications` (e-mails),
:mod:`app.jobs.bookings` (expiry of pending requests) and :mod:`app.jobs.maintenance` (daily
cleanup, "resend all failed") and register themselves in :mod:`app.jobs.registry`.
"""
from app.jobs.inprocess import InProcessRunner, start_in_process_runner, start_web_dispatcher
from app.jobs.runner import run_job

__all__ = ["InProcessRunner", "run_job", "start_in_process_runner", "start_web_dispatcher"]
