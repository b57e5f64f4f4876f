"""Cached availability: which changes bump which version (in the change's own transaction), and
cached reads that equal computed ones as bookings, the clock and pending requests' expiry move;
the Redis store, its outages, the off switch and the /metrics counters.

The long random interleavings are in ``test_availability_cache_stateful.py``; two processes
sharing a database in ``test_availability_cache_processes.py``.
"""
from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from types import SimpleNamespace

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update

from app import metrics
from app.domain import availability as engine
from app.domain.booking_state import BookingStatus as S
from app.models import Booking, Business, Service, StaffMember
from app.services import availability_cache, availability_service, booking_service, business_service
from app.services.availability_cache import Entry, LocalStore, RedisStore
from app.services.locks import unit_of_work
from tests.services.support import MONDAY, NOW, at, request_for

TUESDAY = MONDAY + timedelta(days=1)
FRIDAY = MONDAY + timedelta(days=4)


def book(business, service, wall, n=1, day=MONDAY, now=NOW, **fields):
    return booking_service.create_booking(business, request_for(service, at(day, wall), n, **fields), now=now).booking


def versions(db, business, *staff) -> tuple[int, ...]:
    """``(business version, staff versions...)`` as committed in the database."""
    db.session.rollback()
    by_id = dict(db.session.execute(select(StaffMember.id, StaffMember.availability_version)).all())
    return (db.session.scalar(select(Business.availability_version).where(Business.id == business.id)), *[by_id[s.id] for s in staff])


def fresh(business) -> Business:
    """The business as a request loads it (its versions read afresh)."""
    return availability_service.load_business_for_availability(business.slug)


def service_of(business, service_id) -> Service:
    return next(s for s in business.services if s.id == service_id)


def cached(business, service, first, last, now):
    b = fresh(business)
    return availability_service.available_slots(b, service_of(b, service.id), first, last, now=now)


def cached_per_staff(business, service, first, last, now):
    b = fresh(business)
    return availability_cache.slots_per_staff(b, service_of(b, service.id), first, last, now=now)


def computed_per_staff(business, service, first, last, now):
    b = fresh(business)
    return availability_service.slots_per_staff(b, service_of(b, service.id), first, last, now=now)


def computed(business, service, first, last, now):
    b = fresh(business)
    return engine.merge_slots(availability_service.slots_per_staff(b, service_of(b, service.id), first, last, now=now))


def hits_and_misses() -> tuple[float, float]:
    return metrics.AVAILABILITY_CACHE_HITS._value.get(), metrics.AVAILABILITY_CACHE_MISSES._value.get()


@pytest.fixture
def config_overrides():
    """The cache on, whatever AVAILABILITY_CACHE the environment sets."""
    return {"AVAILABILITY_CACHE": "on"}


@pytest.fixture
def world(db, business, lesson, staff, owner):
    """Ann (London, the owner) and Bob (Paris) both offer the 60-minute lesson, Mon-Fri 09-17 in
    their zones; Ann has a confirmed booking Monday 10:00, Bob a pending request Monday 11:00
    London time (expiring 24 h after NOW)."""
    bob = business_service.add_staff(business, "Bob", "Europe/Paris")
    business_service.set_weekly_hours(bob, {d: [(time(9), time(17))] for d in range(5)})
    business_service.save_service(business, lesson, staff_ids=[staff.id, bob.id])
    confirmed = book(business, lesson, "10:00", 1, staff_id=staff.id)
    business_service.update_settings(business, requires_approval=True)
    pending = book(business, lesson, "11:00", 2, staff_id=bob.id)
    business_service.update_settings(business, requires_approval=False)
    assert (confirmed.status, pending.status) == (S.CONFIRMED, S.PENDING)
    return SimpleNamespace(business=business, ann=staff, bob=bob, lesson=lesson, confirmed=confirmed, pending=pending, owner=owner)


# ---------------------------------------------------------------- versions


def _edit_staff(w, **fields):
    with unit_of_work():
        for key, value in fields.items():
            setattr(w.bob, key, value)


def _reschedule(w, staff, wall):
    booking_service.reschedule(w.business, w.confirmed.id, w.owner, at(TUESDAY, wall), staff_id=staff.id, now=NOW)


def _bulk_cancel(w, db):
    db.session.execute(update(Booking).where(Booking.id == w.confirmed.id).values(status=S.CANCELLED))
    db.session.commit()


def _rolled_back(w, db):
    with pytest.raises(RuntimeError):
        with unit_of_work([w.ann.id]):
            booking = db.session.get(Booking, w.confirmed.id)
            booking.status = S.CANCELLED
            db.session.flush()
            raise RuntimeError("changed my mind")


