"""In-app notifications for the people who run a business, and their per-event preferences.

One row per (person, booking event), written by the in-app notification subscriber
(:mod:`app.services.notifications`) in the same transaction as the booking change.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.booking_events import BookingEvent
from app.extensions import db
from app.models.base import UTCDateTime, utcnow

# The event names of app.domain.booking_events (stored as their values).
_type = Enum(BookingEvent, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


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
    type: Mapped[BookingEvent] = mapped_column(_type)
    title: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NotificationPreference(db.Model):
    """A person's choice for one event type. No row means the default: both channels on."""

    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("user_id", "type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    type: Mapped[BookingEvent] = mapped_column(_type)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)
