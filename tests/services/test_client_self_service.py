"""Clients change their own bookings through the manage link: the link (signed, scoped to one
booking of one business, expiring, revocable), the business's policy (notice windows, exactly at
the boundary, requests withdrawn at any time), and the client's reschedule and cancel with
everything they imply (same reference and calendar UID, SEQUENCE + 1, reminders re-timed,
e-mails to both sides, the owner notified per their preferences, who did it in the history).

``NOW`` is Tuesday 2027-06-01 08:00 UTC; bookings are on ``MONDAY`` (7 June) in London (BST):
10:00 London is 09:00 UTC, so a 12-hour limit closes on Sunday 6 June at 21:00 UTC.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from app.domain.availability import Slot
from app.domain.booking_events import BookingEvent as E
from app.domain.booking_state import BookingStatus as S
from app.extensions import db as _db
from app.jobs import run_job
from app.models import ActorKind, Booking, BookingAuditEntry
from app.models.notification import BookingNotification
from app.models.outbox import OutboxJob
from app.services import booking_service, business_service, client_self_service, emails, notifications
from app.services.client_self_service import ChangeNotAllowed, ClientPolicy, LinkGone, LinkNotFound
from app.services.errors import SlotUnavailable
from tests.services.support import MONDAY, NOW, at, request_for

TUESDAY = MONDAY + timedelta(days=1)
START = at(MONDAY, "10:00")  # 09:00 UTC
TWELVE_HOURS_BEFORE = START - timedelta(hours=12)
SECOND = timedelta(seconds=1)


def book(business, service, wall="10:00", n=1, day=MONDAY, now=NOW, **fields):
    return booking_service.create_booking(business, request_for(service, at(day, wall), n, **fields), now=now).booking


def reload(booking_id) -> Booking:
    _db.session.rollback()
    return _db.session.get(Booking, booking_id, populate_existing=True)


def state(b: Booking):
    return (b.status, b.start_at, b.end_at, b.staff_id, b.sequence, b.expires_at, b.cancellation_reason)


def audit(booking_id):
    return [
        (e.event, e.from_status, e.to_status, e.actor_kind, e.actor_user_id, e.note)
        for e in _db.session.scalars(select(BookingAuditEntry).where(BookingAuditEntry.booking_id == booking_id).order_by(BookingAuditEntry.id))
    ]


def jobs(booking_id):
    """(key, run_at) of the booking's outbox jobs in the order recorded; immediate e-mails run at
    the real clock's "now" when recorded, so their run_at is None here."""
    rows = _db.session.scalars(select(OutboxJob).where(OutboxJob.booking_id == booking_id).order_by(OutboxJob.id))
    return [(j.idempotency_key, j.run_at if ":reminder:" in j.idempotency_key or j.kind == "expire_booking" else None) for j in rows]


@pytest.fixture
def approval(business):
    business_service.update_settings(business, requires_approval=True, booking_expiry_hours=24)
    return business


# ------------------------------------------------------------------ the policy


def policy(**overrides) -> ClientPolicy:
    """A confirmed booking's policy under the default settings (both on, 12 hours), changed by ``overrides``."""
    values = dict(
        is_request=False, can_reschedule=True, can_cancel=True, reschedule_offered=True, cancel_offered=True,
        reschedule_until=TWELVE_HOURS_BEFORE, cancel_until=TWELVE_HOURS_BEFORE, reschedule_notice_hours=12,
        cancel_notice_hours=12, closed_reason=None,
    )
    values.update(overrides)
    return ClientPolicy(**values)


