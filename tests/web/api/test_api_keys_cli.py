"""``flask api-keys create OWNER_EMAIL`` prints a key that works as a bearer token."""
from __future__ import annotations

import re

from app.services import api_keys


def test_create_prints_a_working_key(runner, client, business):
    result = runner.invoke(args=["api-keys", "create", "OWNER@example.com", "--name", "zapier"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert re.fullmatch(r"fk_live_[A-Za-z0-9_-]{43}", token)
    [key] = api_keys.list_keys(business)
    assert (key.name, key.prefix) == ("zapier", token[:12])
    assert key.key_hash != token  # stored hashed
    response = client.get("/api/booking/link/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_unknown_owner(runner, business):
    result = runner.invoke(args=["api-keys", "create", "nobody@example.com"])
    assert result.exit_code != 0
    assert "No business owner with the e-mail nobody@example.com." in result.output
