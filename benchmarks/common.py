"""What the benchmarks in this folder share: scratch databases, the app's environment and schema,
gunicorn, and the pieces of the printed report.

The benchmarks are run as scripts from the repository root (``python benchmarks/X.py``). Each one
puts the root on ``sys.path`` and imports this module as ``benchmarks.common``, which works both
when it runs as a script and when it is imported as ``benchmarks.X``.

The app itself (``app``) is imported lazily, inside the functions that need it, so that a script's
``--help`` and argument errors do not load it.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
DATABASES = ["sqlite", "postgresql"]
DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


# -------------------------------------------------------------------------------- databases

@contextlib.contextmanager
def sqlite_database(tmp_prefix: str) -> Iterator[str]:
    """Yield the URL of a new SQLite file in a temporary directory named ``<tmp_prefix>...``,
    which is deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix=tmp_prefix) as tmp:
        yield f"sqlite:///{tmp}/bench.db"


@contextlib.contextmanager
def postgresql_database(admin_url: str, name: str) -> Iterator[str]:
    """Yield the (psycopg 3) URL of a new, empty PostgreSQL database ``name``, dropped afterwards.

    ``admin_url`` must be allowed to CREATE and DROP DATABASE (``postgresql://`` or
    ``postgresql+psycopg://``); the scratch database lives on the same server. A database ``name``
    left over from an earlier run is dropped first, and connections still open to it are ended
    (``WITH (FORCE)``) both times.
    """
    import psycopg

    admin = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield "postgresql+psycopg://" + admin.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def scratch_database(kind: str, pg_admin_url: str, *, pg_database: str,
                     tmp_prefix: str) -> contextlib.AbstractContextManager[str]:
    """A context manager yielding the URL of a fresh, empty database of ``kind`` (one of
    ``DATABASES``): an SQLite file under a ``tmp_prefix`` temporary directory, or the PostgreSQL
    database ``pg_database`` created through ``pg_admin_url``. Either is removed on exit."""
    if kind == "sqlite":
        return sqlite_database(tmp_prefix)
    return postgresql_database(pg_admin_url, pg_database)


def add_database_arguments(parser: argparse.ArgumentParser, *, default: Sequence[str], pg_database: str) -> None:
    """Add ``--databases`` (which of ``DATABASES`` to run on, ``default`` unless given) and
    ``--pg-admin-url`` (default: ``$BENCH_PG_ADMIN_URL``, else ``DEFAULT_PG_ADMIN_URL``) to ``parser``;
    ``pg_database`` is the scratch database's name, for the help text."""
    parser.add_argument("--databases", nargs="+", choices=DATABASES, default=list(default))
    parser.add_argument("--pg-admin-url", default=os.environ.get("BENCH_PG_ADMIN_URL", DEFAULT_PG_ADMIN_URL),
                        help=f"a PostgreSQL URL allowed to CREATE/DROP DATABASE {pg_database} (default: %(default)s)")


# ---------------------------------------------------------------------------------- the app

def bench_config(database_url: str, **settings):
    """A subclass of the app's ``Config`` on ``database_url``, with ``settings`` as extra class
    attributes (e.g. ``MAIL_FROM``)."""
    from app.config import Config

    return type("BenchConfig", (Config,), {"SQLALCHEMY_DATABASE_URI": database_url, **settings})


@contextlib.contextmanager
def app_context(database_url: str, **settings):
    """Yield an app made with ``bench_config(database_url, **settings)``, inside its app context.

    On the way out the session is removed and the engine's pooled connections are closed, so that
    nothing in this process holds the database (a scratch PostgreSQL database can then be dropped).
    """
    from app import create_app
    from app.extensions import db

    app = create_app(bench_config(database_url, **settings))
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def sign_up_owner(business_name: str, timezone: str, email: str = "owner@bench.example"):
    """Sign up a benchmark owner ("Alex", ``email``) with a new GBP business called
    ``business_name``; returns the owner (``.business`` is the business). Needs an app context.
    Several businesses in one database need one ``email`` each."""
    from app.services import business_service

    return business_service.sign_up(
        email=email, password="bench-password", name="Alex",
        business_name=business_name, timezone=timezone, currency="GBP",
    )


def app_env(database_url: str, **variables: str | None) -> dict:
    """The environment for a process of the app (``flask``, gunicorn, ``worker.py``) on ``database_url``.

    A copy of ``os.environ`` with ``.env`` ignored, the booking rate limit out of reach and the
    rate-limit counters in memory. ``REDIS_URL`` is removed unless given. Each keyword in
    ``variables`` sets that variable, or removes it when the value is ``None`` or empty.
    """
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url, FLASK_APP="wsgi.py", FLASK_SKIP_DOTENV="1",
        BOOKING_RATE_LIMIT="1000000 per minute", RATELIMIT_STORAGE_URI="memory://",
    )
    for key, value in {"REDIS_URL": None, **variables}.items():
        if value:
            env[key] = value
        else:
            env.pop(key, None)
    return env


def migrate(env: dict) -> None:
    """Create the schema as a deployment does: ``flask db upgrade`` in the repository root, with
    ``env`` (see ``app_env``) naming the database. Its output is hidden; a failure raises."""
    subprocess.run([str(Path(sys.executable).parent / "flask"), "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def availability_url(base: str, slug: str, service_id: int, first: date, days: int) -> str:
    """The public availability API's URL for ``days`` days from ``first`` (both ends included)."""
    last = first + timedelta(days=days - 1)
    return (f"{base}/api/booking/public/{slug}/availability/?service_id={service_id}"
            f"&start_date={first:%Y-%m-%d}&end_date={last:%Y-%m-%d}")


# -------------------------------------------------------------------------------- processes

def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM ``proc`` if it is still running; SIGKILL it if it has not exited after ``timeout`` s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def gunicorn(env: dict, workers: int, log: Path | None = None, threads: int = 1) -> Iterator[str]:
    """Serve ``wsgi:app`` with gunicorn (``workers`` sync workers, or gthread workers of ``threads``
    threads each when ``threads`` > 1) on a free localhost port and
    yield its base URL (``http://127.0.0.1:<port>``) once ``GET /`` answers; stop it on exit.

    ``env`` is the servers' environment (see ``app_env``). Its output is appended to ``log`` if
    given, else shared with this process. The first ``GET /`` also starts the app's in-process
    outbox runner when there is no ``REDIS_URL``. Raises ``SystemExit`` if gunicorn exits or does
    not answer within 120 s (a busy machine starts it slowly).
    """
    port = free_port()
    with open(log, "ab") if log is not None else contextlib.nullcontext() as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
             *(["-k", "gthread", "--threads", str(threads)] if threads > 1 else ["-k", "sync"]),
             "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=None if out is None else subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {proc.returncode}" + (f"; see {log}" if log is not None else ""))
            with contextlib.suppress(requests.RequestException):
                requests.get(base + "/", timeout=5)
                break
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start within 120 s")
            time.sleep(0.2)
        yield base
    finally:
        stop_process(proc)


# ----------------------------------------------------------------------------------- report

def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0 to 1) of ``values``: the nearest-rank element, no interpolation
    (``q=1.0`` is the maximum)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def machine() -> str:
    """One line about this machine: cores, CPU model, Python version and OS."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, {platform.system()} {platform.release()}"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """``header`` and ``rows`` (lists of cells) as a Markdown table, each column padded to its widest cell."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])
