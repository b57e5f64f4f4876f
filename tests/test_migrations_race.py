"""Two ``flask db upgrade`` runs started together on an empty PostgreSQL database (two web
processes, or two release phases, deploying at once) both succeed: the second waits for the
first's advisory lock, then finds the schema at head. Without the lock one of them fails with a
duplicate type or table.

Runs the real ``flask`` command in subprocesses, on a scratch database created and dropped here
(on the server of ``TEST_DATABASE_URL``; skipped without it).
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, make_url, text

from app.config import _database_url

ROOT = Path(__file__).resolve().parents[1]
FLASK = Path(sys.executable).with_name("flask")
PG_URL = os.environ.get("TEST_DATABASE_URL")

pytestmark = pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL not set")


@pytest.fixture
def scratch_database():
    server = make_url(_database_url(PG_URL))
    name = f"flowkey_race_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_two_upgrades_started_together_both_succeed(scratch_database):
    env = {**os.environ, "DATABASE_URL": scratch_database, "FLASK_APP": "wsgi.py"}
    command = [str(FLASK)] if FLASK.exists() else [sys.executable, "-m", "flask"]
    runs = [
        subprocess.Popen([*command, "db", "upgrade"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=180)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], "\n---\n".join(outputs)

    engine = create_engine(_database_url(scratch_database))
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            tables = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert len(versions) == 1
    assert {"business", "booking", "outbox_job"} <= tables
