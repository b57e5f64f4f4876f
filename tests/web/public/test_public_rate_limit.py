"""Too many booking POSTs from one address get a 429 page; GETs are not limited."""
from __future__ import annotations

import pytest

from tests.web.public.support import at, details_url, form_data


@pytest.fixture
def config_overrides():
    return {"BOOKING_RATE_LIMIT": "3 per minute"}


def test_fourth_post_in_a_minute_is_429(client, shop, lesson, day):
    url = details_url(shop, lesson, at(day, "09:00"))
    statuses = [client.post(url, data=form_data(email="bad")).status_code for _ in range(3)]
    assert statuses == [422, 422, 422]
    response = client.post(url, data=form_data())
    assert response.status_code == 429
    assert "Too many requests" in response.get_data(as_text=True)
    assert [client.get(url).status_code for _ in range(5)] == [200] * 5
