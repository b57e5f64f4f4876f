"""Idempotency keys of booking submissions: which booking a client's key answered, and for what."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class BookingIdempotencyKey(db.Model):
    """One ``Idempotency-Key`` a client sent to book at a business, kept for a limited time.

    ``fingerprint`` is the SHA-256 (hex) of the canonical request the key first came with: a
    repeat with the same request replays ``booking``, one with another request is refused, so a
    key never reveals a booking to a caller who did not make it. Keys are scoped per business
    (unique ``(business_id, key)``) and stop counting after
    :data:`app.services.booking_service.IDEMPOTENCY_KEY_TTL`; the daily cleanup deletes them.
    A table of its own rather than columns on ``booking``: the key is a transport detail with a
    lifetime of a day, and expiring it never touches the booking row.
    """

    __tablename__ = "booking_idempotency_key"
    __table_args__ = (
        UniqueConstraint("business_id", "key"),
        Index("ix_booking_idempotency_key_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
