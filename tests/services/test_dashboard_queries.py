"""What the everyday dashboard reads and writes: the queue (soonest to expire first, per staff
member), client search and history, a decided request's notification marked read, date
overrides for a range of days (never in the past), where a service happens, and the Jobs page's
pages and "not needed" reminders."""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from app.domain.booking_events import BookingEvent as T
from app.models import Booking, DateOverride, Membership, Role, StaffMember, User
from app.models.business import LocationKind, PhoneCaller
from app.models.notification import BookingNotification
from app.models.outbox import JobStatus, OutboxJob
from app.services import booking_queries, booking_service, business_service, job_admin, notifications, outbox
from app.services.booking_queries import BookingFilter
from app.services.errors import ValidationFailed
from tests.services.support import MONDAY, NOW, at, later, request_for


def book(business, service, wall="10:00", n=1, day=MONDAY, now=NOW, **fields):
    return booking_service.create_booking(business, request_for(service, at(day, wall), n, **fields), now=now).booking


@pytest.fixture
def approval(business):
    business_service.update_settings(business, requires_approval=True, booking_expiry_hours=24)
    return business


@pytest.fixture
def ben(db, business, lesson):
    """A second staff member with a login (role staff) who offers the lesson, Mon-Fri 09-17."""
    user = User(email="ben@example.com", name="Ben")
    user.set_password("correct horse battery")
    db.session.add(user)
    db.session.add(Membership(user=user, business=business, role=Role.STAFF))
    member = StaffMember(business=business, user=user, display_name="Ben")
    db.session.add(member)
    db.session.commit()
    business_service.set_weekly_hours(member, {d: [(time(9), time(17))] for d in range(5)})
    business_service.save_service(business, lesson, staff_ids=[business.staff[0].id, member.id])
    return member


# ------------------------------------------------------------------ the queue


def test_queue_is_soonest_to_expire_first(db, approval, lesson):
    business_service.update_settings(approval, booking_expiry_hours=48)
    old_far = book(approval, lesson, "10:00", 1, now=NOW)  # expires NOW + 48 h
    business_service.update_settings(approval, booking_expiry_hours=3)
    new_soon = book(approval, lesson, "12:00", 2, now=later(1))  # expires NOW + 4 h: made later, lapses first
    business_service.update_settings(approval, booking_expiry_hours=24)
    middle = book(approval, lesson, "14:00", 3, now=later(2))  # expires NOW + 26 h
    queue = booking_queries.pending_requests(approval, now=later(2))
    assert [b.id for b in queue] == [new_soon.id, middle.id, old_far.id]
    assert booking_queries.pending_count(approval, now=later(2)) == 3


def test_queue_and_count_for_one_staff_member(db, approval, lesson, ben):
    mine = book(approval, lesson, "10:00", 1)
    theirs = booking_service.create_booking(
        approval, request_for(lesson, at(MONDAY, "10:00"), 2, staff_id=ben.id), now=NOW
    ).booking
    assert (mine.staff_id, theirs.staff_id) == (approval.staff[0].id, ben.id)
    assert [b.id for b in booking_queries.pending_requests(approval, now=NOW, staff_id=ben.id)] == [theirs.id]
    assert booking_queries.pending_count(approval, now=NOW, staff_id=ben.id) == 1
    assert booking_queries.pending_count(approval, now=NOW) == 2


# ------------------------------------------------------------------ search and history


@pytest.fixture
def clients(business, lesson):
    ada = book(business, lesson, "09:00", 1, client_name="Ada Lovelace", client_email="ada@example.com", client_phone="+447700900123")
    grace = book(business, lesson, "11:00", 2, client_name="Grace Hopper", client_email="grace@navy.example", client_phone=None)
    percent = book(business, lesson, "13:00", 3, client_name="100% Sure", client_email="sure@example.com")
    return ada, grace, percent


