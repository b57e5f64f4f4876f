"""The Team page (owner): list, add, edit, invite, withdraw, deactivate with future bookings
reassigned or cancelled first; full pages and HTMX fragments."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.domain.booking_state import BookingStatus as S
from app.models import Booking, OutboxJob, StaffInvitation, StaffMember
from app.services import business_service, team
from tests.web.dashboard.support import HX, field_error, flashes, text
from tests.web.dashboard.team_support import WEEKDAYS, staff_with_login


@pytest.fixture
def sam(business, lesson, logged_in):
    """Sam: no login yet, an address, offering the lesson, Mon-Fri 09:00-17:00."""
    staff = team.create_staff(business, display_name="Sam", email="sam@example.com", service_ids=[lesson.id])
    business_service.set_weekly_hours(staff, WEEKDAYS)
    return staff


def invitation_jobs(db):
    return [j.payload["invitation_id"] for j in db.session.scalars(select(OutboxJob).where(OutboxJob.kind == team.JOB_KIND))]


def rows(body: str) -> list[list[str]]:
    """The Team table's rows, each cell's text (tags and extra spaces removed)."""
    tbody = re.search(r"<tbody>(.*?)</tbody>", body, re.S).group(1)
    return [
        [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", tbody, re.S)
    ]


def test_the_team_page_lists_everyone(client, business, lesson, logged_in, sam, book, db):
    staff_with_login(business, logged_in, "Alex", "alex@example.com", [lesson.id])
    team.invite(business, sam.id, logged_in)
    quiet = team.create_staff(business, display_name="Quinn", timezone="Asia/Tokyo")
    team.deactivate(business, quiet.id)
    book(business, "10:00", staff_id=sam.id)
    response = client.get("/dashboard/team")
    assert response.status_code == 200
    body = text(response)
    expires = db.session.scalar(select(StaffInvitation)).expires_at
    from app.timezones import format_local
    assert rows(body) == [
        ["Alex", "alex@example.com", "Europe/London (business)", "Private lesson", "0", "Logs in as staff", "Active"],
        ["Owner 1", "owner@example.com", "Europe/London (business)", "Private lesson", "0", "Owner", "Active"],
        ["Sam", "sam@example.com", "Europe/London (business)", "Private lesson", "1",
         f"Invited (until {format_local(expires, 'Europe/London', '%a %d %b')})", "Active"],
        ["Quinn", "none—", "Asia/Tokyo", "None", "0", "No login", "Inactive"],
    ]
    assert 'action="/dashboard/team"' in body and '<label for="display_name">' in body
    assert '<a href="/dashboard/team" aria-current="page">' in body.replace("\n", "")


def test_adding_a_staff_member(client, logged_in, lesson, db):
    response = client.post("/dashboard/team", data={
        "display_name": "Sam", "email": "Sam@Example.com", "timezone": "America/New_York", "service_ids": [str(lesson.id)], "invite": "y",
    })
    db.session.expire_all()
    sam = db.session.scalar(select(StaffMember).where(StaffMember.display_name == "Sam"))
    assert (response.status_code, response.headers["Location"]) == (303, f"/dashboard/team/{sam.id}")
    assert (sam.email, sam.timezone, sam.is_active, [s.id for s in lesson.staff][-1]) == ("sam@example.com", "America/New_York", True, sam.id)
    assert invitation_jobs(db) == [db.session.scalar(select(StaffInvitation)).id]
    page = client.get(response.headers["Location"])
    assert flashes(page) == ["Added Sam. Set their hours so clients can book them. An invitation to log in is on its way to sam@example.com."]


@pytest.mark.parametrize("data, field, message", [
    ({"display_name": ""}, "display_name", "Please enter a name."),
    ({"display_name": "Sam", "email": "nope"}, "email", "Please enter a valid e-mail address."),
    ({"display_name": "Sam", "invite": "y"}, "email", "Enter the address to send the invitation to."),
    ({"display_name": "Sam", "email": "owner@example.com"}, "email", "Owner 1 already has this address."),
    ({"display_name": "Sam", "timezone": "Mars/Base"}, "timezone", "Choose a time zone from the list."),
])
def test_adding_refuses_bad_input(client, logged_in, db, data, field, message):
    response = client.post("/dashboard/team", data=data)
    assert response.status_code == 422
    assert field_error(response, field) == message
    assert len(db.session.scalars(select(StaffMember)).all()) == 1


def test_an_invitation_to_an_address_with_an_account_is_explained(client, logged_in, factory, db):
    factory.owner(email="taken@example.com")
    response = client.post("/dashboard/team", data={"display_name": "Sam", "email": "taken@example.com", "invite": "y"})
    assert response.status_code == 303
    assert flashes(client.get(response.headers["Location"])) == [
        "Added Sam. Set their hours so clients can book them. The invitation was not sent: taken@example.com already has a "
        "Flowkey account, and an account belongs to one business. Invite another address (a work address, for instance)."
    ]
    assert invitation_jobs(db) == []


def test_editing_a_staff_member(client, sam, lesson, db, logged_in):
    page = client.get(f"/dashboard/team/{sam.id}")
    assert page.status_code == 200
    body = text(page)
    assert 'value="Sam"' in body and 'value="sam@example.com"' in body
    assert f'<input checked id="service_ids-0" name="service_ids" type="checkbox" value="{lesson.id}">' in body
    response = client.post(f"/dashboard/team/{sam.id}", data={"display_name": "Samantha", "email": "", "timezone": "Asia/Tokyo"})
    assert (response.status_code, response.headers["Location"]) == (303, f"/dashboard/team/{sam.id}")
    db.session.expire_all()
    assert (sam.display_name, sam.email, sam.timezone, sam in lesson.staff) == ("Samantha", None, "Asia/Tokyo", False)
    bad = client.post(f"/dashboard/team/{sam.id}", data={"display_name": " ", "service_ids": ["99999"]})
    assert bad.status_code == 422
    assert (field_error(bad, "display_name"), field_error(bad, "service_ids")) == ("Please enter a name.", "'99999' is not a valid choice for this field.")


def test_the_owner_login_address_is_shown_not_edited(client, business, logged_in, db):
    me = business.staff[0]
    body = text(client.get(f"/dashboard/team/{me.id}"))
    assert '<p id="login-email">E-mail: owner@example.com' in body and 'name="email" type="email"' not in body.split("login-heading")[0]
    assert client.post(f"/dashboard/team/{me.id}", data={"display_name": "Me", "email": "x@example.com"}).status_code == 303
    db.session.expire_all()
    assert (me.display_name, me.email, me.contact_email) == ("Me", None, "owner@example.com")


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_invite_send_again_and_withdraw(client, sam, db, headers):
    response = client.post(f"/dashboard/team/{sam.id}/invitation", data={"send_to": "sam@example.com"}, headers=headers)
    message = "Invitation sent to sam@example.com. The link works once, for 7 days."
    if headers:
        body = text(response)
        assert response.status_code == 200 and "<html" not in body
        assert f'<p class="form-status" role="status">{message}</p>' in body and "Send again" in body and "Withdraw invitation" in body
    else:
        assert (response.status_code, response.headers["Location"]) == (303, f"/dashboard/team/{sam.id}")
        assert flashes(client.get(response.headers["Location"])) == [message]
    first = db.session.scalar(select(StaffInvitation)).nonce
    client.post(f"/dashboard/team/{sam.id}/invitation", data={"send_to": "samantha@example.com"}, headers=headers)
    db.session.expire_all()
    invitation = db.session.scalar(select(StaffInvitation))
    assert (invitation.email, invitation.nonce != first, len(invitation_jobs(db))) == ("samantha@example.com", True, 2)

    response = client.post(f"/dashboard/team/{sam.id}/invitation/revoke", headers=headers)
    assert response.status_code == (200 if headers else 303)
    assert db.session.scalars(select(StaffInvitation)).all() == []
    again = client.post(f"/dashboard/team/{sam.id}/invitation/revoke", headers=headers)
    assert again.status_code == 409
    assert "Sam has no invitation outstanding." in text(again)


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_invite_errors_stay_in_the_panel(client, sam, factory, business, logged_in, headers):
    bad = client.post(f"/dashboard/team/{sam.id}/invitation", data={"send_to": "nope"}, headers=headers)
    assert bad.status_code == 422
    assert field_error(bad, "send_to") == "Please enter a valid e-mail address."
    assert ("<html" in text(bad)) == (not headers)
    alex, _ = staff_with_login(business, logged_in, "Alex", "alex@example.com")
    taken = client.post(f"/dashboard/team/{alex.id}/invitation", data={"send_to": "alex@example.com"}, headers=headers)
    assert taken.status_code == 409
    assert '<p class="form-error" role="alert">Alex already has a login.</p>' in text(taken)


def test_deactivation_with_future_bookings(client, business, sam, book, db):
    first = book(business, "10:00", staff_id=sam.id, client_name="Ada")
    second = book(business, "11:00", staff_id=sam.id, client_name="Bea")
    refused = client.post(f"/dashboard/team/{sam.id}/deactivate")
    assert refused.status_code == 409
    body = text(refused)
    assert '<p class="form-error" role="alert">Sam has 2 future bookings. Reassign or cancel each one first.</p>' in body
    assert body.count('class="team-action"') == 4  # reassign and cancel, for each booking
    assert "Ada" in body and "Bea" in body

    # Reassign the first to the owner (HTMX): the panel comes back with the message.
    owner_staff = business.staff[0]
    moved = client.post(f"/dashboard/team/{sam.id}/bookings/{first.id}/reassign", data={"to_staff": str(owner_staff.id)}, headers=HX)
    assert (moved.status_code, moved.headers["HX-Trigger"]) == (200, "bookings-changed")
    assert f"Ada’s booking ({first.reference}) is now Owner 1’s; the client is told." in text(moved)
    assert "<html" not in text(moved) and "Ada" not in text(moved).split("</p>", 1)[1]
    # The owner is now busy at 10:00: giving them the 11:00 one works, but not a second 10:00.
    taken = book(business, "10:00", staff_id=sam.id, client_name="Cy")
    busy = client.post(f"/dashboard/team/{sam.id}/bookings/{taken.id}/reassign", data={"to_staff": str(owner_staff.id)}, headers=HX)
    assert busy.status_code == 409
    assert f'<p class="form-error" role="alert" id="row-error-{taken.id}">Owner 1 is not free at that time. Choose someone else, or cancel.</p>' in text(busy)
    no_reason = client.post(f"/dashboard/team/{sam.id}/bookings/{taken.id}/cancel", data={"reason": ""})
    assert no_reason.status_code == 422 and "Give a reason: the client sees it." in text(no_reason)
    for b in (second, taken):
        assert client.post(f"/dashboard/team/{sam.id}/bookings/{b.id}/cancel", data={"reason": "Sam has left"}).status_code == 303
    db.session.expire_all()
    assert [(b.staff_id, b.status) for b in (first, second, taken)] == [
        (owner_staff.id, S.CONFIRMED), (sam.id, S.CANCELLED), (sam.id, S.CANCELLED),
    ]

    done = client.post(f"/dashboard/team/{sam.id}/deactivate")
    assert done.status_code == 303
    assert flashes(client.get(done.headers["Location"])) == [
        f"Cancelled Bea’s booking ({second.reference}); the client is told.",
        f"Cancelled Cy’s booking ({taken.reference}); the client is told.",
        "Sam is inactive: clients can no longer book them.",
    ]
    db.session.expire_all()
    assert not sam.is_active
    assert "Reactivate Sam" in text(client.get(f"/dashboard/team/{sam.id}"))
    assert client.post(f"/dashboard/team/{sam.id}/reactivate").status_code == 303
    db.session.expire_all()
    assert sam.is_active


def test_another_business_staff_is_404(client, logged_in, factory, db):
    other = factory.owner(email="b@example.com", business_name="Bravo")
    bravo = team.create_staff(other.business, display_name="Bravo Staff", email="bravo@example.com")
    booking_id = 1
    urls = [
        ("GET", f"/dashboard/team/{bravo.id}", None),
        ("POST", f"/dashboard/team/{bravo.id}", {"display_name": "Hijacked"}),
        ("POST", f"/dashboard/team/{bravo.id}/invitation", {"send_to": "x@example.com"}),
        ("POST", f"/dashboard/team/{bravo.id}/invitation/revoke", {}),
        ("POST", f"/dashboard/team/{bravo.id}/deactivate", {}),
        ("POST", f"/dashboard/team/{bravo.id}/reactivate", {}),
        ("POST", f"/dashboard/team/{bravo.id}/bookings/{booking_id}/reassign", {"to_staff": "1"}),
        ("POST", f"/dashboard/team/{bravo.id}/bookings/{booking_id}/cancel", {"reason": "x"}),
    ]
    answers = [(method, url, client.open(url, method=method, data=data).status_code) for method, url, data in urls]
    assert answers == [(method, url, 404) for method, url, _ in urls]
    db.session.expire_all()
    assert (bravo.display_name, bravo.is_active, db.session.scalars(select(StaffInvitation)).all()) == ("Bravo Staff", True, [])
    assert "Bravo Staff" not in text(client.get("/dashboard/team"))
    assert db.session.scalars(select(Booking)).all() == []
