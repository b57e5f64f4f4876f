"""Operations endpoints and request instrumentation, for load balancers and dashboards.

* ``GET /healthz``: the process is up (200, touches nothing else).
* ``GET /readyz``: the database answers (200, else 503); Redis, when ``REDIS_URL`` is set, is
  reported in the body but never fails the check: bookings work without it.
* ``GET /metrics``: Prometheus text format (:mod:`app.metrics`), 404 unless ``METRICS_ENABLED``
  or ``METRICS_TOKEN`` is set; with a token, only ``Authorization: Bearer <token>`` is served.
* Every request: an id (the client's ``X-Request-ID`` when it is a plain token, else a new one,
  echoed in the response), a latency observation per endpoint and status, and one structured log
  line (:mod:`app.ops.request_log`).
"""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("ops", __name__)


def register(app: Flask) -> None:
    """Add the endpoints and the per-request hooks to ``app``."""
    from app.ops import request_log, routes  # noqa: F401  (routes attach themselves to bp)

    app.register_blueprint(bp)
    request_log.install(app)
