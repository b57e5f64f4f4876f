"""app.services.team: staff members, deactivation with future bookings, invitations."""
from __future__ import annotations

import re
import time as clock
from datetime import time, timedelta
from urllib.parse import urlsplit

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from app.domain.booking_state import BookingStatus
from app.models import Business, Membership, OutboxJob, Role, StaffInvitation, StaffMember, User
from app.services import accounts, booking_service, business_service, team, team_emails
from app.services.errors import Conflict, NotFound, SlotUnavailable, ValidationFailed
from tests.services.support import MONDAY, NOW, at

PASSWORD = "violet tapestry monsoon"
WEEKDAYS = {d: [(time(9), time(17))] for d in range(5)}


@pytest.fixture
def sam(business, lesson):
    """A second staff member, offering the lesson, Mon-Fri 09:00-17:00, with an e-mail."""
    staff = team.create_staff(business, display_name="Sam", email="Sam@Example.com", service_ids=[lesson.id])
    business_service.set_weekly_hours(staff, WEEKDAYS)
    return staff


def book(factory, business, lesson, wall, staff, **fields):
    return factory.booking(business, lesson, at(MONDAY, wall), staff_id=staff.id, now=NOW, **fields)


def jobs(db):
    return [(j.kind, j.payload, j.idempotency_key) for j in db.session.scalars(select(OutboxJob).where(OutboxJob.kind == team.JOB_KIND).order_by(OutboxJob.id))]


def token_from(db, invitation: StaffInvitation) -> str:
    """The token of the link the recorded e-mail carries (built as the job builds it)."""
    db.session.refresh(invitation)
    email = team_emails.build_invitation_email(invitation.id, team.nonce_digest(invitation.nonce))
    url = next(word for word in email.text.split() if "/invitation/" in word)
    return urlsplit(url).path.rsplit("/", 1)[1]


# ------------------------------------------------------------------ staff members

def test_create_and_list_staff(db, business, lesson, factory, owner):
    group = factory.service(business, name="Group", staff_ids=[])
    sam = team.create_staff(business, display_name="  Sam  ", email=" Sam@Example.COM ", timezone="America/New_York", service_ids=[lesson.id, group.id])
    team.create_staff(business, display_name="Alex")
    business_service.set_weekly_hours(sam, WEEKDAYS)
    book(factory, business, lesson, "15:00", sam)  # 10:00 in New York
    book(factory, business, lesson, "16:00", sam)
    rows = team.list_staff(business, now=NOW)
    assert [
        (r.staff.display_name, r.staff.contact_email, r.staff.timezone, r.staff.effective_timezone, [s.name for s in r.services], r.upcoming, r.role, r.invitation)
        for r in rows
    ] == [
        ("Alex", None, None, "Europe/London", [], 0, None, None),
        ("Owner 1", "owner@example.com", None, "Europe/London", ["Private lesson"], 0, Role.OWNER, None),
        ("Sam", "sam@example.com", "America/New_York", "America/New_York", ["Private lesson", "Group"], 2, None, None),
    ]
    assert team.get_summary(business, sam.id, now=NOW).upcoming == 2
    assert team.list_staff(business, now=at(MONDAY, "15:30"))[2].upcoming == 1  # one has started


@pytest.mark.parametrize("fields, errors", [
    ({"display_name": "  "}, {"display_name": "Please enter a name."}),
    ({"display_name": "x" * 121}, {"display_name": "Use at most 120 characters."}),
    ({"display_name": "Sam\nSmith"}, {"display_name": "Remove line breaks, tabs and other control characters."}),
    ({"display_name": "Sam", "email": "not-an-address"}, {"email": "Enter a valid e-mail address, like name@example.com."}),
    ({"display_name": "Sam", "email": "owner@example.com"}, {"email": "Owner 1 already has this address."}),
    ({"display_name": "Sam", "timezone": "Mars/Olympus"}, {"timezone": "Unknown time zone; choose one from the list (e.g. Europe/London)."}),
    ({"display_name": "Sam", "service_ids": [999]}, {"service_ids": "No such service: 999."}),
])
def test_create_staff_refuses_bad_input(db, business, fields, errors):
    with pytest.raises(ValidationFailed) as info:
        team.create_staff(business, **fields)
    assert info.value.fields == errors
    assert len(business.staff) == 1


