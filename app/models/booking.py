from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.booking_events import BookingEvent
from app.domain.booking_state import BookingStatus
from app.extensions import db
from app.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.business import Business, Service, StaffMember
    from app.models.user import User

_status_type = Enum(BookingStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
event_type = Enum(BookingEvent, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class ActorKind(str, enum.Enum):
    """Who made a booking change: the client (booking online, the manage link), someone of the
    business (dashboard or API), or Flowkey itself (a request expiring)."""

    CLIENT = "client"
    OWNER = "owner"
    SYSTEM = "system"


_actor_kind_type = Enum(ActorKind, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e])


def new_manage_secret() -> str:
    """A fresh per-booking secret for its manage links (256 random bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


class Client(db.Model):
    """A person who books. Deduplicated per business by normalised e-mail, else by phone."""

    __tablename__ = "client"
    __table_args__ = (
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="email_or_phone_required"),
        Index("ix_client_business_email", "business_id", "email"),
        Index("ix_client_business_phone", "business_id", "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))  # stored lower-cased
    phone: Mapped[str | None] = mapped_column(String(20))  # stored E.164
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Booking(db.Model):
    """A client's booking of a service with a staff member over ``[start_at, end_at)`` (UTC)."""

    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint("client_email IS NOT NULL OR client_phone IS NOT NULL", name="email_or_phone_required"),
        CheckConstraint("end_at > start_at", name="end_after_start"),
        CheckConstraint("seats >= 1", name="seats_positive"),
        # The availability query: holds of one staff member overlapping a range.
        Index("ix_booking_staff_start", "staff_id", "start_at"),
        # The dashboard queue and lists.
        Index("ix_booking_business_status_created", "business_id", "status", "created_at"),
        Index("ix_booking_business_start", "business_id", "start_at"),
        Index("ix_booking_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="RESTRICT"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id", ondelete="RESTRICT"))
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Buffers as they were when booked, so editing the service later does not move other holds.
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, default=0)
    seats: Mapped[int] = mapped_column(Integer, default=1)
    client_name: Mapped[str] = mapped_column(String(255))
    client_email: Mapped[str | None] = mapped_column(String(255))
    client_phone: Mapped[str | None] = mapped_column(String(20))
    client_timezone: Mapped[str] = mapped_column(String(64))
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[BookingStatus] = mapped_column(_status_type, default=BookingStatus.PENDING)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # RFC 5545 SEQUENCE of the calendar event; bumped on every significant change.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # Every manage link of the booking is tied to this secret: replacing it revokes them all
    # (app.services.client_self_service).
    manage_secret: Mapped[str] = mapped_column(String(64), default=new_manage_secret)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    business: Mapped["Business"] = relationship()
    service: Mapped["Service"] = relationship()
    staff: Mapped["StaffMember"] = relationship()
    client: Mapped[Client] = relationship()
    approved_by: Mapped["User | None"] = relationship()
    events: Mapped[list["BookingAuditEntry"]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="BookingAuditEntry.id"
    )

    @property
    def uid(self) -> str:
        """Stable RFC 5545 UID for the life of the booking."""
        return f"{self.reference}@flowkey"


class BookingAuditEntry(db.Model):
    """The audit trail: one row per :class:`~app.domain.booking_events.BookingEvent` of a booking
    (its creation, every transition, every reschedule), written by
    :func:`app.services.booking_events.emit`."""

    __tablename__ = "booking_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="CASCADE"), index=True)
    event: Mapped[BookingEvent] = mapped_column(event_type)
    from_status: Mapped[BookingStatus | None] = mapped_column(_status_type)
    to_status: Mapped[BookingStatus] = mapped_column(_status_type)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # Who made the change; ``actor_user_id`` names the person when it was someone of the business.
    actor_kind: Mapped[ActorKind] = mapped_column(_actor_kind_type, default=ActorKind.SYSTEM)
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    booking: Mapped[Booking] = relationship(back_populates="events")
    actor: Mapped["User | None"] = relationship(viewonly=True)
