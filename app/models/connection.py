"""A business's (or one staff member's) account at a third-party provider, with its credentials.

The secrets (API keys, passwords, OAuth access and refresh tokens) are one Fernet token of a JSON
object in ``encrypted_secrets``, written and read only through :mod:`app.services.credentials`;
nothing else in a row is secret. ``token_expires_at`` stays in the clear so a job can find tokens
due for a refresh without decrypting anything.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.business import Business, StaffMember


class ConnectionKind(str, enum.Enum):
    CRM = "crm"  # simplybook
    CALENDAR = "calendar"  # google, microsoft, caldav
    VIDEO = "video"  # zoom
    MESSAGING = "messaging"  # twilio, meta


class ConnectionStatus(str, enum.Enum):
    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"  # the provider refused the credentials: a person must sign in again
    ERROR = "error"  # the last call failed for another reason (see last_error); may recover by itself


def _enum(cls, length=20):
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class Connection(db.Model):
    """One provider account. ``staff_member_id`` is set for a person's own account (a staff
    member's calendar), None for the business's (its CRM, its Twilio number)."""

    __tablename__ = "connection"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), index=True)
    # CASCADE rather than SET NULL: a departed staff member's calendar tokens must not turn into
    # business-wide credentials.
    staff_member_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))  # "simplybook", "google", "microsoft", "caldav", "zoom", "twilio", "meta"
    kind: Mapped[ConnectionKind] = mapped_column(_enum(ConnectionKind))
    account_label: Mapped[str] = mapped_column(String(255), default="")  # what a person recognises: an e-mail, a number
    external_account_id: Mapped[str | None] = mapped_column(String(255))  # the provider's id for the account
    status: Mapped[ConnectionStatus] = mapped_column(_enum(ConnectionStatus), default=ConnectionStatus.CONNECTED)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)  # redacted before it is stored
    # A Fernet token (url-safe base64 text) of a JSON object {name: value}; see app.services.credentials.
    encrypted_secrets: Mapped[str] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    business: Mapped["Business"] = relationship(viewonly=True)
    staff_member: Mapped["StaffMember | None"] = relationship(viewonly=True)

    def __repr__(self) -> str:  # never the secrets, not even encrypted
        return f"<Connection {self.id} {self.provider} {self.account_label!r} {self.status.value if self.status else None}>"
