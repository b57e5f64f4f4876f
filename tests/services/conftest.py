"""Fixtures for service tests (see :mod:`tests.services.support` for ``NOW`` and dates)."""
from __future__ import annotations

import pytest


@pytest.fixture
def lesson(factory, business):
    """A 60-minute, one-seat lesson with no buffers, offered by the owner."""
    return factory.service(business, name="Private lesson", duration_minutes=60, buffer_before_minutes=0, buffer_after_minutes=0)


@pytest.fixture
def staff(business):
    return business.staff[0]