@pytest.mark.parametrize(
    ("settings", "now", "expected"),
    [
        ({}, NOW, policy()),
        # "Until 12 hours before": exactly 12 hours before is still allowed, a second later is not.
        ({}, TWELVE_HOURS_BEFORE, policy()),
        ({}, TWELVE_HOURS_BEFORE + SECOND, policy(can_reschedule=False, can_cancel=False)),
        # Different limits for each.
        (
            {"client_reschedule_notice_hours": 48, "client_cancel_notice_hours": 2}, START - timedelta(hours=3),
            policy(can_reschedule=False, reschedule_until=START - timedelta(hours=48), cancel_until=START - timedelta(hours=2),
                   reschedule_notice_hours=48, cancel_notice_hours=2),
        ),
        # 0 = until the start: allowed a second before it, closed at it.
        (
            {"client_reschedule_notice_hours": 0, "client_cancel_notice_hours": 0}, START - SECOND,
            policy(reschedule_until=START, cancel_until=START, reschedule_notice_hours=0, cancel_notice_hours=0),
        ),
        (
            {"client_reschedule_notice_hours": 0, "client_cancel_notice_hours": 0}, START,
            policy(can_reschedule=False, can_cancel=False, reschedule_until=START, cancel_until=START,
                   reschedule_notice_hours=0, cancel_notice_hours=0, closed_reason="started"),
        ),
        # Switched off.
        (
            {"clients_can_reschedule": False, "clients_can_cancel": False}, NOW,
            policy(can_reschedule=False, can_cancel=False, reschedule_offered=False, cancel_offered=False,
                   reschedule_until=None, cancel_until=None),
        ),
        # The booking link off: no new times are offered, cancelling still is.
        ({"is_active": False}, NOW, policy(can_reschedule=False, reschedule_offered=False, reschedule_until=None)),
    ],
    ids=["default", "exactly-at-the-limit", "a-second-late", "separate-limits", "zero-before-start", "zero-at-start",
         "switched-off", "link-off"],
)
def test_policy_of_a_confirmed_booking(db, business, lesson, settings, now, expected):
    b = book(business, lesson)
    if settings:
        business_service.update_settings(business, **settings)
    result = client_self_service.client_policy(reload(b.id), business.settings, now)
    assert result == expected
    assert result.too_late == (expected.closed_reason is None and (
        (expected.reschedule_offered and not expected.can_reschedule) or (expected.cancel_offered and not expected.can_cancel)
    ))


def test_policy_of_a_request_can_always_be_withdrawn(db, approval, lesson):
    business_service.update_settings(approval, clients_can_cancel=False, booking_expiry_hours=720)  # held until the start
    b = book(approval, lesson)
    late = START - timedelta(hours=1)
    assert client_self_service.client_policy(reload(b.id), approval.settings, late) == policy(
        is_request=True, can_reschedule=False, can_cancel=True, cancel_until=None, cancel_notice_hours=12,
    )


def test_policy_after_the_booking_closed_or_the_request_expired(db, approval, lesson, owner):
    cancelled = book(approval, lesson, "10:00", n=1)
    booking_service.cancel(approval, cancelled.id, owner, "Pool closed", now=NOW)
    expired = book(approval, lesson, "12:00", n=2)
    closed = dict(can_reschedule=False, can_cancel=False, closed_reason="status")
    assert client_self_service.client_policy(reload(cancelled.id), approval.settings, NOW) == policy(**closed)
    after_expiry = reload(expired.id).expires_at + SECOND
    assert client_self_service.client_policy(reload(expired.id), approval.settings, after_expiry) == policy(
        is_request=True, cancel_until=None, reschedule_until=at(MONDAY, "12:00") - timedelta(hours=12), **closed
    )


def test_an_inactive_service_cannot_be_moved_to_a_new_time(db, business, lesson):
    b = book(business, lesson)
    business_service.save_service(business, lesson, is_active=False)
    assert client_self_service.client_policy(reload(b.id), business.settings, NOW) == policy(
        can_reschedule=False, reschedule_offered=False, reschedule_until=None,
    )


# ------------------------------------------------------------------ the link


def test_token_opens_its_booking_until_a_week_after_it_ends(db, business, lesson):
    b = book(business, lesson)
    token = client_self_service.manage_token(b)
    assert client_self_service.manage_path(b) == f"/book/{business.slug}/manage/{token}"
    assert client_self_service.manage_url(b) == f"http://localhost/book/{business.slug}/manage/{token}"
    last = b.end_at + timedelta(days=7) - SECOND
    assert client_self_service.booking_for_token(business, token, now=last).id == b.id
    with pytest.raises(LinkGone) as gone:
        client_self_service.booking_for_token(business, token, now=last + SECOND)
    assert (gone.value.reason, gone.value.booking.id, gone.value.status_code) == ("expired", b.id, 410)
    assert "manage_secret" not in token and b.manage_secret not in token  # only a digest travels


