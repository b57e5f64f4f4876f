"""SQL statements per client read, counted around one request through the test client, so that a
later change cannot quietly add a query (an N+1 over staff members, services or dates).

Warm: the availability cache holds every entry the request needs (the API reads only the
business's and its staff members' versions against the snapshot this process keeps; the month
page, which renders the business, its settings, services and their staff with their versions).
Cold: the cache is off (or empty): the business, then the hours and overrides, then the holds.
The counts are the exact ones reached; transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT)
is not counted.
"""
from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from sqlalchemy import event

from app import metrics
from app.services import business_service
from tests.conftest import next_weekday
from tests.web.api.support import london

_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


@pytest.fixture
def config_overrides():
    """The cache on, whatever AVAILABILITY_CACHE the environment sets."""
    return {"AVAILABILITY_CACHE": "on"}


@pytest.fixture
def shop(db, business, factory):
    """Five staff members (one in another zone) offering a 60-minute lesson and a 30-minute class
    (both), with a date override and bookings of both services."""
    staff = [business.staff[0]] + [
        business_service.add_staff(business, f"Coach {i}", "Europe/Paris" if i == 4 else None) for i in range(1, 5)
    ]
    for member in staff[1:]:
        business_service.set_weekly_hours(member, {d: [(time(9), time(12)), (time(13), time(17))] for d in range(6)})
    day = next_weekday(1)
    business_service.set_override(staff[2], day, [(time(10), time(11))])
    ids = [s.id for s in staff]
    lesson = factory.service(business, name="Lesson", duration_minutes=60, staff_ids=ids)
    group = factory.service(business, name="Class", duration_minutes=30, capacity=4, staff_ids=ids)
    factory.booking(business, lesson, london(day, 9), staff_id=staff[0].id)
    factory.booking(business, group, london(day, 14), staff_id=staff[1].id)
    return business, lesson, day


@pytest.fixture
def count_queries(db):
    """``count(request) -> (response, statements)``: the SQL statements one request ran."""
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if not _CONTROL.match(statement):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)

    def count(request):
        statements.clear()
        response = request()
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return response, list(statements)

    yield count
    event.remove(db.engine, "before_cursor_execute", listener)


def _api(client, business, service, day):
    url = f"/api/booking/public/{business.slug}/availability/"  # read now: the test's own rows may expire
    query = {"service_id": service.id, "start_date": str(day), "end_date": str(day + timedelta(days=6))}
    return lambda: client.get(url, query_string=query)


def _month(client, business, service):
    url = f"/book/{business.slug}/{service.id}"
    return lambda: client.get(url)


@pytest.mark.parametrize("page", ["api", "month"])
def test_warm_and_cold_query_counts(app, client, shop, count_queries, page):
    business, lesson, day = shop
    request = _api(client, business, lesson, day) if page == "api" else _month(client, business, lesson)

    app.config["AVAILABILITY_CACHE"] = "off"
    request()  # the engine's first connection, dialect set-up
    _, off = count_queries(request)
    app.config["AVAILABILITY_CACHE"] = "on"
    _, cold = count_queries(request)
    _, warm = count_queries(request)

    assert len(off) == 3, off  # business + settings + services + staff; hours + overrides; holds
    assert len(cold) == 3, cold
    assert len(warm) == 1, warm  # the business and its versions
    assert "FROM business" in warm[0] and "availability_version" in warm[0]
    if page == "api":  # versions only: the settings, services and staff come from the snapshot
        assert "booking_settings" not in warm[0] and "service" not in warm[0], warm
    assert "weekly_hours" in cold[1] + cold[2] and "date_override" in cold[1] + cold[2] and "FROM booking" in cold[1] + cold[2]


def test_a_booking_recomputes_one_staff_member_with_the_same_three_queries(app, client, shop, count_queries, factory):
    business, lesson, day = shop
    request = _api(client, business, lesson, day)
    request()
    factory.booking(business, lesson, london(day, 15), staff_id=business.staff[3].id)
    hits, misses = metrics.AVAILABILITY_CACHE_HITS._value.get(), metrics.AVAILABILITY_CACHE_MISSES._value.get()
    response, after_booking = count_queries(request)
    assert len(after_booking) == 3, after_booking
    # Only the booked staff member's 7 dates were computed again; the other 4 came from the cache.
    assert metrics.AVAILABILITY_CACHE_MISSES._value.get() - misses == 7
    assert metrics.AVAILABILITY_CACHE_HITS._value.get() - hits == 4 * 7
    _, warm = count_queries(request)
    assert len(warm) == 1


def test_a_settings_change_reloads_the_business_once_then_reads_warm_again(app, client, shop, count_queries):
    business, lesson, day = shop
    request = _api(client, business, lesson, day)
    request()
    business_service.update_settings(business, buffer_time_minutes=20)
    _, changed = count_queries(request)
    # The versions (the snapshot is out of date), the business again, hours and overrides, holds.
    assert len(changed) == 4, changed
    assert "booking_settings" in changed[1]
    _, warm = count_queries(request)
    assert len(warm) == 1, warm
