"""The HTTP client base against a scripted local server: timeouts, retries, Retry-After, the
mapping to the shared error kinds, and secrets kept out of messages and logs."""
from __future__ import annotations

import logging
import pickle
import time
from email.utils import formatdate

import pytest
import requests

from app.integrations.errors import AuthenticationRequired, IntegrationError, PermanentError, RateLimited, TemporaryError, UnknownProvider
from app.integrations.http import HttpClient, RetryPolicy, retry_after_seconds
from tests.fakes.http_server import FakeHttpServer
from tests.fakes.smtp_server import free_port

FAST = RetryPolicy(retries=3, read_retries=1, backoff_factor=0.001, backoff_jitter=0.001, backoff_max=0.01, max_retry_after=2)


class Client(HttpClient):
    provider = "acme"


@pytest.fixture
def server():
    s = FakeHttpServer().start()
    yield s
    s.stop()


@pytest.fixture
def client(server):
    # A read timeout far below the scripted 5 s and 30 s delays, and far above what a prompt local
    # reply takes even on a busy machine (at 0.3 s, a loaded CI run saw a prompt reply time out
    # and be asked for again).
    with Client(server.url + "/v1", timeout=(1, 2), retry=FAST) as c:
        yield c


def test_success_returns_json_and_sends_a_flowkey_user_agent(server, client):
    server.reply(200, json={"items": [1, 2]})
    assert client.get_json("/events", params={"page": "2"}) == {"items": [1, 2]}
    [seen] = server.requests
    assert (seen.method, seen.path) == ("GET", "/v1/events?page=2")
    assert seen.headers["User-Agent"].startswith("Flowkey ")


def test_empty_reply_is_none(server, client):
    server.reply(204)
    assert client.get_json("/nothing") is None


def test_a_slow_reply_times_out_quickly_as_a_temporary_error(server, client):
    server.reply(200, json={}, delay=30, times=3)
    started = time.monotonic()
    with pytest.raises(TemporaryError, match="timed out") as info:
        client.get_json("/slow")
    elapsed = time.monotonic() - started
    assert elapsed < 15  # 2 s read timeout, tried twice (read_retries=1): nowhere near the 30 s delay
    assert len(server.requests) == 2
    assert not info.value.permanent and info.value.status is None


def test_the_session_cannot_send_without_a_timeout(server, client):
    server.reply(200, json={}, delay=30, times=2)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.RequestException):
        client.session.get(server.url + "/raw")  # no timeout given: the adapter supplies the client's
    assert time.monotonic() - started < 15  # far below the 30 s delay


@pytest.mark.parametrize("timeout", [0, -1, (1, 0), (1, 2, 3), None])
def test_a_missing_or_invalid_timeout_is_refused(server, timeout):
    with pytest.raises(ValueError):
        Client(server.url, timeout=timeout)


def test_retries_503_then_succeeds(server, client):
    server.reply(503, times=2).reply(200, json={"ok": True})
    assert client.get_json("/busy") == {"ok": True}
    assert [r.path for r in server.requests] == ["/v1/busy"] * 3


def test_gives_up_after_the_retries_with_a_temporary_error(server, client):
    server.reply(502, times=10)
    with pytest.raises(TemporaryError) as info:
        client.get_json("/down")
    assert len(server.requests) == 4  # the first attempt + 3 retries
    assert (info.value.status, info.value.code, info.value.permanent) == (502, 502, False)
    assert "acme: GET 127.0.0.1:" in str(info.value) and "/v1/down -> HTTP 502" in str(info.value)


def test_429_honours_retry_after(server, client):
    server.reply(429, headers={"Retry-After": "1"}).reply(200, json={"ok": True})
    started = time.monotonic()
    assert client.get_json("/limited") == {"ok": True}
    assert time.monotonic() - started >= 0.95
    assert len(server.requests) == 2


