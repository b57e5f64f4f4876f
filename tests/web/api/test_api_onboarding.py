"""The wizard's API: GET/POST /api/onboarding and POST /api/onboarding/test-crm (owner auth,
errors as {"error": {...}}, documented in the OpenAPI document)."""
from __future__ import annotations

import pytest

from app.services import credentials
from tests.fakes.simplybook import FakeSimplyBook

KEY = "sb-key-0123456789abcdef"
HOURS = [{"open": i < 5, "start": "09:00", "end": "17:00"} for i in range(7)]


@pytest.fixture
def simplybook(app):
    fake = FakeSimplyBook().start()
    fake.add_company("acme", api_key=KEY)
    app.config.update(SIMPLYBOOK_API_URL=fake.url, SIMPLYBOOK_TIMEOUT=30)  # a busy machine may be slow; the timeout tests shorten it
    yield fake
    fake.stop()


def test_status_of_a_new_business(client, auth):
    response = client.get("/api/onboarding", headers=auth)
    assert response.status_code == 200
    body = response.json
    assert [(s["step"], s["status"], s["data"], s["updated_at"]) for s in body["steps"]] == [
        (step, "pending", {}, None) for step in ("welcome", "crm", "booking", "channels", "automations", "done")
    ]
    assert (body["current"], body["completed"], body["bookable"]) == ("welcome", False, False)
    assert [(i["key"], i["done"]) for i in body["checklist"]] == [("service", False), ("hours", False), ("preview", False), ("share", False)]


def test_update_skip_and_complete(client, auth, business):
    response = client.post("/api/onboarding", headers=auth, json={"step": "booking", "data": {
        "template": "consultation", "service_name": "Intro call", "duration_minutes": 30, "price": "0", "capacity": 1,
        "requires_approval": False, "min_advance_booking_hours": 1, "max_advance_booking_days": 14, "hours": HOURS}})
    assert response.status_code == 200, response.json
    assert response.json["current"] == "welcome"
    assert response.json["steps"][2]["status"] == "done" and response.json["steps"][2]["data"]["service_name"] == "Intro call"
    assert client.post("/api/onboarding", headers=auth, json={"step": "crm", "skip": True}).json["steps"][1]["status"] == "skipped"
    done = client.post("/api/onboarding", headers=auth, json={"step": "done", "data": {}})
    assert (done.json["completed"], done.json["bookable"], done.json["current"]) == (True, True, "done")
    assert [s.name for s in business.services] == ["Intro call"]


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"step": "welcome", "data": {"name": "", "timezone": "Nope/Nope", "currency": "GBP", "language": "en"}},
         {"name": "Please enter your business's name.", "timezone": "Choose a time zone from the list."}),
        ({"step": "payments", "data": {}}, None),
        ({"step": "welcome"}, {"data": "Send the step's data, or skip: true."}),
        ({"step": "crm", "skip": True, "data": {}}, {"skip": "Send either data or skip, not both."}),
        ({"step": "welcome", "skip": True}, {"step": "This step cannot be skipped."}),
        ({"step": "crm", "data": {}, "extra": 1}, {"extra": "Unknown field."}),
    ],
)
def test_bad_updates_are_422_with_fields(client, auth, payload, fields):
    response = client.post("/api/onboarding", headers=auth, json=payload)
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    if fields is not None:
        assert {k: v for k, v in error["fields"].items() if k in fields} == fields


def test_secrets_are_never_returned(client, auth, business):
    client.post("/api/onboarding", headers=auth, json={"step": "crm", "data": {"company_login": "acme", "api_key": KEY}})
    body = client.get("/api/onboarding", headers=auth).get_data(as_text=True)
    assert KEY not in body and '"company_login":"acme"' in body.replace(" ", "")
    [connection] = credentials.list_connections(business)
    assert credentials.read_secrets(connection)["api_key"] == KEY


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"company_login": "acme", "api_key": KEY}, "ok"),
        ({"company_login": "nobody", "api_key": KEY}, "wrong_company"),
        ({"company_login": "acme", "api_key": "bad-key-1"}, "wrong_key"),
        ({"company_login": "acme", "auth": "user", "user_login": "x", "password": "y"}, "wrong_user"),
    ],
)
def test_test_crm_answers_ok_or_the_reason(client, auth, simplybook, payload, reason):
    response = client.post("/api/onboarding/test-crm", headers=auth, json=payload)
    assert response.status_code == 200
    assert (response.json["ok"], response.json["reason"]) == (reason == "ok", reason)


def test_test_crm_timeout_disabled_and_missing_credentials(client, auth, simplybook, app):
    simplybook.api_enabled["acme"] = False
    assert client.post("/api/onboarding/test-crm", headers=auth, json={"company_login": "acme", "api_key": KEY}).json["reason"] == "api_disabled"
    app.config["SIMPLYBOOK_TIMEOUT"] = 1
    simplybook.api_enabled["acme"], simplybook.delay = True, 3
    assert client.post("/api/onboarding/test-crm", headers=auth, json={"company_login": "acme", "api_key": KEY}).json["reason"] == "timeout"
    missing = client.post("/api/onboarding/test-crm", headers=auth, json={})
    assert missing.status_code == 422 and set(missing.json["error"]["fields"]) == {"company_login", "api_key"}


def test_owner_auth_is_required(client):
    assert client.get("/api/onboarding").status_code == 401
    assert client.post("/api/onboarding/test-crm", json={}).status_code == 401


def test_documented_in_openapi(client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert set(paths["/api/onboarding"]) >= {"get", "post"} and "post" in paths["/api/onboarding/test-crm"]
