"""Exceptions services raise; views turn them into form errors, 404/409/422 pages or JSON."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.domain.availability import Slot


class ServiceError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"


class ValidationFailed(ServiceError):
    """Input that cannot be accepted; ``fields`` maps a field name to its message."""

    status_code = 422
    code = "validation_failed"


class BookingClosed(ServiceError):
    """The business's booking link is switched off."""

    status_code = 409
    code = "booking_closed"


class SlotUnavailable(ServiceError):
    """The requested time is not (or no longer) free; ``alternatives`` are the nearest free slots."""

    status_code = 409
    code = "slot_unavailable"

    def __init__(self, message: str, alternatives: Sequence["Slot"] = ()):
        super().__init__(message)
        self.alternatives = list(alternatives)


class Conflict(ServiceError):
    """The action does not fit the booking's current state (e.g. approving a cancelled booking)."""

    status_code = 409
    code = "conflict"


class IdempotencyKeyReused(ServiceError):
    """An ``Idempotency-Key`` sent again with a different request (the first booking stays private)."""

    status_code = 422
    code = "idempotency_key_reused"
