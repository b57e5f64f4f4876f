"""The job handler registry: ``kind`` (as stored in ``OutboxJob.kind``) -> function.

A handler takes the job's payload as keyword arguments plus ``key`` (the job's idempotency key,
to be used for any outbound side effect). It returns normally when the work is done (or there is
nothing left to do), raises an exception with ``permanent = True`` (e.g. :class:`PermanentJobError`,
an ``SmtpError`` for a 5xx) when retrying cannot help, and any other exception to be retried with
backoff.
"""
from __future__ import annotations

from collections.abc import Callable

HANDLERS: dict[str, Callable[..., object]] = {}


class PermanentJobError(Exception):
    """Raise from a handler when retrying cannot help; the job is parked as ``failed`` at once."""

    permanent = True


def handler(kind: str):
    """Register the decorated function as the handler of jobs of ``kind``."""

    def register(fn):
        if HANDLERS.get(kind, fn) is not fn:
            raise ValueError(f"two handlers for job kind {kind!r}")
        HANDLERS[kind] = fn
        return fn

    return register
