"""The business snapshot behind clients' availability reads (``availability_cache.current``): a
warm read builds no ORM objects, yet any change to the business, its settings, services, staff,
hours or overrides shows in the very next read, and a business deleted and made again with the
same slug and id never sees its predecessor's snapshot."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, text

from app.domain import availability as engine
from app.models import BookingSettings, Business, Service, StaffMember, WeeklyHours
from app.services import availability_cache, availability_service, business_service
from tests.services.support import MONDAY, NOW, at

TUESDAY = MONDAY + timedelta(days=1)


@pytest.fixture
def config_overrides():
    """The cache on, whatever AVAILABILITY_CACHE the environment sets."""
    return {"AVAILABILITY_CACHE": "on"}


@pytest.fixture
def shop(db, business, lesson, staff):
    """Ann (the owner) and Bob (Paris) offer the 60-minute lesson, Mon-Fri 09-17 in their zones;
    the snapshot has been read once, so the next read is a warm one."""
    bob = business_service.add_staff(business, "Bob", "Europe/Paris")
    business_service.set_weekly_hours(bob, {d: [(time(9), time(17))] for d in range(5)})
    business_service.save_service(business, lesson, staff_ids=[staff.id, bob.id])
    db.session.commit()
    read(business.slug)
    return business, lesson, staff, bob


def read(slug: str, service_id: int | None = None, first: date = MONDAY, last: date = TUESDAY):
    """``(current, slots per staff member)`` as the public API reads them, the request ended."""
    from app.extensions import db

    current = availability_cache.current(slug)
    slots = None
    if current is not None and service_id is not None:
        slots = availability_cache.client_slots_per_staff(current, current.config.service(service_id), first, last, NOW)
    db.session.commit()
    return current, slots


def computed(slug: str, service_id: int, first: date = MONDAY, last: date = TUESDAY):
    """The same read from freshly loaded ORM rows, no cache, no snapshot."""
    from app.extensions import db

    business = availability_service.load_business_for_availability(slug)
    service = next(s for s in business.services if s.id == service_id)
    result = availability_service.slots_per_staff(business, service, first, last, now=NOW)
    config = availability_service.config_of(business)
    db.session.commit()
    return config, result


@pytest.fixture
def statements(db):
    """The SQL statements run while the fixture's list is being recorded (BEGIN etc. left out)."""
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    yield seen
    event.remove(db.engine, "before_cursor_execute", listener)


def test_a_warm_read_is_one_query_and_reuses_the_snapshot(shop, statements):
    business, lesson, staff, bob = shop
    slug, service_id = business.slug, lesson.id
    first, first_slots = read(slug, service_id)
    statements.clear()
    again, slots = read(slug, service_id)
    assert len(statements) == 1 and "FROM business" in statements[0], statements
    assert again.config is first.config
    assert slots == first_slots == computed(slug, service_id)[1]
    assert set(slots) == {staff.id, bob.id} and all(slots.values())


def _set_hours(w):
    business_service.set_weekly_hours(w.bob, {d: [(time(12), time(14))] for d in range(5)})


def _override(w):
    business_service.set_override(w.staff, MONDAY, [(time(13), time(15))], now=NOW)


def _bob_inactive(w):
    w.bob.is_active = False
    w.db.session.commit()


def _bob_zone(w):
    w.bob.timezone = "America/New_York"
    w.db.session.commit()


