"""The SimplyBook.me client's log-in against the local JSON-RPC fake (tests/fakes/simplybook.py):
the token for an API key and for user credentials, every refusal as its own error kind, the
network failures, and the wire format (JSON-RPC 2.0, positional params, POST /login)."""
from __future__ import annotations

import time

import pytest

from app.integrations import registry
from app.integrations.errors import AuthenticationRequired, TemporaryError
from app.integrations.http import RetryPolicy
from app.integrations.simplybook import (
    ApiNotEnabled,
    CompanyNotFound,
    SimplyBookClient,
    SimplyBookTimeout,
    WrongApiKey,
    WrongUserCredentials,
)
from tests.fakes.simplybook import FakeSimplyBook
from tests.fakes.smtp_server import free_port

ONCE = RetryPolicy(retries=0, read_retries=0)
KEY = "sb-key-0123456789abcdef"


@pytest.fixture
def fake():
    server = FakeSimplyBook().start()
    server.add_company("acme", api_key=KEY, users={"admin": "s3cret-pass"})
    yield server
    server.stop()


def client(fake, company="acme", timeout=(30, 30), **credentials) -> SimplyBookClient:
    """A client of the fake; generous timeouts (a busy machine may answer slowly) unless a test
    is about timing out."""
    return SimplyBookClient(company, base_url=fake.url, timeout=timeout, retry=ONCE, **credentials)


def test_an_api_key_gets_a_token_with_one_json_rpc_call(fake):
    with client(fake, api_key=KEY) as c:
        token = c.authenticate()
    assert token in fake.tokens and c.token == token
    [(endpoint, method, params, headers)] = fake.calls
    assert (endpoint, method, params) == ("login", "getToken", ["acme", KEY])
    assert headers["Content-Type"] == "application/json"


def test_user_credentials_get_an_admin_token(fake):
    with client(fake, user_login="admin", password="s3cret-pass") as c:
        token = c.authenticate()
    assert fake.tokens[token] == "acme"
    assert [(e, m, p) for e, m, p, _ in fake.calls] == [("login", "getUserToken", ["acme", "admin", "s3cret-pass"])]


@pytest.mark.parametrize(
    ("company", "credentials", "kind", "text"),
    [
        ("nobody", {"api_key": KEY}, CompanyNotFound, "Company does not exist"),
        ("acme", {"api_key": "wrong-key-123"}, WrongApiKey, "Wrong api key"),
        ("acme", {"user_login": "admin", "password": "nope-nope"}, WrongUserCredentials, "User with this login and password not found"),
    ],
)
def test_each_refusal_is_its_own_error_and_hides_the_secret(fake, company, credentials, kind, text):
    with client(fake, company, **credentials) as c, pytest.raises(kind) as info:
        c.authenticate()
    assert isinstance(info.value, AuthenticationRequired) and info.value.permanent
    assert text in info.value.message and info.value.status == 200
    for secret in credentials.values():
        assert secret not in info.value.message


def test_api_not_enabled_is_access_denied(fake):
    fake.api_enabled["acme"] = False
    with client(fake, api_key=KEY) as c, pytest.raises(ApiNotEnabled) as info:
        c.authenticate()
    assert info.value.code == -32600 and "Access denied" in info.value.message


def test_a_silent_server_is_a_timeout(fake):
    fake.delay = 5
    started = time.monotonic()
    with client(fake, api_key=KEY, timeout=(1, 1)) as c, pytest.raises(SimplyBookTimeout) as info:
        c.authenticate()
    assert time.monotonic() - started < 4
    assert isinstance(info.value, TemporaryError) and not info.value.permanent


def test_nothing_listening_is_a_network_error():
    c = SimplyBookClient("acme", api_key=KEY, base_url=f"http://127.0.0.1:{free_port()}", timeout=(1, 1), retry=ONCE)
    with c, pytest.raises(TemporaryError) as info:
        c.authenticate()
    assert not isinstance(info.value, SimplyBookTimeout)


def test_credentials_are_required():
    with pytest.raises(ValueError):
        SimplyBookClient("acme", base_url="http://127.0.0.1:9")


def test_registered_as_the_simplybook_crm_client(fake):
    config = {"SIMPLYBOOK_API_URL": fake.url, "SIMPLYBOOK_TIMEOUT": 2}
    c = registry.client_for("crm", "simplybook", {"company_login": "acme", "api_key": KEY}, config)
    assert isinstance(c, SimplyBookClient) and c.base_url == fake.url
    assert "simplybook" in registry.providers("crm")
    with c:
        assert c.authenticate() in fake.tokens
    with pytest.raises(AuthenticationRequired):
        registry.client_for("crm", "simplybook", {"company_login": "acme"}, config)
