"""A business's logo image, kept apart from the ``business`` row so that loading a business never
reads the image: only the logo's own URL does."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class BusinessLogo(db.Model):
    """The logo as served: re-encoded by :mod:`app.services.logos` (PNG or JPEG, at most
    512 px a side, no metadata). ``Business.logo_digest`` names the current one."""

    __tablename__ = "business_logo"

    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(20))  # "image/png" or "image/jpeg"
    data: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[str] = mapped_column(String(16))  # first 16 hex characters of SHA-256(data)
    width: Mapped[int] = mapped_column(Integer)  # pixels
    height: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