def test_expiry_follows_the_config_and_the_booking_as_it_is_now(db, app, business, lesson, owner):
    app.config["MANAGE_LINK_DAYS_AFTER"] = 1
    b = book(business, lesson)
    token = client_self_service.manage_token(b)
    assert client_self_service.link_expires_at(b) == b.end_at + timedelta(days=1)
    booking_service.reschedule(business, b.id, owner, at(TUESDAY, "10:00"), now=NOW)
    # Moved a day later: the same link now works a day longer.
    assert client_self_service.booking_for_token(business, token, now=at(TUESDAY, "11:00") + timedelta(hours=23)).id == b.id


def test_revoking_stops_every_link_and_later_links_work(db, business, lesson):
    b = book(business, lesson)
    old = client_self_service.manage_token(b)
    booking_service.revoke_client_links(business, b.id)
    with pytest.raises(LinkGone) as gone:
        client_self_service.booking_for_token(business, old, now=NOW)
    assert gone.value.reason == "revoked"
    new = client_self_service.manage_token(reload(b.id))
    assert new != old
    assert client_self_service.booking_for_token(business, new, now=NOW).id == b.id


def test_tampered_foreign_and_forged_tokens_are_not_found(db, app, business, lesson, factory):
    mine = book(business, lesson)
    other_owner = factory.owner(email="other@example.com", business_name="Other")
    theirs = book(other_owner.business, factory.service(other_owner.business, name="Other lesson"), n=2)
    token = client_self_service.manage_token(mine)
    forged = URLSafeSerializer("not-our-key", salt="booking-manage").dumps([mine.reference, client_self_service.secret_digest(mine.manage_secret)])
    confirmation = URLSafeSerializer(app.secret_key, salt="booking-confirmation").dumps(mine.reference)
    wrong_shape = URLSafeSerializer(app.secret_key, salt="booking-manage").dumps({"reference": mine.reference})
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), token + "x", "", "nonsense", forged, confirmation, wrong_shape):
        with pytest.raises(LinkNotFound):
            client_self_service.booking_for_token(business, bad, now=NOW)
    # Another business's genuine token under this business: as unknown as any other.
    with pytest.raises(LinkNotFound):
        client_self_service.booking_for_token(business, client_self_service.manage_token(theirs), now=NOW)
    # Another booking's digest next to this booking's reference (never issued, but signed): refused too.
    other = book(business, lesson, "12:00", n=3)
    mixed = URLSafeSerializer(app.secret_key, salt="booking-manage").dumps([mine.reference, client_self_service.secret_digest(other.manage_secret)])
    with pytest.raises(LinkGone):
        client_self_service.booking_for_token(business, mixed, now=NOW)


def test_every_booking_gets_its_own_secret(db, business, lesson):
    secrets_ = {book(business, lesson, wall, n=i).manage_secret for i, wall in enumerate(("09:00", "10:00", "11:00"), 1)}
    assert len(secrets_) == 3 and all(len(s) >= 43 for s in secrets_)


# ------------------------------------------------------------------ the client reschedules


def test_client_reschedule_keeps_the_booking_and_records_everything(db, business, lesson, staff):
    b = book(business, lesson)
    reference, uid = b.reference, b.uid
    booking_service.client_reschedule(business, b.id, at(TUESDAY, "14:00"), now=NOW)

    after = reload(b.id)
    assert state(after) == (S.CONFIRMED, at(TUESDAY, "14:00"), at(TUESDAY, "15:00"), staff.id, 1, None, None)
    assert (after.reference, after.uid) == (reference, uid)
    assert audit(b.id) == [
        (E.BOOKED, None, S.CONFIRMED, ActorKind.CLIENT, None, "booked online"),
        (E.RESCHEDULED, S.CONFIRMED, S.CONFIRMED, ActorKind.CLIENT, None, "rescheduled"),
    ]
    i = b.id
    assert jobs(i) == [
        (f"email:booking:{i}:confirmed:s0", None),
        (f"email:booking:{i}:owner_confirmed:s0", None),
        (f"email:booking:{i}:reminder:s0:1440m", START - timedelta(hours=24)),
        (f"email:booking:{i}:reminder:s0:60m", START - timedelta(hours=1)),
        # Both sides told (the owner because the client made the change), reminders re-timed.
        (f"email:booking:{i}:rescheduled:s1", None),
        (f"email:booking:{i}:owner_rescheduled:s1", None),
        (f"email:booking:{i}:reminder:s1:1440m", at(MONDAY, "14:00")),
        (f"email:booking:{i}:reminder:s1:60m", at(TUESDAY, "13:00")),
    ]


