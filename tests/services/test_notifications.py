"""In-app notifications: who gets one for each booking transition, preferences for both channels,
and that reading/marking is scoped to one user."""
from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import select

from app.models import Membership, Role, StaffMember, User
from app.models.notification import BookingNotification, NotificationPreference
from app.domain.booking_events import BookingEvent as T
from app.models.outbox import OutboxJob
from app.services import booking_service, business_service, notifications
from app.services.booking_emails import JOB_KIND
from app.services.errors import NotFound, SlotUnavailable, ValidationFailed
from app.services.notifications import Channels
from tests.services.support import MONDAY, NOW, at, later, request_for

WHEN = "Mon 7 Jun 2027, 10:00 (Europe/London)"


@pytest.fixture
def member(db, business):
    """A second person of the business who hears of every booking (a co-owner)."""
    return add_member(db, business, "sam@example.com", "Sam", Role.OWNER)


def add_member(db, business, email, name, role):
    user = User(email=email, name=name)
    user.set_password("correct horse battery")
    db.session.add(user)
    db.session.add(Membership(user=user, business=business, role=role))
    db.session.commit()
    return user


def book(business, lesson, n=1, wall="10:00", now=NOW):
    return booking_service.create_booking(business, request_for(lesson, at(MONDAY, wall), n), now=now).booking


def rows(db, booking_id=None):
    """Every notification as (user e-mail, type, title, message, booking id), by id."""
    db.session.expire_all()
    query = select(BookingNotification).order_by(BookingNotification.id)
    if booking_id is not None:
        query = query.where(BookingNotification.booking_id == booking_id)
    return [(db.session.get(User, n.user_id).email, n.type, n.title, n.message, n.booking_id) for n in db.session.scalars(query)]


def email_templates(db, booking_id):
    """The templates of the booking's e-mail jobs, sorted."""
    db.session.expire_all()
    jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.booking_id == booking_id, OutboxJob.kind == JOB_KIND))
    return sorted(j.payload["template"] for j in jobs)


def owner_email_templates(db, booking_id):
    return [t for t in email_templates(db, booking_id) if t.startswith("owner_")]


# ------------------------------------------------------------------ each transition

def test_confirmed_booking_notifies_everyone_of_the_business(db, business, member, lesson, factory):
    other = factory.owner(email="other@example.com")  # another business: never told
    booking = book(business, lesson)
    message = f"Client 1 booked Private lesson on {WHEN}."
    assert rows(db) == [
        ("owner@example.com", T.BOOKED, "New booking", message, booking.id),
        ("sam@example.com", T.BOOKED, "New booking", message, booking.id),
    ]
    assert notifications.unread_count(other) == 0
    n = notifications.list_for(member)[0]
    assert (n.business_id, n.read_at, n.data) == (
        business.id, None,
        {"reference": booking.reference, "client_name": "Client 1", "service": "Private lesson",
         "start_at": "2027-06-07T09:00:00+00:00", "status": "confirmed", "actor_id": None},
    )


def test_pending_request_is_a_booking_request(db, business, member, lesson):
    business_service.update_settings(business, requires_approval=True)
    booking = book(business, lesson)
    message = f"Client 1 asked for Private lesson on {WHEN}."
    assert rows(db) == [
        ("owner@example.com", T.REQUESTED, "New booking request", message, booking.id),
        ("sam@example.com", T.REQUESTED, "New booking request", message, booking.id),
    ]


def test_approve_notifies_the_others_not_the_approver(db, business, owner, member, lesson):
    business_service.update_settings(business, requires_approval=True)
    booking = book(business, lesson)
    booking_service.approve(business, booking.id, owner, now=later(1))
    assert rows(db)[2:] == [
        ("sam@example.com", T.APPROVED, "Request approved", f"Owner 1 approved Client 1's Private lesson on {WHEN}.", booking.id),
    ]


def test_reject_by_a_member_tells_the_owner_with_the_reason(db, business, member, lesson):
    business_service.update_settings(business, requires_approval=True)
    booking = book(business, lesson)
    booking_service.reject(business, booking.id, member, "Pool closed")
    assert rows(db)[2:] == [
        ("owner@example.com", T.REJECTED, "Request rejected",
         f"Sam rejected Client 1's Private lesson on {WHEN}. Reason: Pool closed", booking.id),
    ]


