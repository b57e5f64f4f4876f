"""One unit of work for every write, and the locks that stop two bookings taking one slot.

Every service that writes does so in :func:`unit_of_work`: begin, lock, commit, or roll back and
re-raise. The lock depends on the database:

PostgreSQL: ``SELECT ... FOR UPDATE`` on the staff rows concerned, in id order (no deadlocks),
inside the transaction that re-checks availability and inserts; then, when asked, transaction-level
advisory locks on named keys (e.g. one client's e-mail address), in sorted order, always after the
staff rows, so two units of work never wait for each other in opposite orders. A unit of work may
ask to skip rather than wait for staff rows another transaction holds (:class:`StaffBusy`).

SQLite: the transaction starts with ``BEGIN IMMEDIATE``, so it holds the database's write lock
*before* it reads; a second writer waits (``busy_timeout``) rather than reading a stale snapshot
and failing at its first write ("database is locked"). pysqlite's own implicit ``BEGIN`` is
switched off so SQLAlchemy controls when transactions start (the recipe in SQLAlchemy's
"Serializable isolation / Savepoints / Transactional DDL" notes).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

IMMEDIATE = "flowkey_sqlite_immediate"
_IN_UNIT_OF_WORK = "flowkey_in_unit_of_work"


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
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(IMMEDIATE) else "BEGIN")


class StaffBusy(Exception):
    """Raised by :func:`begin_write` (and so :func:`unit_of_work`) with ``skip_locked``: another
    transaction holds at least one of the staff rows asked for; nothing was locked or written."""


def begin_write(
    session: Session, staff_ids: Iterable[int], *, skip_locked: bool = False, keys: Iterable[str] = ()
) -> None:
    """Start the session's transaction holding the write lock for ``staff_ids``.

    Any transaction already open in ``session`` must hold only reads: it is committed first so
    the locked one starts clean (loaded objects are refreshed on next access).

    PostgreSQL only (SQLite's write lock already covers everything): ``skip_locked`` raises
    :class:`StaffBusy` at once instead of waiting when another transaction holds one of the rows
    (``FOR UPDATE SKIP LOCKED``); ``keys`` (strings) are then locked too, each with
    ``pg_advisory_xact_lock`` on its 64-bit hash, in sorted order, until the transaction ends.
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
    if ids:
        locked = session.scalars(
            select(StaffMember.id).where(StaffMember.id.in_(ids)).order_by(StaffMember.id).with_for_update(skip_locked=skip_locked)
        ).all()
        if skip_locked and len(locked) < len(ids):
            raise StaffBusy(sorted(set(ids) - set(locked)))
    for key in sorted(set(keys)):
        session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))


@contextmanager
def unit_of_work(
    lock_staff: Iterable[int] = (), *, skip_locked: bool = False, lock_keys: Iterable[str] = ()
) -> Iterator[Session]:
    """One write transaction of the app's session, as a ``with`` block.

    On entry: :func:`begin_write` (SQLite: ``BEGIN IMMEDIATE``, committing a read-only
    transaction left open first; PostgreSQL: ``SELECT ... FOR UPDATE`` of the ``lock_staff``
    staff rows, in id order, then the advisory locks of ``lock_keys``). With ``skip_locked``
    (PostgreSQL), raises :class:`StaffBusy` after rolling back when another transaction holds one
    of those rows. On a normal exit: commit. On any exception (``BaseException``
    included, so a killed request leaves nothing half-written): roll back and re-raise. Yields
    the session. Units of work do not nest: raises ``RuntimeError`` inside another one.
    """
    from app.extensions import db

    session = db.session()
    if session.info.get(_IN_UNIT_OF_WORK):
        # On SQLite the inner begin would commit the outer unit half-way: refuse it outright.
        raise RuntimeError("unit_of_work() inside another unit of work")
    try:
        begin_write(session, lock_staff, skip_locked=skip_locked, keys=lock_keys)
    except BaseException:
        session.rollback()
        raise
    session.info[_IN_UNIT_OF_WORK] = True
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_IN_UNIT_OF_WORK, None)
