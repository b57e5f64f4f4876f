"""Operations endpoints: ``/healthz``, ``/readyz`` (database required, Redis reported), ``/metrics``
(off by default, token-protected, counters that move after a booking) and the per-request log
line (fields present, no token, no booking reference)."""
from __future__ import annotations

import json
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app.jobs import run_job
from app.models import Booking, utcnow
from app.models.outbox import OutboxJob
from app.ops import request_log
from app.public.routes import confirmation_token
from tests.conftest import next_weekday
from tests.fakes.redis_server import RedisServer, redis_binary
from tests.fakes.smtp_server import free_port
from tests.web.api.support import book_body, london

BASE = "/api/booking/public/swim-school-pro"
TOKEN = "metrics-token-0123456789"


@pytest.fixture
def lesson(factory, business):
    return factory.service(business, name="Private lesson", duration_minutes=60, buffer_before_minutes=0, buffer_after_minutes=0)


@pytest.fixture
def request_lines():
    """The ``flowkey.requests`` log lines of the test, parsed."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    request_log.log.addHandler(handler)
    try:
        yield lambda: [json.loads(r.getMessage()) for r in records]
    finally:
        request_log.log.removeHandler(handler)


def scrape(client) -> dict[tuple[str, tuple], float]:
    """``{(sample name, sorted labels): value}`` of a ``/metrics`` answer."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.data
    assert response.content_type.startswith("text/plain; version=")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.data.decode())
        for s in family.samples
    }


# ------------------------------------------------------------------ health


def test_healthz_answers_without_the_database(client, app, monkeypatch):
    from app.extensions import db

    monkeypatch.setattr(db.session, "execute", lambda *a, **k: (_ for _ in ()).throw(AssertionError("touched the db")))
    response = client.get("/healthz")
    assert (response.status_code, response.json) == (200, {"status": "ok"})
    assert response.headers["X-Request-ID"]


def test_readyz_database_up_redis_not_configured(client, db):
    response = client.get("/readyz")
    assert (response.status_code, response.json) == (200, {"status": "ok", "database": "ok", "redis": "not configured"})


def test_readyz_with_redis_down_is_still_ready_and_says_so(client, app, db):
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app.config["REDIS_TIMEOUT"] = 0.5
    response = client.get("/readyz")
    assert (response.status_code, response.json) == (200, {"status": "ok", "database": "ok", "redis": "down"})


@pytest.mark.skipif(redis_binary() is None, reason="redis-server is not installed")
def test_readyz_with_redis_up(client, app, db):
    server = RedisServer().start()
    try:
        app.config["REDIS_URL"] = server.url
        assert client.get("/readyz").json["redis"] == "ok"
    finally:
        server.stop()


def test_readyz_database_down_is_503(client, app, db, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", refuse)
    response = client.get("/readyz")
    assert (response.status_code, response.json) == (503, {"status": "unavailable", "database": "down", "redis": "not configured"})


# ------------------------------------------------------------------ metrics access


def test_metrics_are_off_by_default(client, app):
    assert not app.config["METRICS_ENABLED"] and app.config["METRICS_TOKEN"] is None
    response = client.get("/metrics")
    assert response.status_code == 404
    assert response.json == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", TOKEN])
def test_metrics_token_is_required(client, app, header):
    app.config["METRICS_TOKEN"] = TOKEN
    response = client.get("/metrics", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_metrics_enabled_without_token_is_open(client, app, db):
    app.config["METRICS_ENABLED"] = True
    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"flowkey_outbox_jobs" in response.data or b"flowkey_http_request_duration_seconds" in response.data


# ------------------------------------------------------------------ metrics content


def test_a_booking_moves_the_counters(client, app, db, business, lesson):
    app.config["METRICS_TOKEN"] = TOKEN
    day = next_weekday(1)
    booked = ("flowkey_bookings_total", (("event", "booked"),))
    latency = (
        "flowkey_http_request_duration_seconds_count",
        (("endpoint", "api.public_book"), ("method", "POST"), ("status", "201")),
    )
    before = scrape(client)

    response = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10)))
    assert response.status_code == 201, response.json
    after = scrape(client)

    assert after[booked] - before.get(booked, 0) == 1
    endpoint = next(k for k in after if k[0] == latency[0] and ("method", "POST") in k[1] and ("status", "201") in k[1])
    assert after[endpoint] - before.get(endpoint, 0) == 1
    pending = {labels: v for (name, labels), v in after.items() if name == "flowkey_outbox_jobs" and ("status", "pending") in labels}
    assert pending.get((("kind", "booking_email"), ("status", "pending")), 0) >= 2  # client + owner e-mails
    assert ("flowkey_outbox_oldest_due_age_seconds", (("kind", "booking_email"), ("status", "pending"))) in after

    # Running the e-mail jobs (file transport in tests) moves the job and e-mail counters.
    sent = ("flowkey_emails_sent_total", (("transport", "file"),))
    attempts = ("flowkey_job_attempts_total", (("kind", "booking_email"),))
    due = db.session.scalars(select(OutboxJob.id).where(OutboxJob.kind == "booking_email", OutboxJob.run_at <= utcnow())).all()
    assert [run_job(job_id) for job_id in due] == ["done"] * len(due)
    final = scrape(client)
    assert final[sent] - after.get(sent, 0) == len(due)
    assert final[attempts] - after.get(attempts, 0) == len(due)


