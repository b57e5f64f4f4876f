"""Availability over HTTP: how fast are ``GET /api/booking/public/<slug>/availability/`` and the
public month page ``GET /book/<slug>/<service_id>``, with the availability cache warm and cold, and
how does that compare with older code measured the same way in the same run?

For each database (a fresh SQLite file, and a fresh PostgreSQL database ``flowkey_bench`` that is
dropped afterwards) this script:

1. applies the migrations (``flask db upgrade``);
2. seeds one business with 5 staff members, 3 services and 2,000 bookings over the next 60 days
   (inserted directly for speed, on a grid that never overlaps);
3. serves the app with gunicorn (2 sync workers) on a free localhost port (its output goes to
   ``.bench/availability/``), twice:
   **cold** with ``AVAILABILITY_CACHE=off`` (every request computes), then **warm** with
   ``AVAILABILITY_CACHE=on`` (the first request to each URL primes the cache);
4. measures, in each mode, a 7-day and a 31-day API range and the public month page (the page a
   client sees first; its month is the current one): p50/p95/max latency over ``--requests``
   sequential requests (after one priming request and 20 warm-up requests), then requests per
   second with ``--clients`` concurrent clients for ``--duration`` s.

**Baseline** (``--baseline REF``, default ``6f3b5c8``, the code before the availability cache and
the interval engine): ``git archive REF`` is extracted into a temporary directory (nothing in the
repository changes), this script and ``common.py`` are copied into it, and it runs there first
with the same settings: the same seed, its own scratch database migrated with that commit's
migrations, the same gunicorn. Older code has no cache, so it is measured once. The table shows
each new figure's p95 against the baseline's. ``--no-baseline`` skips it.

**Growth** (``--growth``): 7-day p95, cold and warm, with 2,000 / 20,000 / 100,000 bookings in the
table (the extra ones spread over past and future months, outside the measured range, so only the
range's holds are read; bulk inserted, and on PostgreSQL followed by ``ANALYZE`` as autovacuum
would do), and with 1 / 5 / 20 staff members on one service (400 bookings each over 60 days).

Targets on a 2-core machine (p95): 7-day warm <= 8 ms and >= 3x faster than the baseline, cold
<= 15 ms; 31-day warm <= 12 ms, cold <= 35 ms; month page warm <= 15 ms; 7-day warm >= 400 req/s.

    .venv/bin/python benchmarks/availability.py                  # both databases, baseline included
    .venv/bin/python benchmarks/availability.py --databases sqlite --no-baseline --requests 50 --duration 2
    .venv/bin/python benchmarks/availability.py --growth         # + the growth tables
    .venv/bin/python benchmarks/availability.py --profile        # + pyinstrument, in-process, cache off

``--profile`` needs ``pyinstrument`` installed into the venv by hand (it is not a requirement).
``AVAILABILITY_CACHE`` is only passed to the servers; code without a cache ignores it.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from datetime import time as wall
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    ROOT, add_database_arguments, app_context, app_env, availability_url, bench_config, gunicorn, machine,
    markdown_table, migrate, percentile, scratch_database, sign_up_owner,
)

SLUG = "bench-swim-school"
TIMEZONE = "Europe/London"
STAFF = 5
BOOKINGS = 2000
DAYS = 60
PG_DATABASE = "flowkey_bench"
BASELINE = "6f3b5c8"
# p95 targets in ms, by (request, cache mode).
TARGETS_MS = {("7 days", "warm"): 8, ("7 days", "cold"): 15, ("31 days", "warm"): 12, ("31 days", "cold"): 35,
              ("month page", "warm"): 15}
TARGET_WARM_RATIO = 3.0  # 7-day warm p95: at least this many times faster than the baseline
TARGET_WARM_RPS = 400  # 7-day warm, concurrent clients
GROWTH_BOOKINGS = [2000, 20000, 100000]
GROWTH_STAFF = [1, 5, 20]
# Every working staff-day gets bookings on a 75-minute grid from 08:00 (never overlapping, buffers
# included).
GRID = [wall(8, 0), wall(9, 15), wall(13, 0), wall(14, 15), wall(15, 30), wall(16, 45), wall(10, 30), wall(11, 45)]
MODES = {"cold": "off", "warm": "on"}
LOGS = ROOT / ".bench" / "availability"  # the servers' output (one line per request), appended


# ------------------------------------------------------------------------------------ seeding

def seed(database_url: str, bookings: int = BOOKINGS, seed_value: int = 7, *, staff: int = STAFF,
         business_name: str = "Bench Swim School", owner_email: str = "owner@bench.example") -> dict:
    """Create a benchmark business in ``database_url`` (already migrated): ``staff`` staff members
    (Mon-Sat 08:00-18:00, every other one with a lunch break), 3 services offered by all of them,
    400 clients and ``bookings`` bookings over the next 60 days, filled round-robin on the grid
    (85% confirmed, 10% pending, 5% cancelled).

    Returns ``{"business_id", "slug", "service_id" (the 45-minute lesson), "today" (a date in the
    business zone)}``. Raises ``SystemExit`` if the grid cannot hold ``bookings``.
    """
    from sqlalchemy import insert

    from app.domain.booking_state import BookingStatus
    from app.extensions import db
    from app.models import Booking, Client, StaffMember, utcnow
    from app.services import business_service
    from app.services.booking_service import new_reference

    rng = random.Random(seed_value)
    with app_context(database_url):
        business = sign_up_owner(business_name, TIMEZONE, email=owner_email).business
        # A 31-day range must be fully inside the booking window to measure it.
        business_service.update_settings(business, max_advance_booking_days=90, requires_approval=False)
        members = [business.staff[0]]
        names = ["Sam", "Priya", "Tom", "Mei"] + [f"Staff {n}" for n in range(6, staff + 1)]
        for name in names[: staff - 1]:
            member = StaffMember(business=business, display_name=name)
            db.session.add(member)
            members.append(member)
        db.session.commit()
        for i, member in enumerate(members):
            intervals = [(wall(8), wall(12)), (wall(13), wall(18))] if i % 2 else [(wall(8), wall(18))]
            business_service.set_weekly_hours(member, {day: intervals for day in range(6)})
        services = [
            business_service.save_service(business, None, name="Private Swimming Lesson", duration_minutes=45,
                                          price=Decimal("50"), capacity=1, buffer_after_minutes=15, slot_interval_minutes=60),
            business_service.save_service(business, None, name="Group Class", duration_minutes=60,
                                          price=Decimal("20"), capacity=6, buffer_after_minutes=0),
            business_service.save_service(business, None, name="Assessment", duration_minutes=30,
                                          price=Decimal("0"), capacity=1, buffer_after_minutes=0),
        ]
        clients = [
            dict(business_id=business.id, name=f"Client {n}", email=f"client{n}@bench.example", phone=None)
            for n in range(400)
        ]
        db.session.execute(insert(Client), clients)
        db.session.commit()
        client_ids = list(db.session.scalars(db.select(Client.id).where(Client.business_id == business.id)))

        tz = ZoneInfo(TIMEZONE)
        now = utcnow()
        today = now.astimezone(tz).date()
        staff_days = [
            (member, today + timedelta(days=d))
            for d in range(1, DAYS + 1)
            for member in members
            if (today + timedelta(days=d)).weekday() < 6
        ]
        rows, references = [], set()
        for k, (member, day) in itertools.islice(
            ((k, sd) for k in range(len(GRID)) for sd in staff_days), bookings
        ):
            service = rng.choice(services)
            start = datetime.combine(day, GRID[k], tz).astimezone(ZoneInfo("UTC"))
            before, after = service.buffers(business.settings)
            roll = rng.random()
            status = BookingStatus.CONFIRMED if roll < 0.85 else BookingStatus.PENDING if roll < 0.95 else BookingStatus.CANCELLED
            reference = new_reference()
            while reference in references:
                reference = new_reference()
            references.add(reference)
            client_id = rng.choice(client_ids)
            rows.append(dict(
                reference=reference, business_id=business.id, service_id=service.id, staff_id=member.id,
                client_id=client_id, start_at=start, end_at=start + timedelta(minutes=service.duration_minutes),
                buffer_before_minutes=before, buffer_after_minutes=after,
                seats=rng.randint(1, 3) if service.capacity > 1 else 1,
                client_name=f"Client {client_id}", client_email=f"client{client_id}@bench.example", client_phone=None,
                client_timezone=TIMEZONE, notes="", status=status,
                expires_at=now + timedelta(hours=24) if status == BookingStatus.PENDING else None,
                approved_at=now if status == BookingStatus.CONFIRMED else None,
                sequence=0, created_at=now, updated_at=now,
            ))
        if len(rows) < bookings:
            raise SystemExit(f"the grid holds only {len(rows)} bookings; widen it")
        booking_columns = set(Booking.__table__.columns.keys())
        rows = [{k: v for k, v in row.items() if k in booking_columns} for row in rows]
        db.session.execute(insert(Booking), rows)
        db.session.commit()
        ids = dict(business_id=business.id, slug=business.slug, service_id=services[0].id, today=today)
    return ids


def add_bookings(database_url: str, ids: dict, count: int, already: int = 0, seed_value: int = 11) -> None:
    """Insert ``count`` more bookings for the business ``ids`` (from :func:`seed`) far from the
    measured ranges: on the same grid, every day, alternately further into the past (before
    ``today - 3``) and the future (after the 60 seeded days + 3). ``already`` is how many this
    function inserted before for the business, so repeated calls continue where the last stopped.

    Past bookings are completed (10% cancelled), future ones confirmed (10% cancelled). Bulk insert:
    SQLAlchemy Core ``insert()`` with executemany, 5,000 rows a batch, one transaction; on
    PostgreSQL then ``ANALYZE booking``, as autovacuum would after such a load.
    """
    from sqlalchemy import insert, select, text

    from app.domain.booking_state import BookingStatus
    from app.extensions import db
    from app.models import Booking, Client, Service, StaffMember, utcnow

    rng = random.Random(seed_value + already)
    tz, utc = ZoneInfo(TIMEZONE), ZoneInfo("UTC")
    today = ids["today"]
    with app_context(database_url):
        members = list(db.session.scalars(select(StaffMember.id).where(StaffMember.business_id == ids["business_id"])
                                          .order_by(StaffMember.id)))
        services = list(db.session.execute(select(Service.id, Service.duration_minutes, Service.capacity)
                                           .where(Service.business_id == ids["business_id"]).order_by(Service.id)))
        client_ids = list(db.session.scalars(select(Client.id).where(Client.business_id == ids["business_id"])))
        now = utcnow()

        def days():
            for n in itertools.count():
                yield -1, today - timedelta(days=4 + n)
                yield 1, today + timedelta(days=DAYS + 4 + n)

        places = ((side, day, m, k) for side, day in days() for m in range(len(members)) for k in range(len(GRID)))
        table = Booking.__table__
        batch: list[dict] = []
        for n, (side, day, m, k) in enumerate(itertools.islice(places, already, already + count), start=already):
            service_id, duration, capacity = rng.choice(services)
            start = datetime.combine(day, GRID[k], tz).astimezone(utc)
            cancelled = rng.random() < 0.1
            status = BookingStatus.CANCELLED if cancelled else BookingStatus.COMPLETED if side < 0 else BookingStatus.CONFIRMED
            client_id = rng.choice(client_ids)
            batch.append(dict(
                reference=f"FK-X{n:08d}", business_id=ids["business_id"], service_id=service_id, staff_id=members[m],
                client_id=client_id, start_at=start, end_at=start + timedelta(minutes=duration),
                buffer_before_minutes=0, buffer_after_minutes=0, seats=1,
                client_name=f"Client {client_id}", client_email=f"client{client_id}@bench.example", client_phone=None,
                client_timezone=TIMEZONE, notes="", status=status, expires_at=None,
                approved_at=None if cancelled else start - timedelta(days=7), sequence=0, created_at=now, updated_at=now,
            ))
            if len(batch) == 5000:
                db.session.execute(insert(table), batch)
                batch = []
        if batch:
            db.session.execute(insert(table), batch)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE booking"))
            db.session.commit()


# ---------------------------------------------------------------------------------- measure

@dataclass
class Result:
    database: str
    code: str  # "new", or the baseline's ref
    mode: str  # "cold" / "warm", or "-" for code without a cache
    label: str  # "7 days", "31 days", "month page"
    requests: int
    p50: float
    p95: float
    max: float
    rps: float | None
    slots: int | None


def count_slots(payload) -> int:
    if isinstance(payload, dict):
        if "start" in payload and ("available_spots" in payload or "end" in payload):
            return 1
        return sum(count_slots(v) for v in payload.values())
    if isinstance(payload, list):
        return sum(count_slots(v) for v in payload)
    return 0


def api_url(base: str, slug: str, service_id: int, first: date, days: int) -> str:
    return availability_url(base, slug, service_id, first, days)


def measure(database: str, code: str, mode: str, label: str, url: str, n: int, clients: int, duration: float) -> Result:
    """Time ``url``: one priming request, 20 warm-up requests, ``n`` sequential timed requests, then
    ``clients`` concurrent clients for ``duration`` s (none when ``duration`` is 0)."""
    session = requests.Session()
    first = session.get(url, timeout=30)
    if first.status_code != 200:
        raise SystemExit(f"GET {url} -> {first.status_code}: {first.text[:300]}")
    slots = count_slots(first.json()) if "json" in first.headers.get("Content-Type", "") else None
    for _ in range(20):  # warm-up: both workers, their caches, connection pools
        session.get(url, timeout=30)
    timings = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = session.get(url, timeout=30)
        timings.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} -> {response.status_code}")

    rps = None
    if duration > 0:
        done = [0] * clients
        errors = [0] * clients
        stop = time.perf_counter() + duration

        def client(i: int) -> None:
            s = requests.Session()
            while time.perf_counter() < stop:
                if s.get(url, timeout=30).status_code == 200:
                    done[i] += 1
                else:
                    errors[i] += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        if sum(errors):
            raise SystemExit(f"{sum(errors)} concurrent requests failed")
        rps = sum(done) / elapsed
    return Result(database, code, mode, label, n, statistics.median(timings), percentile(timings, 0.95), max(timings),
                  rps, slots)


def run_database(name: str, database_url: str, args) -> list[Result]:
    """Migrate and seed ``database_url``, then measure every request in every mode of ``args.modes``."""
    print(f"[{name}] migrating ...", flush=True)
    migrate(app_env(database_url))
    print(f"[{name}] seeding {args.bookings} bookings ...", flush=True)
    t0 = time.perf_counter()
    ids = seed(database_url, args.bookings)
    print(f"[{name}] seeded in {time.perf_counter() - t0:.1f} s", flush=True)
    first = ids["today"] + timedelta(days=1)
    results = []
    for mode in args.modes:
        print(f"[{name}] {args.code_label}, cache {mode}: gunicorn ({args.workers} workers) ...", flush=True)
        log = LOGS / f"{name}-{args.code_label}-{mode}-gunicorn.log"
        with gunicorn(app_env(database_url, AVAILABILITY_CACHE=MODES.get(mode)), args.workers, log) as base:
            urls = [(f"{days} days", api_url(base, ids["slug"], ids["service_id"], first, days)) for days in (7, 31)]
            urls.append(("month page", f"{base}/book/{ids['slug']}/{ids['service_id']}"))
            for label, url in urls:
                print(f"[{name}] {args.code_label}, cache {mode}: {label} ...", flush=True)
                results.append(measure(name, args.code_label, mode, label, url, args.requests, args.clients, args.duration))
    if args.profile:
        profile(database_url, ids, first)
    return results


def profile(database_url: str, ids: dict, first: date) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit("--profile needs pyinstrument: .venv/bin/pip install pyinstrument")
    os.environ.update(app_env(database_url, AVAILABILITY_CACHE="off"))
    from app import create_app

    app = create_app(bench_config(database_url, AVAILABILITY_CACHE="off"))
    client = app.test_client()
    for days in (7, 31):
        url = api_url("", ids["slug"], ids["service_id"], first, days)
        for _ in range(5):
            client.get(url)
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(50):
            client.get(url)
        profiler.stop()
        print(f"--- pyinstrument: 50 in-process requests, {days}-day range, cache off")
        print(profiler.output_text(unicode=True, color=False, show_all=False))


# ----------------------------------------------------------------------------------- baseline

def run_baseline(args) -> list[Result]:
    """The same measurement of commit ``args.baseline``'s code: this script and ``common.py`` run
    inside a ``git archive`` of that commit (so the app, its migrations and ``wsgi.py`` are that
    commit's) with the same settings and its own scratch database; returns its results."""
    with tempfile.TemporaryDirectory(prefix="flowkey-baseline-") as tmp:
        archive = subprocess.run(["git", "archive", args.baseline], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        for harness in ("availability.py", "common.py"):  # the same harness; only the app differs
            shutil.copy(Path(__file__).with_name(harness), Path(tmp) / "benchmarks" / harness)
        command = [
            sys.executable, "benchmarks/availability.py", "--no-baseline", "--json-results",
            "--code-label", args.baseline, "--modes", "-", "--databases", *args.databases,
            "--requests", str(args.requests), "--clients", str(args.clients), "--duration", str(args.duration),
            "--workers", str(args.workers), "--bookings", str(args.bookings),
            "--pg-admin-url", args.pg_admin_url, "--pg-database", f"{args.pg_database}_baseline",
        ]
        print(f"[baseline {args.baseline}] measuring that commit's code (output follows when it ends) ...", flush=True)
        result = subprocess.run(command, cwd=tmp, capture_output=True, text=True)
        line = next((x for x in result.stdout.splitlines() if x.startswith("RESULTS ")), None)
        if result.returncode != 0 or line is None:
            raise SystemExit(f"the baseline run failed ({result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
        print("\n".join(f"  {x}" for x in result.stdout.splitlines() if x.startswith("[")), flush=True)
    return [Result(**r) for r in json.loads(line[len("RESULTS "):])]


# ------------------------------------------------------------------------------------- growth

@dataclass
class GrowthPoint:
    database: str
    kind: str  # "bookings" or "staff": which table it belongs to
    bookings: int  # rows in the booking table
    staff: int  # staff members on the measured service
    cold_p95: float
    warm_p95: float
    slots: int | None


def growth_p95(name: str, kind: str, database_url: str, targets: list[tuple[dict, int, int]], args) -> list[GrowthPoint]:
    """Cold then warm 7-day p95 (sequential requests only) for each ``(ids, bookings, staff)``."""
    p95: dict[tuple[str, int], Result] = {}
    for mode in ("cold", "warm"):
        log = LOGS / f"{name}-growth-{kind}-{mode}-gunicorn.log"
        with gunicorn(app_env(database_url, AVAILABILITY_CACHE=MODES[mode]), args.workers, log) as base:
            for i, (ids, _, _) in enumerate(targets):
                url = api_url(base, ids["slug"], ids["service_id"], ids["today"] + timedelta(days=1), 7)
                p95[mode, i] = measure(name, "new", mode, "7 days", url, args.requests, args.clients, 0)
    return [GrowthPoint(name, kind, bookings, staff, p95["cold", i].p95, p95["warm", i].p95, p95["cold", i].slots)
            for i, (_, bookings, staff) in enumerate(targets)]


def run_growth(name: str, args) -> list[GrowthPoint]:
    """The growth tables' points on database ``name``: by bookings in the table, then by staff."""
    points: list[GrowthPoint] = []
    with scratch_database(name, args.pg_admin_url, pg_database=f"{args.pg_database}_growth", tmp_prefix="flowkey-bench-") as url:
        migrate(app_env(url))
        ids = seed(url, BOOKINGS)
        total = BOOKINGS
        for bookings in args.growth_bookings:
            if bookings > total:
                t0 = time.perf_counter()
                add_bookings(url, ids, bookings - total, already=total - BOOKINGS)
                print(f"[{name}] growth: {bookings - total} more bookings in {time.perf_counter() - t0:.1f} s", flush=True)
                total = bookings
            print(f"[{name}] growth: {total} bookings ...", flush=True)
            points += growth_p95(name, "bookings", url, [(ids, total, STAFF)], args)
    with scratch_database(name, args.pg_admin_url, pg_database=f"{args.pg_database}_growth", tmp_prefix="flowkey-bench-") as url:
        migrate(app_env(url))
        targets = []
        for staff in args.growth_staff:
            ids = seed(url, 400 * staff, staff=staff, business_name=f"Bench Swim School {staff}",
                       owner_email=f"owner{staff}@bench.example")
            targets.append((ids, 400 * staff, staff))
        print(f"[{name}] growth: {', '.join(str(s) for s in args.growth_staff)} staff ...", flush=True)
        points += growth_p95(name, "staff", url, targets, args)
    return points


# ------------------------------------------------------------------------------------ report

def _ms(value: float) -> str:
    return f"{value:.1f}"


def table(results: list[Result], args) -> str:
    baseline = {(r.database, r.label): r for r in results if r.code != "new"}
    header = ["database", "request", "code", "cache", "requests", "p50 ms", "p95 ms", "max ms",
              f"req/s ({args.clients} clients)", "slots", "baseline p95 / p95", "target"]
    rows = []
    for r in sorted(results, key=lambda r: (args.databases.index(r.database), ["7 days", "31 days", "month page"].index(r.label),
                                            r.code == "new", r.mode)):
        base = baseline.get((r.database, r.label))
        ratio = "-" if base is None or r.code != "new" else f"{base.p95 / r.p95:.1f}x"
        rows.append([
            r.database, r.label, "new" if r.code == "new" else f"baseline {r.code}", r.mode, str(r.requests),
            _ms(r.p50), _ms(r.p95), _ms(r.max), "-" if r.rps is None else f"{r.rps:.0f}",
            "-" if r.slots is None else str(r.slots), ratio, target_text(r, base),
        ])
    return markdown_table(header, rows)


def missed_targets(r: Result, base: Result | None) -> list[str] | None:
    """What ``r`` missed of its targets (``[]``: none), or ``None`` if it has none."""
    if r.code != "new":
        return None
    target = TARGETS_MS.get((r.label, r.mode))
    if target is None:
        return None
    missed = [f"p95 > {target} ms"] if r.p95 > target else []
    if (r.label, r.mode) == ("7 days", "warm"):
        if base is not None and base.p95 / r.p95 < TARGET_WARM_RATIO:
            missed.append(f"< {TARGET_WARM_RATIO:.0f}x baseline")
        if r.rps is not None and r.rps < TARGET_WARM_RPS:
            missed.append(f"< {TARGET_WARM_RPS} req/s")
    return missed


def target_text(r: Result, base: Result | None) -> str:
    missed = missed_targets(r, base)
    if missed is None:
        return "-"
    target = f"p95 <= {TARGETS_MS[r.label, r.mode]} ms"
    if (r.label, r.mode) == ("7 days", "warm"):
        target += f", >= {TARGET_WARM_RATIO:.0f}x baseline, >= {TARGET_WARM_RPS} req/s"
    return f"{target}: " + ("ok" if not missed else "MISSED " + "; ".join(missed))


def growth_tables(points: list[GrowthPoint]) -> str:
    """The two growth tables: by bookings in the table, and by staff on the service (with each
    p95 as a multiple of the fewest staff's, to read against linear growth)."""
    tail = ["slots (7 days)", "7-day p95 cold ms", "7-day p95 warm ms"]
    by_bookings = [[p.database, str(p.bookings), str(p.staff), str(p.slots), _ms(p.cold_p95), _ms(p.warm_p95)]
                   for p in points if p.kind == "bookings"]
    fewest: dict[str, GrowthPoint] = {}
    for p in points:
        if p.kind == "staff" and (p.database not in fewest or p.staff < fewest[p.database].staff):
            fewest[p.database] = p
    by_staff = [
        [p.database, str(p.staff), str(p.bookings), str(p.slots),
         f"{_ms(p.cold_p95)} ({p.cold_p95 / fewest[p.database].cold_p95:.1f}x)",
         f"{_ms(p.warm_p95)} ({p.warm_p95 / fewest[p.database].warm_p95:.1f}x)"]
        for p in points if p.kind == "staff"
    ]
    return "\n".join([
        f"Growth by bookings in the table ({STAFF} staff; the extra bookings lie in past and future months, outside the range):",
        markdown_table(["database", "bookings in the table", "staff on the service", *tail], by_bookings), "",
        "Growth by staff members on the service (one business each, 400 bookings per staff member over 60 days, "
        "all in one database; in brackets: times the fewest staff's p95):",
        markdown_table(["database", "staff on the service", "the business's bookings", *tail], by_staff),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark public availability (API and month page) over HTTP on SQLite and PostgreSQL, "
                    "cache warm and cold, against a baseline commit.",
        epilog="Targets on 2 cores (p95): 7-day warm <= 8 ms and >= 3x the baseline, cold <= 15 ms; 31-day warm <= 12, "
               "cold <= 35 ms; month page warm <= 15 ms; 7-day warm >= 400 req/s with 8 clients.",
    )
    add_database_arguments(parser, default=["sqlite", "postgresql"], pg_database=PG_DATABASE)
    parser.add_argument("--requests", type=int, default=200, help="sequential requests per measurement (default: %(default)s)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients for req/s (default: %(default)s)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of concurrent load per measurement (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default: %(default)s)")
    parser.add_argument("--bookings", type=int, default=BOOKINGS, help="bookings to seed (default: %(default)s)")
    parser.add_argument("--baseline", metavar="REF", default=BASELINE,
                        help="also measure commit REF's code the same way, first (default: %(default)s)")
    parser.add_argument("--no-baseline", dest="baseline", action="store_const", const=None, help="skip the baseline")
    parser.add_argument("--growth", action="store_true",
                        help=f"also the growth tables: bookings {GROWTH_BOOKINGS}, staff {GROWTH_STAFF} (7-day p95, cold and warm)")
    parser.add_argument("--growth-bookings", type=int, nargs="+", default=GROWTH_BOOKINGS, help=argparse.SUPPRESS)
    parser.add_argument("--growth-staff", type=int, nargs="+", default=GROWTH_STAFF, help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help="also profile 50 in-process requests per range with pyinstrument")
    # How a baseline run is told what it is and reports back.
    parser.add_argument("--code-label", default="new", help=argparse.SUPPRESS)
    parser.add_argument("--modes", nargs="+", default=list(MODES), help=argparse.SUPPRESS)
    parser.add_argument("--pg-database", default=PG_DATABASE, help=argparse.SUPPRESS)
    parser.add_argument("--json-results", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    LOGS.mkdir(parents=True, exist_ok=True)
    results: list[Result] = run_baseline(args) if args.baseline else []
    for name in args.databases:
        with scratch_database(name, args.pg_admin_url, pg_database=args.pg_database, tmp_prefix="flowkey-bench-") as url:
            results.extend(run_database(name, url, args))
    if args.json_results:
        print("RESULTS " + json.dumps([asdict(r) for r in results]))
        return 0
    points = [p for name in args.databases for p in run_growth(name, args)] if args.growth else []

    print()
    print(f"Machine: {machine()}")
    print(f"Seed: 1 business, {STAFF} staff, 3 services, {args.bookings} bookings over {DAYS} days; "
          f"gunicorn {args.workers} sync workers; service 'Private Swimming Lesson' (45 min every 60, {STAFF} staff); "
          f"cache cold = AVAILABILITY_CACHE=off, warm = on" + (f"; baseline = commit {args.baseline}" if args.baseline else ""))
    print(table(results, args))
    if points:
        print()
        print(growth_tables(points))
    print(f"Server logs: {LOGS}")
    baseline = {(r.database, r.label): r for r in results if r.code != "new"}
    missed = [r for r in results if missed_targets(r, baseline.get((r.database, r.label)))]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