def test_the_old_time_is_free_again_and_the_new_one_taken(db, business, lesson, staff):
    b = book(business, lesson)
    booking_service.client_reschedule(business, b.id, at(MONDAY, "14:00"), now=NOW)
    walls = [s.start for s in booking_service.availability_service.slots_per_staff(business, lesson, MONDAY, MONDAY, now=NOW)[staff.id]]
    assert START in walls and at(MONDAY, "14:00") not in walls
    assert book(business, lesson, "10:00", n=2).start_at == START  # someone else can have the old time


def test_both_emails_carry_the_same_event_and_the_owner_is_notified(db, business, lesson, owner):
    b = book(business, lesson)
    confirmed = emails.build_booking_email(b, "confirmed", now=NOW)
    booking_service.client_reschedule(business, b.id, at(TUESDAY, "14:00"), now=NOW)
    b = reload(b.id)

    moved = emails.build_booking_email(b, "rescheduled", now=NOW)
    told = emails.build_booking_email(b, "owner_rescheduled", now=NOW)
    calendar = {}
    for name, mail in (("confirmed", confirmed), ("rescheduled", moved)):
        ics = mail.invitation.ics.decode()
        calendar[name] = (mail.invitation.method, _ics_value(ics, "UID"), _ics_value(ics, "SEQUENCE"), _ics_value(ics, "DTSTART"))
    assert calendar == {
        "confirmed": ("REQUEST", b.uid, "0", "20270607T090000Z"),
        "rescheduled": ("REQUEST", b.uid, "1", "20270608T130000Z"),  # the same event, updated
    }
    assert (moved.to, told.to) == (("client1@example.com",), ("owner@example.com",))
    assert told.subject == "Booking moved: Client 1 for Private lesson on Tuesday 8 June 2027"
    assert told.invitation is None
    assert (
        "Client 1 moved their booking of Private lesson to the time below. "
        "It was on Monday 7 June 2027, 10:00–11:00 (Europe/London); that time is free again."
    ) in told.text
    assert b.reference in told.text and f"http://localhost/dashboard/bookings/{b.id}" in told.text
    # The client's e-mail carries the manage link, which still opens the booking.
    assert f"Manage booking: {client_self_service.manage_url(b)}" in moved.text
    assert "Manage booking" not in told.text  # not in the owner's

    [note] = _db.session.scalars(select(BookingNotification).where(BookingNotification.booking_id == b.id, BookingNotification.type == E.RESCHEDULED)).all()
    assert (note.user_id, note.title, note.message) == (
        owner.id, "Booking moved", "Client 1 moved their Private lesson to Tue 8 Jun 2027, 14:00 (Europe/London).",
    )


def _ics_value(ics: str, name: str) -> str:
    return next(line.split(":", 1)[1] for line in ics.replace("\r\n ", "").splitlines() if line.startswith(name + ":") or line.startswith(name + ";"))


def test_owner_preferences_decide_how_they_are_told(db, business, lesson, owner):
    notifications.set_preferences(owner, {"rescheduled": {"email": False, "in_app": False}})
    b = book(business, lesson)
    booking_service.client_reschedule(business, b.id, at(TUESDAY, "14:00"), now=NOW)
    keys = [k for k, _ in jobs(b.id)]
    assert f"email:booking:{b.id}:rescheduled:s1" in keys and f"email:booking:{b.id}:owner_rescheduled:s1" not in keys
    assert _db.session.scalars(select(BookingNotification.type).where(BookingNotification.booking_id == b.id)).all() == [E.BOOKED]


def test_reschedule_to_a_taken_time_offers_alternatives_and_changes_nothing(db, business, lesson, staff):
    b = book(business, lesson)
    book(business, lesson, "14:00", n=2)
    before = jobs(b.id)
    with pytest.raises(SlotUnavailable) as exc:
        booking_service.client_reschedule(business, b.id, at(MONDAY, "14:00"), now=NOW)
    assert exc.value.message == "That time is no longer free. Please pick another."
    # The nearest times the client could take: not the booking's own 10:00, not the taken 14:00.
    assert exc.value.alternatives == [Slot(at(MONDAY, w), at(MONDAY, w) + timedelta(hours=1), 1, staff.id) for w in ("12:00", "13:00", "15:00")]
    assert state(reload(b.id)) == (S.CONFIRMED, START, START + timedelta(hours=1), staff.id, 0, None, None)
    assert (len(audit(b.id)), jobs(b.id)) == (1, before)


