"""availability_service over a seeded database gives exactly what the pure engine gives for the
same plain inputs; the database itself refuses a client or booking with no way to reach them."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from app.domain import availability as engine
from app.domain.booking_state import BookingStatus as S
from app.models import Booking, Client, StaffMember
from app.services import availability_service, business_service
from tests.services.support import MONDAY, NOW, at

TUESDAY = MONDAY + timedelta(days=1)


def hm(text: str) -> time:
    return time.fromisoformat(text)


@pytest.fixture
def seeded(db, business, factory):
    """Two staff members (London and Paris), hours, an override and bookings in every state."""
    ann = business.staff[0]
    bob = StaffMember(business=business, display_name="Bob", timezone="Europe/Paris")
    db.session.add(bob)
    db.session.commit()
    service = factory.service(business, name="Lesson", duration_minutes=60, slot_interval_minutes=30, staff_ids=[ann.id, bob.id])
    business_service.set_weekly_hours(ann, {0: [(hm("09:00"), hm("12:00"))], 1: [(hm("13:00"), hm("15:00"))]})
    business_service.set_weekly_hours(bob, {0: [(hm("10:00"), hm("14:00"))], 1: [(hm("10:00"), hm("12:00"))]})
    business_service.set_override(ann, TUESDAY, [(hm("09:00"), hm("10:30"))], now=NOW)
    business_service.set_override(bob, TUESDAY, [], now=NOW)
    client = Client(business_id=business.id, name="C", email="c@example.com")
    db.session.add(client)
    db.session.flush()

    def add(staff, start, end, status, expires_at=None, after=15, seats=1):
        db.session.add(
            Booking(
                reference=f"FK-{len(rows) + 2:06d}", business_id=business.id, service_id=service.id, staff_id=staff.id,
                client_id=client.id, start_at=start, end_at=end, buffer_before_minutes=0, buffer_after_minutes=after,
                seats=seats, client_name="C", client_email="c@example.com", client_timezone="Europe/London",
                status=status, expires_at=expires_at,
            )
        )
        rows.append((staff.id, start, end, status, expires_at, after))

    rows: list = []
    add(ann, at(MONDAY, "10:00"), at(MONDAY, "11:00"), S.CONFIRMED)
    add(ann, at(TUESDAY, "09:00"), at(TUESDAY, "09:30"), S.PENDING, expires_at=NOW + timedelta(hours=1), after=0)
    add(bob, at(MONDAY, "10:00"), at(MONDAY, "11:00"), S.PENDING, expires_at=NOW - timedelta(minutes=1))  # expired hold
    add(bob, at(MONDAY, "11:00"), at(MONDAY, "12:00"), S.CANCELLED)
    add(bob, at(MONDAY, "12:00"), at(MONDAY, "12:30"), S.REJECTED)
    add(bob, at(MONDAY, "08:00"), at(MONDAY, "09:00"), S.CONFIRMED, after=30)  # buffer reaches into 09:00 London = 10:00 Paris
    db.session.commit()
    return business, service, ann, bob


def expected_from_engine(business, service, ann, bob):
    """The engine's answer for the same plain values the fixture wrote."""
    spec = engine.ServiceSpec(id=service.id, duration=60, capacity=1, interval=30, buffer_before=0, buffer_after=15)
    ann_schedule = engine.StaffSchedule(
        ann.id, "Europe/London",
        (engine.WeeklyRule(0, hm("09:00"), hm("12:00")), engine.WeeklyRule(1, hm("13:00"), hm("15:00"))),
        {TUESDAY: (engine.TimeRange(hm("09:00"), hm("10:30")),)},
        (
            engine.Busy(at(MONDAY, "10:00"), at(MONDAY, "11:00"), 0, 15, service.id, 1),
            engine.Busy(at(TUESDAY, "09:00"), at(TUESDAY, "09:30"), 0, 0, service.id, 1),
        ),
    )
    bob_schedule = engine.StaffSchedule(
        bob.id, "Europe/Paris",
        (engine.WeeklyRule(0, hm("10:00"), hm("14:00")), engine.WeeklyRule(1, hm("10:00"), hm("12:00"))),
        {TUESDAY: ()},
        (engine.Busy(at(MONDAY, "08:00"), at(MONDAY, "09:00"), 0, 30, service.id, 1),),
    )
    window = engine.BookingWindow(min_notice_minutes=120, max_advance_days=30)
    return engine.compute_slots(spec, [ann_schedule, bob_schedule], window, NOW, MONDAY, TUESDAY, "Europe/London")


