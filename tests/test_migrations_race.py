"""Two ``flask db upgrade`` runs started together on an empty PostgreSQL database (two web
processes, or two release phases, deploying at once) both succeed: the second waits for the
first's advisory lock, then finds the schema at head. Without the lock one of them fails with a
duplicate type or table.

Runs the real ``flask`` command in subprocesses, on a scratch database created and dropped here
(on the server of ``TEST_DATABASE_URL``; skipped without it).
"""
from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import create_engine, inspect, text

from app.config import _database_url
from tests.scratch_postgres import PG_URL, ROOT, flask_command, flask_env
from tests.scratch_postgres import scratch_database as _scratch

pytestmark = pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL not set")


@pytest.fixture
def scratch_database():
    with _scratch("flowkey_race") as url:
        yield url


def test_two_upgrades_started_together_both_succeed(scratch_database):
    env = flask_env(scratch_database)
    runs = [
        subprocess.Popen([*flask_command(), "db", "upgrade"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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