def test_clients_keep_to_the_minimum_notice_the_owner_may_ignore(db, business, lesson):
    """NOW is 09:00 London; the business's minimum notice is 2 hours, so 10:00 today is too soon."""
    b = book(business, lesson)
    with pytest.raises(SlotUnavailable):
        booking_service.client_reschedule(business, b.id, at(NOW.date(), "10:00"), now=NOW)
    booking_service.client_reschedule(business, b.id, at(NOW.date(), "11:00"), now=NOW)
    assert reload(b.id).start_at == at(NOW.date(), "11:00")


def test_reschedule_inside_the_window_is_refused_and_changes_nothing(db, business, lesson):
    b = book(business, lesson)
    with pytest.raises(ChangeNotAllowed) as exc:
        booking_service.client_reschedule(business, b.id, at(TUESDAY, "14:00"), now=TWELVE_HOURS_BEFORE + SECOND)
    assert (exc.value.status_code, exc.value.action) == (409, "reschedule")
    assert exc.value.message == (
        "It is too late to change this booking online: it can be rescheduled online until 12 hours before the start. "
        "Please contact the business."
    )
    assert reload(b.id).sequence == 0 and len(audit(b.id)) == 1
    # Exactly at the limit it still goes through.
    booking_service.client_reschedule(business, b.id, at(TUESDAY, "14:00"), now=TWELVE_HOURS_BEFORE)
    assert reload(b.id).start_at == at(TUESDAY, "14:00")


def test_reschedule_switched_off_is_refused(db, business, lesson):
    business_service.update_settings(business, clients_can_reschedule=False)
    b = book(business, lesson)
    with pytest.raises(ChangeNotAllowed, match="cannot be rescheduled online"):
        booking_service.client_reschedule(business, b.id, at(TUESDAY, "14:00"), now=NOW)


def test_a_request_moved_by_the_client_goes_back_to_the_queue(db, approval, lesson, owner):
    b = book(approval, lesson)
    later = NOW + timedelta(hours=5)
    booking_service.client_reschedule(approval, b.id, at(TUESDAY, "14:00"), now=later)
    after = reload(b.id)
    # Still pending, with a whole new expiry period from the move (24 h), not the old deadline.
    assert state(after) == (S.PENDING, at(TUESDAY, "14:00"), at(TUESDAY, "15:00"), b.staff_id, 1, later + timedelta(hours=24), None)
    i = b.id
    assert jobs(i) == [
        (f"email:booking:{i}:request_received:s0", None),
        (f"email:booking:{i}:owner_new_request:s0", None),
        (f"expire_booking:{i}", NOW + timedelta(hours=24)),
        # The client gets their request acknowledged at the new time; the owner is told.
        (f"email:booking:{i}:request_received:s1", None),
        (f"email:booking:{i}:owner_rescheduled:s1", None),
        (f"expire_booking:{i}:s1", later + timedelta(hours=24)),
    ]
    old_expiry = _db.session.scalar(select(OutboxJob).where(OutboxJob.idempotency_key == f"expire_booking:{i}"))
    assert old_expiry.result == {"superseded": "request rescheduled"}
    told = emails.build_booking_email(after, "owner_rescheduled", now=later)
    assert "The request waits for your answer at its new time." in told.text
    assert "Approve or reject it (you will be asked to log in): http://localhost/dashboard/requests" in told.text
    booking_service.approve(approval, i, owner, now=later)
    assert reload(i).status == S.CONFIRMED


def test_a_moved_request_never_holds_past_its_new_start(db, approval, lesson):
    b = book(approval, lesson)
    booking_service.client_reschedule(approval, b.id, at(NOW.date(), "15:00"), now=NOW)
    assert reload(b.id).expires_at == at(NOW.date(), "15:00")