@pytest.mark.parametrize(
    "search, expected",
    [
        ("ada", ["Ada Lovelace"]),
        ("LOVELACE", ["Ada Lovelace"]),
        ("navy.example", ["Grace Hopper"]),
        ("@example.com", ["Ada Lovelace", "100% Sure"]),
        ("07700 900123", ["Ada Lovelace"]),  # dialled nationally: stored as +447700900123
        ("+44 7700 900123", ["Ada Lovelace"]),
        ("%", ["100% Sure"]),  # a wildcard is an ordinary character
        ("_", []),
        ("nobody", []),
        ("  ", ["Ada Lovelace", "Grace Hopper", "100% Sure"]),  # blank: no search
    ],
)
def test_search_by_name_email_or_phone(db, business, clients, search, expected):
    found = booking_queries.list_bookings(business, BookingFilter(when="upcoming", search=search), now=NOW)
    assert [b.client_name for b in found] == expected


def test_search_stays_in_the_business(db, business, clients, factory):
    other = factory.owner(email="other@example.com", business_name="Other").business
    service = factory.service(other, name="Other lesson")
    book(other, service, "09:00", 9, client_name="Ada Other", client_email="ada@other.example")
    found = booking_queries.list_bookings(business, BookingFilter(search="ada"), now=NOW)
    assert [b.client_name for b in found] == ["Ada Lovelace"]


def test_client_history_lists_the_same_clients_other_bookings(db, business, lesson, clients, factory):
    ada = clients[0]
    again = book(business, lesson, "09:00", 4, day=MONDAY + timedelta(days=1), client_name="Ada Lovelace", client_email="ADA@example.com")
    cancelled = book(business, lesson, "10:00", 5, day=MONDAY + timedelta(days=2), client_name="Ada", client_email="ada@example.com")
    booking_service.cancel(business, cancelled.id, None, "Ill", now=NOW)
    assert again.client_id == ada.client_id == cancelled.client_id
    assert [b.id for b in booking_queries.client_history(ada)] == [cancelled.id, again.id]
    assert [b.id for b in booking_queries.client_history(again)] == [cancelled.id, ada.id]
    assert booking_queries.client_history(clients[1]) == []


# ------------------------------------------------------------------ a decided request's notification


def _unread_requests(db, booking_id):
    db.session.expire_all()
    return db.session.scalars(
        select(BookingNotification.user_id).where(
            BookingNotification.booking_id == booking_id, BookingNotification.type == T.REQUESTED, BookingNotification.read_at.is_(None)
        ).order_by(BookingNotification.user_id)
    ).all()


@pytest.mark.parametrize("decide", ["approve", "reject", "cancel", "expire"])
def test_deciding_a_request_marks_its_notification_read_for_everyone(db, approval, lesson, ben, owner, decide):
    # With Ben, so both he (his own booking) and the owner (every booking) are told.
    request = book(approval, lesson, staff_id=ben.id)
    assert _unread_requests(db, request.id) == [owner.id, ben.user_id]
    other = book(approval, lesson, "14:00", 2, staff_id=ben.id)
    if decide == "approve":
        booking_service.approve(approval, request.id, owner, now=NOW)
    elif decide == "reject":
        booking_service.reject(approval, request.id, owner, "Full", now=NOW)
    elif decide == "cancel":
        booking_service.cancel(approval, request.id, None, "Withdrawn", now=NOW)
    else:
        booking_service.expire_pending(now=later(25), booking_id=request.id)
    assert _unread_requests(db, request.id) == []
    assert _unread_requests(db, other.id) == [owner.id, ben.user_id]  # only that request's
    # The bell and the badge agree: one request waiting, one unread "new request" each.
    assert notifications.unread_count(owner) == 1 + (1 if decide in ("cancel", "expire") else 0)
    assert booking_queries.pending_count(approval, now=NOW) == 1


