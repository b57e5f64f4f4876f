"""Sign up, log in, log out, login_required."""
from __future__ import annotations

from datetime import time

import pytest

from app.models import Business, Membership, Role, StaffMember, User
from app.models.outbox import OutboxJob
from app.services import accounts
from app.services.account_emails import build_account_email
from tests.web.dashboard.support import HX, field_error, flashes, text
from tests.web.zone_support import zone_picker

SIGNUP = {
    "name": "Ada Lovelace",
    "email": "Ada@Example.com",
    "password": "analytical engine",
    "business_name": "Swim School Pro",
    "timezone": "America/New_York",
    "currency": "USD",
}


def test_signup_page(client):
    response = client.get("/signup")
    assert response.status_code == 200
    body = text(response)
    assert zone_picker(body, "timezone")[1] == ["Europe/London"]
    for field in ("name", "email", "password", "business_name", "timezone", "currency"):
        assert f'<label for="{field}">' in body


def account_jobs(db):
    """The account e-mail jobs recorded so far: ``[(template, payload), ...]``."""
    jobs = db.session.scalars(db.select(OutboxJob).where(OutboxJob.kind == accounts.JOB_KIND).order_by(OutboxJob.id))
    return [(j.payload["template"], j.payload) for j in jobs]


def confirm_path(db) -> str:
    """The path of the link in the last verification e-mail (built as the job builds it)."""
    template, payload = account_jobs(db)[-1]
    email = build_account_email(template, pending_id=payload.get("pending_id"), user_id=payload.get("user_id"))
    return "/signup/confirm/" + email.text.split("/signup/confirm/")[1].split()[0]


def test_signup_sends_a_link_that_creates_business_owner_staff_and_hours_and_logs_in(client, db):
    response = client.post("/signup", data=SIGNUP)
    assert (response.status_code, response.headers["Location"]) == (303, "/signup/sent")
    page = client.get("/signup/sent")
    assert "Check your e-mail to continue" in text(page)
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0  # nothing until the link is used
    assert [t for t, _ in account_jobs(db)] == ["account_verify_signup"]
    assert client.get("/dashboard/").status_code == 302

    path = confirm_path(db)
    page = client.get(path)
    assert page.status_code == 200
    assert "ada@example.com" in text(page) and "Swim School Pro" in text(page)
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0  # a GET (a mail scanner) creates nothing
    response = client.post(path)
    assert (response.status_code, response.headers["Location"]) == (303, "/dashboard/welcome")

    user = db.session.scalar(db.select(User))
    business = db.session.scalar(db.select(Business))
    assert (user.email, user.name) == ("ada@example.com", "Ada Lovelace")
    assert user.check_password("analytical engine")
    assert (business.name, business.slug, business.timezone, business.currency) == (
        "Swim School Pro", "swim-school-pro", "America/New_York", "USD",
    )
    assert [(m.user_id, m.business_id, m.role) for m in db.session.scalars(db.select(Membership))] == [(user.id, business.id, Role.OWNER)]
    staff = db.session.scalars(db.select(StaffMember)).all()
    assert [(s.display_name, s.user_id, s.timezone, s.is_active) for s in staff] == [("Ada Lovelace", user.id, None, True)]
    assert [(h.weekday, h.start_time, h.end_time) for h in staff[0].weekly_hours] == [
        (d, time(9), time(17)) for d in range(5)
    ]
    s = business.settings
    assert (s.requires_approval, s.buffer_time_minutes, s.booking_expiry_hours, s.is_active,
            s.auto_approve_returning_clients, s.max_advance_booking_days, s.min_advance_booking_hours) == (False, 15, 24, True, False, 30, 2)
    page = client.get("/dashboard/welcome")
    assert page.status_code == 200
    assert flashes(page) == ["Welcome to Flowkey! A few questions set up your booking page."]
    assert "http://localhost/book/swim-school-pro" in text(client.get("/dashboard/"))

    # The link works once.
    client.post("/logout")
    again = client.post(path)
    assert again.status_code == 400
    assert "This sign-up link has expired or was already used." in text(again)
    assert db.session.scalar(db.select(db.func.count(User.id))) == 1