CHANGES = {
    # name: (change, which of (business, Ann, Bob) go up: 1, or stay: 0)
    "book with Ann": (lambda w, db: book(w.business, w.lesson, "14:00", 3, staff_id=w.ann.id), (0, 1, 0)),
    "approve Bob's request": (lambda w, db: booking_service.approve(w.business, w.pending.id, w.owner, now=NOW), (0, 0, 1)),
    "reject Bob's request": (lambda w, db: booking_service.reject(w.business, w.pending.id, w.owner, "no", now=NOW), (0, 0, 1)),
    "cancel Ann's booking": (lambda w, db: booking_service.cancel(w.business, w.confirmed.id, w.owner, "ill", now=NOW), (0, 1, 0)),
    "expire Bob's request": (lambda w, db: booking_service.expire_pending(now=NOW + timedelta(days=2)), (0, 0, 1)),
    "reschedule Ann's booking, same staff": (lambda w, db: _reschedule(w, w.ann, "15:00"), (0, 1, 0)),
    "reschedule Ann's booking to Bob": (lambda w, db: _reschedule(w, w.bob, "15:00"), (0, 1, 1)),
    "booking notes edited": (lambda w, db: _edit_booking_notes(w, db), (0, 0, 0)),
    "minimum notice": (lambda w, db: business_service.update_settings(w.business, min_advance_booking_hours=5), (1, 0, 0)),
    "maximum advance": (lambda w, db: business_service.update_settings(w.business, max_advance_booking_days=60), (1, 0, 0)),
    "default buffer": (lambda w, db: business_service.update_settings(w.business, buffer_time_minutes=30), (1, 0, 0)),
    "approval": (lambda w, db: business_service.update_settings(w.business, requires_approval=True), (1, 0, 0)),
    "link off": (lambda w, db: business_service.update_settings(w.business, is_active=False), (1, 0, 0)),
    "business zone": (lambda w, db: business_service.update_profile(w.business, timezone="America/New_York"), (1, 0, 0)),
    "service created": (lambda w, db: business_service.save_service(w.business, None, name="New", duration_minutes=30), (1, 0, 0)),
    "service duration": (lambda w, db: business_service.save_service(w.business, w.lesson, duration_minutes=45), (1, 0, 0)),
    "service deactivated": (lambda w, db: business_service.save_service(w.business, w.lesson, is_active=False), (1, 0, 0)),
    "service staff": (lambda w, db: business_service.save_service(w.business, w.lesson, staff_ids=[w.bob.id]), (1, 0, 0)),
    "staff added": (lambda w, db: business_service.add_staff(w.business, "Cleo"), (1, 0, 0)),
    "staff deactivated": (lambda w, db: _edit_staff(w, is_active=False), (1, 0, 0)),
    "staff zone": (lambda w, db: _edit_staff(w, timezone="Europe/Berlin"), (1, 0, 0)),
    "weekly hours": (lambda w, db: business_service.set_weekly_hours(w.bob, {0: [(time(8), time(12))]}), (1, 0, 0)),
    "date override set": (lambda w, db: business_service.set_override(w.ann, MONDAY, [(time(12), time(13))], now=NOW), (1, 0, 0)),
    "date override deleted": (lambda w, db: _set_and_delete_override(w), (1, 0, 0)),
    "bulk UPDATE of bookings": (_bulk_cancel, (1, 0, 0)),
    "rolled back": (_rolled_back, (0, 0, 0)),
}


def _edit_booking_notes(w, db):
    with unit_of_work([w.ann.id]):
        db.session.get(Booking, w.confirmed.id).notes = "Bring goggles"


def _set_and_delete_override(w):
    override = business_service.set_override(w.ann, MONDAY, [], now=NOW)
    business_service.delete_override(w.ann, override.id)


@pytest.mark.parametrize("name", list(CHANGES))
def test_each_change_bumps_the_versions_it_should(world, db, name):
    change, deltas = CHANGES[name]
    before = versions(db, world.business, world.ann, world.bob)
    change(world, db)
    after = versions(db, world.business, world.ann, world.bob)
    assert tuple(int(a > b) for a, b in zip(after, before)) == deltas
    assert all(a >= b for a, b in zip(after, before))