def test_same_staff_member_where_possible_else_whoever_is_free(db, business, lesson, staff):
    ben = business_service.add_staff(business, "Ben")
    business_service.set_weekly_hours(ben, {1: [(at(TUESDAY, "09:00").time().replace(hour=9), at(TUESDAY, "17:00").time().replace(hour=17))]})
    business_service.save_service(business, lesson, staff_ids=[staff.id, ben.id])
    b = book(business, lesson, staff_id=staff.id)
    # The client's own staff member is busy at Tuesday 14:00 (another booking); Ben is free, but
    # the booking stays with its staff member.
    book(business, lesson, "14:00", n=2, day=TUESDAY, staff_id=staff.id)
    slots = booking_service.client_reschedule_slots(business, reload(b.id), TUESDAY, TUESDAY, now=NOW)
    assert {s.staff_id for s in slots} == {staff.id} and at(TUESDAY, "14:00") not in [s.start for s in slots]
    with pytest.raises(SlotUnavailable):
        booking_service.client_reschedule(business, b.id, at(TUESDAY, "14:00"), now=NOW)
    # Once their staff member no longer offers the service, whoever is free takes it.
    business_service.save_service(business, lesson, staff_ids=[ben.id])
    booking_service.client_reschedule(business, b.id, at(TUESDAY, "14:00"), now=NOW)
    assert (reload(b.id).staff_id, reload(b.id).start_at) == (ben.id, at(TUESDAY, "14:00"))


def test_client_reschedule_slots_are_what_the_public_page_offers_less_the_booking(db, business, lesson, staff):
    b = book(business, lesson)
    book(business, lesson, "14:00", n=2)
    slots = booking_service.client_reschedule_slots(business, reload(b.id), MONDAY, MONDAY, now=NOW)
    walls = ["09:00", "11:00", "12:00", "13:00", "15:00", "16:00"]
    assert slots == [Slot(at(MONDAY, w), at(MONDAY, w) + timedelta(hours=1), 1, staff.id) for w in walls]


# ------------------------------------------------------------------ the client cancels


def test_client_cancels_with_or_without_a_reason(db, business, lesson, owner):
    b = book(business, lesson)
    booking_service.client_cancel(business, b.id, "  ", now=NOW)
    after = reload(b.id)
    assert state(after) == (S.CANCELLED, START, START + timedelta(hours=1), b.staff_id, 1, None, None)
    assert audit(b.id)[-1] == (E.CANCELLED, S.CONFIRMED, S.CANCELLED, ActorKind.CLIENT, None, "cancelled online")
    keys = [k for k, _ in jobs(b.id)]
    assert keys[-2:] == [f"email:booking:{b.id}:cancelled:s1", f"email:booking:{b.id}:owner_cancelled:s1"]
    reminders = _db.session.scalars(select(OutboxJob.result).where(OutboxJob.booking_id == b.id, OutboxJob.idempotency_key.like("%:reminder:%"))).all()
    assert reminders == [{"superseded": "booking cancelled"}] * 2
    [note] = _db.session.scalars(select(BookingNotification).where(BookingNotification.type == E.CANCELLED)).all()
    assert (note.user_id, note.title, note.message) == (
        owner.id, "Booking cancelled", "Client 1 cancelled their Private lesson on Mon 7 Jun 2027, 10:00 (Europe/London).",
    )
    # The client's cancellation removes the event from their calendar and has no manage link left.
    mail = emails.build_booking_email(after, "cancelled", now=NOW)
    assert (mail.invitation.method, "Manage booking" in mail.text) == ("CANCEL", False)

    other = book(business, lesson, "12:00", n=2)
    booking_service.client_cancel(business, other.id, "Flu", now=NOW)
    assert reload(other.id).cancellation_reason == "Flu"
    assert audit(other.id)[-1][-1] == "Flu"


def test_cancel_exactly_at_the_limit_but_not_after(db, business, lesson):
    b = book(business, lesson)
    with pytest.raises(ChangeNotAllowed) as exc:
        booking_service.client_cancel(business, b.id, None, now=TWELVE_HOURS_BEFORE + SECOND)
    assert exc.value.message == (
        "It is too late to change this booking online: it can be cancelled online until 12 hours before the start. "
        "Please contact the business."
    )
    assert reload(b.id).status == S.CONFIRMED and len(audit(b.id)) == 1
    booking_service.client_cancel(business, b.id, None, now=TWELVE_HOURS_BEFORE)
    assert reload(b.id).status == S.CANCELLED


