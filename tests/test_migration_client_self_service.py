"""Revision e1f2a3b4c5d6 on a database with data: existing bookings get a random manage secret
each, existing settings the default client rules (both on, 12 hours), existing audit rows who
made them (owner when a user did, client for a booking's creation, system otherwise); the
downgrade removes it all again. On an empty SQLite file and an empty PostgreSQL database, with
the real ``flask db`` command as a deploy runs it."""
from __future__ import annotations

import subprocess
from datetime import date, datetime, time, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Boolean, Date, DateTime, Integer, MetaData, Numeric, String, Text, Time, create_engine, inspect, select

from app.config import _database_url
from tests.scratch_postgres import PG_URL, ROOT, flask_command, flask_env, scratch_database

BEFORE, THIS = "d3a4b5c6e7f8", "e1f2a3b4c5d6"


def flask(*args: str, url: str) -> subprocess.CompletedProcess:
    result = subprocess.run([*flask_command(), *args], cwd=ROOT, env=flask_env(url), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL not set"))])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with scratch_database("flowkey_mig_self") as url:
        yield url


def _filler(column):
    """A value for a NOT NULL column the test does not care about."""
    kind = column.type
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, (Integer, Numeric)):
        return Decimal("0") if isinstance(kind, Numeric) else 0
    if isinstance(kind, DateTime):
        return datetime(2027, 6, 1, 8, 0, tzinfo=timezone.utc)
    if isinstance(kind, Date):
        return date(2027, 6, 7)
    if isinstance(kind, Time):
        return time(9, 0)
    if isinstance(kind, (String, Text)):
        return "x"
    return "{}"  # JSON


def insert(conn, metadata, table: str, **values) -> int:
    """Insert one row with ``values``, other NOT NULL columns (without a server default) filled."""
    t = metadata.tables[table]
    row = {c.name: _filler(c) for c in t.columns if not c.nullable and c.server_default is None and not c.primary_key}
    row.update(values)
    return conn.execute(t.insert().values(**row).returning(t.c.id)).scalar_one()


def test_upgrade_fills_existing_rows_and_downgrade_removes_the_columns(empty_database):
    url = empty_database
    flask("db", "upgrade", BEFORE, url=url)
    engine = create_engine(_database_url(url))
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.begin() as conn:
            user = insert(conn, metadata, "user", email="owner@example.com")
            business = insert(conn, metadata, "business", slug="swim")
            insert(conn, metadata, "booking_settings", business_id=business)
            staff = insert(conn, metadata, "staff_member", business_id=business)
            service = insert(conn, metadata, "service", business_id=business, duration_minutes=60, capacity=1)
            client = insert(conn, metadata, "client", business_id=business, email="ada@example.com")
            start = datetime(2027, 6, 7, 9, 0, tzinfo=timezone.utc)
            bookings = [
                insert(conn, metadata, "booking", reference=f"FK-AAAAA{n}", business_id=business, service_id=service, staff_id=staff,
                       client_id=client, client_email="ada@example.com", start_at=start, end_at=start.replace(hour=10), seats=1,
                       status="confirmed")
                for n in range(3)
            ]
            events = [
                ("booked", None), ("requested", None), ("approved", user), ("cancelled", user), ("expired", None), ("rejected", None),
            ]
            audit_ids = [
                insert(conn, metadata, "booking_event", booking_id=bookings[0], event=event, to_status="confirmed", actor_user_id=actor)
                for event, actor in events
            ]

        flask("db", "upgrade", THIS, url=url)
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as conn:
            booking, audit, settings = (metadata.tables[t] for t in ("booking", "booking_event", "booking_settings"))
            secrets = conn.execute(select(booking.c.manage_secret).order_by(booking.c.id)).scalars().all()
            kinds = dict(conn.execute(select(audit.c.id, audit.c.actor_kind)).all())
            rules = conn.execute(select(
                settings.c.clients_can_reschedule, settings.c.clients_can_cancel,
                settings.c.client_reschedule_notice_hours, settings.c.client_cancel_notice_hours,
            )).all()
        assert len(secrets) == 3 and len(set(secrets)) == 3 and all(len(s) >= 43 for s in secrets)
        assert [kinds[i] for i in audit_ids] == ["client", "client", "owner", "owner", "system", "system"]
        assert [tuple(r) for r in rules] == [(True, True, 12, 12)]
        columns = {t: {c["name"] for c in inspect(engine).get_columns(t)} for t in ("booking", "booking_event")}
        assert "manage_secret" in columns["booking"] and "actor_kind" in columns["booking_event"]
        assert not next(c for c in inspect(engine).get_columns("booking") if c["name"] == "manage_secret")["nullable"]

        flask("db", "downgrade", BEFORE, url=url)
        inspector = inspect(engine)
        assert "manage_secret" not in {c["name"] for c in inspector.get_columns("booking")}
        assert "actor_kind" not in {c["name"] for c in inspector.get_columns("booking_event")}
        assert not {"clients_can_reschedule", "client_cancel_notice_hours"} & {c["name"] for c in inspector.get_columns("booking_settings")}
        with engine.connect() as conn:
            assert len(conn.execute(select(metadata.tables["booking"].c.id)).all()) == 3  # the rows survive
    finally:
        engine.dispose()


def test_rebuilding_a_referenced_table_keeps_the_rows_that_point_at_it(empty_database):
    """``c7e8f9a0b1d2`` rebuilds ``user`` on SQLite (a column made NOT NULL): with foreign keys
    enforced during the upgrade, dropping the old table would cascade into the memberships and
    null every staff member's user. The upgrade to head keeps them all."""
    url = empty_database
    flask("db", "upgrade", "b1d2f3a4c5e6", url=url)
    engine = create_engine(_database_url(url))
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.begin() as conn:
            user = insert(conn, metadata, "user", email="owner@example.com")
            business = insert(conn, metadata, "business", slug="swim")
            insert(conn, metadata, "membership", user_id=user, business_id=business, role="owner")
            insert(conn, metadata, "staff_member", business_id=business, user_id=user)

        flask("db", "upgrade", "head", url=url)
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as conn:
            memberships = conn.execute(select(metadata.tables["membership"].c.user_id, metadata.tables["membership"].c.business_id)).all()
            staff_users = conn.execute(select(metadata.tables["staff_member"].c.user_id)).scalars().all()
        assert [tuple(m) for m in memberships] == [(user, business)]
        assert staff_users == [user]
    finally:
        engine.dispose()
