"""The invitation link's page: GET shows the form (and changes nothing), POST sets the password,
creates the staff login and logs in; expired, reused, withdrawn and forged links are refused."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Membership, Role, StaffInvitation, User
from app.services import team
from tests.web.dashboard.support import field_error, flashes, text
from tests.web.dashboard.team_support import PASSWORD

INVALID = (
    "This invitation link has expired, was replaced by a newer one, or was already used. "
    "Ask whoever invited you to send a new one, or log in if you already set your password."
)


@pytest.fixture
def invited(owner, business, db):
    """Sam, invited by the owner: ``(staff, invitation, link path)``. Nobody is logged in."""
    staff = team.create_staff(business, display_name="Sam", email="sam@example.com")
    invitation = team.invite(business, staff.id, owner)
    return staff, invitation, f"/invitation/{team.invitation_token(invitation)}"


def test_the_link_shows_the_form_and_changes_nothing(client, invited, db):
    staff, invitation, path = invited
    response = client.get(path)
    assert response.status_code == 200
    body = text(response)
    assert "<h1>Join Swim School Pro</h1>" in body and "<strong>sam@example.com</strong>" in body
    assert 'id="name" name="name" required type="text" value="Sam"' in body or 'value="Sam"' in body
    assert '<label for="password">Choose a password</label>' in body
    db.session.expire_all()
    assert (staff.user_id, invitation.accepted_at) == (None, None)


def test_accepting_logs_the_staff_member_in(client, invited, db):
    staff, invitation, path = invited
    response = client.post(path, data={"name": "Samantha", "password": PASSWORD})
    assert (response.status_code, response.headers["Location"]) == (303, "/dashboard/")
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == "sam@example.com"))
    assert (user.name, staff.user_id, invitation.accepted_at is not None) == ("Samantha", user.id, True)
    assert [(m.business_id, m.role) for m in db.session.scalars(select(Membership).where(Membership.user_id == user.id))] == [
        (staff.business_id, Role.STAFF)
    ]
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert flashes(page) == ["Welcome to Swim School Pro! These are your bookings; set your hours under Hours."]
    # The link is spent.
    again = client.post(path, data={"name": "Mallory", "password": "another good passphrase"})
    assert again.status_code == 400 and INVALID.replace("'", "&#39;") in text(again)
    client.post("/logout")
    assert client.post("/login", data={"email": "sam@example.com", "password": PASSWORD}).status_code == 302


def test_bad_passwords_are_refused_on_the_page(client, invited, db):
    _, _, path = invited
    for password, message in (("", "Please choose a password."), ("short", "Use at least 10 characters."),
                              ("swim school pro", "This password is too common or too easy to guess. Try a few unrelated words.")):
        response = client.post(path, data={"name": "Sam", "password": password})
        assert response.status_code == 422
        assert field_error(response, "password") == message
    response = client.post(path, data={"name": "", "password": PASSWORD})
    assert (response.status_code, field_error(response, "name")) == (422, "Please enter your name.")
    assert db.session.scalar(select(User).where(User.email == "sam@example.com")) is None


def test_expired_withdrawn_replaced_and_forged_links(client, invited, owner, business, db):
    staff, invitation, path = invited
    for bad in (path[:-3] + "xyz", "/invitation/not-a-token"):
        response = client.get(bad)
        assert response.status_code == 400 and "This invitation cannot be used" in text(response)
    team.invite(business, staff.id, owner)  # sent again: the first link no longer works
    assert client.get(path).status_code == 400
    db.session.expire_all()
    invitation = db.session.scalar(select(StaffInvitation))
    path = f"/invitation/{team.invitation_token(invitation)}"
    assert client.get(path).status_code == 200
    invitation.expires_at = invitation.sent_at - timedelta(seconds=1)
    db.session.commit()
    assert client.get(path).status_code == 400
    assert client.post(path, data={"name": "Sam", "password": PASSWORD}).status_code == 400
    fresh = team.invite(business, staff.id, owner)
    path = f"/invitation/{team.invitation_token(fresh)}"
    team.revoke_invitation(business, staff.id)
    assert client.get(path).status_code == 400
    db.session.expire_all()
    assert staff.user_id is None


def test_an_address_that_got_an_account_meanwhile(client, invited, factory, db):
    staff, _, path = invited
    factory.owner(email="sam@example.com")
    response = client.post(path, data={"name": "Sam", "password": PASSWORD})
    assert response.status_code == 409
    assert "sam@example.com already has a Flowkey account" in text(response)
    db.session.expire_all()
    assert staff.user_id is None