def test_cancel_by_the_owner_and_without_an_actor(db, business, owner, member, lesson):
    first, second = book(business, lesson, 1, "10:00"), book(business, lesson, 2, "12:00")
    booking_service.cancel(business, first.id, owner, "Ill")
    booking_service.cancel(business, second.id, None, "Client called")
    assert rows(db, first.id)[2:] == [
        ("sam@example.com", T.CANCELLED, "Booking cancelled", f"Owner 1 cancelled Client 1's Private lesson on {WHEN}. Reason: Ill", first.id),
    ]
    message = "Client 2's Private lesson on Mon 7 Jun 2027, 12:00 (Europe/London) was cancelled. Reason: Client called"
    assert rows(db, second.id)[2:] == [
        ("owner@example.com", T.CANCELLED, "Booking cancelled", message, second.id),
        ("sam@example.com", T.CANCELLED, "Booking cancelled", message, second.id),
    ]


def test_expiry_notifies_everyone(db, business, member, lesson):
    business_service.update_settings(business, requires_approval=True, booking_expiry_hours=2)
    booking = book(business, lesson)
    assert booking_service.expire_pending(now=later(3)) == 1
    message = f"Client 1's request for Private lesson on {WHEN} expired unanswered."
    assert rows(db)[2:] == [
        ("owner@example.com", T.EXPIRED, "Request expired", message, booking.id),
        ("sam@example.com", T.EXPIRED, "Request expired", message, booking.id),
    ]


def test_approving_an_expired_request_records_the_expiry(db, business, owner, member, lesson):
    business_service.update_settings(business, requires_approval=True, booking_expiry_hours=2)
    booking = book(business, lesson)
    with pytest.raises(Exception, match="expired before it was approved"):
        booking_service.approve(business, booking.id, owner, now=later(3))
    assert [(email, type_) for email, type_, *_ in rows(db)[2:]] == [
        ("owner@example.com", T.EXPIRED), ("sam@example.com", T.EXPIRED),
    ]


def test_a_failed_transaction_leaves_no_notification(db, business, member, lesson):
    book(business, lesson, 1)
    with pytest.raises(SlotUnavailable):
        book(business, lesson, 2)  # same time, one seat
    assert len(rows(db)) == 2  # only the first booking's


def test_unknown_type_is_refused(db, business, lesson):
    booking = book(business, lesson)
    with pytest.raises(ValueError, match="unknown notification type"):
        notifications.record_for_booking(booking, "booking_exploded")


# ------------------------------------------------------------------ preferences

def test_preferences_default_to_everything_on(business, owner):
    assert notifications.get_preferences(owner) == {k.type: Channels(True, True) for k in notifications.EVENT_KINDS}
    assert list(notifications.get_preferences(owner)) == [
        T.REQUESTED, T.BOOKED, T.APPROVED, T.REJECTED, T.CANCELLED, T.EXPIRED, T.RESCHEDULED,
    ]


def test_set_preferences_saves_and_merges(db, owner):
    notifications.set_preferences(owner, {"requested": {"in_app": False}})
    saved = notifications.set_preferences(owner, {T.REQUESTED: {"email": False}, "expired": Channels(False, True)})
    expected = {k.type: Channels(True, True) for k in notifications.EVENT_KINDS}
    expected[T.REQUESTED] = Channels(email=False, in_app=False)
    expected[T.EXPIRED] = Channels(email=False, in_app=True)
    assert saved == expected == notifications.get_preferences(owner)
    assert db.session.scalar(select(db.func.count(NotificationPreference.id))) == 2


@pytest.mark.parametrize("prefs, fields", [
    ({"booking_exploded": {"email": True}}, {"booking_exploded": "Unknown event type."}),
    ({"requested": {"email": "yes"}}, {"requested.email": "Expected email/in_app set to true or false."}),
    ({"requested": {"sms": True}}, {"requested.sms": "Expected email/in_app set to true or false."}),
])
def test_set_preferences_refuses_bad_input(db, owner, prefs, fields):
    with pytest.raises(ValidationFailed) as exc:
        notifications.set_preferences(owner, prefs)
    assert exc.value.fields == fields
    assert db.session.scalar(select(db.func.count(NotificationPreference.id))) == 0


def test_in_app_off_means_no_notification_for_that_type_only(db, business, member, lesson):
    business_service.update_settings(business, requires_approval=True)
    notifications.set_preferences(member, {"requested": {"in_app": False, "email": True}})
    booking = book(business, lesson)
    booking_service.cancel(business, booking.id, None, "Changed plans")
    assert [(email, type_) for email, type_, *_ in rows(db)] == [
        ("owner@example.com", T.REQUESTED),
        ("owner@example.com", T.CANCELLED),
        ("sam@example.com", T.CANCELLED),
    ]


def test_owner_email_preference_drops_the_owner_email_only(db, business, owner, lesson):
    business_service.update_settings(business, requires_approval=True)
    notifications.set_preferences(owner, {"requested": {"email": False}})
    booking = book(business, lesson)
    assert owner_email_templates(db, booking.id) == []
    assert email_templates(db, booking.id) == ["request_received"]  # the client still hears from us
    assert [(email, type_) for email, type_, *_ in rows(db)] == [("owner@example.com", T.REQUESTED)]  # in-app still on
    booking_service.cancel(business, booking.id, None, "Changed plans")
    assert owner_email_templates(db, booking.id) == ["owner_cancelled"]  # other types untouched


