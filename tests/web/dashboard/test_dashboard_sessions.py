"""Accounts and sessions: log-in does the same work for known and unknown e-mails, a session
cookie copied before log-out (or a password change) stops working, sessions last 14 days from
the last request, sign-up is rate limited and its link expires, and the account e-mail job sends
once."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
from flask import g

from app.extensions import serving_processes, warn_if_limits_not_shared
from app.jobs import run_job
from app.models import PendingSignup, User
from app.models.outbox import OutboxJob, SentMessage
from app.services import accounts
from tests.web.dashboard.support import text

PASSWORD = "correct horse battery"
SIGNUP = {
    "name": "Ada Lovelace", "email": "ada@example.com", "password": "analytical engine",
    "business_name": "Swim School Pro", "timezone": "Europe/London", "currency": "GBP",
}


# ---------------------------------------------------------------- constant-work log-in

@pytest.fixture
def hash_checks(monkeypatch):
    calls = []
    real = accounts.check_password_hash

    def counting(pwhash, password):
        calls.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    return calls


@pytest.mark.parametrize(
    "email, password, status",
    [("nobody@example.com", PASSWORD, 422), ("owner@example.com", "wrong password!", 422), ("owner@example.com", PASSWORD, 302)],
)
def test_login_checks_one_password_hash_whether_or_not_the_email_exists(client, owner, hash_checks, email, password, status):
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == status
    assert len(hash_checks) == 1
    # The dummy hash costs what a real one does: same method and parameters.
    assert hash_checks[0].split("$")[0] == owner.password_hash.split("$")[0]


# ---------------------------------------------------------------- sessions

@pytest.fixture(autouse=True)
def fresh_login_state(app):
    """Each request reads the user from its session cookie, as in production: the tests' app
    context outlives requests, and Flask-Login caches the user in ``g``."""

    @app.before_request
    def _forget_cached_user() -> None:
        g.pop("_login_user", None)


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def test_a_session_cookie_copied_before_logout_is_refused_after_it(client, owner, login):
    assert login().status_code == 302
    copied = session_cookie(client)
    assert client.post("/logout").status_code == 303
    client.set_cookie("session", copied)
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    api = client.get("/api/booking/settings/")
    assert api.status_code == 401
    assert api.json["error"]["code"] == "unauthorized"


def test_logout_ends_the_sessions_of_other_browsers_too(app, owner, login, client):
    other = app.test_client()
    assert other.post("/login", data={"email": "owner@example.com", "password": PASSWORD}).status_code == 302
    assert login().status_code == 302
    client.post("/logout")
    assert other.get("/dashboard/").status_code == 302


def test_a_password_change_ends_sessions(client, owner, login, db):
    assert login().status_code == 302
    assert client.get("/dashboard/").status_code == 200
    owner.set_password("a brand new passphrase")
    db.session.commit()
    assert client.get("/dashboard/").status_code == 302
    assert client.post("/login", data={"email": "owner@example.com", "password": "a brand new passphrase"}).status_code == 302
    assert client.get("/dashboard/").status_code == 200


@pytest.mark.parametrize("session_id", ["{id}", "{id}:", "{id}:wrong-token", "x:{token}", "999:{token}"])
def test_a_session_id_without_the_current_token_is_refused(client, owner, session_id):
    with client.session_transaction() as session:
        session["_user_id"] = session_id.format(id=owner.id, token=owner.session_token)
        session["_fresh"] = True
    assert client.get("/dashboard/").status_code == 302


def test_a_login_lasts_14_days_renewed_on_each_request(app, client, owner, login):
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(days=14)
    response = login()
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    assert abs(expires - (datetime.now(timezone.utc) + timedelta(days=14))) < timedelta(minutes=1)
    again = client.get("/dashboard/")
    assert any(h.startswith("session=") for h in again.headers.getlist("Set-Cookie"))  # refreshed


# ---------------------------------------------------------------- sign-up link

def verification_token(db) -> str:
    pending = db.session.scalar(db.select(PendingSignup).order_by(PendingSignup.id.desc()))
    return accounts.signup_token(pending)


@pytest.mark.parametrize("token", ["not-a-token", "eyJ4Ijox.forged.signature"])
def test_a_forged_link_is_refused(client, token):
    for response in (client.get(f"/signup/confirm/{token}"), client.post(f"/signup/confirm/{token}")):
        assert response.status_code == 400
        assert "This sign-up link has expired or was already used." in text(response)


def test_an_expired_link_is_refused(client, db):
    client.post("/signup", data=SIGNUP)
    token = verification_token(db)
    pending = db.session.scalar(db.select(PendingSignup))
    pending.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    db.session.commit()
    response = client.post(f"/signup/confirm/{token}")
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_the_link_is_signed_with_a_48_hour_limit(app, db, client, monkeypatch):
    client.post("/signup", data=SIGNUP)
    token = verification_token(db)
    later = 48 * 3600 + 60
    import itsdangerous.timed

    real_now = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: real_now(self) + later)
    with pytest.raises(accounts.SignupLinkInvalid):
        accounts.pending_sign_up(token)


def test_the_account_email_job_sends_the_link_once(app, db, client):
    client.post("/signup", data=SIGNUP)
    job = db.session.scalar(db.select(OutboxJob).where(OutboxJob.kind == accounts.JOB_KIND))
    assert (job.queue, job.business_id) == ("notifications", None)
    assert run_job(job.id) == "done"
    sent = db.session.scalars(db.select(SentMessage)).all()
    assert [(s.recipient, s.subject) for s in sent] == [("ada@example.com", "Confirm your e-mail to finish signing up")]
    job = db.session.get(OutboxJob, job.id)
    job.status = type(job.status)("pending")
    db.session.commit()
    assert run_job(job.id) == "done"
    assert db.session.scalar(db.select(db.func.count(SentMessage.id))) == 1  # idempotent


def test_no_link_is_sent_for_a_sign_up_already_completed(app, db, client):
    client.post("/signup", data=SIGNUP)
    client.post(f"/signup/confirm/{verification_token(db)}")
    job = db.session.scalar(db.select(OutboxJob).where(OutboxJob.kind == accounts.JOB_KIND))
    assert run_job(job.id) == "done"
    assert db.session.scalar(db.select(db.func.count(SentMessage.id))) == 0


def test_at_most_one_sign_up_attempt_email_an_hour(client, db, owner):
    for _ in range(3):
        assert client.post("/signup", data={**SIGNUP, "email": "owner@example.com"}).status_code == 303
    jobs = db.session.scalars(db.select(OutboxJob).where(OutboxJob.kind == accounts.JOB_KIND)).all()
    assert [j.payload["template"] for j in jobs] == ["account_signup_attempt"]


def test_the_demo_and_cli_sign_up_still_creates_accounts_directly(db, factory):
    user = factory.owner(email="direct@example.com")
    assert user.business is not None and user.session_token


# ---------------------------------------------------------------- rate limits

class TestSignupRateLimit:
    @pytest.fixture
    def config_overrides(self):
        return {"SIGNUP_RATE_LIMIT": "2 per hour"}

    def test_third_sign_up_in_an_hour_is_429(self, client, db):
        statuses = [client.post("/signup", data={**SIGNUP, "email": f"o{n}@example.com"}).status_code for n in range(3)]
        assert statuses == [303, 303, 429]
        assert "going a little fast" in text(client.post("/signup", data=SIGNUP))
        assert db.session.scalar(db.select(db.func.count(PendingSignup.id))) == 2
        assert client.get("/signup").status_code == 200  # only POSTs count


@pytest.mark.parametrize(
    "argv, environ, expected",
    [
        (["-w", "3", "wsgi:app"], {}, 3),
        (["--workers=2", "wsgi:app"], {}, 2),
        (["wsgi:app"], {"WEB_CONCURRENCY": "4"}, 4),
        (["wsgi:app"], {"GUNICORN_CMD_ARGS": "-w 5"}, 5),
        (["wsgi:app"], {}, 1),
    ],
)
def test_serving_processes_reads_gunicorns_worker_count(argv, environ, expected):
    assert serving_processes(argv, environ) == expected


def test_memory_rate_limits_with_several_workers_log_a_warning(app, monkeypatch, caplog):
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    with caplog.at_level(logging.WARNING):
        warn_if_limits_not_shared(app)
    assert "RATELIMIT_STORAGE_URI=memory://" in caplog.text and "2 processes" in caplog.text
    caplog.clear()
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    warn_if_limits_not_shared(app)
    assert caplog.text == ""