@pytest.mark.parametrize("status, kind", [(429, RateLimited), (503, TemporaryError)])
def test_a_long_retry_after_is_raised_not_slept(server, client, status, kind):
    server.reply(status, headers={"Retry-After": "3600"}, times=2)
    started = time.monotonic()
    with pytest.raises(kind) as info:
        client.get_json("/limited")
    assert time.monotonic() - started < 30  # not the hour it asked for, even on a busy machine
    assert len(server.requests) == 1
    assert (type(info.value), info.value.retry_after, info.value.permanent) == (kind, 3600, False)


def test_429_without_retry_after_backs_off_then_raises_rate_limited(server, client):
    server.reply(429, json={"code": 20429, "message": "Too Many Requests"}, times=10)
    with pytest.raises(RateLimited) as info:
        client.get_json("/limited")
    assert len(server.requests) == 4
    assert (info.value.retry_after, info.value.code) == (None, 20429)
    assert isinstance(info.value, TemporaryError)


def test_retry_after_parsing():
    assert retry_after_seconds("120") == 120
    assert 50 <= retry_after_seconds(formatdate(time.time() + 60, usegmt=True)) <= 61  # RFC 9110 HTTP-date
    assert retry_after_seconds(formatdate(time.time() - 60, usegmt=True)) == 0
    assert retry_after_seconds(None) is retry_after_seconds("soon") is None


def test_401_is_authentication_required(server, client):
    server.reply(401, json={"error": {"code": 401, "message": "Invalid Credentials", "status": "UNAUTHENTICATED"}})
    with pytest.raises(AuthenticationRequired) as info:
        client.get_json("/me")
    assert len(server.requests) == 1
    assert (info.value.code, info.value.status, info.value.provider, info.value.permanent) == ("UNAUTHENTICATED", 401, "acme", True)
    assert str(info.value).endswith("-> HTTP 401 UNAUTHENTICATED: Invalid Credentials")


def test_403_is_permanent_unless_the_provider_says_it_means_reconnect(server, client):
    server.reply(403, json={"error": {"code": "Forbidden", "message": "no access"}}, times=2)
    with pytest.raises(PermanentError):
        client.get_json("/calendar")

    class ScopedClient(Client):
        forbidden_error = AuthenticationRequired

    with pytest.raises(AuthenticationRequired), ScopedClient(server.url, retry=FAST) as scoped:
        scoped.get_json("/calendar")


def test_classify_can_turn_a_403_into_rate_limited(server):
    class GoogleLike(Client):
        def classify(self, response, code):
            return RateLimited if code == "rateLimitExceeded" else super().classify(response, code)

        def error_details(self, response):
            error = response.json()["error"]
            return error["errors"][0]["reason"], error["message"]

    body = {"error": {"errors": [{"domain": "usageLimits", "reason": "rateLimitExceeded", "message": "Rate Limit Exceeded"}], "code": 403, "message": "Rate Limit Exceeded"}}
    server.reply(403, json=body)
    with pytest.raises(RateLimited) as info, GoogleLike(server.url, retry=FAST) as client:
        client.get_json("/events")
    assert (info.value.code, info.value.permanent) == ("rateLimitExceeded", False)


@pytest.mark.parametrize(
    "body, code, message",
    [
        ({"error": {"code": "ErrorInvalidRequest", "message": "Your request is invalid.", "innerError": {}}}, "ErrorInvalidRequest", "Your request is invalid."),  # Graph
        ({"error": {"code": 400, "message": "Invalid value", "status": "INVALID_ARGUMENT"}}, "INVALID_ARGUMENT", "Invalid value"),  # Google
        ({"error": {"message": "Invalid parameter", "type": "OAuthException", "code": 100}}, 100, "Invalid parameter"),  # Meta
        ({"error": "invalid_grant", "error_description": "Token has been revoked."}, "invalid_grant", "Token has been revoked."),  # OAuth 2.0
        ({"code": 21211, "message": "The 'To' number is not valid.", "status": 400}, 21211, "The 'To' number is not valid."),  # Twilio
        ({"code": 300, "message": "Validation Failed.", "errors": []}, 300, "Validation Failed."),  # Zoom
    ],
)
def test_400_carries_the_providers_code_and_message(server, client, body, code, message):
    server.reply(400, json=body)
    with pytest.raises(PermanentError) as info:
        client.post_json("/things", {"a": 1})
    assert len(server.requests) == 1
    assert (info.value.code, info.value.status, info.value.permanent) == (code, 400, True)
    assert str(info.value).endswith(f": {message}")