def test_a_request_is_withdrawn_at_any_time_even_with_cancelling_off(db, approval, lesson, owner):
    business_service.update_settings(approval, clients_can_cancel=False, client_cancel_notice_hours=48, booking_expiry_hours=720)
    b = book(approval, lesson)
    booking_service.client_cancel(approval, b.id, None, now=START - timedelta(minutes=5))
    after = reload(b.id)
    assert state(after) == (S.CANCELLED, START, START + timedelta(hours=1), b.staff_id, 1, after.expires_at, None)
    assert audit(b.id)[-1] == (E.CANCELLED, S.PENDING, S.CANCELLED, ActorKind.CLIENT, None, "request withdrawn")
    expiry = _db.session.scalar(select(OutboxJob).where(OutboxJob.idempotency_key == f"expire_booking:{b.id}"))
    assert expiry.result == {"superseded": "request cancelled"}
    [note] = _db.session.scalars(select(BookingNotification).where(BookingNotification.type == E.CANCELLED)).all()
    assert (note.title, note.message) == (
        "Request withdrawn", "Client 1 withdrew their request for Private lesson on Mon 7 Jun 2027, 10:00 (Europe/London).",
    )
    # A withdrawn request was never in the client's calendar: no CANCEL for it.
    assert emails.build_booking_email(after, "cancelled", now=NOW).invitation is None


def test_a_cancelled_booking_cannot_be_cancelled_or_moved_again(db, business, lesson):
    b = book(business, lesson)
    booking_service.client_cancel(business, b.id, None, now=NOW)
    for change in (lambda: booking_service.client_cancel(business, b.id, None, now=NOW),
                   lambda: booking_service.client_reschedule(business, b.id, at(TUESDAY, "14:00"), now=NOW)):
        with pytest.raises(ChangeNotAllowed, match="This booking is cancelled; it can no longer be changed."):
            change()
    assert reload(b.id).sequence == 1


def test_cancelling_switched_off_leaves_it_to_the_owner(db, business, lesson, owner):
    business_service.update_settings(business, clients_can_cancel=False)
    b = book(business, lesson)
    with pytest.raises(ChangeNotAllowed, match="cannot be cancelled online"):
        booking_service.client_cancel(business, b.id, None, now=NOW)
    booking_service.cancel(business, b.id, owner, "Client phoned", now=NOW)
    assert audit(b.id)[-1] == (E.CANCELLED, S.CONFIRMED, S.CANCELLED, ActorKind.OWNER, owner.id, "Client phoned")


# ------------------------------------------------------------------ who did it


def test_history_names_client_owner_and_system(db, approval, lesson, owner):
    approved = book(approval, lesson, "10:00")
    booking_service.approve(approval, approved.id, owner, now=NOW)
    lapsed = book(approval, lesson, "12:00", n=2)
    booking_service.expire_pending(now=reload(lapsed.id).expires_at + SECOND)
    assert [(e[0], e[3], e[4]) for e in audit(approved.id)] == [(E.REQUESTED, ActorKind.CLIENT, None), (E.APPROVED, ActorKind.OWNER, owner.id)]
    assert [(e[0], e[3], e[4]) for e in audit(lapsed.id)] == [(E.REQUESTED, ActorKind.CLIENT, None), (E.EXPIRED, ActorKind.SYSTEM, None)]


def test_a_rescheduled_email_job_sends_with_the_manage_link(db, business, lesson, app, tmp_path):
    """End to end through the outbox: the job built when it runs carries the booking's current link."""
    app.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "outbox")
    b = book(business, lesson)
    booking_service.client_reschedule(business, b.id, at(TUESDAY, "14:00"), now=NOW)
    booking_service.revoke_client_links(business, b.id)
    job = _db.session.scalar(select(OutboxJob).where(OutboxJob.idempotency_key == f"email:booking:{b.id}:rescheduled:s1"))
    assert run_job(job.id, now=NOW) == "done"
    [eml] = list((tmp_path / "outbox").glob("*.eml"))
    body = eml.read_text()
    assert client_self_service.manage_token(reload(b.id)) in body.replace("=\n", "")
