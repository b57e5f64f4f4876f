"""With CSRF on (as in production): the public API needs no token; owner writes with a session
need the X-CSRFToken header; a bearer key needs none. And the booking rate limit answers 429."""
from __future__ import annotations

import pytest
from itsdangerous import URLSafeTimedSerializer

from tests.web.api.support import book_body, london


@pytest.fixture
def config_overrides():
    return {"WTF_CSRF_ENABLED": True, "BOOKING_RATE_LIMIT": "3 per minute"}


@pytest.fixture
def session_token(client, owner, app):
    """Log ``owner`` in through the session and return a valid CSRF header value."""
    raw = "a" * 40
    with client.session_transaction() as session:
        session["_user_id"] = owner.get_id()  # "<id>:<session token>"
        session["_fresh"] = True
        session["csrf_token"] = raw
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


def test_public_book_needs_no_csrf_token(client, business, lesson, day):
    response = client.post("/api/booking/public/swim-school-pro/book/", json=book_body(lesson.id, london(day, 10)))
    assert response.status_code == 201


def test_session_write_needs_csrf_header(client, business, session_token):
    assert client.get("/api/booking/settings/").status_code == 200  # reads need no token
    response = client.put("/api/booking/settings/", json={"requires_approval": True})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "csrf_failed"
    response = client.put("/api/booking/settings/", json={"requires_approval": True}, headers={"X-CSRFToken": "forged"})
    assert response.status_code == 400
    response = client.put("/api/booking/settings/", json={"requires_approval": True}, headers={"X-CSRFToken": session_token})
    assert response.status_code == 200
    assert response.json["requires_approval"] is True


def test_bearer_write_needs_no_csrf_header(client, business, auth):
    response = client.put("/api/booking/settings/", json={"is_active": False}, headers=auth)
    assert response.status_code == 200
    assert response.json["is_active"] is False


def test_booking_rate_limit_is_429(client, business, lesson, day):
    statuses = [
        client.post("/api/booking/public/swim-school-pro/book/", json=book_body(lesson.id, london(day, 9 + n), client_email=f"c{n}@example.com")).status_code
        for n in range(4)
    ]
    assert statuses == [201, 201, 201, 429]
    response = client.post("/api/booking/public/swim-school-pro/book/", json={})
    assert response.status_code == 429
    assert response.json["error"]["code"] == "too_many_requests"
    # Reading availability is not limited by the booking limit.
    assert client.get("/api/booking/public/swim-school-pro/").status_code == 200