CHANGES = {
    "service name": lambda w: business_service.save_service(w.business, w.lesson, name="Crawl clinic"),
    "service price": lambda w: business_service.save_service(w.business, w.lesson, price=Decimal("72.50")),
    "service duration": lambda w: business_service.save_service(w.business, w.lesson, duration_minutes=90),
    "service buffers": lambda w: business_service.save_service(w.business, w.lesson, buffer_after_minutes=30),
    "service staff": lambda w: business_service.save_service(w.business, w.lesson, staff_ids=[w.staff.id]),
    "service not bookable": lambda w: business_service.save_service(w.business, w.lesson, is_bookable=False),
    "staff member inactive": _bob_inactive,
    "staff member zone": _bob_zone,
    "staff member added": lambda w: business_service.add_staff(w.business, "Cleo"),
    "weekly hours": _set_hours,
    "date override": _override,
    "minimum notice": lambda w: business_service.update_settings(w.business, min_advance_booking_hours=30),
    "maximum advance": lambda w: business_service.update_settings(w.business, max_advance_booking_days=6),
    "default buffer": lambda w: business_service.update_settings(w.business, buffer_time_minutes=45),
    "link off": lambda w: business_service.update_settings(w.business, is_active=False),
    "business name": lambda w: business_service.update_profile(w.business, name="Deep End"),
    "business zone": lambda w: business_service.update_profile(w.business, timezone="America/New_York"),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_every_change_shows_in_the_next_read(shop, db, name):
    business, lesson, staff, bob = shop
    slug = business.slug
    before, before_slots = read(slug, lesson.id)
    w = type("World", (), dict(db=db, business=business, lesson=lesson, staff=staff, bob=bob))
    CHANGES[name](w)
    db.session.commit()

    after, after_slots = read(slug, lesson.id)
    expected_config, expected_slots = computed(slug, lesson.id)
    assert after.config.availability_version > before.config.availability_version
    assert after.config == expected_config != before.config
    assert after_slots == expected_slots
    # A later warm read keeps the new snapshot.
    assert read(slug, lesson.id)[0].config is after.config


def test_changed_slots_show_at_once_for_the_changes_that_move_them(shop, db):
    """Not only equal to a computation: hours and duration visibly change what a client sees."""
    business, lesson, staff, bob = shop
    _, before = read(business.slug, lesson.id, MONDAY, MONDAY)
    business_service.set_weekly_hours(bob, {d: [(time(12), time(14))] for d in range(5)})
    business_service.save_service(business, lesson, duration_minutes=120)
    _, after = read(business.slug, lesson.id, MONDAY, MONDAY)
    # Bob's 12:00-14:00 Paris is 11:00-13:00 London: one two-hour slot.
    assert [(s.start, s.end) for s in after[bob.id]] == [(at(MONDAY, "11:00"), at(MONDAY, "13:00"))]
    assert [s.start for s in after[staff.id]] == [at(MONDAY, w) for w in ("09:00", "11:00", "13:00", "15:00")]
    assert before[bob.id] != after[bob.id]


def test_a_booking_moves_staff_versions_not_the_snapshot(shop, db, factory):
    business, lesson, staff, bob = shop
    before, before_slots = read(business.slug, lesson.id, MONDAY, MONDAY)
    factory.booking(business, lesson, at(MONDAY, "10:00"), staff_id=bob.id, now=NOW)
    after, after_slots = read(business.slug, lesson.id, MONDAY, MONDAY)
    assert after.config is before.config
    assert after.staff_versions[bob.id] == before.staff_versions[bob.id] + 1
    assert after.staff_versions[staff.id] == before.staff_versions[staff.id]
    assert at(MONDAY, "10:00") in [s.start for s in before_slots[bob.id]]
    assert at(MONDAY, "10:00") not in [s.start for s in after_slots[bob.id]]
    assert after_slots == computed(business.slug, lesson.id, MONDAY, MONDAY)[1]


def test_a_deleted_business_is_gone_at_once(shop, db):
    business, lesson, staff, bob = shop
    slug = business.slug
    db.session.delete(business)
    db.session.commit()
    assert read(slug)[0] is None


def test_a_business_made_again_with_the_same_slug_and_id_does_not_see_the_old_snapshot(shop, db):
    """Deleted and made again (a restored database, say): same slug, same id, even the same
    version number; only ``created_at`` tells them apart, and it must."""
    business, lesson, staff, bob = shop
    slug, business_id, service_id = business.slug, business.id, lesson.id
    old, old_slots = read(slug, service_id, MONDAY, MONDAY)
    db.session.delete(business)
    db.session.commit()

    again = Business(id=business_id, name="Other Pool", slug=slug, timezone="Asia/Tokyo")
    again.settings = BookingSettings(buffer_time_minutes=0, max_advance_booking_days=60, min_advance_booking_hours=0)
    member = StaffMember(business=again, display_name="Dee")
    member.weekly_hours = [WeeklyHours(weekday=d, start_time=time(6), end_time=time(8)) for d in range(7)]
    again.services = [Service(id=service_id, name="Private lesson", duration_minutes=60, staff=[member])]
    db.session.add(again)
    db.session.commit()
    # Even the version number the old snapshot was taken at (raw SQL: no version bump).
    db.session.execute(
        text("UPDATE business SET availability_version = :v WHERE id = :id"),
        {"v": old.config.availability_version, "id": business_id},
    )
    db.session.commit()

    new, new_slots = read(slug, service_id, MONDAY, MONDAY)
    expected_config, expected_slots = computed(slug, service_id, MONDAY, MONDAY)
    assert (new.config.id, new.config.availability_version) == (old.config.id, old.config.availability_version)
    assert new.config == expected_config
    assert new.config.timezone == "Asia/Tokyo" and new.config.name == "Other Pool"
    assert new_slots == expected_slots
    # Dee's 06:00 and 07:00 in Tokyo on Monday are Sunday 21:00 and 22:00 UTC.
    sunday = MONDAY - timedelta(days=1)
    assert [s.start for s in new_slots[member.id]] == [datetime.combine(sunday, time(h), engine.UTC) for h in (21, 22)]
    assert new_slots != old_slots
