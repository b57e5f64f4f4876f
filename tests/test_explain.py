"""The availability query uses ``ix_booking_staff_start`` on PostgreSQL and on SQLite.

A realistic table (5,000 bookings, 10 staff members, a year and a half of dates), and the planner
left to choose on its own (PostgreSQL ANALYZEd; SQLite as a fresh file is, without statistics):
the holds of one or a few staff members over a week must come from an index scan on
``(staff_id, start_at)``, never a scan of ``booking`` or of another index that reads every
confirmed booking.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable

from app.domain.booking_state import BookingStatus
from app.models import Booking, Client, StaffMember
from app.services import availability_service

UTC = timezone.utc
NOW = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
STAFF = 10
BOOKINGS = 5000


class Explain(Executable, ClauseElement):
    """``EXPLAIN <statement>``, compiled by SQLAlchemy so bind parameters keep their types."""

    inherit_cache = False

    def __init__(self, statement):
        self.statement = statement


@compiles(Explain, "postgresql")
def _compile_explain(element, compiler, **kw):
    return "EXPLAIN " + compiler.process(element.statement, **kw)


@compiles(Explain, "sqlite")
def _compile_explain_sqlite(element, compiler, **kw):
    return "EXPLAIN QUERY PLAN " + compiler.process(element.statement, **kw)


@pytest.fixture
def busy_business(database_url, request):
    db, factory = request.getfixturevalue("db"), request.getfixturevalue("factory")
    owner = factory.owner(business_name="Busy Pool")
    business = owner.business
    service = factory.service(business, duration_minutes=60)
    staff = [business.staff[0]] + [StaffMember(business=business, display_name=f"Coach {i}") for i in range(1, STAFF)]
    db.session.add_all(staff)
    client = Client(business_id=business.id, name="Regular", email="regular@example.com")
    db.session.add(client)
    db.session.commit()
    staff_ids = [s.id for s in staff]
    first_day = NOW - timedelta(days=180)
    statuses = [BookingStatus.CONFIRMED] * 6 + [BookingStatus.CANCELLED, BookingStatus.PENDING, BookingStatus.EXPIRED, BookingStatus.COMPLETED]
    rows = []
    for i in range(BOOKINGS):
        start = first_day + timedelta(days=(i * 7) % 540, hours=8 + i % 9)
        status = statuses[i % len(statuses)]
        rows.append(
            dict(
                reference=f"FK-{i:06d}", business_id=business.id, service_id=service.id, staff_id=staff_ids[i % STAFF],
                client_id=client.id, start_at=start, end_at=start + timedelta(hours=1), buffer_before_minutes=0,
                buffer_after_minutes=15, seats=1, client_name="Regular", client_email="regular@example.com",
                client_timezone="Europe/London", notes="", status=status, sequence=0,
                expires_at=start if status == BookingStatus.PENDING else None, created_at=NOW, updated_at=NOW,
            )
        )
    db.session.execute(insert(Booking), rows)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE booking"))
    return business, staff_ids


def plan(db, query) -> str:
    rows = db.session.execute(Explain(query)).all()
    if db.engine.dialect.name == "sqlite":
        return "\n".join(row[-1] for row in rows)  # (id, parent, notused, detail)
    return "\n".join(row[0] for row in rows)


def test_holds_query_uses_the_staff_start_index(busy_business, db):
    business, staff_ids = busy_business
    start, end = availability_service.range_bounds(business, date(2027, 6, 7), date(2027, 6, 13))
    for how_many in (1, 3, 5, 10):  # one staff member's page, a service several of them offer, all of them
        query = availability_service.holds_query(staff_ids[:how_many], start, end, NOW)

        text_plan = plan(db, query)
        if db.engine.dialect.name == "sqlite":
            assert re.fullmatch(r"SEARCH booking USING INDEX ix_booking_staff_start \(staff_id=\? AND start_at>\? AND start_at<\?\)", text_plan), text_plan
        else:
            assert re.search(r"(Bitmap Index Scan on|Index Scan using|Index Only Scan using) ix_booking_staff_start", text_plan), text_plan
            assert "Seq Scan on booking" not in text_plan, text_plan
        # The query answers with the holds it should: a sanity check that the test data is realistic.
        rows = db.session.execute(query).all()
        assert 0 < len(rows) < BOOKINGS // STAFF
        assert {r.staff_id for r in rows} <= set(staff_ids[:how_many])
