"""The login form is rate limited per address (POST only)."""
from __future__ import annotations

import pytest

from tests.web.dashboard.support import text


@pytest.fixture
def config_overrides():
    return {"LOGIN_RATE_LIMIT": "3 per minute"}


def test_too_many_login_attempts_get_429(client, owner):
    codes = [client.post("/login", data={"email": "owner@example.com", "password": "guess number one"}).status_code for _ in range(4)]
    assert codes == [422, 422, 422, 429]
    response = client.post("/login", data={"email": "owner@example.com", "password": "correct horse battery"})
    assert response.status_code == 429
    assert "going a little fast" in text(response)
    assert client.get("/login").status_code == 200  # only POSTs count


def test_successful_logins_count_too(client, owner):
    for _ in range(3):
        assert client.post("/login", data={"email": "owner@example.com", "password": "correct horse battery"}).status_code == 302
        client.post("/logout")
    assert client.post("/login", data={"email": "owner@example.com", "password": "correct horse battery"}).status_code == 429
