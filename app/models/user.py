from __future__ import annotations

import enum
import hmac
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.business import Business


def hash_password(password: str) -> str:
    """The stored form of ``password``: werkzeug's default method (scrypt, salted). Every hash
    the app makes goes through here, the log-in's dummy one included, so all cost the same."""
    return generate_password_hash(password)


class Role(str, enum.Enum):
    OWNER = "owner"
    STAFF = "staff"


def new_session_token() -> str:
    """A random token for :attr:`User.session_token` (22 URL-safe characters, 128 bits)."""
    return secrets.token_urlsafe(16)


class User(UserMixin, db.Model):
    """A person who logs in to the dashboard (an owner or a staff member).

    ``session_token`` is part of the id a login session stores (:meth:`get_id`, Flask-Login's
    "Alternative Tokens"): replacing it (:meth:`end_sessions`, and :meth:`set_password`) makes every
    session cookie issued before useless, even one copied before the log-out.
    """

    __tablename__ = "user"
    __table_args__ = (Index("uq_user_email_lower", func.lower(text("email")), unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    memberships: Mapped[list["Membership"]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def set_password(self, password: str) -> None:
        """Store a hash of ``password`` (:func:`hash_password`) and end every session."""
        self.password_hash = hash_password(password)
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def end_sessions(self) -> None:
        """Invalidate every login session of this user (takes effect when the caller commits)."""
        self.session_token = new_session_token()

    def get_id(self) -> str:
        """``"<id>:<session_token>"``: what Flask-Login keeps in the session (see
        :meth:`split_session_id`)."""
        if self.session_token is None:
            self.session_token = new_session_token()
        return f"{self.id}:{self.session_token}"

    @staticmethod
    def split_session_id(value: str) -> tuple[int, str] | None:
        """``(id, token)`` from a :meth:`get_id` value, or None when it has another shape (a
        session from before tokens existed: a bare id, which is no longer accepted)."""
        user_id, sep, token = value.partition(":")
        if not sep or not user_id.isdigit() or not token:
            return None
        return int(user_id), token

    def has_session_token(self, token: str) -> bool:
        """Whether ``token`` is this user's current session token (constant-time comparison)."""
        return hmac.compare_digest(self.session_token.encode(), token.encode())

    @property
    def membership(self) -> "Membership | None":
        """The user's business membership (one business per user for now)."""
        return self.memberships[0] if self.memberships else None

    @property
    def business(self) -> "Business | None":
        m = self.membership
        return m.business if m else None


class Membership(db.Model):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "business_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]))

    user: Mapped[User] = relationship(back_populates="memberships")
    business: Mapped["Business"] = relationship(back_populates="memberships")


class ApiKey(db.Model):
    """An owner API key. Only a SHA-256 digest is stored; the key is shown once at creation."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class PendingSignup(db.Model):
    """A sign-up waiting for its e-mail address to be confirmed (see
    :mod:`app.services.accounts`). The link in the e-mail names ``nonce`` (signed, so it cannot be
    guessed or forged); the password stays here, hashed, until the account is created and the
    row deleted. Rows past ``expires_at`` are deleted by the daily cleanup."""

    __tablename__ = "pending_signup"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(120))
    business_name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
