"""Serialising bookings of the same staff members, on SQLite and PostgreSQL (DESIGN.md,
"No double booking, ever").

PostgreSQL: ``SELECT ... FOR UPDATE`` on the staff rows, in id order (no deadlocks), inside the
transaction that re-checks availability and inserts.

SQLite: the transaction starts with ``BEGIN IMMEDIATE`` (and so does every transaction of an
unsafe HTTP request, see :func:`_in_unsafe_request`) so it holds the database's write lock
*before* it reads; a second writer waits (``busy_timeout``) rather than reading a stale snapshot.
pysqlite's own implicit ``BEGIN`` is switched off so SQLAlchemy controls when transactions start
(the recipe in SQLAlchemy's "Serializable isolation / Savepoints / Transactional DDL" notes).
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

IMMEDIATE = "flowkey_sqlite_immediate"


def install_sqlite_locking(engine: Engine) -> None:
    """Give every SQLite connection WAL, a busy timeout and foreign keys, and let a transaction
    ask for ``BEGIN IMMEDIATE`` with the :data:`IMMEDIATE` execution option."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        immediate = conn.get_execution_options().get(IMMEDIATE) or _in_unsafe_request()
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _in_unsafe_request() -> bool:
    """True while serving a POST/PUT/PATCH/DELETE: such a request usually reads then writes, and
    on SQLite a deferred transaction that does so fails at once ("database is locked") if another
    writer committed in between. Taking the write lock up front makes it wait its turn instead."""
    from flask import has_request_context, request

    return has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")


def begin_write(session: Session, staff_ids: Iterable[int]) -> None:
    """Start the session's transaction holding the write lock for ``staff_ids``.

    Any transaction already open in ``session`` must hold only reads: it is committed first so
    the locked one starts clean (loaded objects are refreshed on next access).
    """
    from app.models import StaffMember

    ids = sorted(set(staff_ids))
    if hasattr(session, "registry"):  # a scoped_session (Flask-SQLAlchemy's db.session)
        session = session()
    if session.get_bind().dialect.name == "sqlite":
        if session.in_transaction():
            session.commit()
        session.connection(execution_options={IMMEDIATE: True})
        return
    session.execute(select(StaffMember.id).where(StaffMember.id.in_(ids)).order_by(StaffMember.id).with_for_update())
