"""Owner API keys: shown once, stored as a SHA-256 digest, revocable.

A key looks like ``fk_live_<43 url-safe chars>`` (256 random bits), so a fast digest is enough:
there is nothing to brute-force, unlike a password.
"""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from app.extensions import db
from app.models import ApiKey, Business, User, utcnow
from app.services.errors import NotFound
from app.services.locks import unit_of_work

PREFIX = "fk_live_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_key(business: Business, user: User, name: str = "") -> tuple[ApiKey, str]:
    """Create a key for ``business`` and return ``(row, plaintext)``; the plaintext is not stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    with unit_of_work():
        key = ApiKey(business_id=business.id, user_id=user.id, name=name.strip()[:120], prefix=token[:12], key_hash=_digest(token))
        db.session.add(key)
    return key, token


def list_keys(business: Business) -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).where(ApiKey.business_id == business.id).order_by(ApiKey.id)))


def revoke_key(business: Business, key_id: int) -> ApiKey:
    with unit_of_work():
        key = db.session.get(ApiKey, key_id)
        if key is None or key.business_id != business.id:
            raise NotFound("No such API key.")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
    return key


def authenticate(token: str) -> ApiKey | None:
    """The live key matching ``token`` (and stamp its last use), or ``None``. Its own unit of
    work: the read and the stamp happen under the write lock, so a concurrent request's commit
    cannot make the stamp fail on a stale SQLite snapshot."""
    if not token or not token.startswith(PREFIX):
        return None
    with unit_of_work():
        key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == _digest(token), ApiKey.revoked_at.is_(None)))
        if key is not None:
            key.last_used_at = utcnow()
    return key