def test_a_non_json_error_body_still_gives_the_status(server, client):
    server.reply(404, body="<html>Not Found</html>")
    with pytest.raises(PermanentError) as info:
        client.get_json("/missing")
    assert (info.value.code, info.value.status) == (404, 404)
    assert "<html>" not in str(info.value)


def test_a_non_json_success_is_a_permanent_error(server, client):
    server.reply(200, body="hello")
    with pytest.raises(PermanentError, match="not JSON"):
        client.get_json("/text")


def test_connection_refused_is_temporary():
    with Client(f"http://127.0.0.1:{free_port()}", retry=FAST) as client:
        started = time.monotonic()
        with pytest.raises(TemporaryError, match="Connection refused") as info:
            client.get_json("/x")
    assert time.monotonic() - started < 10
    assert not info.value.permanent


def test_post_is_not_retried_unless_marked_idempotent(server, client):
    server.reply(503)
    with pytest.raises(TemporaryError):
        client.post_json("/messages", {"text": "hi"})
    assert len(server.requests) == 1

    server.requests.clear()
    server.reply(503).reply(200, json={"id": "2"})
    key = {"Idempotency-Key": "booking-7-reminder"}
    assert client.post_json("/messages", {"text": "hi"}, headers=key, idempotent=True) == {"id": "2"}
    assert [(r.method, r.json, r.headers["Idempotency-Key"]) for r in server.requests] == [("POST", {"text": "hi"}, "booking-7-reminder")] * 2


def test_a_post_whose_reply_times_out_is_not_sent_again(server, client):
    server.reply(200, json={}, delay=5, times=2)
    with pytest.raises(TemporaryError, match="timed out"):
        client.request("PATCH", "/events/1", json={"summary": "x"})
    assert len(server.requests) == 1


def test_each_failed_attempt_is_logged_without_query_headers_or_bodies(server, caplog):
    caplog.set_level(logging.DEBUG)
    server.reply(503, times=2).reply(400, json={"error": {"code": "bad", "message": "no"}})
    with Client(server.url, retry=FAST) as client, pytest.raises(PermanentError):
        client.get_json("/v2/items", params={"page": "3"})
    ours = [r for r in caplog.records if r.name == "app.integrations.http"]
    assert [r.levelno for r in ours] == [logging.WARNING] * 3
    assert [r.getMessage().split(" failed ")[1] for r in ours] == ["(HTTP 503); retry 1", "(HTTP 503); retry 2", "(HTTP 400)"]
    assert all(r.getMessage().startswith(f"acme GET 127.0.0.1:{server.port}/v2/items ") for r in ours)
    assert "page=3" not in caplog.text


def test_secrets_never_reach_messages_or_logs(server, caplog):
    caplog.set_level(logging.DEBUG)  # urllib3's debug lines too
    token, query_token = "tok-SECRET-123", "qs-SECRET-456"
    echo = {"error": {"code": 190, "message": f"Invalid OAuth access token {token} / {query_token}"}}
    server.reply(503).reply(401, json=echo)
    with Client(server.url, retry=FAST) as client:
        client.session.headers["Authorization"] = f"Bearer {token}"
        with pytest.raises(AuthenticationRequired) as info:
            client.get_json("/me/messages", params={"access_token": query_token})
        server.reply(400, json=echo)
        with pytest.raises(PermanentError) as info2:
            client.get_json(f"/me/messages?access_token={query_token}")
    assert server.requests[0].headers["Authorization"] == f"Bearer {token}"  # it was sent
    for text in (str(info.value), str(info2.value), caplog.text):
        assert token not in text and query_token not in text
    assert "Invalid OAuth access token ***" in str(info.value)

    stopped = FakeHttpServer().start()
    url = stopped.url
    stopped.stop()
    caplog.clear()
    with Client(url, retry=FAST) as client, pytest.raises(TemporaryError) as info3:
        client.get_json("/me", params={"access_token": query_token})
    assert query_token not in str(info3.value) and query_token not in caplog.text
    assert "Retrying" in caplog.text  # urllib3's own warnings are kept, their query strings cut


