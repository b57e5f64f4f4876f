"""API keys: create (shown once), list, revoke."""
from __future__ import annotations

import re

from app.models import ApiKey
from app.services import api_keys
from tests.web.dashboard.support import field_error, flashes, text


def test_create_shows_the_key_once_and_it_works(client, logged_in, db):
    response = client.post("/dashboard/api-keys", data={"name": "Website"})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    token = re.search(r'id="new-key-value" type="text" readonly value="(fk_live_[^"]+)"', text(response)).group(1)
    key = db.session.scalar(db.select(ApiKey))
    assert (key.name, key.prefix, key.business_id, key.user_id) == ("Website", token[:12], logged_in.business.id, logged_in.id)
    assert api_keys.authenticate(token).id == key.id
    listing = text(client.get("/dashboard/api-keys"))
    assert token not in listing
    assert f"<code>{key.prefix}…</code>" in listing and "<td>Website</td>" in listing


def test_create_needs_a_name(client, logged_in, db):
    response = client.post("/dashboard/api-keys", data={"name": " "})
    assert response.status_code == 422
    assert field_error(response, "name") == "Please name the key."
    assert db.session.scalar(db.select(db.func.count(ApiKey.id))) == 0


def test_revoke(client, logged_in, db):
    key, token = api_keys.create_key(logged_in.business, logged_in, "Zapier")
    response = client.post(f"/dashboard/api-keys/{key.id}/revoke")
    assert (response.status_code, response.headers["Location"]) == (303, "/dashboard/api-keys")
    page = client.get("/dashboard/api-keys")
    assert flashes(page) == [f"Revoked the key {key.prefix}… (Zapier). Programs using it can no longer connect."]
    assert "Revoked " in text(page) and "Revoke<span" not in text(page)
    assert api_keys.authenticate(token) is None
