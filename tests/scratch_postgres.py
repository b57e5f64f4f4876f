"""Throwaway PostgreSQL databases and the real ``flask`` command, for the tests that run
migrations the way a deploy does (on the server of ``TEST_DATABASE_URL``)."""
from __future__ import annotations

import os
import secrets
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from app.config import _database_url

ROOT = Path(__file__).resolve().parents[1]
FLASK = Path(sys.executable).with_name("flask")
PG_URL = os.environ.get("TEST_DATABASE_URL")


def flask_command() -> list[str]:
    """The venv's ``flask`` (run from the repository root with ``FLASK_APP=wsgi.py``)."""
    return [str(FLASK)] if FLASK.exists() else [sys.executable, "-m", "flask"]


def flask_env(url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi.py"}


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """The URL of a new, empty database ``<prefix>_<random>``, dropped afterwards. DROP DATABASE
    waits for a checkpoint (seconds on a busy server), so it runs on a non-daemon thread while the
    next tests do; the interpreter waits for it before exiting."""
    server = make_url(_database_url(PG_URL))
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        threading.Thread(target=_drop, args=(admin, name), name=f"drop {name}").start()


def _drop(admin, name: str) -> None:
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
