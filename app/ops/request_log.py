"""One structured log line and one latency observation per request.

The line is JSON on the ``flowkey.requests`` logger::

    {"request_id": "…", "method": "POST", "route": "/book/<slug>/<int:service_id>/details",
     "endpoint": "public.book_details", "status": 201, "duration_ms": 41.7}

``route`` is the URL rule (its template, never the values in it), so no confirmation reference,
token or e-mail address in a path or query string reaches the log; a request that matched no rule
logs its path with every segment after the first two replaced by ``***`` and passed through
:func:`app.redaction.redact`. The request id is the client's ``X-Request-ID`` when it is a plain
token of at most 128 characters (letters, digits, ``.-_:``), else a new random one; it is sent
back in the ``X-Request-ID`` response header and kept as ``g.request_id``.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, g, request

from app import metrics
from app.redaction import redact

log = logging.getLogger("flowkey.requests")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
HEADER = "X-Request-ID"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _request_id() -> str:
    given = request.headers.get(HEADER, "")
    return given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _unmatched_path(path: str) -> str:
    parts = path.split("/")
    return redact("/".join(parts[:3] + ["***"] * len(parts[3:])))


def ensure_stderr(logger: logging.Logger, level: int) -> None:
    """Make ``logger``'s records at ``level`` and above reach stderr when nothing else configured a
    handler for them (gunicorn and ``flask run`` leave logging unconfigured; a library's
    ``NullHandler`` does not count)."""
    real = [h for h in logger.handlers if not isinstance(h, logging.NullHandler)]
    if not real and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(level)


def install(app: Flask) -> None:
    """Add the before/after-request hooks to ``app``; make sure the log line, and Flask-Limiter's
    warning that its store is unreachable and limits fell back to process memory, reach stderr."""
    ensure_stderr(log, logging.INFO)
    ensure_stderr(logging.getLogger("flask-limiter"), logging.WARNING)

    @app.before_request
    def _start() -> None:
        g.request_id = _request_id()
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):
        started = g.pop("request_started", None)
        request_id = g.get("request_id") or _request_id()
        response.headers[HEADER] = request_id
        if started is None:  # a before_request hook answered before ours ran
            return response
        seconds = time.perf_counter() - started
        endpoint = request.endpoint or "unmatched"
        # Label values must stay a small set: any other method a client invents counts as "other".
        method = request.method if request.method in _METHODS else "other"
        metrics.record_request(endpoint, method, response.status_code, seconds)
        route = request.url_rule.rule if request.url_rule is not None else _unmatched_path(request.path)
        log.info(
            json.dumps(
                {
                    "request_id": request_id,
                    "method": request.method,
                    "route": route,
                    "endpoint": endpoint,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 1),
                },
                separators=(", ", ": "),
            )
        )
        return response
