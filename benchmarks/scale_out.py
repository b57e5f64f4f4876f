"""Scale-out: the bigger-shop deployment under booking load, calm and with its dependencies failing.

Runs the deployment the README describes, on this machine:

* PostgreSQL (a fresh database ``flowkey_bench_scale``, migrated with ``flask db upgrade`` and
  dropped afterwards), a ``redis-server`` of its own on a free port without persistence (the worst
  case: what Redis held is gone after a restart), a real SMTP server (aiosmtpd, in this process);
* gunicorn with ``--web-workers`` (4) sync workers and ``--workers`` (2) ``python worker.py``, all
  with ``REDIS_URL`` set, rate-limit counters in that Redis as in production;
* one business, auto-confirming, ``--staff`` (8) staff members offering one 30-minute service every
  day 07:00-21:00 (Europe/London), no buffers.

Two phases of ``--duration`` (60) seconds each, with ``--clients`` (16) threads booking through the
JSON API (``POST /api/booking/public/<slug>/book/``, no staff member chosen, each thread its own
share of distinct free times, back to back) and ``--readers`` (4) threads reading 7-day availability:

1. **calm**: nothing fails;
2. **faults**: ``--kill-at`` seconds in, one ``worker.py`` is killed with SIGKILL and a new one
   starts ``--restart-after`` (1) second later, as the supervisor the README asks for would do;
   ``--redis-down-at`` seconds in, Redis is stopped, and ``--redis-down-for`` (15) seconds later a
   new, empty one starts on the same port.

Printed: bookings per second, booking p50/p95, 5xx answers, availability p95 under load against its
idle p95 (measured before the load), client e-mail latency (201 returned -> message at the SMTP
server) p95, e-mails expected/arrived/lost/duplicated, double bookings (two active bookings on one
staff member's time; must be 0) and, for the faults phase, the time from Redis's return until the
last e-mail arrived (drain).

    .venv/bin/python benchmarks/scale_out.py
    .venv/bin/python benchmarks/scale_out.py --duration 30 --clients 8
    .venv/bin/python benchmarks/scale_out.py --baseline eb0dd69   # also the calm phase of older code

``--baseline REF`` extracts commit ``REF`` with ``git archive`` into a temporary directory (nothing in
the repository changes), copies this script and ``common.py`` into it and runs its calm phase there first, so the
table shows the older code and this one measured the same way in the same run.

Targets: 0 x 5xx during the outage, drain <= 30 s after Redis returns, e-mail p95 <= 2 s under the
load, availability p95 under load <= 5x its idle value.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time as wall, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    DEFAULT_PG_ADMIN_URL, app_context, app_env, availability_url, gunicorn, machine, markdown_table, migrate,
    percentile, postgresql_database, sign_up_owner,
)
from benchmarks.notifications import TimedSmtpServer, parse_arrival, worker  # noqa: E402
from tests.fakes.redis_server import RedisServer, redis_binary  # noqa: E402

SLUG = "scale-studio"
TIMEZONE = "Europe/London"
PG_DATABASE = "flowkey_bench_scale"
MAIL_FROM = "Flowkey <bookings@flowkey.test>"
OPEN, CLOSE, DURATION = wall(7), wall(21), 30  # the service: 30 minutes, 07:00-21:00 every day
FIRST_DAY_OFFSET = 3  # no booking within the default reminder offsets: only the two booking e-mails are due
CLIENT_TEMPLATE, OWNER_TEMPLATE = "confirmed", "owner_confirmed"


# ------------------------------------------------------------------------------------ seeding

def seed(database_url: str, staff: int) -> dict:
    """The business, ``staff`` staff members with the hours, and the one service they all offer."""
    from app.extensions import db
    from app.services import business_service

    with app_context(database_url, MAIL_FROM=MAIL_FROM):
        business = sign_up_owner("Scale Studio", TIMEZONE).business
        business.email = "studio@bench.example"
        db.session.commit()
        business_service.update_settings(business, requires_approval=False, buffer_time_minutes=0,
                                          min_advance_booking_hours=0, max_advance_booking_days=365)
        members = [business.staff[0]] + [business_service.add_staff(business, f"Coach {i}") for i in range(2, staff + 1)]
        for member in members:
            business_service.set_weekly_hours(member, {day: [(OPEN, CLOSE)] for day in range(7)})
        service = business_service.save_service(
            business, None, name="Session", duration_minutes=DURATION, price=Decimal("40"), capacity=1,
            buffer_before_minutes=0, buffer_after_minutes=0, staff_ids=[m.id for m in members],
        )
        ids = {"service_id": service.id, "slug": business.slug}
    if ids["slug"] != SLUG:
        raise SystemExit(f"unexpected slug {ids['slug']!r}")
    return ids


def free_times(staff: int, first: date) -> list[str]:
    """Every start from ``first`` on, each repeated ``staff`` times (one per staff member), as ISO
    8601 with the offset: the order in which the clients take them. Wall-clock starts that do not
    exist (DST) are skipped."""
    tz = ZoneInfo(TIMEZONE)
    out: list[str] = []
    day = first
    while len(out) < 200_000:
        moment = datetime.combine(day, OPEN)
        while moment.time() < CLOSE:
            local = moment.replace(tzinfo=tz)
            if local.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None) == moment:
                out.extend([local.isoformat()] * staff)
            moment += timedelta(minutes=DURATION)
        day += timedelta(days=1)
    return out


# ---------------------------------------------------------------------------------------- load

@dataclass
class Post:
    sent: float
    returned: float
    status: int
    reference: str | None


@dataclass
class Phase:
    name: str
    started: float = 0.0
    ended: float = 0.0
    posts: list[Post] = field(default_factory=list)
    reads_ms: list[float] = field(default_factory=list)
    read_status: Counter = field(default_factory=Counter)
    events: list[tuple[float, str]] = field(default_factory=list)
    redis_back: float | None = None


class Load:
    """The booking and reading threads of one phase."""

    def __init__(self, base: str, service_id: int, times: list[str], clients: int, readers: int):
        self.base, self.service_id, self.clients, self.readers = base, service_id, clients, readers
        self.times = times
        self.next_index = [i for i in range(clients)]  # client c takes times c, c + clients, ...
        self.lock = threading.Lock()

    def run(self, phase: Phase, duration: float, actions: list[tuple[float, str, callable]] = ()) -> None:
        stop = threading.Event()
        phase.started = time.perf_counter()
        threads = [threading.Thread(target=self._book, args=(c, phase, stop)) for c in range(self.clients)]
        threads += [threading.Thread(target=self._read, args=(r, phase, stop)) for r in range(self.readers)]
        for t in threads:
            t.start()
        for at, label, action in sorted(actions, key=lambda a: a[0]):
            delay = phase.started + at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            action()
            phase.events.append((time.perf_counter(), label))
            print(f"  {time.perf_counter() - phase.started:5.1f} s  {label}", flush=True)
        delay = phase.started + duration - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        stop.set()
        for t in threads:
            t.join(60)
        phase.ended = time.perf_counter()

    def _book(self, client: int, phase: Phase, stop: threading.Event) -> None:
        session = requests.Session()
        url = f"{self.base}/api/booking/public/{SLUG}/book/"
        while not stop.is_set():
            index = self.next_index[client]
            self.next_index[client] += self.clients
            sent = time.perf_counter()
            try:
                response = session.post(url, json={
                    "service_id": self.service_id, "start": self.times[index], "client_name": f"Client {index}",
                    "client_email": f"client{index}@bench.example", "client_timezone": TIMEZONE,
                }, timeout=60)
                status = response.status_code
                reference = response.json().get("reference") if status == 201 else None
            except requests.RequestException:
                status, reference = 0, None
            phase.posts.append(Post(sent, time.perf_counter(), status, reference))

    def _read(self, reader: int, phase: Phase, stop: threading.Event) -> None:
        session = requests.Session()
        first = date.today() + timedelta(days=FIRST_DAY_OFFSET + reader)
        url = availability_url(self.base, SLUG, self.service_id, first, 7)
        while not stop.is_set():
            sent = time.perf_counter()
            try:
                status = session.get(url, timeout=60).status_code
            except requests.RequestException:
                status = 0
            phase.reads_ms.append((time.perf_counter() - sent) * 1000)
            phase.read_status[status] += 1


def idle_availability_ms(base: str, service_id: int, n: int) -> list[float]:
    session = requests.Session()
    url = availability_url(base, SLUG, service_id, date.today() + timedelta(days=FIRST_DAY_OFFSET), 7)
    out = []
    for _ in range(n):
        sent = time.perf_counter()
        session.get(url, timeout=30).raise_for_status()
        out.append((time.perf_counter() - sent) * 1000)
    return out


# ------------------------------------------------------------------------------------- e-mail

def wait_for_mail(smtp: TimedSmtpServer, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while smtp.count() < expected and time.monotonic() < deadline:
        time.sleep(0.05)


@dataclass
class MailReport:
    expected: int
    arrived: int
    lost: int
    duplicated: int
    client_latency_s: list[float]
    owner_latency_s: list[float]
    last_arrival: float | None


def mail_report(phase: Phase, received) -> MailReport:
    committed = {p.reference: p.returned for p in phase.posts if p.reference}
    arrivals = [parse_arrival(at, r) for at, r in received]
    seen = Counter((a.reference, a.template) for a in arrivals if a.reference in committed)
    expected = {(ref, t) for ref in committed for t in (CLIENT_TEMPLATE, OWNER_TEMPLATE)}
    first: dict[tuple[str, str], float] = {}
    for a in arrivals:
        if a.reference in committed:
            first.setdefault((a.template, a.reference), a.at)
    relevant = [a.at for a in arrivals if (a.reference, a.template) in expected]
    return MailReport(
        expected=len(expected),
        arrived=len(expected & set(seen)),
        lost=len(expected - set(seen)),
        duplicated=sum(n - 1 for n in seen.values() if n > 1),
        client_latency_s=[at - committed[ref] for (t, ref), at in first.items() if t == CLIENT_TEMPLATE],
        owner_latency_s=[at - committed[ref] for (t, ref), at in first.items() if t == OWNER_TEMPLATE],
        last_arrival=max(relevant) if relevant else None,
    )


# ------------------------------------------------------------------------------------ checking

def double_bookings(database_url: str) -> tuple[int, int]:
    """(active bookings, staff-time pairs held by more than one active booking)."""
    from sqlalchemy import func, select

    from app.domain.booking_state import BookingStatus
    from app.extensions import db
    from app.models import Booking

    with app_context(database_url, MAIL_FROM=MAIL_FROM):
        active = Booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.PENDING])
        total = db.session.scalar(select(func.count(Booking.id)).where(active))
        doubled = db.session.scalar(select(func.count()).select_from(
            select(Booking.staff_id, Booking.start_at).where(active)
            .group_by(Booking.staff_id, Booking.start_at).having(func.count(Booking.id) > 1).subquery()
        ))
    return total, doubled


def references_in_database(database_url: str) -> Counter:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Booking

    with app_context(database_url, MAIL_FROM=MAIL_FROM):
        return Counter(db.session.scalars(select(Booking.reference)))


def outbox_open(database_url: str) -> int:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models.outbox import JobStatus, OutboxJob

    with app_context(database_url, MAIL_FROM=MAIL_FROM):
        return db.session.scalar(select(func.count(OutboxJob.id)).where(
            OutboxJob.status.in_([JobStatus.PENDING, JobStatus.DISPATCHED, JobStatus.RUNNING]),
            OutboxJob.run_at <= func.now(),
        ))


# -------------------------------------------------------------------------------------- report

def row(phase: Phase, mail: MailReport, idle_p95: float, drain: float | None) -> list[str]:
    span = phase.ended - phase.started
    ok = [p for p in phase.posts if p.status == 201]
    ms = [(p.returned - p.sent) * 1000 for p in ok]
    statuses = Counter(p.status for p in phase.posts)
    errors = sum(n for s, n in statuses.items() if s >= 500 or s == 0)
    other = sum(n for s, n in statuses.items() if s not in (201,) and not (s >= 500 or s == 0))
    read_p95 = percentile(phase.reads_ms, 0.95) if phase.reads_ms else float("nan")
    read_errors = sum(n for s, n in phase.read_status.items() if s != 200)
    lat = mail.client_latency_s
    return [
        phase.name, str(len(ok)), f"{len(ok) / span:.1f}",
        f"{percentile(ms, 0.5):.0f}" if ms else "-", f"{percentile(ms, 0.95):.0f}" if ms else "-",
        f"{errors}", f"{other}",
        f"{read_p95:.0f} ({read_p95 / idle_p95:.1f}x)", f"{read_errors}",
        f"{percentile(lat, 0.95):.2f}" if lat else "-",
        f"{percentile(mail.owner_latency_s, 0.95):.2f}" if mail.owner_latency_s else "-",
        f"{mail.arrived}/{mail.expected}", str(mail.lost), str(mail.duplicated),
        f"{drain:.1f}" if drain is not None else "-",
    ]


HEADER = [
    "phase", "bookings", "bookings/s", "p50 ms", "p95 ms", "5xx", "other non-201",
    "availability p95 ms (vs idle)", "availability errors", "client e-mail p95 s", "owner e-mail p95 s", "e-mails arrived",
    "lost", "duplicated", "drain s",
]


# ------------------------------------------------------------------------------------ baseline

def run_baseline(args) -> list[list[str]]:
    """The calm phase of commit ``args.baseline``'s code, run by a copy of this script inside a
    ``git archive`` of that commit, with the same settings; returns its table rows, labelled."""
    from benchmarks.common import ROOT

    with tempfile.TemporaryDirectory(prefix="flowkey-baseline-") as tmp:
        archive = subprocess.run(["git", "archive", args.baseline], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        for harness in ("scale_out.py", "common.py"):  # the same harness; only the app differs
            shutil.copy(Path(__file__).with_name(harness), Path(tmp) / "benchmarks" / harness)
        command = [
            sys.executable, "benchmarks/scale_out.py", "--phases", "calm", "--json-rows",
            "--duration", str(args.duration), "--clients", str(args.clients), "--readers", str(args.readers),
            "--staff", str(args.staff), "--web-workers", str(args.web_workers), "--workers", str(args.workers),
            *(["--threads", str(args.threads)] if args.threads > 1 else []),
            "--pg-admin-url", args.pg_admin_url, "--pg-database", f"{args.pg_database}_baseline",
            "--drain-timeout", str(args.drain_timeout),
        ]
        print(f"[baseline {args.baseline}] running the calm phase of that commit's code ...", flush=True)
        result = subprocess.run(command, cwd=tmp, capture_output=True, text=True)
        line = next((l for l in result.stdout.splitlines() if l.startswith("ROWS ")), None)
        if result.returncode != 0 or line is None:
            raise SystemExit(f"the baseline run failed ({result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    rows = json.loads(line[5:])
    for r in rows:
        r[0] = f"{r[0]} ({args.baseline})"
    return rows


# ---------------------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds per phase (default 60)")
    parser.add_argument("--clients", type=int, default=16, help="booking threads (default 16)")
    parser.add_argument("--readers", type=int, default=4, help="availability threads (default 4)")
    parser.add_argument("--staff", type=int, default=8, help="staff members offering the service (default 8)")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn sync workers (default 4)")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (> 1: gthread; default 1, sync)")
    parser.add_argument("--workers", type=int, default=2, help="worker.py processes (default 2)")
    parser.add_argument("--kill-at", type=float, default=10, help="faults phase: SIGKILL one worker after this many s")
    parser.add_argument("--restart-after", type=float, default=1,
                        help="faults phase: start a new worker this many s after the kill, as a supervisor would (default 1)")
    parser.add_argument("--redis-down-at", type=float, default=20, help="faults phase: stop Redis after this many s")
    parser.add_argument("--redis-down-for", type=float, default=15, help="seconds Redis stays down (default 15)")
    parser.add_argument("--drain-timeout", type=float, default=300, help="seconds to wait for the last e-mails")
    parser.add_argument("--pg-admin-url", default=os.environ.get("BENCH_PG_ADMIN_URL", DEFAULT_PG_ADMIN_URL),
                        help="a PostgreSQL URL allowed to create and drop the scratch database")
    parser.add_argument("--pg-database", default=PG_DATABASE,
                        help="the scratch database's name (default %(default)s; the baseline run adds _baseline)")
    parser.add_argument("--phases", nargs="+", choices=["calm", "faults"], default=["calm", "faults"])
    parser.add_argument("--baseline", metavar="REF", help="also run the calm phase of commit REF's code, first")
    parser.add_argument("--json-rows", action="store_true", help=argparse.SUPPRESS)  # how a baseline run reports
    args = parser.parse_args(argv)
    if redis_binary() is None:
        raise SystemExit("redis-server is not installed")

    baseline_rows = run_baseline(args) if args.baseline else []
    logs = Path(tempfile.mkdtemp(prefix="flowkey-scale-logs-"))
    print(f"Machine: {machine()}\nLogs: {logs}", flush=True)
    rows: list[list[str]] = []
    notes: list[str] = []
    with postgresql_database(args.pg_admin_url, args.pg_database) as database_url, contextlib.ExitStack() as stack:
        migrate(app_env(database_url))
        ids = seed(database_url, args.staff)
        times = free_times(args.staff, date.today() + timedelta(days=FIRST_DAY_OFFSET))
        smtp = TimedSmtpServer().start()
        stack.callback(smtp.stop)
        redis = RedisServer().start()
        stack.callback(lambda: redis.stop())
        env = app_env(
            database_url, MAIL_FROM=MAIL_FROM, PYTHONUNBUFFERED="1", SMTP_URL=smtp.url, REDIS_URL=redis.url,
            RATELIMIT_STORAGE_URI=None,  # the counters live in Redis, as in production
        )
        workers = [stack.enter_context(worker(env, logs / f"worker-{i}.log")) for i in range(args.workers)]
        base = stack.enter_context(gunicorn(env, args.web_workers, logs / "gunicorn.log", threads=args.threads))
        idle = idle_availability_ms(base, ids["service_id"], 200)
        idle_p95 = percentile(idle, 0.95)
        print(f"idle 7-day availability: p50 {percentile(idle, 0.5):.1f} ms, p95 {idle_p95:.1f} ms", flush=True)
        load = Load(base, ids["service_id"], times, args.clients, args.readers)

        phases: list[Phase] = []
        for name in args.phases:
            phase = Phase(name)
            phases.append(phase)
            actions = []
            if name == "faults":
                def kill_worker():
                    os.kill(workers[0].pid, signal.SIGKILL)

                def restart_worker():  # what the supervisor the README asks for does
                    workers.append(stack.enter_context(worker(env, logs / "worker-restarted.log")))

                def redis_down():
                    redis.stop()

                def redis_up():
                    redis.start()
                    phase.redis_back = time.perf_counter()

                actions = [
                    (args.kill_at, "SIGKILL worker.py #1", kill_worker),
                    (args.kill_at + args.restart_after, "worker.py #1 restarted (as by a supervisor)", restart_worker),
                    (args.redis_down_at, "Redis stopped", redis_down),
                    (args.redis_down_at + args.redis_down_for, "Redis started again, empty", redis_up),
                ]
            smtp.take()
            print(f"[{name}] {args.clients} booking clients + {args.readers} availability readers for {args.duration:g} s ...", flush=True)
            load.run(phase, args.duration, actions)
            expected = 2 * sum(1 for p in phase.posts if p.status == 201)
            wait_for_mail(smtp, expected, args.drain_timeout)
            time.sleep(3)  # duplicates arriving late count too
            received = smtp.take()
            mail = mail_report(phase, received)
            drain = None
            if phase.redis_back is not None and mail.last_arrival is not None:
                drain = max(0.0, mail.last_arrival - max(phase.redis_back, phase.ended))
                notes.append(f"faults: last e-mail {mail.last_arrival - phase.redis_back:.1f} s after Redis returned, "
                             f"{mail.last_arrival - phase.ended:.1f} s after the load stopped")
            rows.append(row(phase, mail, idle_p95, drain))
            print(markdown_table(HEADER, [rows[-1]]), flush=True)

        active, doubled = double_bookings(database_url)
        refs = references_in_database(database_url)
        answered = [p.reference for phase in phases for p in phase.posts if p.reference]
        unmatched = sum(1 for ref in answered if refs[ref] != 1)
        notes.append(f"{active} active bookings, {doubled} staff times held twice, {len(answered)} answers 201 of which "
                     f"{unmatched} do not match exactly one row; open due outbox rows at the end: {outbox_open(database_url)}")
    if args.json_rows:
        print("ROWS " + json.dumps(rows))
        return 0
    rows = baseline_rows + rows
    print()
    print(f"Machine: {machine()}")
    kind = f"gthread workers x {args.threads} threads" if args.threads > 1 else "sync workers"
    print(f"gunicorn {args.web_workers} {kind}, {args.workers} worker.py, PostgreSQL, Redis (no persistence), "
          f"{args.clients} booking clients, {args.readers} availability readers, {args.duration:g} s per phase; "
          f"idle 7-day availability p95 {idle_p95:.1f} ms")
    print(markdown_table(HEADER, rows))
    for note in notes:
        print(f"- {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
