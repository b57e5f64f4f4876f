"""In-app notifications for the people who run a business, and their per-event preferences.

The seed's ``booking_notifications`` table: one row per (person, booking event), written by
:func:`app.services.notifications.record_for_booking` in the same transaction as the booking change.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class NotificationType(str, enum.Enum):
    """What happened to a booking. ``booking_created`` is a booking confirmed straight away (no
    approval needed); ``booking_request`` one that awaits approval."""

    BOOKING_REQUEST = "booking_request"
    BOOKING_CREATED = "booking_created"
    BOOKING_APPROVED = "booking_approved"
    BOOKING_REJECTED = "booking_rejected"
    BOOKING_CANCELLED = "booking_cancelled"
    BOOKING_EXPIRED = "booking_expired"


_type = Enum(NotificationType, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class BookingNotification(db.Model):
    """One notification for one person (``user_id``) of a business. Title and message are written
    when the event happens (times in the business's zone), so they read the same later."""

    __tablename__ = "booking_notification"
    __table_args__ = (
        # The bell's unread count and the list: a person's rows, unread first.
        Index("ix_booking_notification_user_read", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("booking.id", ondelete="SET NULL"), index=True)
    type: Mapped[NotificationType] = mapped_column(_type)
    title: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(db.Model):
    """A person's choice for one event type. No row means the default: both channels on."""

    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("user_id", "type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    type: Mapped[NotificationType] = mapped_column(_type)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)