def test_mark_request_read_keeps_other_notifications(db, approval, lesson, owner):
    request = book(approval, lesson)
    booking_service.cancel(approval, request.id, None, "Changed my mind", now=NOW)
    kinds = db.session.execute(
        select(BookingNotification.type, BookingNotification.read_at.is_(None)).where(BookingNotification.booking_id == request.id)
        .order_by(BookingNotification.id)
    ).all()
    assert [tuple(k) for k in kinds] == [(T.REQUESTED, False), (T.CANCELLED, True)]


# ------------------------------------------------------------------ overrides for a range


def test_range_override_sets_one_override_per_date_in_one_go(db, staff):
    start = date.today() + timedelta(days=10)
    business_service.set_override(staff, start + timedelta(days=1), [(time(10), time(12))])
    rows = business_service.set_overrides(staff, start, start + timedelta(days=4), [])
    assert [(o.date, o.intervals) for o in rows] == [(start + timedelta(days=n), []) for n in range(5)]
    stored = db.session.execute(select(DateOverride.date, DateOverride.intervals).order_by(DateOverride.date)).all()
    assert [tuple(r) for r in stored] == [(start + timedelta(days=n), []) for n in range(5)]  # the 10-12 one replaced


def test_range_override_with_hours(db, staff):
    start = date.today() + timedelta(days=3)
    rows = business_service.set_overrides(staff, start, start + timedelta(days=1), [(time(13), time(15)), (time(9), time(11))])
    assert [o.intervals for o in rows] == [[["09:00", "11:00"], ["13:00", "15:00"]]] * 2


@pytest.mark.parametrize(
    "first, last, intervals, fields",
    [
        (-1, -1, [], {"date": "Pick today or a later date."}),
        (-3, 2, [], {"date": "Pick today or a later date."}),
        (5, 4, [], {"date_to": "Pick the same date as “From” or a later one."}),
        (1, 367, [], {"date_to": "A range covers at most 366 days."}),
        (1, 2, [(time(10), time(9))], {"intervals": "09:00 must be after 10:00."}),
    ],
)
def test_range_override_refusals_save_nothing(db, staff, first, last, intervals, fields):
    today = business_service.staff_today(staff)
    with pytest.raises(ValidationFailed) as info:
        business_service.set_overrides(staff, today + timedelta(days=first), today + timedelta(days=last), intervals)
    assert info.value.fields == fields
    assert db.session.scalars(select(DateOverride)).all() == []


def test_single_override_in_the_past_is_refused_today_is_fine(db, staff):
    today = business_service.staff_today(staff)
    with pytest.raises(ValidationFailed) as info:
        business_service.set_override(staff, today - timedelta(days=1), [])
    assert info.value.fields == {"date": "Pick today or a later date."}
    assert business_service.set_override(staff, today, []).date == today


def test_today_is_the_staff_members_own(db, staff):
    """At 23:30 UTC it is already tomorrow in Auckland."""
    from datetime import datetime, timezone

    late = datetime(2030, 1, 10, 23, 30, tzinfo=timezone.utc)
    staff.timezone = "Pacific/Auckland"
    db.session.commit()
    assert business_service.staff_today(staff, late) == date(2030, 1, 11)
    with pytest.raises(ValidationFailed):
        business_service.set_override(staff, date(2030, 1, 10), [], now=late)


# ------------------------------------------------------------------ where a service happens


def test_service_location_fields_follow_its_kind(db, business, factory):
    phone = factory.service(business, name="Call", location_kind=LocationKind.PHONE)
    assert (phone.phone_caller, phone.location_detail, phone.video_provider) == (PhoneCaller.BUSINESS, "", None)
    business_service.save_service(business, phone, phone_caller=PhoneCaller.CLIENT, location_detail="+44 20 7946 0999")
    assert (phone.phone_caller, phone.location_detail) == (PhoneCaller.CLIENT, "+44 20 7946 0999")
    business_service.save_service(business, phone, location_kind=LocationKind.VIDEO, video_provider="zoom", location_detail="Link by e-mail")
    assert (phone.phone_caller, phone.video_provider, phone.video_provider_name) == (None, "zoom", "Zoom")
    business_service.save_service(business, phone, location_kind=LocationKind.IN_PERSON, location_detail="1 Pool Lane")
    assert (phone.phone_caller, phone.video_provider, phone.location_detail) == (None, None, "1 Pool Lane")


