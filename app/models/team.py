"""Invitations to join a business's team as a staff member (see :mod:`app.services.team`)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.business import Business, StaffMember
    from app.models.user import User


class StaffInvitation(db.Model):
    """The invitation of a staff member without a login to set a password (at most one per staff
    member: sending it again replaces ``nonce`` and ``expires_at``, so only the newest link works).

    The e-mailed link carries ``nonce`` signed with itsdangerous; it works until ``expires_at``
    and once: accepting sets ``accepted_at``. Revoking deletes the row.
    """

    __tablename__ = "staff_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id", ondelete="CASCADE"), unique=True)
    email: Mapped[str] = mapped_column(String(255))
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    business: Mapped["Business"] = relationship()
    staff: Mapped["StaffMember"] = relationship()
    invited_by: Mapped["User | None"] = relationship()

    def is_open(self, now: datetime) -> bool:
        """Not accepted yet and not past ``expires_at``."""
        return self.accepted_at is None and self.expires_at > now
