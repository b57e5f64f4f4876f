"""Shared fixtures (flaskr style): ``app``, ``client``, ``db``, factories, a logged-in ``owner``.

Every test that uses ``app`` runs once on SQLite (a temporary file, so threads share it) and once
more on PostgreSQL when ``TEST_DATABASE_URL`` is set. The schema is created once per backend;
each test starts from empty tables.
"""
from __future__ import annotations

import contextlib
import os
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import text

from app import create_app
from app.config import TestConfig, _database_url
from app.extensions import db as _db
from app.extensions import limiter
from tests.fakes.redis_server import RedisServer, redis_binary

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        url = _worker_database(_database_url(os.environ["TEST_DATABASE_URL"]))
    app = create_app(_config(url))
    with app.app_context():
        _db.drop_all()
        _drop_alembic_version()
        _db.create_all()
        _db.engine.dispose()
    yield url
    with app.app_context():
        _db.drop_all()
        _db.engine.dispose()


def _worker_database(url: str) -> str:
    """``url`` itself, or under pytest-xdist a database of this worker's own beside it
    (``test`` -> ``test_gw0``), created when missing: workers empty their tables after every
    test, so they must never share one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    target = make_url(url).set(database=f"{make_url(url).database}_{worker}")
    server = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    server.dispose()
    return target.render_as_string(hide_password=False)


def _drop_alembic_version():
    with _db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def _config(url: str, **overrides):
    return type("Config", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, **overrides})


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """werkzeug's default (scrypt) costs ~0.3 s a password; only the tests that are about
    hashing need the real cost. Stored hashes name their method, so checking still works."""
    from werkzeug.security import generate_password_hash

    import app.models.user

    monkeypatch.setattr(app.models.user, "generate_password_hash", lambda pw: generate_password_hash(pw, method="pbkdf2:sha256:1000"))


@pytest.fixture
def config_overrides():
    """Override in a test module to change the app's config (e.g. turn CSRF on)."""
    return {}


@pytest.fixture
def app(database_url, config_overrides):
    app = create_app(_config(database_url, **config_overrides))
    with contextlib.suppress(Exception):  # a test may point the rate-limit store at a dead Redis
        limiter.reset()
    with app.app_context():
        yield app
        _db.session.remove()
        _truncate_all()
        _db.engine.dispose()


def _truncate_all():
    """Empty every table, children first, and start ids at 1 again. DELETE rather than TRUNCATE
    on PostgreSQL too: a TRUNCATE of every table makes new files for each (about 20x the time of
    deleting a test's few rows), and this runs after every test. SQLite hands out max(id) + 1, so
    its ids restart by themselves; PostgreSQL's sequences are set back in one statement."""
    tables = [t for t in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as conn:
        for t in tables:
            conn.execute(text(f'DELETE FROM "{t.name}"'))
        if conn.dialect.name == "postgresql":
            serial = [t.name for t in tables if "id" in t.c and t.c.id.primary_key and t.c.id.autoincrement in (True, "auto")]
            conn.execute(text("SELECT " + ", ".join(
                f"setval(pg_get_serial_sequence('\"{name}\"', 'id'), 1, false)" for name in serial
            )))


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ---------------------------------------------------------------- factories

class Factory:
    """Builds rows with sensible defaults; every method commits."""

    def __init__(self, db):
        self.db = db
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def owner(self, email=None, password="correct horse battery", business_name=None, timezone="Europe/London", **settings):
        from app.services import business_service

        n = self._next()
        user = business_service.sign_up(
            email=email or f"owner{n}@example.com",
            password=password,
            name=f"Owner {n}",
            business_name=business_name or f"Business {n}",
            timezone=timezone,
        )
        if settings:
            business_service.update_settings(user.business, **settings)
        return user

    def service(self, business, **fields):
        from app.services import business_service

        defaults = dict(name=f"Service {self._next()}", duration_minutes=60, price=Decimal("50.00"), capacity=1)
        defaults.update(fields)
        staff_ids = defaults.pop("staff_ids", None)
        return business_service.save_service(business, None, staff_ids=staff_ids, **defaults)

    def booking(self, business, service, start, **fields):
        from app.services import booking_service
        from app.services.booking_service import BookingRequest

        n = self._next()
        now = fields.pop("now", None)
        request = BookingRequest(
            service_id=service.id,
            start=start,
            client_name=fields.pop("client_name", f"Client {n}"),
            client_email=fields.pop("client_email", f"client{n}@example.com"),
            client_phone=fields.pop("client_phone", None),
            client_timezone=fields.pop("client_timezone", business.timezone),
            **fields,
        )
        return booking_service.create_booking(business, request, now=now).booking


@pytest.fixture
def factory(db):
    return Factory(db)


@pytest.fixture
def owner(factory):
    """An owner (Europe/London business, Mon-Fri 09:00-17:00, requires no approval)."""
    return factory.owner(email="owner@example.com", business_name="Swim School Pro")


@pytest.fixture
def business(owner):
    return owner.business


@pytest.fixture
def login(client):
    def _login(email="owner@example.com", password="correct horse battery"):
        return client.post("/login", data={"email": email, "password": password})

    return _login


@pytest.fixture
def logged_in(owner, login):
    response = login()
    assert response.status_code == 302, response.get_data(as_text=True)
    return owner


def next_weekday(weekday: int, tz_now: datetime | None = None, weeks_ahead: int = 1) -> datetime.date:
    """A date ``weeks_ahead`` weeks from today falling on ``weekday`` (0 = Monday)."""
    today = (tz_now or datetime.now(timezone.utc)).date()
    days = (weekday - today.weekday()) % 7 + 7 * weeks_ahead
    return today + timedelta(days=days)


@pytest.fixture
def redis_server():
    """A real ``redis-server`` of the test's own on a free port (skipped when not installed)."""
    if redis_binary() is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer().start()
    yield server
    server.stop()
