"""Bookings that name no staff member: one is chosen before any lock is taken and only that
staff member's row is locked, so bookings going to different staff members do not wait for each
other; a lost race moves on to the next staff member, and no slot is ever taken twice.

Through the real WSGI stack on SQLite (a file) and on PostgreSQL when TEST_DATABASE_URL is set;
the tests about one staff member's lock need PostgreSQL (SQLite has one lock, the database's).
"""
from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import select, text

from app.models import Booking, BookingStatus, Client
from app.services import booking_service, business_service
from app.services.booking_service import BookingRequest
from app.services.errors import SlotUnavailable
from tests.concurrency.conftest import fire
from tests.conftest import next_weekday

BOOK = "/api/booking/public/swim-school-pro/book/"
LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")


def at(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def body(service_id: int, start: datetime, i: int, seats: int = 1) -> dict:
    return {
        "service_id": service_id, "start": start.isoformat(), "seats": seats, "client_name": f"Racer {i}",
        "client_email": f"racer{i}@example.com", "client_timezone": "Europe/London",
    }


def active(db, service_id: int) -> list[tuple[int, datetime]]:
    """(staff id, start) of the service's active bookings, sorted."""
    db.session.rollback()
    db.session.expire_all()
    rows = db.session.execute(
        select(Booking.staff_id, Booking.start_at).where(
            Booking.service_id == service_id, Booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.PENDING])
        )
    )
    return sorted((staff_id, start if start.tzinfo else start.replace(tzinfo=UTC)) for staff_id, start in rows)


@pytest.fixture
def day():
    return next_weekday(3)


@pytest.fixture
def team(business):
    """Four staff members (the owner's first one and three more), each working 08:00-18:00 daily;
    returns their ids in id order."""
    members = [business.staff[0]] + [business_service.add_staff(business, f"Coach {i}") for i in range(2, 5)]
    for member in members:
        business_service.set_weekly_hours(member, {d: [(time(8), time(18))] for d in range(7)})
    return sorted(m.id for m in members)


