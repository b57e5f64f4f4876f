"""Availability over HTTP: how fast is ``GET /api/booking/public/<slug>/availability/``?

For each database (a fresh SQLite file, and a fresh PostgreSQL database ``flowkey_bench`` that is
dropped afterwards) this script:

1. applies the migrations (``flask db upgrade``);
2. seeds one business with 5 staff members, 3 services and 2,000 bookings over the next 60 days
   (inserted directly through the models for speed, on a grid that never overlaps);
3. serves the app with gunicorn (2 sync workers) on a free localhost port and warms it up;
4. measures a 7-day and a 31-day range: p50/p95/max latency over ``--requests`` sequential
   requests, then requests per second with ``--clients`` concurrent clients for ``--duration`` s.

Targets on a 2-core machine: 7-day p95 <= 50 ms, 31-day p95 <= 150 ms.

    .venv/bin/python benchmarks/availability.py                  # both databases
    .venv/bin/python benchmarks/availability.py --databases sqlite
    .venv/bin/python benchmarks/availability.py --profile        # + pyinstrument, in-process

``--profile`` needs ``pyinstrument`` installed into the venv by hand (it is not a requirement).
"""
from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as wall
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    add_database_arguments, app_context, app_env, availability_url, bench_config, gunicorn, machine,
    markdown_table, migrate, percentile, scratch_database, sign_up_owner,
)

SLUG = "bench-swim-school"
TIMEZONE = "Europe/London"
STAFF = 5
BOOKINGS = 2000
DAYS = 60
PG_DATABASE = "flowkey_bench"
TARGETS_MS = {7: 50, 31: 150}


# ------------------------------------------------------------------------------------ seeding

def seed(database_url: str, bookings: int = BOOKINGS, seed_value: int = 7) -> dict:
    """Create the benchmark business in ``database_url`` (already migrated). Returns ids."""
    from sqlalchemy import insert

    from app.domain.booking_state import BookingStatus
    from app.extensions import db
    from app.models import Booking, Client, StaffMember, utcnow
    from app.services import business_service
    from app.services.booking_service import new_reference

    rng = random.Random(seed_value)
    with app_context(database_url):
        business = sign_up_owner("Bench Swim School", TIMEZONE).business
        # A 31-day range must be fully inside the booking window to measure it.
        business_service.update_settings(business, max_advance_booking_days=90, requires_approval=False)
        staff = [business.staff[0]]
        for name in ["Sam", "Priya", "Tom", "Mei"][: STAFF - 1]:
            member = StaffMember(business=business, display_name=name)
            db.session.add(member)
            staff.append(member)
        db.session.commit()
        # Mon-Sat 08:00-18:00, with a lunch break for half of them.
        for i, member in enumerate(staff):
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

        # Every working staff-day gets bookings on a 75-minute grid from 08:00 (never overlapping,
        # buffers included), filled round-robin until there are ``bookings`` of them.
        tz = ZoneInfo(TIMEZONE)
        now = utcnow()
        today = now.astimezone(tz).date()
        staff_days = [
            (member, today + timedelta(days=d))
            for d in range(1, DAYS + 1)
            for member in staff
            if (today + timedelta(days=d)).weekday() < 6
        ]
        grid = [wall(8, 0), wall(9, 15), wall(13, 0), wall(14, 15), wall(15, 30), wall(16, 45), wall(10, 30), wall(11, 45)]
        rows, references = [], set()
        for k, (member, day) in itertools.islice(
            ((k, sd) for k in range(len(grid)) for sd in staff_days), bookings
        ):
            service = rng.choice(services)
            start = datetime.combine(day, grid[k], tz).astimezone(ZoneInfo("UTC"))
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
        ids = dict(business_id=business.id, service_id=services[0].id, today=today)
    return ids


# ---------------------------------------------------------------------------------- measure

@dataclass
class Result:
    database: str
    label: str
    requests: int
    p50: float
    p95: float
    max: float
    rps: float
    slots: int
    target: int | None


def count_slots(payload) -> int:
    if isinstance(payload, dict):
        if "start" in payload and ("available_spots" in payload or "end" in payload):
            return 1
        return sum(count_slots(v) for v in payload.values())
    if isinstance(payload, list):
        return sum(count_slots(v) for v in payload)
    return 0


def api_url(base: str, service_id: int, first: date, days: int) -> str:
    return availability_url(base, SLUG, service_id, first, days)