def test_another_business_s_changes_leave_this_one_alone(world, db, factory):
    other = factory.owner(business_name="Other Pool")
    before = versions(db, world.business, world.ann, world.bob)
    business_service.update_settings(other.business, min_advance_booking_hours=0)
    business_service.set_weekly_hours(other.business.staff[0], {0: [(time(7), time(8))]})
    assert versions(db, world.business, world.ann, world.bob) == before


def test_a_bumped_version_reads_back_inside_its_own_transaction(world, db):
    with unit_of_work([world.ann.id]):
        ann = db.session.get(StaffMember, world.ann.id)
        version = ann.availability_version
        db.session.get(Booking, world.confirmed.id).status = S.CANCELLED
        db.session.flush()
        assert ann.availability_version == version + 1


# ---------------------------------------------------------------- cached reads


def test_cached_reads_equal_computed_ones_and_come_from_the_cache(world, app):
    h0, m0 = hits_and_misses()
    first = cached(world.business, world.lesson, MONDAY, FRIDAY, NOW)
    h1, m1 = hits_and_misses()
    assert first == computed(world.business, world.lesson, MONDAY, FRIDAY, NOW)
    assert (h1 - h0, m1 - m0) == (0, 10)  # 2 staff x 5 dates, all computed
    assert cached(world.business, world.lesson, MONDAY, FRIDAY, NOW) == first
    h2, m2 = hits_and_misses()
    assert (h2 - h1, m2 - m1) == (10, 0)
    # Ann's 10:00 is booked; Bob's 11:00 (London) is held by the request; both offer the rest.
    monday = [s for s in first if s.start.date() == MONDAY]
    assert [(s.start, s.staff_id) for s in monday] == [
        (at(MONDAY, w), world.ann.id if w not in ("08:00", "10:00") else world.bob.id)
        for w in ["08:00", "09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]
    ]


def test_a_booking_is_seen_by_the_next_read(world):
    before = cached(world.business, world.lesson, MONDAY, MONDAY, NOW)
    assert at(MONDAY, "14:00") in [s.start for s in before]
    book(world.business, world.lesson, "14:00", 3, staff_id=world.ann.id)
    book(world.business, world.lesson, "14:00", 4, staff_id=world.bob.id)
    after = cached(world.business, world.lesson, MONDAY, MONDAY, NOW)
    assert after == computed(world.business, world.lesson, MONDAY, MONDAY, NOW)
    assert [s.start for s in after] == [s.start for s in before if s.start != at(MONDAY, "14:00")]


def test_a_cancelled_booking_frees_its_slot_at_once(world):
    cached(world.business, world.lesson, MONDAY, MONDAY, NOW)
    booking_service.cancel(world.business, world.confirmed.id, world.owner, "ill", now=NOW)
    after = cached(world.business, world.lesson, MONDAY, MONDAY, NOW)
    assert after == computed(world.business, world.lesson, MONDAY, MONDAY, NOW)
    assert next(s for s in after if s.start == at(MONDAY, "10:00")).staff_id == world.ann.id


def test_slots_leave_by_minimum_notice_on_time(world):
    """Cached at 06:00 on Monday (2 h notice); read later, each slot leaves exactly when it
    comes within the notice, with no change to anything."""
    first_read = at(MONDAY, "06:00")
    cached(world.business, world.lesson, MONDAY, MONDAY, first_read)
    h0, _ = hits_and_misses()
    for now in [at(MONDAY, "07:00"), at(MONDAY, "07:59"), at(MONDAY, "08:00"), at(MONDAY, "08:00") + timedelta(microseconds=1), at(MONDAY, "12:30")]:
        got = cached(world.business, world.lesson, MONDAY, MONDAY, now)
        assert got == computed(world.business, world.lesson, MONDAY, MONDAY, now)
        assert got and all(s.start >= now + timedelta(hours=2) for s in got)
    assert hits_and_misses()[0] - h0 == 10  # every later read was served from the cache


def test_a_pending_hold_ends_at_its_expiry_without_the_job(world):
    """Bob's request holds Monday 11:00 until its ``expires_at``; no job runs, no version moves."""
    expiry = world.pending.expires_at
    bob_11 = (world.bob.id, at(MONDAY, "11:00"))
    for now, held in [(expiry - timedelta(hours=1), True), (expiry - timedelta(microseconds=1), True), (expiry, False), (expiry + timedelta(hours=1), False)]:
        got = cached_per_staff(world.business, world.lesson, MONDAY, MONDAY, now)
        assert got == computed_per_staff(world.business, world.lesson, MONDAY, MONDAY, now)
        starts = {(staff_id, s.start) for staff_id, slots in got.items() for s in slots}
        assert (bob_11 not in starts) is held
        assert (world.ann.id, at(MONDAY, "11:00")) in starts


def test_an_entry_computed_later_than_the_read_is_not_used(world):
    later_read = cached(world.business, world.lesson, MONDAY, MONDAY, at(MONDAY, "12:00"))
    earlier = at(MONDAY, "06:00")
    got = cached(world.business, world.lesson, MONDAY, MONDAY, earlier)
    assert got == computed(world.business, world.lesson, MONDAY, MONDAY, earlier)
    assert len(got) > len(later_read)


def test_changes_not_committed_are_not_cached(world, db, app):
    store = availability_cache.store()
    with unit_of_work([world.ann.id]):
        business = fresh(world.business)
        db.session.get(Booking, world.confirmed.id).status = S.CANCELLED
        db.session.flush()
        inside = availability_service.available_slots(business, service_of(business, world.lesson.id), MONDAY, MONDAY, now=NOW)
        assert at(MONDAY, "10:00") in [s.start for s in inside if s.staff_id == world.ann.id]
        db.session.rollback()
    assert isinstance(store, LocalStore) and not store._entries
    assert cached(world.business, world.lesson, MONDAY, MONDAY, NOW) == computed(world.business, world.lesson, MONDAY, MONDAY, NOW)


def test_dates_outside_the_booking_window_are_neither_looked_up_nor_computed(world):
    h0, m0 = hits_and_misses()
    far = NOW.date() + timedelta(days=40)  # past the 30-day advance
    assert cached(world.business, world.lesson, far, far + timedelta(days=6), NOW) == []
    assert hits_and_misses() == (h0, m0)


@pytest.mark.parametrize("config_overrides", [{"AVAILABILITY_CACHE": "off"}])
def test_the_off_switch_computes_every_read(world, app):
    h0, m0 = hits_and_misses()
    assert cached(world.business, world.lesson, MONDAY, FRIDAY, NOW) == computed(world.business, world.lesson, MONDAY, FRIDAY, NOW)
    assert hits_and_misses() == (h0, m0)
    assert "availability_cache" not in app.extensions


def test_local_store_keeps_the_most_recently_used():
    store = LocalStore(max_entries=2)
    entry = Entry(1, (), NOW, None)
    store.set_many([("a", entry), ("b", entry)])
    assert store.get_many(["a"]) == [entry]  # "a" is now the most recent
    store.set_many([("c", entry)])
    assert store.get_many(["a", "b", "c"]) == [entry, None, entry]


def test_entries_round_trip_through_their_encoding():
    slots = (
        engine.Slot(datetime(2027, 3, 28, 0, 30, tzinfo=engine.UTC), datetime(2027, 3, 28, 1, 30, tzinfo=engine.UTC), 3, 7),
        engine.Slot(datetime(2027, 3, 28, 1, 30, 15, tzinfo=engine.UTC), datetime(2027, 3, 28, 2, 0, tzinfo=engine.UTC), 1, 7),
    )
    entry = Entry(7, slots, NOW + timedelta(microseconds=123), NOW + timedelta(hours=5, microseconds=9))
    assert availability_cache.decode(availability_cache.encode(entry)) == entry
    assert availability_cache.decode(availability_cache.encode(Entry(7, (), NOW, None))) == Entry(7, (), NOW, None)
    odd = Entry(7, (engine.Slot(NOW + timedelta(microseconds=1), NOW + timedelta(hours=1), 1, 7),), NOW, None)
    assert availability_cache.encode(odd) is None
    assert availability_cache.decode(b"not json") is None and availability_cache.decode(b"[1]") is None


# ---------------------------------------------------------------- Redis


def test_redis_store_serves_every_process_the_same_entries(world, app, redis_server):
    app.config["REDIS_URL"] = redis_server.url
    first = cached(world.business, world.lesson, MONDAY, FRIDAY, NOW)
    assert isinstance(availability_cache.store(), RedisStore)
    keys = sorted(k.decode() for k in redis_server.client().keys("flowkey:availability:*"))
    assert len(keys) == 10
    assert all(0 < redis_server.client().ttl(k) <= availability_cache.TTL_SECONDS for k in keys)
    app.extensions.pop("availability_cache")  # another process: a client of its own, nothing in memory
    h0, _ = hits_and_misses()
    assert cached(world.business, world.lesson, MONDAY, FRIDAY, NOW) == first == computed(world.business, world.lesson, MONDAY, FRIDAY, NOW)
    assert hits_and_misses()[0] - h0 == 10
    book(world.business, world.lesson, "14:00", 3, staff_id=world.ann.id)
    assert cached(world.business, world.lesson, MONDAY, FRIDAY, NOW) == computed(world.business, world.lesson, MONDAY, FRIDAY, NOW)


def test_redis_down_means_computed_reads_logged_once(world, app, redis_server, caplog, monkeypatch):
    app.config["REDIS_URL"] = redis_server.url
    expected = computed(world.business, world.lesson, MONDAY, FRIDAY, NOW)
    assert cached(world.business, world.lesson, MONDAY, FRIDAY, NOW) == expected
    redis_server.stop()
    monkeypatch.setattr(availability_cache, "REDIS_RETRY_SECONDS", 0)  # ask Redis on every read
    caplog.set_level(logging.INFO, logger=availability_cache.__name__)
    for _ in range(3):
        assert cached(world.business, world.lesson, MONDAY, FRIDAY, NOW) == expected
    booking_service.cancel(world.business, world.confirmed.id, world.owner, "ill", now=NOW)
    expected = computed(world.business, world.lesson, MONDAY, FRIDAY, NOW)
    assert cached(world.business, world.lesson, MONDAY, FRIDAY, NOW) == expected

    redis_server.start()  # back, empty
    h0, m0 = hits_and_misses()
    assert cached(world.business, world.lesson, MONDAY, FRIDAY, NOW) == expected
    assert cached(world.business, world.lesson, MONDAY, FRIDAY, NOW) == expected
    assert hits_and_misses() == (h0 + 10, m0 + 10)
    mine = [r for r in caplog.records if r.name == availability_cache.__name__]
    assert [(r.levelno, r.getMessage().split(" (")[0]) for r in mine] == [
        (logging.WARNING, "availability cache: Redis failed"), (logging.INFO, "availability cache: Redis answers again"),
    ]


# ---------------------------------------------------------------- through the web


def _api(client, business, service, first, last, tz=None):
    query = {"service_id": service.id, "start_date": str(first), "end_date": str(last), **({"tz": tz} if tz else {})}
    return client.get(f"/api/booking/public/{business.slug}/availability/", query_string=query)


def test_web_answers_are_byte_identical_with_and_without_the_cache(world, app, client):
    today = datetime.now(NOW.tzinfo).date()
    requests = [
        lambda: _api(client, world.business, world.lesson, today, today + timedelta(days=6)),
        lambda: _api(client, world.business, world.lesson, today, today + timedelta(days=30), tz="Asia/Tokyo"),
        lambda: client.get(f"/book/{world.business.slug}/{world.lesson.id}"),
        lambda: client.get(f"/book/{world.business.slug}/{world.lesson.id}", headers={"HX-Request": "true"}),
        lambda: client.get(f"/book/{world.business.slug}/{world.lesson.id}?month={(today + timedelta(days=20)):%Y-%m}&tz=America/New_York"),
    ]

    def answers():
        out = []
        for request in requests:
            response = request()
            assert response.status_code == 200
            body = response.get_data()
            # The page carries per-request values (CSP nonce): compare the rest.
            out.append(_without_nonces(body))
        return out

    app.config["AVAILABILITY_CACHE"] = "off"
    uncached = answers()
    app.config["AVAILABILITY_CACHE"] = "on"
    h0, _ = hits_and_misses()
    assert answers() == uncached  # computed into the cache
    assert answers() == uncached  # served from it
    assert hits_and_misses()[0] > h0


def _without_nonces(body: bytes) -> bytes:
    import re

    return re.sub(rb'nonce="[^"]*"', b'nonce=""', body)


@pytest.mark.parametrize("config_overrides", [{"METRICS_ENABLED": True, "AVAILABILITY_CACHE": "on"}])
def test_metrics_show_cache_hits_and_misses(world, client):
    def scrape():
        text = client.get("/metrics").get_data(as_text=True)
        return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples if s.name.startswith("flowkey_availability_cache") and s.name.endswith("_total")}

    today = datetime.now(NOW.tzinfo).date()
    _api(client, world.business, world.lesson, today, today + timedelta(days=6))
    before = scrape()
    assert _api(client, world.business, world.lesson, today, today + timedelta(days=6)).status_code == 200
    after = scrape()
    assert set(after) == {"flowkey_availability_cache_hits_total", "flowkey_availability_cache_misses_total"}
    assert after["flowkey_availability_cache_hits_total"] - before["flowkey_availability_cache_hits_total"] == 14  # 2 staff x 7 dates
    assert after["flowkey_availability_cache_misses_total"] == before["flowkey_availability_cache_misses_total"]