def test_second_business_with_the_same_name_gets_its_own_slug(client, db, factory):
    factory.owner(business_name="Swim School Pro")
    client.post("/signup", data=SIGNUP)
    client.post(confirm_path(db))
    assert sorted(db.session.scalars(db.select(Business.slug))) == ["swim-school-pro", "swim-school-pro-2"]


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"password": "short1"}, "password", "Use at least 10 characters."),
        ({"password": "aaaaaaaaaa"}, "password", "Use more than one repeated character."),
        ({"password": "password123"}, "password", "This password is too common or too easy to guess. Try a few unrelated words."),
        ({"password": "Swim School Pro 2024"}, "password", "This password is too common or too easy to guess. Try a few unrelated words."),
        ({"password": "x" * 64 + " horse battery " * 5}, "password", "Use at most 128 characters."),
        ({"password": "12345678901"}, "password", "Use more than just digits."),
        ({"password": "ada@example.com", "email": "ada@example.com"}, "password", "Your password must not be your e-mail address."),
        ({"email": "not-an-email"}, "email", "Please enter a valid e-mail address."),
        ({"name": ""}, "name", "Please enter your name."),
        ({"business_name": ""}, "business_name", "Please enter your business's name."),
        ({"timezone": "Mars/Olympus"}, "timezone", "Choose a time zone from the list."),
        ({"currency": "XXX"}, "currency", "Not a valid choice."),
    ],
)
def test_signup_validation(client, db, changes, field, message):
    response = client.post("/signup", data={**SIGNUP, **changes})
    assert response.status_code == 422
    assert field_error(response, field) == message
    assert f'aria-describedby="{field}-error' in text(response)
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_signup_with_a_taken_email_answers_the_same_and_warns_the_owner(client, db, owner):
    new = client.post("/signup", data={**SIGNUP, "email": "someone-new@example.com"})
    taken = client.post("/signup", data={**SIGNUP, "email": "OWNER@example.com"})
    assert (taken.status_code, taken.headers["Location"], taken.get_data()) == (new.status_code, new.headers["Location"], new.get_data())
    assert db.session.scalar(db.select(db.func.count(User.id))) == 1
    assert account_jobs(db) == [
        ("account_verify_signup", {"template": "account_verify_signup", "pending_id": 1}),
        ("account_signup_attempt", {"template": "account_signup_attempt", "user_id": owner.id}),
    ]
    email = build_account_email("account_signup_attempt", user_id=owner.id)
    assert (email.to, email.subject) == (("owner@example.com",), "Someone tried to sign up with your e-mail address")
    assert "This address already has an account, so nothing was created or changed." in email.text


def test_login_and_logout(client, owner):
    page = client.get("/login")
    assert page.status_code == 200 and '<label for="password">' in text(page)
    response = client.post("/login", data={"email": "OWNER@example.com ", "password": "correct horse battery"})
    assert (response.status_code, response.headers["Location"]) == (302, "/dashboard/")
    assert client.get("/dashboard/").status_code == 200
    response = client.post("/logout")
    assert (response.status_code, response.headers["Location"]) == (303, "/login")
    assert flashes(client.get("/login")) == ["You have logged out."]
    assert client.get("/dashboard/").status_code == 302


def test_logout_is_post_only(client, logged_in):
    assert client.get("/logout").status_code == 405
    assert client.get("/dashboard/").status_code == 200


@pytest.mark.parametrize(
    "email, password",
    [("owner@example.com", "wrong password!"), ("nobody@example.com", "correct horse battery")],
)
def test_login_failure_is_generic(client, owner, email, password):
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 422
    assert '<p class="form-error" role="alert" id="login-error">The e-mail or password is incorrect.</p>' in text(response)
    assert client.get("/dashboard/").status_code == 302


def test_login_with_empty_fields(client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 422
    assert (field_error(response, "email"), field_error(response, "password")) == (
        "Please enter your e-mail.", "Please enter your password.",
    )


@pytest.mark.parametrize(
    "next_url, location",
    [
        ("/dashboard/bookings?when=past", "/dashboard/bookings?when=past"),
        ("https://evil.example/", "/dashboard/"),
        ("//evil.example/x", "/dashboard/"),
        ("/\\evil.example", "/dashboard/"),
        ("javascript:alert(1)", "/dashboard/"),
        ("dashboard", "/dashboard/"),
    ],
)
def test_login_next_is_only_a_local_path(client, owner, next_url, location):
    response = client.post("/login", query_string={"next": next_url}, data={"email": "owner@example.com", "password": "correct horse battery"})
    assert (response.status_code, response.headers["Location"]) == (302, location)


DASHBOARD_GETS = [
    "/dashboard/", "/dashboard/requests", "/dashboard/requests/count", "/dashboard/bookings", "/dashboard/bookings/1",
    "/dashboard/services", "/dashboard/services/new", "/dashboard/services/1", "/dashboard/hours", "/dashboard/settings",
    "/dashboard/api-keys",
]


@pytest.mark.parametrize("url", DASHBOARD_GETS)
def test_dashboard_requires_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_login_redirect_comes_back(client, owner):
    response = client.get("/dashboard/bookings?when=past")
    assert response.headers["Location"] == "/login?next=%2Fdashboard%2Fbookings%3Fwhen%3Dpast"
    response = client.post(response.headers["Location"], data={"email": "owner@example.com", "password": "correct horse battery"})
    assert response.headers["Location"] == "/dashboard/bookings?when=past"


@pytest.mark.parametrize("url", ["/dashboard/requests/1/approve", "/dashboard/settings", "/dashboard/api-keys"])
def test_posts_require_login(client, url):
    response = client.post(url, data={})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_htmx_request_after_logout_is_told_to_go_to_login(client):
    response = client.post("/dashboard/requests/1/approve", headers=HX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/dashboard/requests/1/approve"


def test_logged_in_user_visiting_login_goes_to_dashboard(client, logged_in):
    assert client.get("/login").headers["Location"] == "/dashboard/"
    assert client.get("/signup").headers["Location"] == "/dashboard/"


def test_without_a_mail_server_the_sent_page_says_where_the_message_is(client, app):
    app.config["MAIL_OUTBOX_DIR"] = "/srv/flowkey/outbox"
    page = text(client.get("/signup/sent"))
    assert "no mail server set up yet" in page and "/srv/flowkey/outbox" in page
    app.extensions.pop("flowkey_mailer", None)
    app.config["SMTP_URL"] = "smtp://127.0.0.1:2525"
    assert "no mail server" not in text(client.get("/signup/sent"))
