"""``flask backup create`` and ``flask backup restore`` on SQLite and PostgreSQL.

A backup of a migrated, seeded database restored into a fresh one is the same database: gunicorn
serves its booking page, every booking is there, ``flask db current`` is at head, and a new booking
goes in. A restore into a database that holds rows is refused and changes nothing (``--force``
replaces it). A backup from an older migration says so and upgrades. SQLite's copy taken while
another connection writes is one consistent, current snapshot. PostgreSQL: a missing or old
``pg_dump`` is a clear one-line error, and the database password never reaches the output or the
tool's command line.

Runs the real ``flask`` command (and gunicorn) in subprocesses, as an operator does, on databases
created here: new SQLite files, and scratch databases on the server of ``TEST_DATABASE_URL``.
"""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, inspect, make_url, text

from app import create_app
from app.config import _database_url
from app.extensions import db
from tests.conftest import Factory, _config, next_weekday
from tests.fakes.smtp_server import free_port
from tests.scratch_postgres import PG_URL, ROOT, flask_command, flask_env, scratch_database

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL not set"))]
pg_only = pytest.mark.skipif(not PG_URL or not shutil.which("pg_dump"), reason="needs TEST_DATABASE_URL and pg_dump")

BUSINESS = "Café Zoë Swim School"
LONDON = ZoneInfo("Europe/London")
HEAD = ScriptDirectory(str(ROOT / "migrations")).get_current_head()


