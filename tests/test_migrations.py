"""The Alembic history builds the models' schema on an empty SQLite file and an empty PostgreSQL
database, ``flask db check`` finds no drift, and ``flask db downgrade base`` undoes it all.

Runs the real ``flask`` command (the venv's, from the repo root) in a subprocess, as a deploy does.
``flask db check`` does not compare CHECK constraints or expression indexes, so the test also
compares their names with the models' metadata.
"""
from __future__ import annotations

import subprocess
import warnings

import pytest
from sqlalchemy import create_engine, inspect, text

from app.config import _database_url
from app.extensions import db
from tests.scratch_postgres import PG_URL, ROOT, flask_command, flask_env, scratch_database

def flask(*args: str, url: str) -> subprocess.CompletedProcess:
    return subprocess.run([*flask_command(), *args], cwd=ROOT, env=flask_env(url), capture_output=True, text=True, timeout=120)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL not set"))])
def empty_database(request, tmp_path):
    """The URL of a brand-new, empty database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with scratch_database("flowkey_mig") as url:
        yield url


def expected_schema() -> dict[str, tuple[set[str], set[str]]]:
    """``{table: ({index names}, {check constraint names})}`` declared by the models."""
    from app import models  # noqa: F401  (register every table)

    return {
        t.name: ({i.name for i in t.indexes}, {c.name for c in t.constraints if c.__class__.__name__ == "CheckConstraint"})
        for t in db.metadata.sorted_tables
    }


def actual_schema(url: str) -> dict[str, tuple[set[str], set[str]]]:
    engine = create_engine(_database_url(url))
    try:
        with engine.connect() as conn, warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            insp = inspect(conn)
            schema = {}
            for table in insp.get_table_names():
                if table == "alembic_version":
                    continue
                if conn.dialect.name == "sqlite":  # the inspector skips expression indexes on SQLite
                    q = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t AND name NOT LIKE 'sqlite_autoindex%'"
                else:
                    q = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = :t"
                indexes = set(conn.execute(text(q), {"t": table}).scalars())
                unique_constraints = {u["name"] for u in insp.get_unique_constraints(table)}
                primary_key = {insp.get_pk_constraint(table)["name"]}
                checks = {c["name"] for c in insp.get_check_constraints(table)}
                schema[table] = (indexes - unique_constraints - primary_key, checks)
            return schema
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = create_engine(_database_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_check_downgrade(empty_database):
    url = empty_database

    result = flask("db", "upgrade", url=url)
    assert result.returncode == 0, result.stderr
    assert "Running upgrade" in result.stderr

    check = flask("db", "check", url=url)
    drift = [line for line in check.stderr.splitlines() if "Detected" in line]
    assert check.returncode == 0, "models and migrations differ:\n" + "\n".join(drift or [check.stderr[-2000:]])
    assert "No new upgrade operations detected" in check.stdout + check.stderr

    assert actual_schema(url) == expected_schema()

    down = flask("db", "downgrade", "base", url=url)
    assert down.returncode == 0, down.stderr
    assert tables(url) <= {"alembic_version"}
