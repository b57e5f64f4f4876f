"""Notifications: how long from a booking's commit to its e-mail arriving at a real SMTP server?

For each database (a fresh SQLite file per mode and, with ``--databases postgresql``, a fresh
PostgreSQL database ``flowkey_bench_mail`` that is dropped afterwards) and each mode:

* ``redis``     — the web app under gunicorn with ``REDIS_URL`` set (so no in-process runner), a
  ``redis-server`` on a free port, and ONE real ``worker.py`` process (RQ worker + the outbox
  dispatcher thread);
* ``in-process`` — the web app under gunicorn with 1 sync worker and no ``REDIS_URL``: the outbox
  runner thread inside the web process delivers (a commit that records a job wakes it);

this script:

1. creates the schema and seeds one auto-confirming business (15-minute slots, no buffers);
2. books ``--bookings`` slots one at a time through the real JSON API
   (``POST /api/booking/public/<slug>/book/``), arriving as a Poisson process of ``--rate`` per
   second (open loop: a slow delivery does not slow the bookings down; random gaps, so bookings
   do not line up with the 2 s poll), taking the moment the 201 comes back as the commit time
   (the commit happened just before);
3. records when each message arrives at an aiosmtpd server running in this process
   (``tests/fakes/smtp_server.py``), matches it to its booking by the reference in its plain-text
   body and the ``X-Flowkey-Template`` header, and reports p50/p95/max of "201 returned -> e-mail
   arrived" for the client's confirmation (and p95 for the owner's note);
4. then measures throughput: ``--burst`` e-mail jobs recorded in ONE transaction from this process,
   and the time until the last one arrives (emails/s from the first arrival to the last, and from
   the commit to the last, which includes waiting for the executor's next poll).

Target: p95 from commit to delivery < 2 s.

    .venv/bin/python benchmarks/notifications.py                       # SQLite, both modes
    .venv/bin/python benchmarks/notifications.py --databases sqlite postgresql
    .venv/bin/python benchmarks/notifications.py --bookings 50 --modes in-process --poll 0.5

The schema is made with ``flask db upgrade``, as in a deployment.
"""
from __future__ import annotations

import argparse
import contextlib
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, time as wall, timedelta
from decimal import Decimal
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    ROOT, add_database_arguments, app_context, app_env, availability_url, gunicorn, machine, markdown_table,
    migrate, percentile, scratch_database, sign_up_owner, stop_process,
)
from tests.fakes.redis_server import RedisServer, redis_binary  # noqa: E402
from tests.fakes.smtp_server import FakeSmtpServer, Received, _Handler  # noqa: E402

SLUG = "bench-mail-studio"
TIMEZONE = "Europe/London"
PG_DATABASE = "flowkey_bench_mail"
MAIL_FROM = "Flowkey <bookings@flowkey.test>"
BUSINESS_EMAIL = "studio@bench.example"
TARGET_P95_S = 2.0
REFERENCE = re.compile(r"\bFK-[0-9A-Z]+\b")


# ------------------------------------------------------------------------------ SMTP server

class _TimedHandler(_Handler):
    """The fake server's handler, noting when (``time.perf_counter()``) each message arrived."""

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        if reply.startswith("250"):
            with self.server.lock:
                self.server.arrivals.append(time.perf_counter())
        return reply