def test_hidden_values_are_masked_in_messages(server, client):
    client.hide("company-api-key-789")
    server.reply(400, json={"message": "Wrong api key company-api-key-789"})
    with pytest.raises(PermanentError) as info:
        client.post_json("/login", {"apiKey": "company-api-key-789"})
    assert str(info.value).endswith(": Wrong api key ***")


class JsonRpcClient(Client):
    """SimplyBook-style JSON-RPC: errors come back as HTTP 200 with an ``error`` member."""

    def check_body(self, response):
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            code, message = body["error"].get("code"), body["error"].get("message")
            kind = AuthenticationRequired if message == "Access denied" else PermanentError
            raise self.error(kind, response, code, message)


def test_a_200_that_reports_an_error_is_raised(server):
    server.reply(200, json={"jsonrpc": "2.0", "error": {"code": -32600, "message": "Access denied"}, "id": 1})
    server.reply(200, json={"jsonrpc": "2.0", "error": {"code": -32051, "message": "Client not found"}, "id": 2})
    server.reply(200, json={"jsonrpc": "2.0", "result": {"1": {"id": 1}}, "id": 3})
    with JsonRpcClient(server.url, retry=FAST) as client:
        with pytest.raises(AuthenticationRequired) as info:
            client.post_json("/admin", {"jsonrpc": "2.0", "method": "getClient", "params": [1], "id": 1})
        with pytest.raises(PermanentError) as info2:
            client.post_json("/admin", {"jsonrpc": "2.0", "method": "getClient", "params": [2], "id": 2})
        assert client.post_json("/admin", {"jsonrpc": "2.0", "method": "getEventList", "params": [], "id": 3})["result"] == {"1": {"id": 1}}
    assert (info.value.code, info.value.status) == (-32600, 200)
    assert str(info.value).endswith("/admin -> HTTP 200 -32600: Access denied")
    assert info2.value.code == -32051 and info2.value.permanent


def test_absolute_urls_only_to_the_base_host(server, client):
    server.reply(200, json={"page": 2})
    assert client.get_json(server.url + "/v1/events?pageToken=abc") == {"page": 2}
    with pytest.raises(PermanentError, match="refusing to call evil.example"):
        client.get_json("https://evil.example/steal")


def test_a_base_url_must_be_http():
    with pytest.raises(ValueError):
        Client("ftp://files.example")


@pytest.mark.parametrize(
    "kind, permanent",
    [(IntegrationError, False), (AuthenticationRequired, True), (TemporaryError, False), (RateLimited, False), (PermanentError, True), (UnknownProvider, True)],
)
def test_permanent_flags_as_the_job_runner_reads_them(kind, permanent):
    error = kind("boom", provider="acme", code="x")
    assert bool(getattr(error, "permanent", False)) is permanent
    assert (str(error), error.message, error.provider, error.code) == ("boom", "boom", "acme", "x")
    copy = pickle.loads(pickle.dumps(error))  # RQ and copies of exceptions keep the details
    assert (type(copy), copy.message, copy.provider, copy.code) == (kind, "boom", "acme", "x")


def test_rate_limited_is_a_temporary_error_with_retry_after():
    error = RateLimited("slow down", provider="acme", retry_after=30)
    assert isinstance(error, TemporaryError) and error.retry_after == 30
