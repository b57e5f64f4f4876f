from __future__ import annotations

import enum
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.user import Membership, User


class LocationKind(str, enum.Enum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"


class PhoneCaller(str, enum.Enum):
    """Who dials for a phone service: the business calls the client, or the client calls in."""

    BUSINESS = "business"
    CLIENT = "client"


#: Video services' providers (value -> name); a video integration adds the ones it can link.
VIDEO_PROVIDERS: dict[str, str] = {
    "zoom": "Zoom",
    "google_meet": "Google Meet",
    "teams": "Microsoft Teams",
    "other": "Another video service",
}


def _enum(cls, length=20):
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class Business(db.Model):
    __tablename__ = "business"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # E-mails to clients and owners are written in this language (app.i18n.LANGUAGES).
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # "#rrggbb" for the e-mails' header band and buttons; None = Flowkey's default colours.
    brand_color: Mapped[str | None] = mapped_column(String(7))
    # The logo's SHA-256 (hex, first 16 characters), which its URL carries so a new logo shows at
    # once; None = no logo. The image itself is a BusinessLogo row, read only by its URL.
    logo_digest: Mapped[str | None] = mapped_column(String(16))
    # Sites allowed to show the booking pages in a frame (canonical origins, app.domain.embedding);
    # None = any site.
    embed_origins: Mapped[list[str] | None] = mapped_column(JSON)
    # ISO 3166-1 alpha-2 (e.g. "GB"): clients may write phone numbers as they are dialled in this
    # country (app.services.clients.normalise_phone). None = guessed from the time zone.
    country: Mapped[str | None] = mapped_column(String(2))
    # Booking e-mails to clients: the From display name (None = the business name) and Reply-To
    # (None = the public contact e-mail, if any).
    email_sender_name: Mapped[str | None] = mapped_column(String(120))
    email_reply_to: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Goes up in the same transaction as any change to the business's settings, services, staff,
    # hours or overrides (app.services.availability_versions): cached availability is keyed on it.
    availability_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    memberships: Mapped[list["Membership"]] = relationship(back_populates="business", cascade="all, delete-orphan")
    settings: Mapped["BookingSettings"] = relationship(back_populates="business", uselist=False, cascade="all, delete-orphan")
    staff: Mapped[list["StaffMember"]] = relationship(back_populates="business", order_by="StaffMember.id", cascade="all, delete-orphan")
    services: Mapped[list["Service"]] = relationship(back_populates="business", order_by="Service.id", cascade="all, delete-orphan")


class BusinessSlugHistory(db.Model):
    """A slug the business used before: its old booking links answer 301 to the current slug,
    and no other business may take it while it is here (see
    :func:`app.services.business_service.change_slug`)."""

    __tablename__ = "business_slug_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    business: Mapped[Business] = relationship()


class BookingSettings(db.Model):
    """Per-business booking link settings: approval, buffer, request expiry, on/off, the booking
    window, the client reminders and what clients may change themselves."""

    __tablename__ = "booking_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), unique=True)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    buffer_time_minutes: Mapped[int] = mapped_column(Integer, default=15)
    booking_expiry_hours: Mapped[int] = mapped_column(Integer, default=24)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    auto_approve_returning_clients: Mapped[bool] = mapped_column(Boolean, default=False)
    max_advance_booking_days: Mapped[int] = mapped_column(Integer, default=30)
    min_advance_booking_hours: Mapped[int] = mapped_column(Integer, default=2)
    # Reminder e-mails to the client this many minutes before the start.
    reminder_offsets_minutes: Mapped[list[int]] = mapped_column(JSON, default=lambda: [1440, 60], server_default="[1440, 60]")
    # What clients may change themselves through their booking's manage link, and until how many
    # hours before the start (0 = until the start). A request can always be withdrawn.
    clients_can_reschedule: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    clients_can_cancel: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    client_reschedule_notice_hours: Mapped[int] = mapped_column(Integer, default=12, server_default="12")
    client_cancel_notice_hours: Mapped[int] = mapped_column(Integer, default=12, server_default="12")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    business: Mapped[Business] = relationship(back_populates="settings")


class StaffMember(db.Model):
    """Someone whose time can be booked. Availability is computed per staff member.

    ``user_id`` is their login (a :class:`~app.models.User` with a ``Role.STAFF`` membership, or
    the owner's own row); ``email`` is the address a member without a login is invited at
    (lower-case, unique within the business; see :mod:`app.services.team`).
    """

    __tablename__ = "staff_member"
    __table_args__ = (Index("uq_staff_member_business_id_email", "business_id", "email", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    display_name: Mapped[str] = mapped_column(String(120))
    # Lower-case; None = none given. Several NULLs never clash in a unique index.
    email: Mapped[str | None] = mapped_column(String(255))
    # None means "the business's zone"; see effective_timezone.
    timezone: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Goes up in the same transaction as any change to this staff member's bookings
    # (app.services.availability_versions): cached availability is keyed on it.
    availability_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    business: Mapped[Business] = relationship(back_populates="staff")
    user: Mapped["User | None"] = relationship()
    weekly_hours: Mapped[list["WeeklyHours"]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", order_by="(WeeklyHours.weekday, WeeklyHours.start_time)"
    )
    overrides: Mapped[list["DateOverride"]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", order_by="DateOverride.date"
    )

    @property
    def effective_timezone(self) -> str:
        return self.timezone or self.business.timezone

    @property
    def contact_email(self) -> str | None:
        """The address to show and write to: the login's e-mail once they have one, else ``email``."""
        return self.user.email if self.user is not None else self.email


class WeeklyHours(db.Model):
    """A weekly working interval in the staff member's wall-clock time (weekday 0 = Monday)."""

    __tablename__ = "weekly_hours"
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
        CheckConstraint("end_time > start_time", name="end_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)

    staff: Mapped[StaffMember] = relationship(back_populates="weekly_hours")


class DateOverride(db.Model):
    """Hours for one date replacing the weekly hours; an empty ``intervals`` list = unavailable.

    ``intervals`` is a JSON list of ``["HH:MM", "HH:MM"]`` pairs in the staff member's zone.
    """

    __tablename__ = "date_override"
    __table_args__ = (UniqueConstraint("staff_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    intervals: Mapped[list] = mapped_column(JSON, default=list)

    staff: Mapped[StaffMember] = relationship(back_populates="overrides")

    @property
    def is_unavailable(self) -> bool:
        return not self.intervals


service_staff = Table(
    "service_staff",
    db.metadata,
    Column("service_id", ForeignKey("service.id", ondelete="CASCADE"), primary_key=True),
    Column("staff_id", ForeignKey("staff_member.id", ondelete="CASCADE"), primary_key=True),
)


class Service(db.Model):
    __tablename__ = "service"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("capacity >= 1", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    duration_minutes: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0.00"))
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    # None = use the business default (0 before, BookingSettings.buffer_time_minutes after).
    buffer_before_minutes: Mapped[int | None] = mapped_column(Integer)
    buffer_after_minutes: Mapped[int | None] = mapped_column(Integer)
    # None = the duration.
    slot_interval_minutes: Mapped[int | None] = mapped_column(Integer)
    is_bookable: Mapped[bool] = mapped_column(Boolean, default=True)
    location_kind: Mapped[LocationKind] = mapped_column(_enum(LocationKind), default=LocationKind.IN_PERSON)
    # What "where" means for the kind: in person, the address ("" = the business's address);
    # phone, the number the client calls when phone_caller is CLIENT ("" = the business's phone);
    # video, a note for the client (e.g. "the link comes by e-mail the day before").
    location_detail: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Phone services only: who calls whom (None for the other kinds).
    phone_caller: Mapped[PhoneCaller | None] = mapped_column(_enum(PhoneCaller))
    # Video services only: a key of VIDEO_PROVIDERS (None = not said).
    video_provider: Mapped[str | None] = mapped_column(String(40))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    business: Mapped[Business] = relationship(back_populates="services")
    staff: Mapped[list[StaffMember]] = relationship(secondary=service_staff, order_by="StaffMember.id")

    @property
    def interval_minutes(self) -> int:
        return self.slot_interval_minutes or self.duration_minutes

    def place(self, business: Business) -> str:
        """Where the service happens as a calendar's LOCATION shows it (RFC 5545 section 3.8.1.7:
        plain text): in person, its address (else the business's); by phone when the client
        calls, the number (else the business's); by video, the service's name and note. "" when
        there is nothing to show (we call the client; a video service not named yet)."""
        if self.location_kind == LocationKind.PHONE:
            return (self.location_detail or business.phone or "") if self.phone_caller == PhoneCaller.CLIENT else ""
        if self.location_kind == LocationKind.VIDEO:
            return " · ".join(part for part in (self.video_provider_name, self.location_detail) if part)
        return self.location_detail or business.address or ""

    @property
    def video_provider_name(self) -> str | None:
        """The video service's name for clients (``"Zoom"``), or None when not said or "other"."""
        if self.video_provider in (None, "other"):
            return None
        return VIDEO_PROVIDERS.get(self.video_provider)

    def buffers(self, settings: BookingSettings) -> tuple[int, int]:
        """Effective (before, after) buffer minutes: the service's own, else the business default."""
        before = self.buffer_before_minutes if self.buffer_before_minutes is not None else 0
        after = self.buffer_after_minutes if self.buffer_after_minutes is not None else settings.buffer_time_minutes
        return before, after