def test_owner_email_goes_while_any_owner_wants_it(db, business, owner, lesson):
    partner = add_member(db, business, "pat@example.com", "Pat", Role.OWNER)
    staff = add_member(db, business, "sam@example.com", "Sam", Role.STAFF)
    notifications.set_preferences(owner, {"booked": {"email": False}})
    first = book(business, lesson, 1, "10:00")
    assert owner_email_templates(db, first.id) == ["owner_confirmed"]
    notifications.set_preferences(partner, {"booked": {"email": False}})
    second = book(business, lesson, 2, "12:00")
    assert owner_email_templates(db, second.id) == []  # staff preferences do not count for owner e-mail
    assert notifications.get_preferences(staff)[T.BOOKED].email is True


# ------------------------------------------------------------------ reading and marking, per user

def test_a_staff_member_hears_only_of_their_own_bookings(db, business, owner, lesson):
    staff_user = add_member(db, business, "kim@example.com", "Kim", Role.STAFF)
    kim = StaffMember(business=business, user=staff_user, display_name="Kim")
    db.session.add(kim)
    db.session.commit()
    business_service.set_weekly_hours(kim, {d: [(time(9), time(17))] for d in range(5)})
    business_service.save_service(business, lesson, staff_ids=[business.staff[0].id, kim.id])
    owners = book(business, lesson, 1, "10:00")
    kims = booking_service.create_booking(
        business, request_for(lesson, at(MONDAY, "12:00"), 2, staff_id=kim.id), now=NOW
    ).booking
    assert sorted((email, booking_id) for email, _type, _title, _message, booking_id in rows(db)) == sorted([
        ("owner@example.com", owners.id), ("owner@example.com", kims.id), ("kim@example.com", kims.id),
    ])


def test_list_is_newest_first_and_per_user(db, business, owner, member, lesson):
    a = book(business, lesson, 1, "10:00")
    b = book(business, lesson, 2, "12:00")
    assert [(n.user_id, n.booking_id) for n in notifications.list_for(owner)] == [(owner.id, b.id), (owner.id, a.id)]
    assert [(n.user_id, n.booking_id) for n in notifications.list_for(member)] == [(member.id, b.id), (member.id, a.id)]
    assert [n.booking_id for n in notifications.list_for(owner, limit=1)] == [b.id]


def test_mark_read_and_unread_filter(db, business, owner, member, lesson):
    a = book(business, lesson, 1, "10:00")
    b = book(business, lesson, 2, "12:00")
    newest, oldest = notifications.list_for(owner)
    marked = notifications.mark_read(owner, oldest.id)
    first_read_at = marked.read_at
    assert first_read_at is not None
    assert notifications.mark_read(owner, oldest.id).read_at == first_read_at  # idempotent
    assert [n.booking_id for n in notifications.list_for(owner, unread_only=True)] == [b.id]
    assert (notifications.unread_count(owner), notifications.unread_count(member)) == (1, 2)
    assert a.id == oldest.booking_id


def test_mark_all_read_touches_only_that_user(db, business, owner, member, lesson):
    book(business, lesson, 1, "10:00")
    book(business, lesson, 2, "12:00")
    assert notifications.mark_all_read(owner) == 2
    assert notifications.mark_all_read(owner) == 0
    assert (notifications.unread_count(owner), notifications.unread_count(member)) == (0, 2)


def test_another_users_notification_is_not_found(db, business, owner, member, lesson, factory):
    book(business, lesson)
    stranger = factory.owner(email="stranger@example.com")
    sams = notifications.list_for(member)[0]
    for user in (owner, stranger):
        with pytest.raises(NotFound):
            notifications.mark_read(user, sams.id)
        with pytest.raises(NotFound):
            notifications.get(user, sams.id)
    with pytest.raises(NotFound):
        notifications.mark_read(owner, 999_999)
    db.session.expire_all()
    assert db.session.get(BookingNotification, sams.id).read_at is None


def test_a_member_who_left_sees_nothing(db, business, member, lesson):
    book(business, lesson)
    db.session.delete(member.memberships[0])
    db.session.commit()
    db.session.expire_all()
    assert (notifications.unread_count(member), notifications.list_for(member)) == (0, [])


def test_deleting_the_booking_keeps_the_notification(db, business, owner, lesson):
    booking = book(business, lesson)
    note_id = notifications.list_for(owner)[0].id
    db.session.delete(booking)  # its events cascade; outbox rows and notifications keep a NULL booking
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(BookingNotification, note_id).booking_id is None