def test_update_staff(db, business, lesson, sam, factory):
    other = factory.owner(email="b@example.com")
    other_service = factory.service(other.business)
    version = business.availability_version
    team.update_staff(business, sam.id, display_name="Samantha", timezone="Asia/Tokyo", service_ids=[])
    db.session.expire_all()
    assert (sam.display_name, sam.timezone, sam.email, lesson.staff) == ("Samantha", "Asia/Tokyo", "sam@example.com", [business.staff[0]])
    assert business.availability_version > version  # who offers what changes availability
    team.update_staff(business, sam.id, timezone=None, email=None, service_ids=[lesson.id])
    db.session.expire_all()
    assert (sam.timezone, sam.email, [s.id for s in lesson.staff]) == (None, None, [business.staff[0].id, sam.id])
    with pytest.raises(ValidationFailed) as info:
        team.update_staff(business, sam.id, service_ids=[other_service.id])
    assert info.value.fields == {"service_ids": f"No such service: {other_service.id}."}
    with pytest.raises(NotFound):
        team.update_staff(other.business, sam.id, display_name="Stolen")


def test_the_login_address_cannot_be_changed_here(db, business, owner):
    me = business.staff[0]
    with pytest.raises(ValidationFailed) as info:
        team.update_staff(business, me.id, email="new@example.com")
    assert info.value.fields == {"email": "Owner 1 logs in with owner@example.com; only they can change it."}
    team.update_staff(business, me.id, email="OWNER@example.com", display_name="Me")  # the same: fine
    assert (me.display_name, me.email, me.contact_email) == ("Me", None, "owner@example.com")


# ------------------------------------------------------------------ deactivation

def test_deactivation_is_refused_while_future_bookings_exist(db, business, lesson, sam, factory):
    second = book(factory, business, lesson, "11:00", sam)
    first = book(factory, business, lesson, "10:00", sam)
    past = book(factory, business, lesson, "09:00", sam)
    booking_service.cancel(business, past.id, None, "Not needed")
    with pytest.raises(team.StaffHasBookings) as info:
        team.deactivate(business, sam.id, now=NOW)
    assert [b.id for b in info.value.bookings] == [first.id, second.id]
    assert (info.value.status_code, info.value.code, info.value.message) == (
        409, "staff_has_bookings", "Sam has 2 future bookings. Reassign or cancel each one first.",
    )
    db.session.expire_all()
    assert sam.is_active

    owner_staff = business.staff[0]
    moved = team.reassign_booking(business, sam.id, first.id, owner_staff.id, None, now=NOW)
    assert (moved.staff_id, moved.start_at, moved.status, moved.sequence) == (owner_staff.id, at(MONDAY, "10:00"), BookingStatus.CONFIRMED, 1)
    cancelled = team.cancel_booking(business, sam.id, second.id, None, "Sam has left")
    assert (cancelled.status, cancelled.cancellation_reason) == (BookingStatus.CANCELLED, "Sam has left")

    version = business.availability_version
    team.deactivate(business, sam.id, now=NOW)
    db.session.expire_all()
    assert not sam.is_active and business.availability_version > version
    assert lesson.staff == [owner_staff, sam]  # kept for a reactivation; inactive staff are not offered
    team.reactivate(business, sam.id)
    db.session.expire_all()
    assert sam.is_active


def test_reassign_and_cancel_refuse_what_they_should(db, business, lesson, sam, factory):
    owner_staff = business.staff[0]
    booking = book(factory, business, lesson, "10:00", sam)
    mine = book(factory, business, lesson, "10:00", owner_staff)
    with pytest.raises(NotFound):  # not Sam's booking
        team.reassign_booking(business, sam.id, mine.id, owner_staff.id, None, now=NOW)
    with pytest.raises(NotFound):
        team.cancel_booking(business, sam.id, mine.id, None, "x")
    with pytest.raises(ValidationFailed) as info:
        team.reassign_booking(business, sam.id, booking.id, sam.id, None, now=NOW)
    assert info.value.fields == {"staff_id": "Choose another active staff member."}
    with pytest.raises(SlotUnavailable):  # the owner is busy then
        team.reassign_booking(business, sam.id, booking.id, owner_staff.id, None, now=NOW)
    alex = team.create_staff(business, display_name="Alex")
    business_service.set_weekly_hours(alex, WEEKDAYS)
    with pytest.raises(ValidationFailed) as info:  # does not offer the lesson
        team.reassign_booking(business, sam.id, booking.id, alex.id, None, now=NOW)
    assert list(info.value.fields) == ["staff_id"]
    with pytest.raises(ValidationFailed):
        team.cancel_booking(business, sam.id, booking.id, None, "  ")
    db.session.expire_all()
    assert (booking.staff_id, booking.status) == (sam.id, BookingStatus.CONFIRMED)