def test_clients_booking_distinct_times_all_get_one(live_server, business, factory, team, day, db):
    lesson = factory.service(business, name="Private", duration_minutes=30, buffer_after_minutes=0, staff_ids=team)
    lesson_id = lesson.id
    starts = [at(day, 9) + timedelta(minutes=30 * (i // 4)) for i in range(12)]  # 3 times, 4 clients each
    responses = fire(12, lambda i: requests.post(live_server + BOOK, json=body(lesson_id, starts[i], i), timeout=90))
    assert Counter(r.status_code for r in responses) == {201: 12}, [r.text for r in responses if r.status_code != 201]
    assert active(db, lesson_id) == sorted((staff_id, start.astimezone(UTC)) for start in set(starts) for staff_id in team)


def test_clients_racing_for_one_time_fill_each_staff_member_once(live_server, business, factory, team, day, db):
    lesson = factory.service(business, name="Private", duration_minutes=30, buffer_after_minutes=0, staff_ids=team)
    start, lesson_id = at(day, 10), lesson.id
    responses = fire(12, lambda i: requests.post(live_server + BOOK, json=body(lesson_id, start, i), timeout=90))
    assert Counter(r.status_code for r in responses) == {201: 4, 409: 8}
    assert [staff_id for staff_id, _ in active(db, lesson_id)] == team
    for r in responses:
        if r.status_code == 409:
            assert r.json()["error"]["code"] == "slot_unavailable"
            assert start.isoformat() not in {s["start"] for s in r.json()["error"]["alternatives"]}


def test_one_client_submitting_twice_at_once_gets_one_booking_and_one_client(live_server, business, factory, team, day, db):
    lesson = factory.service(business, name="Private", duration_minutes=30, buffer_after_minutes=0, staff_ids=team)
    start, lesson_id = at(day, 11), lesson.id
    responses = fire(6, lambda i: requests.post(live_server + BOOK, json=body(lesson_id, start, 0), timeout=90))
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    assert len({r.json()["reference"] for r in responses}) == 1
    assert len(active(db, lesson_id)) == 1
    assert len(db.session.scalars(select(Client.id).where(Client.email == "racer0@example.com")).all()) == 1


# ---------------------------------------------------------------------------- PostgreSQL locks

def _hold_staff_lock(db, staff_id: int):
    """Lock ``staff_id``'s row in a transaction of another connection, as a booking in progress
    would; returns the connection (roll it back to release)."""
    conn = db.engine.connect()
    conn.execute(text("SELECT id FROM staff_member WHERE id = :id FOR UPDATE"), {"id": staff_id})
    return conn


@pytest.fixture
def postgresql_only(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("one staff member's lock: PostgreSQL only (SQLite locks the whole database)")


def test_a_booking_passes_over_a_staff_member_another_booking_is_locking(
    postgresql_only, live_server, business, factory, team, day, db
):
    lesson = factory.service(business, name="Private", duration_minutes=30, buffer_after_minutes=0, staff_ids=team)
    start, lesson_id = at(day, 12), lesson.id
    holder = _hold_staff_lock(db, team[0])  # the staff member the rule would pick first
    try:
        response = requests.post(live_server + BOOK, json=body(lesson_id, start, 1), timeout=10)
        assert response.status_code == 201, response.text
        assert [staff_id for staff_id, _ in active(db, lesson_id)] == [team[1]]
    finally:
        holder.rollback()
        holder.close()


def test_a_booking_waits_for_the_only_staff_member_who_is_free(
    postgresql_only, live_server, business, factory, team, day, db
):
    lesson = factory.service(business, name="Private", duration_minutes=30, buffer_after_minutes=0, staff_ids=team[:2])
    start, lesson_id = at(day, 13), lesson.id
    factory.booking(business, lesson, start, staff_id=team[1])
    holder = _hold_staff_lock(db, team[0])
    answers: list = []
    thread = threading.Thread(
        target=lambda: answers.append(requests.post(live_server + BOOK, json=body(lesson_id, start, 2), timeout=30))
    )
    thread.start()
    thread.join(1.5)
    assert thread.is_alive() and not answers  # waiting for team[0]'s lock, not answering "taken"
    holder.rollback()
    holder.close()
    thread.join(30)
    assert answers[0].status_code == 201, answers[0].text
    assert [staff_id for staff_id, _ in active(db, lesson_id)] == sorted(team[:2])


def test_a_class_booking_waits_for_the_fuller_class_rather_than_opening_the_next(
    postgresql_only, live_server, business, factory, team, day, db
):
    group = factory.service(business, name="Group", duration_minutes=60, capacity=4, buffer_after_minutes=0, staff_ids=team[:2])
    start, group_id = at(day, 14), group.id
    factory.booking(business, group, start, staff_id=team[1])  # team[1]'s class has fewer seats left
    holder = _hold_staff_lock(db, team[1])
    answers: list = []
    thread = threading.Thread(
        target=lambda: answers.append(requests.post(live_server + BOOK, json=body(group_id, start, 3), timeout=30))
    )
    thread.start()
    thread.join(1.5)
    assert thread.is_alive() and not answers
    holder.rollback()
    holder.close()
    thread.join(30)
    assert answers[0].status_code == 201, answers[0].text
    assert [staff_id for staff_id, _ in active(db, group_id)] == [team[1], team[1]]


# ------------------------------------------------------------------------------ lost races

@pytest.fixture
def racing(monkeypatch, business, factory):
    """``racing(service, start, staff_ids)``: the next booking's unlocked read of free staff
    members is followed at once by bookings of ``staff_ids`` at ``start`` (other clients winning
    the race between that read and the lock). Returns the list of the ``staff_id`` each later
    re-check under a lock asked for (None: every eligible staff member), in order."""
    rechecked: list[int | None] = []
    real = booking_service._free_slots

    def arm(service, start, staff_ids):
        state = {"read": False}

        def free_slots(business_, service_, start_, seats, staff_id, now):
            free = real(business_, service_, start_, seats, staff_id, now)
            if state["read"] is None:  # a winner's own booking
                return free
            if not state["read"]:
                state["read"] = None
                for n, winner in enumerate(staff_ids):
                    factory.booking(business, service, start, staff_id=winner, client_email=f"winner{n}@example.com")
                state["read"] = True
            else:
                rechecked.append(staff_id)
            return free

        monkeypatch.setattr(booking_service, "_free_slots", free_slots)
        return rechecked

    return arm


def _request(service_id: int, start: datetime) -> BookingRequest:
    return BookingRequest(
        service_id=service_id, start=start, client_name="Late Comer", client_email="late@example.com",
        client_phone=None, client_timezone="Europe/London",
    )


def test_a_lost_race_moves_on_to_the_next_staff_member(business, factory, team, day, db, racing):
    lesson = factory.service(business, name="Private", duration_minutes=30, buffer_after_minutes=0, staff_ids=team)
    start = at(day, 15)
    rechecked = racing(lesson, start, team[:2])
    result = booking_service.create_booking(business, _request(lesson.id, start))
    assert result.created and result.booking.staff_id == team[2]
    assert rechecked == team[:3]
    assert [staff_id for staff_id, _ in active(db, lesson.id)] == team[:3]


def test_after_three_lost_races_every_staff_member_is_locked_and_the_last_free_one_taken(
    business, factory, team, day, db, racing
):
    lesson = factory.service(business, name="Private", duration_minutes=30, buffer_after_minutes=0, staff_ids=team)
    start = at(day, 16)
    rechecked = racing(lesson, start, team[:3])
    result = booking_service.create_booking(business, _request(lesson.id, start))
    assert result.created and result.booking.staff_id == team[3]
    assert rechecked == [*team[:3], None]  # three tries, then the pick among everyone under all locks
    assert [staff_id for staff_id, _ in active(db, lesson.id)] == team


def test_losing_every_race_answers_taken_with_alternatives(business, factory, team, day, db, racing):
    lesson = factory.service(business, name="Private", duration_minutes=30, buffer_after_minutes=0, staff_ids=team[:2])
    start = at(day, 17)
    racing(lesson, start, team[:2])
    with pytest.raises(SlotUnavailable) as raised:
        booking_service.create_booking(business, _request(lesson.id, start))
    assert [s.start for s in raised.value.alternatives] == [
        at(day, 16, 0).astimezone(UTC), at(day, 16, 30).astimezone(UTC), at(day, 17, 30).astimezone(UTC),
    ]
    assert [staff_id for staff_id, _ in active(db, lesson.id)] == team[:2]
