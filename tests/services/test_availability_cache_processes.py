"""Two processes, one database, each with its cached availability: a change made through either is
seen by the other's very next read. On SQLite each process has its own in-process store (the
versions in the shared file are what tells it an entry is stale); on PostgreSQL both share a
Redis server of the test's own.

The second process is real: a Python subprocess (the peer below) with an app of its own on the
same database, answering one JSON command a line on stdin with one JSON line on stdout.
"""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import time, timedelta

import pytest

from tests.conftest import next_weekday
from tests.fakes.redis_server import RedisServer, redis_binary
from tests.scratch_postgres import ROOT
from tests.web.api.support import book_body, london

PEER = r"""
import json, sys
from datetime import time
from app import create_app, metrics
from app.config import TestConfig
from app.extensions import db
from app.models import StaffMember
from app.services import business_service

url, redis_url = sys.argv[1], sys.argv[2] or None
app = create_app(type("PeerConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "AVAILABILITY_CACHE": "on"}))
client = app.test_client()
for line in sys.stdin:
    command = json.loads(line)
    counts = metrics.AVAILABILITY_CACHE_HITS._value.get(), metrics.AVAILABILITY_CACHE_MISSES._value.get()
    if command["do"] == "get":
        response = client.get(command["url"])
    elif command["do"] == "post":
        response = client.post(command["url"], json=command["json"])
    elif command["do"] == "hours":
        with app.app_context():
            staff = db.session.get(StaffMember, command["staff_id"])
            business_service.set_weekly_hours(staff, {d: [(time(a), time(b))] for d, a, b in command["hours"]})
        response = None
    answer = {"hits": metrics.AVAILABILITY_CACHE_HITS._value.get() - counts[0], "misses": metrics.AVAILABILITY_CACHE_MISSES._value.get() - counts[1]}
    if response is not None:
        answer.update(status=response.status_code, json=response.get_json())
    print(json.dumps(answer), flush=True)
"""


class Peer:
    """The other process: ``peer.get(url)``, ``peer.post(url, json)``, ``peer.hours(staff_id, hours)``."""

    def __init__(self, database_url: str, redis_url: str | None):
        self.process = subprocess.Popen(
            [sys.executable, "-c", PEER, database_url, redis_url or ""],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )

    def _ask(self, **command) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the peer process ended (exit code {self.process.poll()})"
        return json.loads(line)

    def get(self, url: str) -> dict:
        return self._ask(do="get", url=url)

    def post(self, url: str, json: dict) -> dict:
        return self._ask(do="post", url=url, json=json)

    def hours(self, staff_id: int, hours: list[tuple[int, int, int]]) -> dict:
        """Replace the staff member's weekly hours: ``(weekday, start hour, end hour)``."""
        return self._ask(do="hours", staff_id=staff_id, hours=hours)

    def stop(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def config_overrides():
    """The cache on, whatever AVAILABILITY_CACHE the environment sets."""
    return {"AVAILABILITY_CACHE": "on"}


@pytest.fixture
def shared(database_url, app):
    """``(redis url or None, peer)``: SQLite: a store in each process; PostgreSQL: one Redis."""
    redis_url = None
    server = None
    if database_url.startswith("postgresql"):
        if redis_binary() is None:
            pytest.skip("redis-server is not installed")
        server = RedisServer().start()
        redis_url = app.config["REDIS_URL"] = server.url
    peer = Peer(database_url, redis_url)
    yield redis_url, peer
    peer.stop()
    if server is not None:
        server.stop()


@pytest.fixture
def lesson(factory, business):
    from app.services import business_service

    second = business_service.add_staff(business, "Bob")
    business_service.set_weekly_hours(second, {d: [(time(9), time(17))] for d in range(5)})
    return factory.service(business, name="Lesson", duration_minutes=60, buffer_before_minutes=0, buffer_after_minutes=0)


def test_a_change_through_either_process_is_seen_by_the_other_s_next_read(app, db, business, lesson, shared):
    redis_url, peer = shared
    day = next_weekday(1)
    base = f"/api/booking/public/{business.slug}"
    week = f"{base}/availability/?service_id={lesson.id}&start_date={day}&end_date={day + timedelta(days=6)}"
    staff = len(lesson.staff)
    assert staff == 2
    test_client = app.test_client()

    class client:
        """This process's requests. The test client runs them in the test's app context, so in
        its session: end that session's transaction first, as a new request would start afresh
        (an open SQLite read transaction keeps seeing the database as it was)."""

        @staticmethod
        def get(url):
            db.session.rollback()
            return test_client.get(url)

        @staticmethod
        def post(url, json):
            db.session.rollback()
            return test_client.post(url, json=json)

    def computed() -> dict:
        app.config["AVAILABILITY_CACHE"] = "off"
        try:
            return client.get(week).get_json()
        finally:
            app.config["AVAILABILITY_CACHE"] = "on"

    def starts(answer: dict) -> list[tuple[str, int]]:
        return [(s["start"], s["staff_id"]) for slots in answer.values() for s in slots]

    # Both processes have the week cached (with Redis, the peer finds what this process stored).
    mine = client.get(week).get_json()
    assert mine == computed()
    first = peer.get(week)
    assert first["json"] == mine
    assert (first["hits"], first["misses"]) == ((7 * staff, 0) if redis_url else (0, 7 * staff))
    assert (peer.get(week)["hits"], client.get(week).get_json()) == (7 * staff, mine)

    # Booked here: the peer's next read no longer offers it.
    ten = london(day, 10)
    booked = client.post(f"{base}/book/", json=book_body(lesson.id, ten))
    assert booked.status_code == 201, booked.get_json()
    after = peer.get(week)
    assert after["json"] == computed() != mine
    assert (after["hits"], after["misses"]) == (7, 7)  # only the booked staff member's dates
    assert sum(1 for start, _ in starts(after["json"]) if start == ten.isoformat()) == 1  # the other staff member's

    # Booked there: this process's next read no longer offers it either.
    taken = peer.post(f"{base}/book/", json=book_body(lesson.id, ten, client_email="grace@example.com", client_phone=None))
    assert taken["status"] == 201, taken
    mine = client.get(week).get_json()
    assert mine == computed()
    assert ten.isoformat() not in [start for start, _ in starts(mine)]

    # Hours changed there (the owner works mornings only): seen here at once.
    owner_id = business.staff[0].id
    peer.hours(owner_id, [(d, 9, 12) for d in range(5)])
    mine = client.get(week).get_json()
    assert mine == computed()
    assert {start[11:16] for start, staff_id in starts(mine) if staff_id == owner_id} == {"09:00", "10:00", "11:00"}
    assert peer.get(week)["json"] == mine