def test_deactivating_a_staff_login_ends_its_sessions_and_withdraws_invitations(db, business, sam, owner):
    alex = team.create_staff(business, display_name="Alex", email="alex@example.com")
    team.invite(business, alex.id, owner, now=NOW)
    team.deactivate(business, alex.id, now=NOW)
    assert db.session.scalars(select(StaffInvitation)).all() == []

    invitation = team.invite(business, sam.id, owner, now=NOW)
    user = team.accept_invitation(token_from(db, invitation), password=PASSWORD, now=NOW)
    token = user.session_token
    team.deactivate(business, sam.id, now=NOW)
    db.session.expire_all()
    assert user.session_token != token
    # An owner's own staff row only stops being bookable: the owner keeps their sessions.
    owner_token = owner.session_token
    team.deactivate(business, business.staff[0].id, now=NOW)
    db.session.expire_all()
    assert owner.session_token == owner_token


# ------------------------------------------------------------------ invitations

def test_invite_records_the_email_and_accepting_creates_a_staff_login(db, business, sam, owner):
    invitation = team.invite(business, sam.id, owner, now=NOW)
    assert (invitation.email, invitation.sent_at, invitation.expires_at, invitation.accepted_at, invitation.invited_by_id) == (
        "sam@example.com", NOW, NOW + timedelta(days=7), None, owner.id,
    )
    digest = team.nonce_digest(invitation.nonce)
    assert jobs(db) == [(team.JOB_KIND, {"invitation_id": invitation.id, "nonce_digest": digest, "business_id": business.id},
                         f"email:staff_invitation:{invitation.id}:{digest}")]
    assert invitation.nonce not in str(jobs(db))

    email = team_emails.build_invitation_email(invitation.id, digest)
    assert (email.template, email.to, email.subject, email.from_name, email.reply_to) == (
        "staff_invitation", ("sam@example.com",), "Swim School Pro invited you to Flowkey", "Swim School Pro", "owner@example.com",
    )
    # The link's token is signed with a timestamp: read it from the e-mail (the one made here a
    # moment later may differ in its second) and check it opens this invitation.
    linked = re.search(r"/invitation/([^\s\"<]+)", email.html).group(1)
    assert team.invitation_for_token(linked, now=NOW).id == invitation.id
    assert f"/invitation/{linked}" in email.text and "7 days" in email.text and "Hi Sam," in email.text
    token = token_from(db, invitation)
    summary = team.get_summary(business, sam.id, now=NOW)
    assert (summary.invitation.id, summary.invitation_state(NOW), summary.invitation_state(NOW + timedelta(days=8))) == (
        invitation.id, "pending", "expired",
    )

    user = team.accept_invitation(token, password=PASSWORD, name="Samantha Jones", now=NOW + timedelta(days=1))
    db.session.expire_all()
    assert (user.email, user.name, user.check_password(PASSWORD)) == ("sam@example.com", "Samantha Jones", True)
    assert [(m.business_id, m.role) for m in user.memberships] == [(business.id, Role.STAFF)]
    assert (sam.user_id, sam.display_name, invitation.accepted_at) == (user.id, "Sam", NOW + timedelta(days=1))
    summary = team.get_summary(business, sam.id, now=NOW)
    assert (summary.role, summary.invitation) == (Role.STAFF, None)
    # Spent: the link works once, and nothing is sent for an accepted invitation.
    with pytest.raises(team.InvitationInvalid):
        team.accept_invitation(token, password=PASSWORD, now=NOW + timedelta(days=1))
    assert team_emails.build_invitation_email(invitation.id, digest) is None
    with pytest.raises(Conflict, match="already has a login"):
        team.invite(business, sam.id, owner, now=NOW)


def test_sending_again_replaces_the_link_and_revoking_kills_it(db, business, sam, owner):
    first = team.invite(business, sam.id, owner, now=NOW)
    old_token = token_from(db, first)
    old_digest = team.nonce_digest(first.nonce)
    again = team.invite(business, sam.id, owner, email="samantha@example.com", now=NOW + timedelta(days=3))
    assert again.id == first.id and again.expires_at == NOW + timedelta(days=10)
    assert (sam.email, again.email) == ("samantha@example.com", "samantha@example.com")
    assert len(jobs(db)) == 2
    assert team_emails.build_invitation_email(first.id, old_digest) is None  # the first job sends nothing now
    with pytest.raises(team.InvitationInvalid):
        team.invitation_for_token(old_token, now=NOW)
    new_token = token_from(db, again)
    assert team.invitation_for_token(new_token, now=NOW).id == again.id
    team.revoke_invitation(business, sam.id)
    with pytest.raises(team.InvitationInvalid):
        team.invitation_for_token(new_token, now=NOW)
    with pytest.raises(NotFound):
        team.revoke_invitation(business, sam.id)


