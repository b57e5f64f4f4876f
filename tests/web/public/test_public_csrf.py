"""With CSRF on (production), a booking POST without the token is refused with 400."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.models import Booking
from tests.web.public.support import at, details_url, form_data


@pytest.fixture
def config_overrides():
    return {"WTF_CSRF_ENABLED": True}


def test_post_without_csrf_token_is_400(client, db, shop, lesson, day):
    response = client.post(details_url(shop, lesson, at(day, "09:00")), data=form_data())
    assert response.status_code == 400
    assert "Please reload the page and try again" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Booking.id))) == 0


def test_post_with_csrf_token_books(client, db, shop, lesson, day):
    url = details_url(shop, lesson, at(day, "09:00"))
    html = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post(url, data=form_data(csrf_token=token))
    assert response.status_code == 303
    assert db.session.scalar(select(func.count(Booking.id))) == 1
