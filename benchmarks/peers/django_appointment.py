"""Side by side with the Python peer: Flowkey's availability against django-appointment's.

django-appointment (PyPI) is the Django booking app most Python users would pick. Its booking page
has no multi-day availability: when the client picks a date, the page's script asks
``GET /appointment/ajax/available_slots/?selected_date=D&staff_member=S&service_id=V`` with
``X-Requested-With: XMLHttpRequest`` (without that header the view answers 400; without
``staff_member`` it answers an error), so a client viewing a week makes seven requests. Flowkey
answers the same week with one ``GET /api/booking/public/<slug>/availability/``.

This script:

1. installs django-appointment, Django and gunicorn, pinned in
   ``django_appointment_requirements.txt``, into their own virtual environment
   (``.bench/peers/django-appointment/venv`` by default; reused while the pins are unchanged);
2. draws one calendar: one staff member, a 60-minute service every 60 minutes, Mon-Fri
   09:00-17:00 (Europe/London), ``--bookings`` one-hour bookings on the hour, at random (``--seed``)
   over the next ``--days`` days; no buffers, no minimum notice;
3. seeds that calendar into the peer (the Django site in ``django_appointment_site/``; the wheel
   ships no migrations, so they are generated first) and into Flowkey, and seeds Flowkey's standard
   benchmark business too (5 staff, 3 services, 2,000 bookings; ``benchmarks/availability.py``);
4. serves each with gunicorn (``--workers`` sync workers, SQLite): the peer, and Flowkey on each
   data set twice, cold (``AVAILABILITY_CACHE=off``) and warm (``AVAILABILITY_CACHE=on``);
5. checks the answers for the week from tomorrow before the warm-up, after it and after the timing:
   on the shared calendar the peer and Flowkey must both give exactly the hours the draw left free
   on each working day and nothing at the weekend; on the standard data Flowkey must give free
   slots, none on Sunday (its staff work Monday to Saturday), and the same answer warm as cold;
6. warms every server up (which primes the warm caches), then times ``--weeks`` 7-day views per
   system, interleaved view by view so the machine's noise falls on all of them alike: the peer's
   seven sequential requests (one per date), Flowkey's one.

"Server time" is measured by the client over loopback: each request opens a new connection
(gunicorn's sync workers close it anyway) and is timed from the connect to the body's last byte.
The table gives p50/p95 (nearest rank) per request and per 7-day view (the sum of the peer's seven)
and the peer's week divided by each Flowkey week. Target: the peer's week takes >= 20x the server
time of Flowkey's warm week on the standard data, at p50 and at p95; the script exits 1 if not.

    .venv/bin/python benchmarks/peers/django_appointment.py
    .venv/bin/python benchmarks/peers/django_appointment.py --weeks 500 --reinstall
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as wall
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.availability import seed as seed_standard  # noqa: E402
from benchmarks.common import (  # noqa: E402
    ROOT, app_context, app_env, availability_url, free_port, gunicorn, machine, markdown_table, migrate,
    percentile, sign_up_owner, sqlite_database, stop_process,
)

HERE = Path(__file__).resolve().parent
SITE = HERE / "django_appointment_site"
REQUIREMENTS = HERE / "django_appointment_requirements.txt"
BENCH_DIR = ROOT / ".bench" / "peers" / "django-appointment"
TIMEZONE = "Europe/London"
OPEN_HOUR, CLOSE_HOUR = 9, 17
WORKDAYS = range(5)  # Monday to Friday, as date.weekday() counts
TARGET_RATIO = 20
PEER_HEADERS = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json, text/javascript, */*; q=0.01"}
FLOWKEY_HEADERS = {"Accept": "application/json"}


# ------------------------------------------------------------------------ the shared calendar

@dataclass(frozen=True)
class Calendar:
    """The calendar both systems get: one staff member working Mon-Fri OPEN_HOUR-CLOSE_HOUR, and
    ``bookings`` as (local date, start hour) of one-hour bookings. ``today`` is the local date
    (TIMEZONE) the draw was made on."""

    today: date
    bookings: tuple[tuple[date, int], ...]

    def week(self) -> list[date]:
        """The measured week: the 7 dates from tomorrow (today's slots depend on the clock)."""
        return [self.today + timedelta(days=n) for n in range(1, 8)]

    def free_hours(self, day: date) -> list[int]:
        """The start hours left free on ``day``, in order (none on a weekend)."""
        if day.weekday() not in WORKDAYS:
            return []
        taken = {hour for d, hour in self.bookings if d == day}
        return [hour for hour in range(OPEN_HOUR, CLOSE_HOUR) if hour not in taken]


def draw_calendar(bookings: int, days: int, seed_value: int) -> Calendar:
    """``bookings`` distinct one-hour cells drawn with ``random.Random(seed_value)`` from the working
    hours of the ``days`` days after today. Raises ``SystemExit`` if they do not fit, or if no hour
    of the measured week is left free (the sanity checks could then not tell an answer from an
    error)."""
    today = datetime.now(ZoneInfo(TIMEZONE)).date()
    cells = [(day, hour) for n in range(1, days + 1)
             if (day := today + timedelta(days=n)).weekday() in WORKDAYS
             for hour in range(OPEN_HOUR, CLOSE_HOUR)]
    if bookings > len(cells):
        raise SystemExit(f"{bookings} one-hour bookings do not fit one staff member's {len(cells)} working hours "
                         f"in {days} days")
    calendar = Calendar(today, tuple(sorted(random.Random(seed_value).sample(cells, bookings))))
    if not any(calendar.free_hours(day) for day in calendar.week()):
        raise SystemExit("the draw left no free hour in the measured week; choose another --seed")
    return calendar


# ---------------------------------------------------------------------------------- the peer

def peer_python(venv: Path, python: str, reinstall: bool) -> Path:
    """The Python of the peer's virtual environment ``venv``, (re)built with ``python -m venv`` and
    ``pip install -r REQUIREMENTS`` unless it was already built from the same pins."""
    pins = REQUIREMENTS.read_text()
    marker = venv / "installed-requirements.txt"
    py = venv / "bin" / "python"
    if not reinstall and py.exists() and marker.exists() and marker.read_text() == pins:
        return py
    if venv.exists():
        if not (venv / "pyvenv.cfg").exists():
            raise SystemExit(f"{venv} exists and is not a virtual environment; choose another --venv")
        shutil.rmtree(venv)
    print(f"[peer] installing django-appointment into {venv} ...", flush=True)
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    done = subprocess.run([str(py), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", str(REQUIREMENTS)],
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"pip install into {venv} failed:\n{done.stdout}{done.stderr}")
    marker.write_text(pins)  # last, so that an interrupted install is rebuilt next time
    return py


def peer_versions(py: Path) -> dict[str, str]:
    code = ("import json, sys; from importlib.metadata import version as v; print(json.dumps({n: v(n) for n in "
            "('django-appointment', 'Django', 'gunicorn')} | {'Python': sys.version.split()[0]}))")
    return json.loads(subprocess.run([str(py), "-c", code], check=True, capture_output=True, text=True).stdout)


def peer_env(work: Path) -> dict:
    """The environment of the peer's processes: its site and the scratch directory ``work`` (the
    database, the generated migrations) on the path; nothing of Flowkey's virtual environment."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        DJANGO_SETTINGS_MODULE="peersite.settings", PYTHONPATH=f"{SITE}{os.pathsep}{work}",
        PEER_DB=str(work / "peer.sqlite3"), PEER_TZ=TIMEZONE, PEER_MIGRATIONS="peer_migrations",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def run_logged(command: list[str], env: dict, log: Path) -> None:
    with open(log, "ab") as out:
        done = subprocess.run(command, cwd=SITE, env=env, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} exited with {done.returncode}; see {log}")


def seed_peer(py: Path, env: dict, work: Path, calendar: Calendar, log: Path) -> dict:
    """Create the peer's schema in ``work`` and seed ``calendar`` (``django_appointment_site/seed.py``).
    Returns ``{"service_id", "staff_id", "today"}``."""
    migrations = work / "peer_migrations"
    migrations.mkdir()
    (migrations / "__init__.py").touch()
    run_logged([str(py), "-m", "django", "makemigrations", "appointment", "-v", "0"], env, log)
    run_logged([str(py), "-m", "django", "migrate", "-v", "0"], env, log)
    plan = {"open_hour": OPEN_HOUR, "close_hour": CLOSE_HOUR, "weekdays": list(WORKDAYS),
            "bookings": [[day.isoformat(), hour] for day, hour in calendar.bookings]}
    (work / "plan.json").write_text(json.dumps(plan))
    run_logged([str(py), str(SITE / "seed.py"), str(work / "plan.json"), str(work / "ids.json")], env, log)
    ids = json.loads((work / "ids.json").read_text())
    if ids["today"] != calendar.today.isoformat():
        raise SystemExit("the date changed while seeding (midnight in the calendar's zone); run again")
    return ids


@contextlib.contextmanager
def peer_gunicorn(py: Path, env: dict, workers: int, log: Path, service_id: int) -> Iterator[str]:
    """Serve the peer with gunicorn (``workers`` sync workers) on a free localhost port and yield its
    base URL once its booking page answers 200 and still calls ``ajax/available_slots/``; stop it on
    exit. Raises ``SystemExit`` otherwise, or after 30 s."""
    port = free_port()
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [str(py), "-m", "gunicorn", "-w", str(workers), "-k", "sync", "-b", f"127.0.0.1:{port}",
             "--log-level", "warning", "peersite.wsgi:application"],
            cwd=SITE, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    page = f"{base}/appointment/request/{service_id}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the peer's gunicorn exited with {proc.returncode}; see {log}")
            with contextlib.suppress(requests.RequestException):
                response = requests.get(page, timeout=5)
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"the peer's gunicorn did not answer within 30 s; see {log}")
            time.sleep(0.2)
        if response.status_code != 200 or "ajax/available_slots/" not in response.text:
            raise SystemExit(f"GET {page} -> {response.status_code}, or the page no longer asks ajax/available_slots/")
        yield base
    finally:
        stop_process(proc)


def peer_path(day: date, ids: dict) -> str:
    return (f"/appointment/ajax/available_slots/?selected_date={day:%Y-%m-%d}"
            f"&staff_member={ids['staff_id']}&service_id={ids['service_id']}")


# ------------------------------------------------------------------------------- Flowkey's data

def seed_flowkey(database_url: str, calendar: Calendar) -> dict:
    """Seed ``calendar`` into Flowkey (``database_url``, already migrated): a business in TIMEZONE
    with no buffer, no minimum notice and no approval step, its owner as the one staff member, a
    60-minute service every 60 minutes, and the bookings (confirmed, inserted directly). Returns
    ``{"slug", "service_id"}``."""
    from sqlalchemy import insert

    from app.domain.booking_state import BookingStatus
    from app.extensions import db
    from app.models import Booking, Client, utcnow
    from app.services import business_service
    from app.services.booking_service import new_reference

    zone = ZoneInfo(TIMEZONE)
    with app_context(database_url):
        business = sign_up_owner("Peer Comparison Clinic", TIMEZONE).business
        business_service.update_settings(business, requires_approval=False, buffer_time_minutes=0,
                                         min_advance_booking_hours=0, max_advance_booking_days=90)
        staff = business.staff[0]
        business_service.set_weekly_hours(staff, {day: [(wall(OPEN_HOUR), wall(CLOSE_HOUR))] for day in WORKDAYS})
        service = business_service.save_service(
            business, None, name="Consultation", duration_minutes=60, price=Decimal("50"), capacity=1,
            buffer_before_minutes=0, buffer_after_minutes=0, slot_interval_minutes=60,
        )
        db.session.execute(insert(Client), [
            dict(business_id=business.id, name=f"Client {n}", email=f"client{n}@bench.example", phone=None)
            for n in range(100)
        ])
        db.session.commit()
        client_ids = list(db.session.scalars(
            db.select(Client.id).where(Client.business_id == business.id).order_by(Client.id)))
        now = utcnow()
        references: set[str] = set()
        rows = []
        for k, (day, hour) in enumerate(calendar.bookings):
            start = datetime.combine(day, wall(hour), zone).astimezone(ZoneInfo("UTC"))
            reference = new_reference()
            while reference in references:
                reference = new_reference()
            references.add(reference)
            client_id = client_ids[k % len(client_ids)]
            rows.append(dict(
                reference=reference, business_id=business.id, service_id=service.id, staff_id=staff.id,
                client_id=client_id, start_at=start, end_at=start + timedelta(hours=1),
                buffer_before_minutes=0, buffer_after_minutes=0, seats=1, client_name=f"Client {client_id}",
                client_email=f"client{client_id}@bench.example", client_phone=None, client_timezone=TIMEZONE,
                notes="", status=BookingStatus.CONFIRMED, expires_at=None, approved_at=now, sequence=0,
                created_at=now, updated_at=now,
            ))
        db.session.execute(insert(Booking), rows)
        db.session.commit()
        return {"slug": business.slug, "service_id": service.id}


def business_slug(database_url: str, business_id: int) -> str:
    from app.extensions import db
    from app.models import Business

    with app_context(database_url):
        return db.session.get(Business, business_id).slug


def flowkey_reads_cache_switch() -> bool:
    """Whether this build of the app reads ``AVAILABILITY_CACHE`` at all (before the cache exists,
    "warm" runs the same code as "cold", and the report says so)."""
    return any("AVAILABILITY_CACHE" in path.read_text() for path in (ROOT / "app").rglob("*.py"))


# ------------------------------------------------------------------------------------ measuring

def timed_get(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes, float]:
    """GET ``path`` from 127.0.0.1:``port`` on a new connection: (status, body, milliseconds from the
    connect to the body's last byte)."""
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    return response.status, body, (time.perf_counter() - t0) * 1000


@dataclass
class System:
    """One server answering 7-day views: the requests one view makes (``paths``, in order), how to
    check a view's bodies (``check`` raises ``SystemExit``), and the timings recorded so far."""

    name: str
    data: str
    base: str
    paths: list[str]
    headers: dict[str, str]
    check: Callable[[System, list[bytes]], None]
    request_ms: list[float] = field(default_factory=list)
    week_ms: list[float] = field(default_factory=list)

    def view_week(self, record: bool = True) -> list[bytes]:
        """Make the requests of one 7-day view in order and return their bodies; any status but 200
        raises ``SystemExit``. With ``record``, keep each request's time and their sum."""
        port = int(self.base.rsplit(":", 1)[1])
        bodies, total = [], 0.0
        for path in self.paths:
            status, body, ms = timed_get(port, path, self.headers)
            if status != 200:
                raise SystemExit(f"{self.name} ({self.data}): GET {path} -> {status}: {body[:300]!r}")
            bodies.append(body)
            total += ms
            if record:
                self.request_ms.append(ms)
        if record:
            self.week_ms.append(total)
        return bodies

    def verify(self) -> None:
        self.check(self, self.view_week(record=False))


def fail(system: System, problem: str) -> NoReturn:
    raise SystemExit(f"sanity check failed for {system.name} ({system.data}): {problem}")


def check_peer(calendar: Calendar) -> Callable[[System, list[bytes]], None]:
    """Each date's answer names that date and lists exactly the calendar's free hours (local ISO
    starts), none at the weekend."""
    def check(system: System, bodies: list[bytes]) -> None:
        for day, body in zip(calendar.week(), bodies):
            try:
                answer = json.loads(body)
                got = [start for start, _label in answer["available_slots"]]
            except (ValueError, KeyError, TypeError):
                fail(system, f"{day}: not an answer with available_slots: {body[:300]!r}")
            want = [f"{day:%Y-%m-%d}T{hour:02d}:00:00" for hour in calendar.free_hours(day)]
            if answer.get("date_iso") != day.isoformat() or got != want:
                fail(system, f"{day}: expected free starts {want}, got {answer}")
    return check


def flowkey_starts(system: System, body: bytes, week: list[date]) -> dict[str, list[str]]:
    """Each date of ``week`` (ISO) -> its free slots' local start times (``HH:MM``), from a Flowkey
    answer; the answer must list exactly the week's dates."""
    try:
        answer = json.loads(body)
        starts = {day: [slot["start_time"] for slot in slots] for day, slots in answer.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        fail(system, f"not an availability answer: {body[:300]!r}")
    if list(starts) != [day.isoformat() for day in week]:
        fail(system, f"expected the dates {week[0]}..{week[-1]}, got {list(starts)}")
    return starts


def check_flowkey_calendar(calendar: Calendar) -> Callable[[System, list[bytes]], None]:
    """Exactly the calendar's free hours on each date, none at the weekend."""
    def check(system: System, bodies: list[bytes]) -> None:
        got = flowkey_starts(system, bodies[0], calendar.week())
        want = {day.isoformat(): [f"{hour:02d}:00" for hour in calendar.free_hours(day)] for day in calendar.week()}
        if got != want:
            fail(system, f"expected free starts {want}, got {got}")
    return check


def check_flowkey_standard(week: list[date], reference: dict) -> Callable[[System, list[bytes]], None]:
    """Some free slot in the week, none on Sunday, and the whole answer equal to the first one any
    server on these data gave (``reference`` keeps it), so warm answers equal cold ones."""
    def check(system: System, bodies: list[bytes]) -> None:
        got = flowkey_starts(system, bodies[0], week)
        if not any(got.values()):
            fail(system, "no free slot in the whole week")
        if any(got[day.isoformat()] for day in week if day.weekday() == 6):
            fail(system, f"free slots on a Sunday: {got}")
        answer = json.loads(bodies[0])
        if reference.setdefault("answer", answer) != answer:
            fail(system, "this answer differs from the first one on the same data")
    return check


def run_views(systems: list[System], weeks: int, warmup: int) -> None:
    """Check every system, warm them up with ``warmup`` unrecorded views each, check again, time
    ``weeks`` views each (system order rotating every round), and check once more."""
    for system in systems:
        system.verify()
    for _ in range(warmup):
        for system in systems:
            system.view_week(record=False)
    for system in systems:
        system.verify()
    for n in range(weeks):
        shift = n % len(systems)
        for system in systems[shift:] + systems[:shift]:
            system.view_week()
    for system in systems:
        system.verify()


# ---------------------------------------------------------------------------------------- report

def pair(values: list[float]) -> str:
    return f"{percentile(values, 0.50):.1f} / {percentile(values, 0.95):.1f}"


def ratios(peer: System, system: System) -> tuple[float, float]:
    return (percentile(peer.week_ms, 0.50) / percentile(system.week_ms, 0.50),
            percentile(peer.week_ms, 0.95) / percentile(system.week_ms, 0.95))


def table(peer: System, others: list[System]) -> str:
    header = ["system", "data", "requests per 7-day view", "per request p50 / p95 ms", "per 7-day view p50 / p95 ms",
              "peer week ÷ this week, p50 / p95"]
    rows = [[peer.name, peer.data, str(len(peer.paths)), pair(peer.request_ms), pair(peer.week_ms), "-"]]
    for system in others:
        p50, p95 = ratios(peer, system)
        rows.append([system.name, system.data, str(len(system.paths)), pair(system.request_ms), pair(system.week_ms),
                     f"{p50:.1f}× / {p95:.1f}×"])
    return markdown_table(header, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Time a client's 7-day availability view on django-appointment (seven per-date requests) "
                    "and on Flowkey (one request), on the same calendar, in one run.",
        epilog=f"Target: the peer's week takes >= {TARGET_RATIO}x the server time of Flowkey's warm week on the "
               "standard data (p50 and p95); exits 1 if missed. Logs: .bench/peers/django-appointment/logs/.",
    )
    parser.add_argument("--weeks", type=int, default=200, help="timed 7-day views per system (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed 7-day views per system first (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers per server (default: %(default)s)")
    parser.add_argument("--bookings", type=int, default=200, help="bookings on the shared calendar (default: %(default)s)")
    parser.add_argument("--days", type=int, default=60, help="days the shared calendar's bookings spread over (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=42, help="random seed of the shared calendar (default: %(default)s)")
    parser.add_argument("--standard-bookings", type=int, default=2000,
                        help="bookings of Flowkey's standard benchmark business (default: %(default)s)")
    parser.add_argument("--venv", type=Path, default=BENCH_DIR / "venv",
                        help="the peer's virtual environment (default: .bench/peers/django-appointment/venv)")
    parser.add_argument("--python", default=sys.executable, help="the Python that makes the peer's venv (default: this one)")
    parser.add_argument("--reinstall", action="store_true", help="rebuild the peer's venv even if its pins are unchanged")
    args = parser.parse_args(argv)
    if args.weeks < 1 or args.warmup < 0:
        parser.error("--weeks must be >= 1 and --warmup >= 0")

    logs = BENCH_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.glob("*.log"):
        old.unlink()
    py = peer_python(args.venv, args.python, args.reinstall)
    versions = peer_versions(py)
    calendar = draw_calendar(args.bookings, args.days, args.seed)
    week = calendar.week()
    data = f"1 staff, 60-min service, {args.bookings:,} bookings"
    standard_data = f"5 staff, 3 services, {args.standard_bookings:,} bookings"

    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="flowkey-peer-")))
        env = peer_env(work)
        print("[peer] generating migrations, migrating, seeding ...", flush=True)
        ids = seed_peer(py, env, work, calendar, logs / "peer-setup.log")

        print("[flowkey] migrating and seeding the same calendar ...", flush=True)
        same_url = stack.enter_context(sqlite_database("flowkey-peer-same-"))
        migrate(app_env(same_url))
        same = seed_flowkey(same_url, calendar)
        print(f"[flowkey] migrating and seeding the standard benchmark business ({args.standard_bookings:,} bookings) ...",
              flush=True)
        standard_url = stack.enter_context(sqlite_database("flowkey-peer-standard-"))
        migrate(app_env(standard_url))
        standard = seed_standard(standard_url, args.standard_bookings)
        standard_week = [standard["today"] + timedelta(days=n) for n in range(1, 8)]
        standard_slug = business_slug(standard_url, standard["business_id"])

        print(f"[serve] 5 gunicorn servers, {args.workers} sync workers each ...", flush=True)
        peer_base = stack.enter_context(peer_gunicorn(py, env, args.workers, logs / "peer-gunicorn.log", ids["service_id"]))
        # The view refuses a request without the header jQuery adds: make sure it still does, so the
        # timed requests are the ones a browser makes.
        no_header = timed_get(int(peer_base.rsplit(":", 1)[1]), peer_path(week[0], ids), {})[0]
        if no_header != 400:
            raise SystemExit(f"the peer answered {no_header} without X-Requested-With (expected 400)")
        peer = System(f"django-appointment {versions['django-appointment']}", data, peer_base,
                      [peer_path(day, ids) for day in week], PEER_HEADERS, check_peer(calendar))

        standard_answer: dict = {}
        systems = [peer]
        for label, url, slug, service_id, first, check, what in [
            ("same", same_url, same["slug"], same["service_id"], week[0], check_flowkey_calendar(calendar), data),
            ("standard", standard_url, standard_slug, standard["service_id"], standard_week[0],
             check_flowkey_standard(standard_week, standard_answer), standard_data),
        ]:
            for mode, switch in [("cold", "off"), ("warm", "on")]:
                base = stack.enter_context(gunicorn(app_env(url, AVAILABILITY_CACHE=switch), args.workers,
                                                    logs / f"flowkey-{label}-{mode}.log"))
                path = availability_url("", slug, service_id, first, 7)
                systems.append(System(f"Flowkey, {mode} (AVAILABILITY_CACHE={switch})", what, base, [path],
                                      FLOWKEY_HEADERS, check))

        print(f"[measure] {args.warmup} warm-up and {args.weeks} timed 7-day views per system, interleaved ...",
              flush=True)
        run_views(systems, args.weeks, args.warmup)
        free_same = [len(calendar.free_hours(day)) for day in week]
        free_standard = [len(v) for v in standard_answer["answer"].values()]

    others = systems[1:]
    print()
    print(f"Machine: {machine()}")
    print(f"Peer: django-appointment {versions['django-appointment']}, Django {versions['Django']}, gunicorn "
          f"{versions['gunicorn']}, Python {versions['Python']} (own venv). Flowkey: gunicorn {version('gunicorn')}. "
          f"Both: {args.workers} sync workers, SQLite, loopback; {args.weeks} timed 7-day views each "
          f"(after {args.warmup} untimed), interleaved; sequential requests, a new connection each.")
    print(f"Week: {week[0]}..{week[-1]}. Shared calendar: 1 staff member, Mon-Fri 09:00-17:00 {TIMEZONE}, a 60-minute "
          f"service every 60 minutes, {args.bookings} bookings over {args.days} days (seed {args.seed}); free hours per "
          f"date, both systems: {free_same}. Standard: Flowkey's benchmark business, service 'Private Swimming "
          f"Lesson'; free slots per date: {free_standard}.")
    print("The peer's 7-day view is 7 requests to /appointment/ajax/available_slots/ (one per date, the weekend "
          "included), and its time their sum; Flowkey's is one request to /api/booking/public/<slug>/availability/.")
    if not flowkey_reads_cache_switch():
        print("Note: this build of Flowkey does not read AVAILABILITY_CACHE: 'warm' runs the same code as 'cold'.")
    print(table(peer, others))
    warm_standard = next(s for s in others if s.data == standard_data and "warm" in s.name)
    p50, p95 = ratios(peer, warm_standard)
    met = p50 >= TARGET_RATIO and p95 >= TARGET_RATIO
    print(f"Target: peer week ÷ Flowkey's warm week ({standard_data}) >= {TARGET_RATIO}× at p50 and p95: "
          f"{p50:.1f}× / {p95:.1f}× " + ("ok" if met else "MISSED"))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