def test_invitation_links_expire_and_refuse_tampering(db, business, sam, owner, monkeypatch):
    invitation = team.invite(business, sam.id, owner, now=NOW)
    token = token_from(db, invitation)
    assert team.invitation_for_token(token, now=NOW + timedelta(days=7) - timedelta(seconds=1)).id == invitation.id
    for bad in (
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature changed
        token.replace(".", "x", 1),
        "garbage",
        "",
    ):
        with pytest.raises(team.InvitationInvalid):
            team.invitation_for_token(bad, now=NOW)
    with pytest.raises(team.InvitationInvalid):  # the row's expiry
        team.invitation_for_token(token, now=NOW + timedelta(days=7))
    # A token signed by another secret, or for sign-ups (another salt), names nothing here.
    signup_style = accounts._serializer().dumps(invitation.nonce)
    with pytest.raises(team.InvitationInvalid):
        team.invitation_for_token(signup_style, now=NOW)
    # The signature's own age: a link signed 8 days ago is refused whatever the row says.
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(clock.time()) - 8 * 86400)
    old = team._serializer().dumps(invitation.nonce)
    monkeypatch.undo()
    with pytest.raises(team.InvitationInvalid):
        team.invitation_for_token(old, now=NOW)
    # Deactivating withdraws it.
    team.deactivate(business, sam.id, now=NOW)
    with pytest.raises(team.InvitationInvalid):
        team.invitation_for_token(token, now=NOW)


def test_an_address_with_an_account_cannot_be_invited(db, business, sam, owner, factory):
    factory.owner(email="taken@example.com")
    with pytest.raises(ValidationFailed) as info:
        team.invite(business, sam.id, owner, email="Taken@Example.com", now=NOW)
    assert info.value.fields == {"email": (
        "taken@example.com already has a Flowkey account, and an account belongs to one business. "
        "Invite another address (a work address, for instance)."
    )}
    with pytest.raises(ValidationFailed) as info:
        team.invite(business, team.create_staff(business, display_name="Nobody").id, owner, now=NOW)
    assert info.value.fields == {"email": "Enter the address to send the invitation to."}
    assert db.session.scalars(select(StaffInvitation)).all() == [] and jobs(db) == []


def test_an_account_made_after_the_invitation_is_a_clear_refusal(db, business, sam, owner, factory):
    token = token_from(db, team.invite(business, sam.id, owner, now=NOW))
    factory.owner(email="sam@example.com")
    with pytest.raises(team.AccountExists) as info:
        team.accept_invitation(token, password=PASSWORD, now=NOW)
    assert info.value.status_code == 409 and "sam@example.com already has a Flowkey account" in info.value.message
    db.session.expire_all()
    assert sam.user_id is None


def test_accepting_checks_the_password(db, business, sam, owner):
    token = token_from(db, team.invite(business, sam.id, owner, now=NOW))
    for password, message in (("short", "Use at least 10 characters."), ("sam@example.com", "Your password must not be your e-mail address.")):
        with pytest.raises(ValidationFailed) as info:
            team.accept_invitation(token, password=password, now=NOW)
        assert info.value.fields == {"password": message}
    assert db.session.scalar(select(User).where(User.email == "sam@example.com")) is None
    assert db.session.scalars(select(Membership).where(Membership.role == Role.STAFF)).all() == []


def test_another_business_cannot_touch_the_team(db, business, sam, owner, factory):
    other = factory.owner(email="b@example.com").business
    for call in (
        lambda: team.get_summary(other, sam.id),
        lambda: team.deactivate(other, sam.id, now=NOW),
        lambda: team.reactivate(other, sam.id),
        lambda: team.invite(other, sam.id, owner, now=NOW),
        lambda: team.revoke_invitation(other, sam.id),
    ):
        with pytest.raises(NotFound):
            call()
    db.session.expire_all()
    assert len(db.session.get(Business, other.id).staff) == 1
    assert db.session.get(StaffMember, sam.id).is_active
