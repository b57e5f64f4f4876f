"""Prometheus metrics: the counters and histograms every process updates, and how they are read.

Metric objects live here, at import, on ``prometheus_client``'s default registry; code that
observes something calls one of the small ``record_*`` helpers (or :func:`on_booking_event`, a
booking-event subscriber). Nothing here touches the database or Redis: the figures computed when
``/metrics`` is scraped (outbox depth, RQ queue lengths) are :mod:`app.ops`'s.

Several processes (gunicorn workers, ``worker.py``): set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
directory shared by every process of the machine *before* they start; ``prometheus_client`` then
keeps each process's values in memory-mapped files there and :func:`exposition` adds them up
(``prometheus_client`` docs, "Multiprocess Mode (E.g. Gunicorn)"). Empty the directory when the
processes are restarted. Without the variable each process reports its own values only.

Names follow the Prometheus naming conventions (``flowkey_`` prefix, base units: seconds;
counters end in ``_total``).
"""
from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest

# Latency buckets in seconds: a booking is expected well under a second, a slow one in seconds.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_LATENCY = Histogram(
    "flowkey_http_request_duration_seconds",
    "Time to answer an HTTP request, by Flask endpoint, method and status code.",
    ["endpoint", "method", "status"],
    buckets=_LATENCY_BUCKETS,
)
BOOKINGS = Counter(
    "flowkey_bookings_total",
    "Booking changes by event (requested, booked, approved, rejected, cancelled, expired, ...).",
    ["event"],
)
JOB_ATTEMPTS = Counter("flowkey_job_attempts_total", "Outbox job attempts started, by job kind.", ["kind"])
JOB_FAILURES = Counter(
    "flowkey_job_failures_total",
    "Outbox job attempts that failed, by job kind and outcome (pending = will retry, failed = gave up).",
    ["kind", "outcome"],
)
EMAILS_SENT = Counter("flowkey_emails_sent_total", "E-mails the transport accepted, by transport (smtp, file).", ["transport"])
EMAILS_FAILED = Counter("flowkey_emails_failed_total", "E-mail sends the transport refused or failed, by transport.", ["transport"])
AVAILABILITY_CACHE_HITS = Counter(
    "flowkey_availability_cache_hits_total",
    "Cached availability entries (one staff member, one service, one date) served without computing.",
)
AVAILABILITY_CACHE_MISSES = Counter(
    "flowkey_availability_cache_misses_total",
    "Availability entries (one staff member, one service, one date) computed because none was cached or it was stale.",
)


def multiprocess_dir() -> str | None:
    """The ``PROMETHEUS_MULTIPROC_DIR`` this process writes its values to, or None."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def record_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    REQUEST_LATENCY.labels(endpoint=endpoint, method=method, status=str(status)).observe(seconds)


def record_job_attempt(kind: str) -> None:
    JOB_ATTEMPTS.labels(kind=kind).inc()


def record_job_failure(kind: str, outcome: str) -> None:
    JOB_FAILURES.labels(kind=kind, outcome=outcome).inc()


def record_email(transport: str, *, sent: bool) -> None:
    (EMAILS_SENT if sent else EMAILS_FAILED).labels(transport=transport).inc()


def record_availability_cache(hits: int, misses: int) -> None:
    if hits:
        AVAILABILITY_CACHE_HITS.inc(hits)
    if misses:
        AVAILABILITY_CACHE_MISSES.inc(misses)


def on_booking_event(change) -> None:
    """Booking-event subscriber (see :mod:`app.services.booking_events`): count the change.

    Counted inside the change's transaction, so a change rolled back afterwards (rare: a later
    subscriber or the commit failed) is still counted; the counter is a rate, not a ledger."""
    BOOKINGS.labels(event=change.event.value).inc()


def exposition(*extra: CollectorRegistry) -> tuple[bytes, str]:
    """``(body, content type)`` of the Prometheus text exposition format: this process's
    metrics, or every process's when :func:`multiprocess_dir` is set, followed by the metrics of
    the ``extra`` registries (collected now, e.g. the outbox depth)."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return b"".join(generate_latest(r) for r in (registry, *extra)), CONTENT_TYPE_LATEST
