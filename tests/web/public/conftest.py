"""Fixtures for the public booking pages: a London business with contact details and a
60-minute lesson (no buffers). Helpers live in :mod:`tests.web.public.support`."""
from __future__ import annotations

import pytest

from tests.conftest import next_weekday


@pytest.fixture
def shop(business, db):
    """The owner's business with a description, address and phone (for the header and .ics)."""
    business.description = "Friendly swimming lessons for all ages."
    business.address = "1 Pool Lane, London E1 6AN"
    business.phone = "+44 20 7946 0000"
    business.currency = "GBP"
    db.session.commit()
    return business


@pytest.fixture
def lesson(factory, shop):
    return factory.service(
        shop, name="Private lesson", description="One-to-one in the small pool.", duration_minutes=60,
        price="45.00", buffer_before_minutes=0, buffer_after_minutes=0,
    )


@pytest.fixture
def day():
    """A Tuesday one to two weeks ahead (inside the 30-day window, well past the 2 h notice)."""
    return next_weekday(1)
