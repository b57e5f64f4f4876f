"""One booking budget per client address, however the booking arrives (the page's form or the
public API), and behind a trusted reverse proxy the client's address from X-Forwarded-For."""
from __future__ import annotations

import pytest

from tests.web.api.support import book_body, london
from tests.web.public.support import at, details_url, form_data

API = "/api/booking/public/{slug}/book/"


@pytest.fixture
def config_overrides():
    return {"BOOKING_RATE_LIMIT": "3 per minute"}


def test_form_and_api_share_one_budget(client, shop, lesson, day):
    url = details_url(shop, lesson, at(day, "09:00"))
    assert [client.post(url, data=form_data(email="bad")).status_code for _ in range(2)] == [422, 422]
    api = API.format(slug=shop.slug)
    assert client.post(api, json=book_body(lesson.id, london(day, 10))).status_code == 201
    response = client.post(api, json=book_body(lesson.id, london(day, 11), client_email="b@example.com"))
    assert response.status_code == 429
    assert response.json["error"]["code"] == "too_many_requests"
    assert client.post(url, data=form_data()).status_code == 429


def test_api_then_form_share_one_budget(client, shop, lesson, day):
    api = API.format(slug=shop.slug)
    statuses = [client.post(api, json=book_body(lesson.id, london(day, 10 + n), client_email=f"c{n}@example.com")).status_code for n in range(2)]
    assert statuses == [201, 201]
    url = details_url(shop, lesson, at(day, "09:00"))
    statuses = [client.post(url, data=form_data(email="bad")).status_code for _ in range(2)]
    assert statuses == [422, 429]


def test_without_trusted_proxies_x_forwarded_for_is_ignored(client, shop, lesson, day):
    url = details_url(shop, lesson, at(day, "09:00"))
    statuses = [
        client.post(url, data=form_data(email="bad"), headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(4)
    ]
    assert statuses == [422, 422, 422, 429]  # every request counts against the proxy's (peer's) address


class TestBehindOneProxy:
    @pytest.fixture
    def config_overrides(self):
        return {"BOOKING_RATE_LIMIT": "3 per minute", "TRUSTED_PROXIES": 1}

    def test_the_forwarded_client_address_is_the_key(self, client, shop, lesson, day):
        url = details_url(shop, lesson, at(day, "09:00"))

        def post(client_address):
            return client.post(url, data=form_data(email="bad"), headers={"X-Forwarded-For": client_address}).status_code

        assert [post("203.0.113.1") for _ in range(3)] == [422, 422, 422]
        assert post("203.0.113.1") == 429
        assert post("203.0.113.2") == 422  # another client behind the same proxy has its own budget
        # Only the last (trusted) hop counts: a client cannot pick its address by prepending one.
        assert post("198.51.100.7, 203.0.113.1") == 429

    def test_scheme_and_host_come_from_the_proxy(self, app, client):
        seen = {}

        @app.get("/_probe")
        def probe():
            from flask import request

            seen.update(remote=request.remote_addr, scheme=request.scheme, host=request.host)
            return ""

        client.get("/_probe", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "book.example"})
        assert seen == {"remote": "203.0.113.9", "scheme": "https", "host": "book.example"}
