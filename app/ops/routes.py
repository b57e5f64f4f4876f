"""``/healthz``, ``/readyz`` and ``/metrics`` (see :mod:`app.ops`)."""
from __future__ import annotations

import hmac
import logging

from flask import Response, current_app, jsonify, request
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import metrics
from app.extensions import db, limiter
from app.ops import bp
from app.services import outbox

log = logging.getLogger(__name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    return jsonify(status="ok")


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError as exc:
        log.warning("readiness: database unavailable: %s", exc)
        return False
    finally:
        db.session.rollback()


def _redis_state() -> str:
    """``"ok"``, ``"down"`` or ``"not configured"``."""
    if not current_app.config.get("REDIS_URL"):
        return "not configured"
    from app.jobs.executors.redis_queue import redis_from_config

    try:
        redis_from_config(current_app.config).ping()
        return "ok"
    except (RedisError, OSError) as exc:
        log.warning("readiness: Redis unavailable: %s", exc)
        return "down"


@bp.get("/readyz")
@limiter.exempt
def readyz():
    database = "ok" if _database_ok() else "down"
    body = {"status": "ok" if database == "ok" else "unavailable", "database": database, "redis": _redis_state()}
    return jsonify(body), 200 if database == "ok" else 503


def _authorised() -> bool | None:
    """None when metrics are off (404), else whether this request may read them."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())
    return True if current_app.config.get("METRICS_ENABLED") else None


class _ScrapeTimeCollector:
    """Figures read from the database and Redis at each scrape rather than counted as they
    happen, so every process reports the same, current values (custom collector: see
    ``prometheus_client`` docs, "Custom Collectors")."""

    def collect(self):
        depth = GaugeMetricFamily("flowkey_outbox_jobs", "Outbox jobs not done, by status and kind.", labels=["status", "kind"])
        age = GaugeMetricFamily(
            "flowkey_outbox_oldest_due_age_seconds",
            "Seconds since the oldest due outbox job (run_at <= now) was due, by status and kind.",
            labels=["status", "kind"],
        )
        try:
            for status, kind, count, oldest in outbox.depth():
                depth.add_metric([status, kind], count)
                age.add_metric([status, kind], oldest)
        except SQLAlchemyError as exc:
            log.warning("metrics: outbox depth unavailable: %s", exc)
        finally:
            db.session.rollback()
        yield depth
        yield age
        if current_app.config.get("REDIS_URL"):
            yield from _rq_metrics()


def _rq_metrics():
    from rq import Queue

    from app.jobs.executors.redis_queue import redis_from_config

    up = GaugeMetricFamily("flowkey_redis_up", "1 when Redis answered this scrape, else 0.")
    lengths = GaugeMetricFamily("flowkey_rq_queue_length", "Jobs waiting on each RQ queue.", labels=["queue"])
    try:
        conn = redis_from_config(current_app.config)
        for name in outbox.QUEUES:
            lengths.add_metric([name], Queue(name, connection=conn).count)
        up.add_metric([], 1)
    except (RedisError, OSError) as exc:
        log.warning("metrics: Redis unavailable: %s", exc)
        up.add_metric([], 0)
    yield up
    yield lengths


@bp.get("/metrics")
@limiter.exempt
def metrics_view():
    allowed = _authorised()
    if allowed is None:
        return jsonify(error={"code": "not_found", "message": "Not found.", "fields": {}}), 404
    if not allowed:
        response = jsonify(error={"code": "unauthorized", "message": "A valid metrics token is required.", "fields": {}})
        return response, 401, {"WWW-Authenticate": 'Bearer realm="metrics"'}
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_ScrapeTimeCollector())
    body, content_type = metrics.exposition(scrape)
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})
