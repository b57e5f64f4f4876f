"""Fixtures for job tests: a real SMTP server (aiosmtpd), a real Redis (when installed), an app
configured to send through them, and bookings to write about.

Bookings are made at a fixed ``NOW`` (see :mod:`tests.services.support`), so dates never depend
on the clock; outbox timings use the real clock unless a test passes ``now``.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.smtp_server import FakeSmtpServer

UTC = timezone.utc
NOW = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
MONDAY = date(2027, 6, 7)
LONDON = ZoneInfo("Europe/London")
MAIL_FROM = "Flowkey <bookings@flowkey.test>"


def at(day: date, wall: str, tz: ZoneInfo = LONDON) -> datetime:
    return datetime.combine(day, time.fromisoformat(wall), tzinfo=tz).astimezone(UTC)


@pytest.fixture
def smtp_server():
    server = FakeSmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def config_overrides(smtp_server, tmp_path):
    return {
        "SMTP_URL": smtp_server.url,
        "SMTP_TIMEOUT": 5,
        "MAIL_FROM": MAIL_FROM,
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "OUTBOX_POLL_SECONDS": 0.1,
    }


@pytest.fixture
def shop(factory, db):
    """A Europe/London business with an address, phone and e-mail, and a 60-minute lesson."""
    owner = factory.owner(email="owner@example.com", business_name="Swim School Pro")
    business = owner.business
    business.address = "1 Pool Lane, London"
    business.phone = "+44 20 7946 0000"
    business.email = "hello@swimschool.test"
    db.session.commit()
    service = factory.service(business, name="Private lesson", duration_minutes=60, buffer_before_minutes=0, buffer_after_minutes=0)
    return business, service


@pytest.fixture
def make_booking(factory, shop):
    """``make_booking(wall="10:00", **fields)``: a booking on MONDAY at ``wall`` London time."""
    business, service = shop

    def _make(wall: str = "10:00", **fields):
        fields.setdefault("client_name", "Ada Lovelace")
        fields.setdefault("client_email", "ada@example.com")
        fields.setdefault("client_timezone", "America/New_York")
        return factory.booking(business, service, at(MONDAY, wall), now=NOW, **fields)

    return _make


def later(minutes: float = 0, now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) + timedelta(minutes=minutes)