@pytest.mark.parametrize(
    "fields, errors",
    [
        ({"location_kind": LocationKind.VIDEO, "video_provider": "skype"}, {"video_provider": "Choose one of the video services listed."}),
        ({"location_detail": "1 Pool Lane\nLondon"}, {"location_detail": "Remove line breaks, tabs and other control characters."}),
    ],
)
def test_service_location_refusals(db, business, factory, fields, errors):
    service = factory.service(business, name="Lesson")
    with pytest.raises(ValidationFailed) as info:
        business_service.save_service(business, service, **fields)
    assert info.value.fields == errors


# ------------------------------------------------------------------ jobs: pages and "not needed"


def _record(business_id, n):
    with outbox_session():
        for i in range(n):
            outbox.record("cleanup_outbox", {}, key=f"test:{business_id}:{i}", business_id=business_id)


def outbox_session():
    from app.services.locks import unit_of_work

    return unit_of_work()


def test_jobs_pages(db, business):
    _record(business.id, 5)
    first = job_admin.jobs_page(business.id, page=1, per_page=2)
    second = job_admin.jobs_page(business.id, page=2, per_page=2)
    third = job_admin.jobs_page(business.id, page=3, per_page=2)
    past = job_admin.jobs_page(business.id, page=4, per_page=2)
    ids = [j.id for j in job_admin.list_jobs(business.id)]
    assert [[j.id for j in p.jobs] for p in (first, second, third, past)] == [ids[0:2], ids[2:4], ids[4:5], []]
    assert [(p.number, p.has_previous, p.has_next) for p in (first, second, third)] == [(1, False, True), (2, True, True), (3, True, False)]
    assert job_admin.jobs_page(business.id, page=0, per_page=2).number == 1


def test_a_rescheduled_bookings_old_reminders_are_not_needed(db, business, lesson, owner):
    booking = book(business, lesson, "10:00")
    old = db.session.scalars(select(OutboxJob).where(OutboxJob.booking_id == booking.id, OutboxJob.idempotency_key.like("%:reminder:%"))).all()
    assert old and all(job_admin.superseded_reason(j) is None for j in old)
    booking_service.reschedule(business, booking.id, owner, at(MONDAY, "14:00"), now=NOW)
    db.session.expire_all()
    reasons = {job_admin.superseded_reason(db.session.get(OutboxJob, j.id)) for j in old}
    assert reasons == {"booking rescheduled"}
    assert {db.session.get(OutboxJob, j.id).status for j in old} == {JobStatus.DONE}
    sent = db.session.scalars(select(OutboxJob).where(OutboxJob.booking_id == booking.id, OutboxJob.status == JobStatus.PENDING)).all()
    assert sent and all(job_admin.superseded_reason(j) is None for j in sent)


# ------------------------------------------------------------------ the reschedule message


def test_reschedule_message_goes_into_the_clients_e_mail(db, business, lesson, owner, app):
    from app.services import emails

    booking = book(business, lesson, "10:00")
    booking_service.reschedule(business, booking.id, owner, at(MONDAY, "14:00"), now=NOW, message="The pool is closed at 10.\nSorry!")
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.events[-1].data["message"] == "The pool is closed at 10.\nSorry!"
    email = emails.build_booking_email(booking, "rescheduled", now=NOW)
    assert "A message from Swim School Pro:\nThe pool is closed at 10.\nSorry!" in email.text
    assert "The pool is closed at 10.\nSorry!</p>" in email.html
    booking_service.reschedule(business, booking.id, owner, at(MONDAY, "15:00"), now=NOW)  # a later move without one
    db.session.expire_all()
    email = emails.build_booking_email(db.session.get(Booking, booking.id), "rescheduled", now=NOW)
    assert "A message from" not in email.text and "A message from" not in email.html
