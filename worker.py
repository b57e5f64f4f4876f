"""Background worker: ``python worker.py`` (the Procfile's ``worker``).

An RQ worker on the ``notifications``, ``sync`` and ``default`` queues (in that priority), with
RQ's scheduler on, inside the Flask app context, plus the outbox dispatcher that moves due outbox
rows (e-mails, reminders at their time) onto those queues (see :func:`app.jobs.executors.redis_queue.run_worker`). Needs ``REDIS_URL``; without it (the single-process default) Flowkey runs
its jobs in-process and no worker is needed.

    REDIS_URL=redis://127.0.0.1:6379/0 python worker.py [--burst]
"""
from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--burst", action="store_true", help="run the queued jobs, then exit")
    args = parser.parse_args(argv)

    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        print(
            "worker.py: REDIS_URL is not set. Set it (e.g. REDIS_URL=redis://127.0.0.1:6379/0) to run a "
            "worker; without Redis, Flowkey runs background jobs inside the web process instead.",
            file=sys.stderr,
        )
        return 2

    from app import create_app
    from app.jobs.executors.redis_queue import run_worker

    run_worker(create_app(), burst=args.burst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
