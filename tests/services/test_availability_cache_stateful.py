"""Random interleavings of every change that moves availability with cached reads: each cached
read equals the uncached computation at the same instant, whole lists, per staff member and merged.

A ``hypothesis`` state machine (``RuleBasedStateMachine``) books, approves, rejects, cancels,
expires (the job) and reschedules bookings, edits weekly hours, date overrides, settings (notice,
advance, buffers, approval, expiry), services (duration, buffers, staff) and staff members (zone,
active), and moves a simulated clock forward (past pending requests' ``expires_at`` too, without
the expiry job). After every step it reads the next days of both services; rules read other ranges.
On SQLite the cache is this process's store; on PostgreSQL it is a Redis server of the test's own.
Examples follow each other without emptying the store: the tables are emptied and ids start again
from 1 with versions at 0, so only the key's business ``created_at`` keeps them apart, as it must.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import select

from app import metrics
from app.domain import availability as engine
from app.domain.booking_state import BookingStatus as S
from app.extensions import db
from app.models import Booking, Service, StaffMember
from app.services import availability_cache, availability_service, booking_service, business_service
from app.services.booking_service import BookingRequest
from app.services.errors import ServiceError
from app.services.locks import unit_of_work
from tests.conftest import _truncate_all
from tests.fakes.redis_server import RedisServer, redis_binary

UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")
START = datetime(2027, 3, 22, 6, 0, tzinfo=UTC)  # a Monday, a week before the clocks go forward
ZONES = [None, "Europe/Paris", "America/New_York"]
EXAMPLES = 20
STEPS = 30

pick = st.integers(min_value=0, max_value=1_000)
day_offset = st.integers(min_value=0, max_value=15)
near_day = st.integers(min_value=0, max_value=4)  # the days every step reads


class CacheMachine(RuleBasedStateMachine):
    """One business (London): Ann (the owner, London) and Bob (Paris) offer a 60-minute lesson
    (the business's after-buffer) and a 45-minute class of 3 seats every 30 minutes."""

    def __init__(self):
        super().__init__()
        self.db = db
        db.session.remove()
        _truncate_all()
        self.now = START
        self.n = 0
        owner = business_service.sign_up(
            email="owner@example.com", password="correct horse battery", name="Ann", business_name="Pool", timezone="Europe/London"
        )
        business = owner.business
        # Requests first: they hold time until an expiry that no event announces.
        business_service.update_settings(
            business, requires_approval=True, min_advance_booking_hours=2, max_advance_booking_days=14,
            booking_expiry_hours=3, buffer_time_minutes=15,
        )
        bob = business_service.add_staff(business, "Bob", "Europe/Paris")
        business_service.set_weekly_hours(bob, {d: [(time(10), time(13)), (time(14), time(18))] for d in range(6)})
        staff_ids = [s.id for s in business.staff]
        business_service.save_service(business, None, name="Lesson", duration_minutes=60, staff_ids=staff_ids)
        business_service.save_service(
            business, None, name="Class", duration_minutes=45, capacity=3, slot_interval_minutes=30,
            buffer_before_minutes=0, buffer_after_minutes=0, staff_ids=staff_ids,
        )
        self.slug, self.business_id = business.slug, business.id
        self.service_ids = [s.id for s in business.services]
        self.staff_ids = staff_ids

    # ------------------------------------------------------------ helpers

    def business(self):
        return availability_service.load_business_for_availability(self.slug)

    def staff(self, i: int) -> StaffMember:
        return self.db.session.get(StaffMember, self.staff_ids[i % len(self.staff_ids)])

    def service(self, business, i: int) -> Service:
        return next(s for s in business.services if s.id == self.service_ids[i % len(self.service_ids)])

    def bookings(self, *statuses) -> list[Booking]:
        return list(self.db.session.scalars(select(Booking).where(Booking.status.in_(statuses)).order_by(Booking.id)))

    def local_date(self, offset: int):
        return (self.now.astimezone(LONDON) + timedelta(days=offset)).date()

    def check(self, service_index: int, first, last) -> None:
        """A cached read of ``first..last`` equals the uncached one, per staff member and merged."""
        business = self.business()
        service = self.service(business, service_index)
        cached = availability_cache.slots_per_staff(business, service, first, last, self.now)
        merged = availability_service.available_slots(business, service, first, last, now=self.now)
        self.db.session.commit()  # a request ends here
        # The public API's read: the business's snapshot, checked against its versions.
        current = availability_cache.current(self.slug)
        snapshot = availability_cache.client_slots_per_staff(
            current, current.config.service(self.service_ids[service_index % len(self.service_ids)]), first, last, self.now
        )
        self.db.session.commit()
        business = self.business()
        service = self.service(business, service_index)
        expected = availability_service.slots_per_staff(business, service, first, last, now=self.now)
        self.db.session.commit()
        assert cached == expected
        assert snapshot == expected
        assert merged == engine.merge_slots(expected)

    def attempt(self, change) -> None:
        """Run a change the state may refuse (a taken slot, an illegal move): refused is fine."""
        try:
            change()
        except ServiceError:
            self.db.session.rollback()

    # ------------------------------------------------------------ bookings

    @initialize(bookings=st.lists(st.tuples(pick, near_day, pick), min_size=1, max_size=4))
    def first_bookings(self, bookings):
        for service, offset, choice in bookings:
            self.book(service, offset, choice, 1, False)

    @rule(service=pick, offset=near_day | day_offset, choice=pick, seats=st.integers(1, 2), with_staff=st.booleans())
    def book(self, service, offset, choice, seats, with_staff):
        """Book a free slot of the first day from ``offset`` on that has one."""
        business = self.business()
        svc = self.service(business, service)
        for day in (self.local_date(offset + n) for n in range(7)):
            slots = engine.merge_slots(availability_service.slots_per_staff(business, svc, day, day, now=self.now))
            if slots:
                break
        else:
            return
        slot = slots[choice % len(slots)]
        self.n += 1
        request = BookingRequest(
            service_id=svc.id, start=slot.start, client_name=f"Client {self.n}", client_email=f"c{self.n}@example.com",
            client_phone=None, client_timezone="Europe/London", seats=min(seats, slot.available_spots),
            staff_id=slot.staff_id if with_staff else None,
        )
        self.attempt(lambda: booking_service.create_booking(business, request, now=self.now))

    @precondition(lambda self: self.bookings(S.PENDING))
    @rule(choice=pick)
    def approve(self, choice):
        pending = self.bookings(S.PENDING)
        self.attempt(lambda: booking_service.approve(self.business(), pending[choice % len(pending)].id, None, now=self.now))

    @precondition(lambda self: self.bookings(S.PENDING))
    @rule(choice=pick)
    def reject(self, choice):
        pending = self.bookings(S.PENDING)
        self.attempt(lambda: booking_service.reject(self.business(), pending[choice % len(pending)].id, None, "full", now=self.now))

    @precondition(lambda self: self.bookings(S.PENDING, S.CONFIRMED))
    @rule(choice=pick)
    def cancel(self, choice):
        live = self.bookings(S.PENDING, S.CONFIRMED)
        self.attempt(lambda: booking_service.cancel(self.business(), live[choice % len(live)].id, None, "ill", now=self.now))

    @rule()
    def expiry_job(self):
        booking_service.expire_pending(now=self.now)

    @precondition(lambda self: self.bookings(S.PENDING, S.CONFIRMED))
    @rule(choice=pick, staff=pick, offset=near_day | day_offset, slot_choice=pick)
    def reschedule(self, choice, staff, offset, slot_choice):
        live = self.bookings(S.PENDING, S.CONFIRMED)
        booking = live[choice % len(live)]
        business = self.business()
        target = self.staff_ids[staff % len(self.staff_ids)]
        try:
            free = booking_service.reschedule_slots(business, booking, self.local_date(offset), staff_id=target, now=self.now)
        except ServiceError:
            self.db.session.rollback()
            return
        slots = free.get(target, [])
        if slots:
            start = slots[slot_choice % len(slots)].start
            self.attempt(lambda: booking_service.reschedule(business, booking.id, None, start, staff_id=target, now=self.now))

    # ------------------------------------------------------------ configuration

    @rule(staff=pick, days=st.dictionaries(st.integers(0, 6), st.tuples(st.integers(6, 12), st.integers(2, 9)), max_size=7))
    def weekly_hours(self, staff, days):
        hours = {d: [(time(h), time(h + n))] for d, (h, n) in days.items()}
        business_service.set_weekly_hours(self.staff(staff), hours)

    @rule(staff=pick, offset=near_day | day_offset, hours=st.none() | st.tuples(st.integers(6, 14), st.integers(1, 6)))
    def date_override(self, staff, offset, hours):
        intervals = [] if hours is None else [(time(hours[0]), time(hours[0] + hours[1]))]
        business_service.set_override(self.staff(staff), self.local_date(offset), intervals, now=self.now)

    @rule(staff=pick, choice=pick)
    def delete_override(self, staff, choice):
        member = self.staff(staff)
        if member.overrides:
            business_service.delete_override(member, member.overrides[choice % len(member.overrides)].id)

    @rule(
        notice=st.sampled_from([0, 1, 2, 6, 24]), advance=st.sampled_from([3, 7, 14, 30]),
        buffer=st.sampled_from([0, 15, 30]), approval=st.booleans(), expiry=st.sampled_from([1, 3, 24]),
    )
    def booking_settings(self, notice, advance, buffer, approval, expiry):
        business_service.update_settings(
            self.business(), min_advance_booking_hours=notice, max_advance_booking_days=advance,
            buffer_time_minutes=buffer, requires_approval=approval, booking_expiry_hours=expiry,
        )

    @rule(
        service=pick, duration=st.sampled_from([30, 45, 60, 90]), after=st.sampled_from([None, 0, 10]),
        staff=st.sets(st.integers(0, 1)), active=st.booleans(),
    )
    def edit_service(self, service, duration, after, staff, active):
        business = self.business()
        business_service.save_service(
            business, self.service(business, service), staff_ids=[self.staff_ids[i] for i in sorted(staff)],
            duration_minutes=duration, buffer_after_minutes=after, is_active=active,
        )

    @rule(staff=pick, zone=st.sampled_from(ZONES), active=st.booleans())
    def edit_staff(self, staff, zone, active):
        member = self.staff(staff)
        with unit_of_work():
            member.timezone = zone
            member.is_active = active

    # ------------------------------------------------------------ time

    @rule(minutes=st.integers(1, 24 * 60))
    def time_passes(self, minutes):
        self.now += timedelta(minutes=minutes)

    @precondition(lambda self: any(b.expires_at > self.now for b in self.bookings(S.PENDING)))
    @rule(nudge=st.sampled_from([-1, 0, 1]))
    def time_reaches_an_expiry(self, nudge):
        """The clock lands on (or a microsecond around) the next pending request's expiry; the
        expiry job does not run."""
        expiry = min(b.expires_at for b in self.bookings(S.PENDING) if b.expires_at > self.now)
        self.now = max(self.now, expiry + timedelta(microseconds=nudge))

    # ------------------------------------------------------------ reads

    @rule(service=pick, offset=day_offset, length=st.integers(1, 7))
    def read(self, service, offset, length):
        self.check(service, self.local_date(offset), self.local_date(offset + length - 1))

    @invariant()
    def the_next_days_read_the_same_cached_or_not(self):
        for service in range(len(self.service_ids)):
            self.check(service, self.local_date(0), self.local_date(4))


@pytest.fixture
def config_overrides():
    """The cache on, whatever AVAILABILITY_CACHE the environment sets."""
    return {"AVAILABILITY_CACHE": "on"}


@pytest.fixture
def cache_store(database_url, app):
    """SQLite: this process's store; PostgreSQL: a Redis server of the test's own."""
    if not database_url.startswith("postgresql"):
        yield "local"
        return
    if redis_binary() is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer().start()
    app.config["REDIS_URL"] = server.url
    yield "redis"
    server.stop()


def test_cached_reads_always_equal_computed_reads(app, db, cache_store):
    hits, misses = metrics.AVAILABILITY_CACHE_HITS._value.get(), metrics.AVAILABILITY_CACHE_MISSES._value.get()
    run_state_machine_as_test(
        CacheMachine,
        settings=settings(
            max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    assert isinstance(availability_cache.store(), availability_cache.RedisStore if cache_store == "redis" else availability_cache.LocalStore)
    # Not vacuous: the reads were served from the cache, and computed into it, many times.
    assert metrics.AVAILABILITY_CACHE_HITS._value.get() - hits > 1000
    assert metrics.AVAILABILITY_CACHE_MISSES._value.get() - misses > 100