def test_failed_jobs_are_counted(client, app, db, business, lesson, monkeypatch):
    from app.jobs import email as email_jobs

    app.config["METRICS_TOKEN"] = TOKEN
    assert client.post(f"{BASE}/book/", json=book_body(lesson.id, london(next_weekday(1), 10))).status_code == 201
    before = scrape(client)

    def broken(self, message):
        raise OSError("disk full")

    monkeypatch.setattr(email_jobs.mailer_for(app).transport.__class__, "send", broken)
    job_id = db.session.scalar(select(OutboxJob.id).where(OutboxJob.kind == "booking_email").limit(1))
    assert run_job(job_id) == "pending"
    after = scrape(client)
    key = ("flowkey_job_failures_total", (("kind", "booking_email"), ("outcome", "pending")))
    assert after[key] - before.get(key, 0) == 1
    failed = ("flowkey_emails_failed_total", (("transport", "file"),))
    assert after[failed] - before.get(failed, 0) == 1


# ------------------------------------------------------------------ request log


def test_request_id_is_honoured_or_made(client, db):
    assert client.get("/healthz", headers={"X-Request-ID": "lb-1234.abc"}).headers["X-Request-ID"] == "lb-1234.abc"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id <script>"}).headers["X-Request-ID"]
    assert made != "bad id <script>" and len(made) == 32


def test_request_log_line_has_the_fields_and_no_token(client, app, db, business, lesson, request_lines):
    response = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(next_weekday(1), 10)))
    reference = response.json["reference"]
    token = confirmation_token(db.session.scalar(select(Booking).where(Booking.reference == reference)))
    page = client.get(f"/book/{business.slug}/confirmation/{reference}?token={token}", headers={"X-Request-ID": "req-42"})
    assert page.status_code == 200
    missing = client.get(f"/book/{business.slug}/nowhere/{reference}/{token}?token={token}")
    assert missing.status_code == 404

    lines = request_lines()
    book, confirmation, unmatched = lines[-3:]
    assert book["endpoint"] == "api.public_book" and book["status"] == 201 and book["method"] == "POST"
    assert confirmation == {
        "request_id": "req-42",
        "method": "GET",
        "route": "/book/<slug>/confirmation/<reference>",
        "endpoint": "public.confirmation",
        "status": 200,
        "duration_ms": confirmation["duration_ms"],
    }
    assert isinstance(confirmation["duration_ms"], float) and confirmation["duration_ms"] >= 0
    assert unmatched["status"] == 404 and unmatched["endpoint"] == "unmatched"
    for line in lines:
        text = json.dumps(line)
        assert token not in text and reference not in text and "ada@example.com" not in text


def test_invented_methods_do_not_grow_the_metric_labels(client, app, db):
    app.config["METRICS_TOKEN"] = TOKEN
    assert client.open("/healthz", method="BREW").status_code == 405
    methods = {dict(labels).get("method") for (name, labels) in scrape(client) if name.startswith("flowkey_http_request")}
    assert "BREW" not in methods and "other" in methods
