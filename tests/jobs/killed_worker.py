"""Run as a separate process by the tests: a worker that dies (``os._exit``) at a chosen point.

    python -m tests.jobs.killed_worker <database_url> <smtp_url> <point> run_job <job_id>
    python -m tests.jobs.killed_worker <database_url> <smtp_url> <point> rq <redis_url>

``point``: ``before-complete`` (after the e-mail was sent and recorded, before the job row is
completed: the lost-ack case) or ``after-send`` (right after the SMTP server accepted the message,
before anything was recorded: the documented window).
"""
from __future__ import annotations

import os
import sys


def main(database_url: str, smtp_url: str, point: str, mode: str, target: str) -> None:
    from app import create_app
    from app.config import TestConfig

    config = type("C", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": database_url, "SMTP_URL": smtp_url, "MAIL_FROM": "Flowkey <bookings@flowkey.test>",
    })
    app = create_app(config)

    def die(*_args, **_kwargs):
        os._exit(137)  # as abrupt as SIGKILL: no cleanup, no rollback, no ack

    if point == "before-complete":
        from app.services import outbox

        outbox.complete = die
    elif point == "after-send":
        from app.integrations.smtp import SmtpTransport

        real_send = SmtpTransport.send

        def send_then_die(self, message):
            real_send(self, message)
            die()

        SmtpTransport.send = send_then_die
    else:
        raise SystemExit(f"unknown point {point}")

    with app.app_context():
        if mode == "run_job":
            from app.jobs import run_job

            run_job(int(target))
        else:
            from redis import Redis
            from rq import Queue, SimpleWorker

            from app.services.outbox import QUEUES

            conn = Redis.from_url(target)
            SimpleWorker([Queue(q, connection=conn) for q in QUEUES], connection=conn).work(burst=True)
    sys.exit(0)  # not reached when the worker died


if __name__ == "__main__":
    main(*sys.argv[1:])
