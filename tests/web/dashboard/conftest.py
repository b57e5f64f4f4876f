"""Dashboard fixtures: a logged-in owner whose business requires approval, a lesson, and ``book``."""
from __future__ import annotations

import pytest

from app.services import business_service
from tests.web.dashboard.support import at, monday, now


@pytest.fixture
def approval(logged_in):
    """The logged-in owner's business, with approval required and no default buffer."""
    business_service.update_settings(logged_in.business, requires_approval=True, buffer_time_minutes=0)
    return logged_in.business


@pytest.fixture
def lesson(factory, business):
    """A 60-minute, one-seat lesson with no buffers, offered by the owner."""
    return factory.service(business, name="Private lesson", duration_minutes=60, buffer_before_minutes=0, buffer_after_minutes=0)


@pytest.fixture
def book(factory, lesson):
    """``book(business, "10:00", ...)``: a booking on ``monday()`` (pending when approval is on)."""

    def _book(business, wall, day=None, service=None, **fields):
        return factory.booking(business, service or lesson, at(day or monday(), wall), now=now(), **fields)

    return _book
