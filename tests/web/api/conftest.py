"""Fixtures for the JSON API tests: a London business with a 60-minute lesson (no buffers), an
owner API key and its headers. ``day`` is a Tuesday one to two weeks ahead."""
from __future__ import annotations

import pytest

from tests.conftest import next_weekday


@pytest.fixture
def lesson(factory, business):
    return factory.service(
        business, name="Private lesson", description="One-to-one.", duration_minutes=60, price="45.00",
        buffer_before_minutes=0, buffer_after_minutes=0,
    )


@pytest.fixture
def day():
    return next_weekday(1)


@pytest.fixture
def api_key(owner, business):
    from app.services import api_keys

    _row, token = api_keys.create_key(business, owner, "tests")
    return token


@pytest.fixture
def auth(api_key):
    return {"Authorization": f"Bearer {api_key}"}


@pytest.fixture
def other_business(factory):
    """A second owner's business, with a service, for the 404-across-businesses checks."""
    other = factory.owner(email="other@example.com", business_name="Other Shop")
    service = factory.service(other.business, name="Other lesson", duration_minutes=30)
    return other.business, service