def test_service_equals_engine(seeded):
    business, service, ann, bob = seeded
    per_staff = availability_service.slots_per_staff(business, service, MONDAY, TUESDAY, now=NOW)
    expected = expected_from_engine(business, service, ann, bob)
    assert per_staff == expected
    assert availability_service.available_slots(business, service, MONDAY, TUESDAY, now=NOW) == engine.merge_slots(expected)


def test_service_result_spelled_out(seeded):
    """The same answer written by hand, so a bug shared by both sides would still show."""
    business, service, ann, bob = seeded

    def slots(staff, day, walls):
        return [engine.Slot(at(day, w), at(day, w) + timedelta(hours=1), 1, staff.id) for w in walls]

    assert availability_service.slots_per_staff(business, service, MONDAY, TUESDAY, now=NOW) == {
        # Monday 09:00-12:00 on a 30-min grid: every start's hour plus its 15-min after-buffer
        # touches the 10:00-11:00 booking's [10:00, 11:15), and 11:30 would end past 12:00.
        # Tuesday's override 09:00-10:30: 09:00 is held by the unexpired pending request.
        ann.id: slots(ann, TUESDAY, ["09:30"]),
        # Paris 10:00-14:00 = London 09:00-13:00; the 08:00-09:00 booking's 30-min buffer blocks
        # 09:00; the expired, cancelled and rejected bookings hold nothing; Tuesday is off.
        bob.id: slots(bob, MONDAY, ["09:30", "10:00", "10:30", "11:00", "11:30", "12:00"]),
    }
    assert availability_service.available_slots(business, service, MONDAY, TUESDAY, now=NOW) == (
        slots(bob, MONDAY, ["09:30", "10:00", "10:30", "11:00", "11:30", "12:00"]) + slots(ann, TUESDAY, ["09:30"])
    )


def test_staff_filter(seeded):
    business, service, ann, bob = seeded
    assert availability_service.available_slots(business, service, MONDAY, TUESDAY, now=NOW, staff_id=ann.id) == engine.merge_slots(
        {ann.id: expected_from_engine(business, service, ann, bob)[ann.id]}
    )


# ---------------------------------------------------------------- database constraints


@pytest.fixture
def rows(db, business, factory):
    service = factory.service(business, duration_minutes=60)
    client = Client(business_id=business.id, name="C", email="c@example.com")
    db.session.add(client)
    db.session.commit()
    return business.id, service.id, business.staff[0].id, client.id


def test_client_needs_email_or_phone_in_the_database(db, rows):
    business_id, *_ = rows
    with pytest.raises(IntegrityError):
        db.session.execute(insert(Client).values(business_id=business_id, name="Nobody", email=None, phone=None))
        db.session.flush()
    db.session.rollback()
    db.session.execute(insert(Client).values(business_id=business_id, name="Phone only", email=None, phone="+447700900123"))
    db.session.commit()


def test_booking_needs_email_or_phone_in_the_database(db, rows):
    business_id, service_id, staff_id, client_id = rows
    values = dict(
        reference="FK-AAAAAA", business_id=business_id, service_id=service_id, staff_id=staff_id, client_id=client_id,
        start_at=at(MONDAY, "10:00"), end_at=at(MONDAY, "11:00"), buffer_before_minutes=0, buffer_after_minutes=0,
        seats=1, client_name="C", client_timezone="Europe/London", notes="", status=S.CONFIRMED, sequence=0,
        created_at=NOW, updated_at=NOW,
    )
    with pytest.raises(IntegrityError):
        db.session.execute(insert(Booking).values(**values, client_email=None, client_phone=None))
        db.session.flush()
    db.session.rollback()
    db.session.execute(insert(Booking).values(**values, client_email=None, client_phone="+447700900123"))
    db.session.commit()
