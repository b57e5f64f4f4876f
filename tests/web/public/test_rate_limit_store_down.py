"""The rate-limit store (Redis) down: bookings, the booking form and log-in keep answering, the
limits fall back to per-process counters and say so once in the log, and nothing that runs after
a booking committed (the rate-limit headers) turns it into an error."""
from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.fakes.smtp_server import free_port
from tests.web.api.support import book_body, london
from tests.web.public.support import at, details_url, form_data

API = "/api/booking/public/{slug}/book/"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def config_overrides():
    # Nothing listens there: every storage call is refused, as while Redis is stopped.
    return {
        "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{free_port()}/0",
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        "BOOKING_RATE_LIMIT": "3 per minute",
    }


@pytest.fixture(autouse=True)
def storage_alive_at_start():
    """One limiter object serves every test app of this process, and it remembers that its store
    died: start each test as a fresh process would."""
    from app.extensions import limiter

    limiter._storage_dead = False
    yield
    limiter._storage_dead = False


def test_bookings_and_log_in_work_and_limits_fall_back(client, shop, lesson, day, caplog, login, owner):
    caplog.set_level(logging.WARNING)
    api = API.format(slug=shop.slug)
    first = client.post(api, json=book_body(lesson.id, london(day, 10)))
    assert first.status_code == 201, first.get_data(as_text=True)
    assert first.headers["X-RateLimit-Remaining"] == "2"  # counted by the in-process fallback
    assert client.post(details_url(shop, lesson, at(day, "09:00")), data=form_data(email="bad")).status_code == 422
    assert client.post(api, json=book_body(lesson.id, london(day, 11), client_email="b@example.com")).status_code == 201
    assert client.post(api, json=book_body(lesson.id, london(day, 12), client_email="c@example.com")).status_code == 429
    assert login().status_code == 302
    fallbacks = [r for r in caplog.records if "falling back to in-memory storage" in r.getMessage()]
    assert len(fallbacks) == 1


def test_the_fallback_warning_reaches_stderr_in_a_plain_process(tmp_path):
    """gunicorn and ``flask run`` configure no logging: the one warning must still reach stderr."""
    script = textwrap.dedent(f"""
        from app import create_app
        from app.config import TestConfig
        from app.extensions import db

        class Config(TestConfig):
            SQLALCHEMY_DATABASE_URI = "sqlite:///{tmp_path}/app.db"
            RATELIMIT_ENABLED = True
            RATELIMIT_STORAGE_URI = "redis://127.0.0.1:{free_port()}/0"
            RATELIMIT_STORAGE_OPTIONS = {{"socket_connect_timeout": 1, "socket_timeout": 1}}

        app = create_app(Config)
        with app.app_context():
            db.create_all()
        print(app.test_client().post("/api/booking/public/nobody/book/", json={{}}).status_code)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "404", result.stderr
    assert result.stderr.count("Rate limit storage unreachable - falling back to in-memory storage") == 1, result.stderr