class TimedSmtpServer(FakeSmtpServer):
    """``FakeSmtpServer`` whose ``arrivals[i]`` is the arrival time of ``messages[i]``."""

    def __init__(self, port: int | None = None):
        super().__init__(port)
        self.arrivals: list[float] = []

    def start(self) -> "TimedSmtpServer":
        from aiosmtpd.controller import Controller

        self._controller = Controller(_TimedHandler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def take(self) -> list[tuple[float, Received]]:
        """Everything received so far, with arrival times; empties the server."""
        with self.lock:
            got = list(zip(self.arrivals, self.messages))
            self.arrivals.clear()
            self.messages.clear()
        return got

    def count(self) -> int:
        with self.lock:
            return len(self.messages)


@dataclass(frozen=True)
class Arrival:
    at: float
    template: str
    reference: str | None
    to: tuple[str, ...]


def parse_arrival(at: float, received: Received) -> Arrival:
    message = received.message
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    match = REFERENCE.search(text) or REFERENCE.search(str(message["Subject"] or ""))
    return Arrival(at, str(message["X-Flowkey-Template"] or ""), match.group(0) if match else None, tuple(received.rcpt_tos))


# -------------------------------------------------------------------------------- databases

def seed(database_url: str) -> dict:
    """One auto-confirming business open 06:00-22:00 every day, a 15-minute service, no buffers."""
    from app.extensions import db
    from app.services import business_service

    with app_context(database_url, MAIL_FROM=MAIL_FROM):
        business = sign_up_owner("Bench Mail Studio", TIMEZONE).business
        business.email = BUSINESS_EMAIL
        db.session.commit()
        business_service.update_settings(business, requires_approval=False, buffer_time_minutes=0,
                                          min_advance_booking_hours=0, max_advance_booking_days=60)
        business_service.set_weekly_hours(business.staff[0], {day: [(wall(6), wall(22))] for day in range(7)})
        service = business_service.save_service(business, None, name="Quick consultation", duration_minutes=15,
                                                price=Decimal("10"), capacity=1, buffer_before_minutes=0,
                                                buffer_after_minutes=0)
        ids = {"service_id": service.id, "slug": business.slug}
    if ids["slug"] != SLUG:
        raise SystemExit(f"unexpected slug {ids['slug']!r}")
    return ids


# -------------------------------------------------------------------------------- processes

def process_env(database_url: str, smtp_url: str | None, redis_url: str | None, poll: float | None = None) -> dict:
    """The environment of gunicorn, ``worker.py`` and ``flask db upgrade``: ``app_env`` plus this
    benchmark's sender, unbuffered output, the SMTP and Redis URLs (removed when ``None``) and,
    if given, the outbox poll interval."""
    env = app_env(database_url, MAIL_FROM=MAIL_FROM, PYTHONUNBUFFERED="1", SMTP_URL=smtp_url, REDIS_URL=redis_url)
    if poll is not None:
        env["OUTBOX_POLL_SECONDS"] = str(poll)
    return env


@contextlib.contextmanager
def worker(env: dict, log: Path):
    """The real ``python worker.py`` (RQ worker with the scheduler + outbox dispatcher)."""
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        time.sleep(0.5)
        if proc.poll() is not None:
            raise SystemExit(f"worker.py exited with {proc.returncode}; see {log}")
        yield proc
    finally:
        stop_process(proc, timeout=15)


# ---------------------------------------------------------------------------------- measure

@dataclass
class Result:
    database: str
    mode: str
    bookings: int
    client: list[float]  # seconds, 201 returned -> client e-mail arrived
    owner: list[float]
    post_ms: list[float]  # POST round trip, ms
    burst: int = 0
    burst_first: float = 0.0  # commit -> first arrival, s
    burst_last: float = 0.0  # commit -> last arrival, s
    missing: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        span = self.burst_last - self.burst_first
        return (self.burst - 1) / span if span > 0 else float("nan")

    @property
    def per_second_from_commit(self) -> float:
        return self.burst / self.burst_last if self.burst_last > 0 else float("nan")


def free_slots(base: str, service_id: int, n: int) -> list[str]:
    url = availability_url(base, SLUG, service_id, date.today() + timedelta(days=1), 14)
    response = requests.get(url, timeout=30)
    response.raise_for_status()
    starts = [slot["start"] for day in sorted(response.json()) for slot in response.json()[day]]
    if len(starts) < n:
        raise SystemExit(f"only {len(starts)} free slots for {n} bookings")
    return starts[:n]


def book_all(base: str, service_id: int, n: int, rate: float, seed_value: int = 7) -> tuple[dict[str, float], list[float]]:
    """Book ``n`` slots, arriving as a Poisson process of ``rate`` per second (random gaps, so
    they do not line up with the executor's poll); returns ({reference: time the 201 came back},
    POST round trips in ms)."""
    rng = random.Random(seed_value)
    session = requests.Session()
    url = f"{base}/api/booking/public/{SLUG}/book/"
    committed: dict[str, float] = {}
    post_ms: list[float] = []
    due = time.perf_counter()
    for i, start in enumerate(free_slots(base, service_id, n)):
        due += rng.expovariate(rate)
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sent = time.perf_counter()
        response = session.post(url, json={
            "service_id": service_id, "start": start, "client_name": f"Client {i}",
            "client_email": f"client{i}@bench.example", "client_timezone": TIMEZONE,
        }, timeout=30)
        returned = time.perf_counter()
        if response.status_code != 201:
            raise SystemExit(f"POST {url} -> {response.status_code}: {response.text[:300]}")
        committed[response.json()["reference"]] = returned
        post_ms.append((returned - sent) * 1000)
    return committed, post_ms


def wait_for(smtp: TimedSmtpServer, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while smtp.count() < count and time.monotonic() < deadline:
        time.sleep(0.02)


def latencies(committed: dict[str, float], arrivals: list[Arrival], template: str) -> tuple[list[float], list[str]]:
    first: dict[str, float] = {}
    for a in arrivals:
        if a.template == template and a.reference in committed:
            first.setdefault(a.reference, a.at)
    missing = sorted(set(committed) - set(first))
    return [first[ref] - committed[ref] for ref in committed if ref in first], missing


def burst(database_url: str, smtp: TimedSmtpServer, n: int, timeout: float) -> tuple[int, float, float]:
    """Record ``n`` e-mail jobs (a second "confirmed" e-mail for the first ``n`` bookings, under
    fresh keys) in one transaction; returns (arrived, commit -> first, commit -> last) in s."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Booking
    from app.services import booking_emails
    from app.services.locks import unit_of_work

    smtp.take()
    with app_context(database_url, MAIL_FROM=MAIL_FROM):
        with unit_of_work():  # BEGIN IMMEDIATE on SQLite: the executor may write meanwhile
            bookings = list(db.session.scalars(select(Booking).order_by(Booking.id).limit(n)))
            for booking in bookings:
                booking_emails.record_booking_email(booking, "confirmed", suffix=":burst")
        committed = time.perf_counter()
    wait_for(smtp, len(bookings), timeout)
    got = [at for at, _ in smtp.take()]
    if not got:
        return 0, float("nan"), float("nan")
    return len(got), min(got) - committed, max(got) - committed


def run_mode(database: str, mode: str, database_url: str, smtp: TimedSmtpServer, args, logs: Path) -> Result:
    label = f"[{database}/{mode}]"
    print(f"{label} creating the schema and seeding ...", flush=True)
    migrate(process_env(database_url, None, None))
    ids = seed(database_url)
    smtp.take()
    with contextlib.ExitStack() as stack:
        if mode == "redis":
            redis = RedisServer().start()
            stack.callback(redis.stop)
            web_env = process_env(database_url, smtp.url, redis.url, args.poll)
            stack.enter_context(worker(web_env, logs / f"{database}-{mode}-worker.log"))
            base = stack.enter_context(gunicorn(web_env, args.web_workers, logs / f"{database}-{mode}-gunicorn.log"))
        else:
            web_env = process_env(database_url, smtp.url, None, args.poll)
            base = stack.enter_context(gunicorn(web_env, 1, logs / f"{database}-{mode}-gunicorn.log"))
        print(f"{label} booking {args.bookings} slots at {args.rate:g}/s through {base} ...", flush=True)
        committed, post_ms = book_all(base, ids["service_id"], args.bookings, args.rate)
        wait_for(smtp, 2 * args.bookings, args.timeout)
        arrivals = [parse_arrival(at, received) for at, received in smtp.take()]
        client, missing = latencies(committed, arrivals, "confirmed")
        owner, _ = latencies(committed, arrivals, "owner_confirmed")
        result = Result(database, mode, args.bookings, client, owner, post_ms, missing=missing)
        if missing:
            print(f"{label} {len(missing)} client e-mails did not arrive within {args.timeout:g} s", flush=True)
        if args.burst:
            print(f"{label} burst: {args.burst} e-mail jobs in one transaction ...", flush=True)
            result.burst, result.burst_first, result.burst_last = burst(database_url, smtp, args.burst, args.timeout)
    return result


# ------------------------------------------------------------------------------------ report

def table(results: list[Result]) -> str:
    header = ["database", "mode", "bookings", "POST p50 ms", "client mail p50 s", "p95 s", "max s", "owner mail p95 s",
              "arrived", f"p95 < {TARGET_P95_S:g} s", "burst", "commit->last s", "mails/s (first->last)"]

    def s(values, q=None):
        if not values:
            return "-"
        return f"{(statistics.median(values) if q is None else percentile(values, q)):.3f}"

    rows = [[
        r.database, r.mode, str(r.bookings), f"{statistics.median(r.post_ms):.0f}", s(r.client), s(r.client, 0.95),
        s(r.client, 1.0), s(r.owner, 0.95), f"{len(r.client)}/{r.bookings}",
        ("ok" if r.client and percentile(r.client, 0.95) < TARGET_P95_S and not r.missing else "MISSED"),
        f"{r.burst}" if r.burst else "-", f"{r.burst_last:.2f}" if r.burst else "-",
        f"{r.per_second:.0f}" if r.burst else "-",
    ] for r in results]
    return markdown_table(header, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark booking commit -> e-mail at a real SMTP server, with Redis + one worker and in-process.",
        epilog=f"Target: p95 < {TARGET_P95_S:g} s from commit to delivery. Logs of gunicorn and worker.py go to a temporary directory.",
    )
    parser.add_argument("--bookings", type=int, default=200, help="bookings per mode (default: %(default)s)")
    parser.add_argument("--rate", type=float, default=3.0, help="mean bookings per second (Poisson arrivals) (default: %(default)s)")
    parser.add_argument("--burst", type=int, default=200, help="e-mail jobs recorded at once for mails/s; 0 to skip (default: %(default)s)")
    parser.add_argument("--modes", nargs="+", choices=["redis", "in-process"], default=["redis", "in-process"])
    add_database_arguments(parser, default=["sqlite"], pg_database=PG_DATABASE)
    parser.add_argument("--poll", type=float, default=None,
                        help="OUTBOX_POLL_SECONDS for the web app and the worker (default: the app's, 2 s)")
    parser.add_argument("--web-workers", type=int, default=1, help="gunicorn workers in redis mode (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the last e-mail (default: %(default)s)")
    args = parser.parse_args(argv)

    if "redis" in args.modes and redis_binary() is None:
        raise SystemExit("redis-server is not installed; run with --modes in-process")

    smtp = TimedSmtpServer().start()
    results: list[Result] = []
    started = time.perf_counter()
    logs = Path(tempfile.mkdtemp(prefix="flowkey-bench-mail-logs-"))
    try:
        for database in args.databases:
            for mode in args.modes:  # a fresh database per mode
                with scratch_database(database, args.pg_admin_url, pg_database=PG_DATABASE,
                                      tmp_prefix="flowkey-bench-mail-") as url:
                    results.append(run_mode(database, mode, url, smtp, args, logs))
    finally:
        smtp.stop()
    print()
    print(f"Machine: {machine()}")
    print(f"{args.bookings} bookings per mode, Poisson arrivals at {args.rate:g}/s, via POST /api/booking/public/<slug>/book/ (auto-confirmed: "
          f"client 'confirmed' + owner e-mail each); latency = 201 returned -> message at aiosmtpd; "
          f"OUTBOX_POLL_SECONDS={args.poll if args.poll is not None else 'default (2)'}; "
          f"burst = {args.burst} jobs recorded in one transaction from another process. "
          f"Total {time.perf_counter() - started:.0f} s; logs in {logs}")
    print(table(results))
    missed = [r for r in results if r.missing or not r.client or percentile(r.client, 0.95) >= TARGET_P95_S]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