def measure(database: str, label: str, url: str, n: int, clients: int, duration: float, target: int | None) -> Result:
    session = requests.Session()
    first = session.get(url, timeout=30)
    if first.status_code != 200:
        raise SystemExit(f"GET {url} -> {first.status_code}: {first.text[:300]}")
    slots = count_slots(first.json()) if "json" in first.headers.get("Content-Type", "") else 0
    for _ in range(20):  # warm-up: both workers, caches, connection pools
        session.get(url, timeout=30)
    timings = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = session.get(url, timeout=30)
        timings.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} -> {response.status_code}")

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
    return Result(database, label, n, statistics.median(timings), percentile(timings, 0.95), max(timings),
                  sum(done) / elapsed, slots, target)


def run_database(name: str, database_url: str, args) -> list[Result]:
    print(f"[{name}] migrating ...", flush=True)
    migrate(app_env(database_url))
    print(f"[{name}] seeding {args.bookings} bookings ...", flush=True)
    t0 = time.perf_counter()
    ids = seed(database_url, args.bookings)
    print(f"[{name}] seeded in {time.perf_counter() - t0:.1f} s; serving with gunicorn ({args.workers} workers) ...", flush=True)
    first = ids["today"] + timedelta(days=1)
    results = []
    with gunicorn(app_env(database_url), args.workers) as base:
        probe = requests.get(api_url(base, ids["service_id"], first, 7), timeout=30)
        if probe.status_code == 404 and not probe.headers.get("Content-Type", "").startswith("application/json"):
            # The JSON API is not there (yet): measure the public month page instead.
            print(f"[{name}] the availability API is missing; measuring the public month page", flush=True)
            url = f"{base}/book/{SLUG}/{ids['service_id']}?month={first:%Y-%m}"
            results.append(measure(name, "month page", url, args.requests, args.clients, args.duration, None))
        else:
            for days in (7, 31):
                print(f"[{name}] measuring {days}-day range ...", flush=True)
                url = api_url(base, ids["service_id"], first, days)
                results.append(measure(name, f"{days} days", url, args.requests, args.clients, args.duration, TARGETS_MS[days]))
    if args.profile:
        profile(database_url, ids, first)
    return results


def profile(database_url: str, ids: dict, first: date) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        raise SystemExit("--profile needs pyinstrument: .venv/bin/pip install pyinstrument")
    os.environ.update(app_env(database_url))
    from app import create_app

    app = create_app(bench_config(database_url))
    client = app.test_client()
    for days in (7, 31):
        url = api_url("", ids["service_id"], first, days)
        for _ in range(5):
            client.get(url)
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(50):
            client.get(url)
        profiler.stop()
        print(f"--- pyinstrument: 50 in-process requests, {days}-day range")
        print(profiler.output_text(unicode=True, color=False, show_all=False))


# ------------------------------------------------------------------------------------ report

def table(results: list[Result], args) -> str:
    header = ["database", "range", "requests", "p50 ms", "p95 ms", "max ms", f"req/s ({args.clients} clients)", "slots", "p95 target"]
    rows = [[
        r.database, r.label, str(r.requests), f"{r.p50:.1f}", f"{r.p95:.1f}", f"{r.max:.1f}", f"{r.rps:.0f}", str(r.slots),
        "-" if r.target is None else f"<= {r.target} ms " + ("ok" if r.p95 <= r.target else "MISSED"),
    ] for r in results]
    return markdown_table(header, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark the public availability endpoint over HTTP on SQLite and PostgreSQL.",
        epilog="Targets on 2 cores: 7-day p95 <= 50 ms, 31-day p95 <= 150 ms.",
    )
    add_database_arguments(parser, default=["sqlite", "postgresql"], pg_database=PG_DATABASE)
    parser.add_argument("--requests", type=int, default=200, help="sequential requests per range (default: %(default)s)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients for req/s (default: %(default)s)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of concurrent load per range (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default: %(default)s)")
    parser.add_argument("--bookings", type=int, default=BOOKINGS, help="bookings to seed (default: %(default)s)")
    parser.add_argument("--profile", action="store_true", help="also profile 50 in-process requests per range with pyinstrument")
    args = parser.parse_args(argv)

    results: list[Result] = []
    for name in args.databases:
        with scratch_database(name, args.pg_admin_url, pg_database=PG_DATABASE, tmp_prefix="flowkey-bench-") as url:
            results.extend(run_database(name, url, args))
    print()
    print(f"Machine: {machine()}")
    print(f"Seed: 1 business, {STAFF} staff, 3 services, {args.bookings} bookings over {DAYS} days; "
          f"gunicorn {args.workers} sync workers; service 'Private Swimming Lesson' (45 min every 60, 5 staff)")
    print(table(results, args))
    missed = [r for r in results if r.target is not None and r.p95 > r.target]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