def flask(*args: str, url: str, **env: str) -> subprocess.CompletedProcess:
    """The real ``flask`` command on the database at ``url``, without Redis, extra variables in ``env``."""
    environment = {**flask_env(url), "FLASK_SKIP_DOTENV": "1", **env}
    environment.pop("REDIS_URL", None)
    return subprocess.run([*flask_command(), *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)


@contextmanager
def fresh_database(backend: str, tmp_path: Path, name: str) -> Iterator[str]:
    """The URL of a new database: a file that does not exist yet, or an empty scratch database."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / f'{name}.db'}"
    else:
        with scratch_database(f"flowkey_{name}") as url:
            yield url


def migrated(url: str) -> str:
    result = flask("db", "upgrade", url=url)
    assert result.returncode == 0, result.stderr
    return url


def weekday_starts(count: int) -> list[datetime]:
    """``count`` hourly starts, 09:00-16:00 London, Monday to Friday of next week (inside the
    factory owner's opening hours and booking window)."""
    monday = next_weekday(0)
    starts = [
        datetime(day.year, day.month, day.day, hour, tzinfo=LONDON)
        for day in (monday + timedelta(days=n) for n in range(5))
        for hour in range(9, 17)
    ]
    assert len(starts) >= count
    return starts[:count]


def seed(url: str, business_name: str, bookings: int) -> tuple[str, set[str]]:
    """An owner, a one-hour service without buffers and ``bookings`` bookings in the database at ``url``:
    ``(booking page slug, the bookings' references)``."""
    app = create_app(_config(_database_url(url)))
    with app.app_context():
        factory = Factory(db)
        business = factory.owner(business_name=business_name).business
        service = factory.service(business, buffer_after_minutes=0)
        references = {factory.booking(business, service, start).reference for start in weekday_starts(bookings)}
        slug = business.slug
        db.session.remove()
        db.engine.dispose()
    return slug, references


def query(url: str, sql: str) -> list[tuple]:
    engine = create_engine(_database_url(url))
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def bookings(url: str) -> set[tuple]:
    return set(query(url, "SELECT reference, status, start_at, client_name, client_email FROM booking"))


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, ``{table: rows sorted}``: the whole database's contents."""
    engine = create_engine(_database_url(url))
    try:
        with engine.connect() as conn:
            return {
                name: sorted((tuple(row) for row in conn.execute(text(f'SELECT * FROM "{name}"'))), key=repr)
                for name in inspect(conn).get_table_names()
            }
    finally:
        engine.dispose()


@contextmanager
def serving(url: str, tmp_path: Path) -> Iterator[str]:
    """gunicorn (one sync worker) serving the app on the database at ``url``; yields its base URL
    once ``/healthz`` answers. E-mails the app sends meanwhile go to files under ``tmp_path``."""
    port = free_port()
    env = {**flask_env(url), "FLASK_SKIP_DOTENV": "1", "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"), "RATELIMIT_STORAGE_URI": "memory://"}
    env.pop("REDIS_URL", None)
    with open(tmp_path / "gunicorn.log", "ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        # Generous: a busy machine (CI running other tests beside this one) can take many
        # seconds to start gunicorn and answer its first request; a healthy server always does.
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                requests.get(f"{base}/healthz", timeout=30)
                break
            except (requests.ConnectionError, requests.Timeout):
                assert time.monotonic() < deadline, "gunicorn did not answer within 180 s"
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(30)


def book_first_free_slot(base: str, slug: str) -> dict:
    """Book the first free slot of next week through the public API; the response's JSON."""
    services = requests.get(f"{base}/api/booking/public/{slug}/services/", timeout=30)
    assert services.status_code == 200, services.text
    service_id = services.json()[0]["id"]
    monday = next_weekday(0)
    availability = requests.get(
        f"{base}/api/booking/public/{slug}/availability/",
        params={"service_id": service_id, "start_date": monday.isoformat(), "end_date": (monday + timedelta(days=4)).isoformat()},
        timeout=30,
    )
    assert availability.status_code == 200, availability.text
    slots = [slot for day in availability.json().values() for slot in day]
    booked = requests.post(
        f"{base}/api/booking/public/{slug}/book/",
        json={"service_id": service_id, "start": slots[0]["start"], "client_name": "After Restore", "client_email": "after@example.com"},
        timeout=30,
    )
    assert booked.status_code == 201, booked.text
    return booked.json()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_backup_restored_into_a_fresh_database_serves_every_booking(backend, tmp_path):
    with fresh_database(backend, tmp_path, "source") as source, fresh_database(backend, tmp_path, "restored") as restored:
        slug, references = seed(migrated(source), BUSINESS, bookings=6)
        backup = tmp_path / ("flowkey.db" if backend == "sqlite" else "flowkey.dump")

        created = flask("backup", "create", str(backup), url=source)
        assert created.returncode == 0, created.stderr
        assert created.stdout.startswith("Backed up ") and f"(migration {HEAD})" in created.stdout
        assert backup.stat().st_mode & 0o777 == 0o600

        restore = flask("backup", "restore", str(backup), url=restored)
        assert restore.returncode == 0, restore.stderr
        assert f": 6 bookings, migration {HEAD}." in restore.stdout
        assert "at this code's newest migration" in restore.stdout

        assert {row[0] for row in bookings(restored)} == references
        assert bookings(restored) == bookings(source)
        current = flask("db", "current", url=restored)
        assert current.returncode == 0, current.stderr
        assert current.stdout.strip() == f"{HEAD} (head)"

        with serving(restored, tmp_path) as base:
            page = requests.get(f"{base}/book/{slug}", timeout=30)
            assert page.status_code == 200
            assert BUSINESS in page.text
            new = book_first_free_slot(base, slug)

        assert {row[0] for row in bookings(restored)} == references | {new["reference"]}
        assert {row[0] for row in bookings(source)} == references


@pytest.mark.parametrize("backend", BACKENDS)
def test_restore_into_a_database_with_rows_is_refused_without_force(backend, tmp_path):
    with fresh_database(backend, tmp_path, "source") as source, fresh_database(backend, tmp_path, "busy") as busy:
        seed(migrated(source), BUSINESS, bookings=3)
        seed(migrated(busy), "Already Here Ltd", bookings=2)
        backup = tmp_path / "backup"
        assert flask("backup", "create", str(backup), url=source).returncode == 0
        before = snapshot(busy)

        refused = flask("backup", "restore", str(backup), url=busy)

        assert refused.returncode == 1
        assert refused.stdout == ""
        assert len(refused.stderr.splitlines()) == 1, refused.stderr
        assert refused.stderr.startswith("Error: ") and "is not empty" in refused.stderr
        assert "nothing was changed" in refused.stderr and "--force" in refused.stderr
        assert snapshot(busy) == before

        forced = flask("backup", "restore", "--force", str(backup), url=busy)

        assert forced.returncode == 0, forced.stderr
        assert "replacing what it held" in forced.stdout
        assert snapshot(busy) == snapshot(source)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_backup_from_an_older_version_is_restored_then_upgraded(backend, tmp_path):
    previous = ScriptDirectory(str(ROOT / "migrations")).get_revision(HEAD).down_revision
    with fresh_database(backend, tmp_path, "old") as old, fresh_database(backend, tmp_path, "new") as new:
        assert flask("db", "upgrade", previous, url=old).returncode == 0
        backup = tmp_path / "old-backup"
        assert flask("backup", "create", str(backup), url=old).returncode == 0

        restore = flask("backup", "restore", str(backup), url=new)

        assert restore.returncode == 0, restore.stderr
        assert restore.stdout.splitlines()[-1] == (
            "It is older than this code: run `flask db upgrade`, then start the web and worker processes."
        )
        assert flask("db", "current", url=new).stdout.strip() == previous
        assert flask("db", "upgrade", url=new).returncode == 0
        assert flask("db", "current", url=new).stdout.strip() == f"{HEAD} (head)"


def test_sqlite_backup_taken_while_another_connection_writes_is_consistent(tmp_path):
    """The copy holds every booking committed before the command started, each whole (its client,
    its audit entry, its e-mail jobs), and nothing half-written: one snapshot of a database in
    WAL mode whose latest commits are still in the WAL file, not the main one."""
    source = migrated(f"sqlite:///{tmp_path / 'busy.db'}")
    app = create_app(_config(_database_url(source)))
    with app.app_context():
        factory = Factory(db)
        business = factory.owner(business_name="Busy Pool").business
        service = factory.service(business, capacity=10_000)
        business_id, service_id = business.id, service.id
        db.session.remove()
        db.engine.dispose()
        # No automatic checkpoints: every booking the writer commits stays in the WAL file, as the
        # latest commits of a busy app do, so a copy of the main file alone would miss them all.
        event.listen(db.engine, "connect", lambda connection, _record: connection.execute("PRAGMA wal_autocheckpoint=0"))
    start = weekday_starts(1)[0]
    committed: list[str] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        from app.models import Business, Service

        try:
            with app.app_context():
                factory = Factory(db)
                business, service = db.session.get(Business, business_id), db.session.get(Service, service_id)
                while not stop.is_set():
                    committed.append(factory.booking(business, service, start).reference)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001  (reported by the test below)
            failures.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(committed) < 20 and writer.is_alive():
            time.sleep(0.05)
        before = set(committed)
        backup = tmp_path / "copy.db"
        result = flask("backup", "create", str(backup), url=source)
        during = len(committed)
    finally:
        stop.set()
        writer.join(60)
    with app.app_context():
        db.engine.dispose()

    assert failures == []
    assert result.returncode == 0, result.stderr
    assert during > len(before)  # the writer kept committing while the command ran
    copy = sqlite3.connect(backup)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        in_copy = {row[0] for row in copy.execute("SELECT reference FROM booking")}
        assert before <= in_copy <= set(committed)
        whole = """SELECT b.reference, (SELECT count(*) FROM client c WHERE c.id = b.client_id),
                          (SELECT count(*) FROM booking_event e WHERE e.booking_id = b.id),
                          (SELECT count(*) FROM outbox_job j WHERE j.booking_id = b.id)
                   FROM booking b"""
        # What one booking writes in its transaction, as the live database has it.
        written = {row[1:] for row in query(source, whole)}
        assert len(written) == 1 and next(iter(written))[-1] > 0
        assert {row[1:] for row in copy.execute(whole)} == written
    finally:
        copy.close()


# PostgreSQL client tools -----------------------------------------------------------------------

def fake_tool(bin_dir: Path, name: str, script: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


def with_password(url: str, password: str) -> str:
    return make_url(url).set(password=password).render_as_string(hide_password=False)


@pg_only
def test_missing_pg_dump_is_a_one_line_error(tmp_path):
    with scratch_database("flowkey_bak_tools") as url:
        backup = tmp_path / "flowkey.dump"
        empty = tmp_path / "bin"
        empty.mkdir()

        result = flask("backup", "create", str(backup), url=migrated(url), PATH=str(empty))

    assert result.returncode == 1
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("Error: pg_dump was not found on PATH: install the PostgreSQL ")
    assert not backup.exists() and list(tmp_path.glob(".flowkey.dump.*")) == []


@pg_only
def test_pg_dump_older_than_the_server_is_refused(tmp_path):
    fake_tool(tmp_path / "bin", "pg_dump", 'echo "pg_dump (PostgreSQL) 9.6.24"\n')
    with scratch_database("flowkey_bak_tools") as url:
        server = query(url, "SELECT current_setting('server_version_num')::int / 10000")[0][0]
        result = flask("backup", "create", str(tmp_path / "flowkey.dump"), url=migrated(url), PATH=str(tmp_path / "bin"))

    assert result.returncode == 1
    assert result.stderr == (
        f"Error: {tmp_path / 'bin' / 'pg_dump'} is version 9, older than the PostgreSQL {server} server: install the "
        f"PostgreSQL {server} client tools (Debian/Ubuntu: apt install postgresql-client-{server}) or put their bin "
        "directory first on PATH.\n"
    )
    assert not (tmp_path / "flowkey.dump").exists()


@pg_only
def test_the_database_password_is_never_shown_nor_put_on_a_command_line(tmp_path):
    """The server trusts local connections, so any password works; the tools get it in PGPASSWORD."""
    password = "Backup-Pa55word"
    bin_dir = tmp_path / "bin"
    for tool in ("pg_dump", "pg_restore"):
        real = shutil.which(tool)
        fake_tool(bin_dir, tool, f'echo "$PGPASSWORD $*" >> {tmp_path / "calls"}\nexec {real} "$@"\n')
    path = f"{bin_dir}:/usr/bin:/bin"
    with scratch_database("flowkey_bak_src") as source, scratch_database("flowkey_bak_dst") as target:
        seed(migrated(source), BUSINESS, bookings=1)
        backup = str(tmp_path / "flowkey.dump")
        results = [
            flask("backup", "create", backup, url=with_password(source, password), PATH=path),
            flask("backup", "restore", backup, url=with_password(target, password), PATH=path),
            flask("backup", "restore", backup, url=with_password(target, password), PATH=path),  # refused: not empty
            flask("backup", "create", backup, url=with_password(make_url(source).set(port=1).render_as_string(False), password), PATH=path),
        ]

    assert [r.returncode for r in results] == [0, 0, 1, 1], [r.stderr for r in results]
    assert all(password not in r.stdout + r.stderr for r in results)
    assert "postgres:***@" in results[0].stdout and "postgres:***@" in results[1].stdout
    assert results[2].stderr.startswith("Error: postgresql://***@") and "is not empty" in results[2].stderr
    assert results[3].stderr.startswith("Error: postgresql://***@127.0.0.1:1/flowkey_bak_src_")
    assert "Connection refused" in results[3].stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    assert [call.split(" ", 2)[:2] for call in calls] == [
        ["", "--version"], [password, "--format=custom"], ["", "--version"], [password, "--no-owner"],
    ]
    assert all(password not in call.split(" ", 1)[1] for call in calls)
