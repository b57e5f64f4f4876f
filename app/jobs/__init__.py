"""Background jobs: outbox rows (:mod:`app.services.outbox`) and what runs them.

Handlers, one module per kind of work: :mod:`app.jobs.email` (booking e-mails),
:mod:`app.jobs.account_email` (sign-up e-mails), :mod:`app.jobs.staff_invitation` (staff invitations),
:mod:`app.jobs.booking_expiry` (requests nobody answered) and :mod:`app.jobs.maintenance` (daily
cleanup, "resend all failed"); each registers itself in :mod:`app.jobs.registry`. Executors live
together in :mod:`app.jobs.executors`: :func:`run_job` runs one job, in-process
(:class:`InProcessRunner`, the default without Redis) or on RQ (the worker process).
"""
from app.jobs.executors.runner import run_job
from app.jobs.executors.threads import InProcessRunner, start_in_process_runner, start_web_dispatcher

__all__ = ["InProcessRunner", "run_job", "start_in_process_runner", "start_web_dispatcher"]
