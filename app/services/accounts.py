"""Accounts: log-in that does not reveal which e-mails exist, sign-up confirmed by e-mail, and
sessions that end.

Log-in (:func:`authenticate`) checks a password hash whether or not the e-mail has an account
(a dummy hash for unknown ones), so both answers take the same time.

Sign-up (:func:`request_sign_up`) answers the same way for a new and a taken address: it records
one e-mail in the outbox either way. A new address gets a link (:func:`signup_token`) that
completes the sign-up (:func:`complete_sign_up`); an address that already has an account gets a
"someone tried to sign up with your address" e-mail instead (at most one an hour). The details
wait in a :class:`~app.models.PendingSignup` row, the password hashed: the link carries only a
signed nonce (itsdangerous, ``max_age`` :data:`SIGNUP_LINK_HOURS`), so no password hash travels in
an e-mail or sits in an access log, and completing deletes the row, so a link works once.

Sessions: Flask-Login stores ``"<id>:<session token>"`` (:meth:`app.models.User.get_id`);
:func:`end_sessions` (log-out) and a password change replace the token, so a session cookie
copied earlier stops working.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select
from werkzeug.security import check_password_hash

from app.extensions import db
from app.models import PendingSignup, User, utcnow
from app.models.user import hash_password
from app.services import business_service, outbox
from app.services.errors import ServiceError, ValidationFailed
from app.services.locks import unit_of_work

SIGNUP_LINK_HOURS = 48
JOB_KIND = "account_email"
QUEUE = "notifications"
VERIFY_SIGNUP = "account_verify_signup"  # templates/email/<name>.html and .txt
SIGNUP_ATTEMPT = "account_signup_attempt"
_SALT = "flowkey-signup"

_dummy_hash: str | None = None


class SignupLinkInvalid(ServiceError):
    """A sign-up link that is malformed, forged, expired or already used."""

    status_code = 400
    code = "signup_link_invalid"


@dataclass(frozen=True)
class SignupDetails:
    """What the sign-up form collected (already validated by the form)."""

    email: str
    password: str
    name: str
    business_name: str
    timezone: str
    currency: str  # ISO 4217, or "" for the currency of the zone's country


# ------------------------------------------------------------------ log-in and sessions

def _dummy_password_hash() -> str:
    """A hash made the same way as real ones (werkzeug's default method and cost), of a random
    password nobody knows; made once per process."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password(secrets.token_urlsafe(16))
    return _dummy_hash


def authenticate(email: str, password: str) -> User | None:
    """The user with ``email`` (any case, surrounding spaces ignored) if ``password`` is theirs,
    else None. Exactly one password-hash check runs either way (a dummy one for an unknown
    e-mail), so the time taken does not tell whether the address has an account."""
    user = business_service.find_user_by_email(email)
    if user is None:
        check_password_hash(_dummy_password_hash(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def user_for_session(session_id: str) -> User | None:
    """The user a Flask-Login session id (``"<id>:<token>"``) stands for, or None when the id is
    malformed, the user is gone, or the token was replaced (logged out, password changed)."""
    parts = User.split_session_id(session_id)
    if parts is None:
        return None
    user = db.session.get(User, parts[0])
    if user is None or not user.has_session_token(parts[1]):
        return None
    return user


def end_sessions(user: User) -> None:
    """End every login session of ``user`` (all browsers and copied cookies). Commits."""
    with unit_of_work():
        user.end_sessions()


# ------------------------------------------------------------------ sign-up

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def signup_token(pending: PendingSignup) -> str:
    """The signed, timestamped token of the link that completes ``pending`` (URL-safe)."""
    return _serializer().dumps(pending.nonce)


def request_sign_up(details: SignupDetails, *, now: datetime | None = None) -> None:
    """Start a sign-up: hash the password, then record the e-mail to send (commits).

    A new address gets a :class:`PendingSignup` (valid :data:`SIGNUP_LINK_HOURS` hours) and the
    link e-mail; an address with an account gets the "someone tried" e-mail (one an hour at most:
    the job key names the hour). Returns nothing on purpose: the caller must answer both cases the
    same way. Expired pending sign-ups are deleted on the way."""
    business_service.require_single_line(email=details.email, name=details.name, business_name=details.business_name)
    now = now or utcnow()
    email = details.email.strip().lower()
    password_hash = hash_password(details.password)  # slow on purpose: before the write lock
    with unit_of_work():
        db.session.execute(delete(PendingSignup).where(PendingSignup.expires_at < now))
        user = business_service.find_user_by_email(email)
        if user is not None:
            outbox.record(
                JOB_KIND,
                {"template": SIGNUP_ATTEMPT, "user_id": user.id},
                key=f"email:account:{SIGNUP_ATTEMPT}:{user.id}:{now:%Y%m%d%H}",
                queue=QUEUE,
            )
            return
        pending = PendingSignup(
            nonce=secrets.token_urlsafe(24),
            email=email,
            name=details.name.strip(),
            business_name=details.business_name.strip(),
            timezone=details.timezone,
            # "Automatic" (blank): the currency of the zone's country, so a Chicago owner gets USD.
            currency=details.currency or business_service.currency_for_zone(details.timezone),
            password_hash=password_hash,
            created_at=now,
            expires_at=now + timedelta(hours=SIGNUP_LINK_HOURS),
        )
        db.session.add(pending)
        db.session.flush()
        outbox.record(
            JOB_KIND,
            {"template": VERIFY_SIGNUP, "pending_id": pending.id},
            key=f"email:account:{VERIFY_SIGNUP}:{pending.id}:{hashlib.sha256(pending.nonce.encode()).hexdigest()[:16]}",
            queue=QUEUE,
        )


def pending_sign_up(token: str, *, now: datetime | None = None, for_update: bool = False) -> PendingSignup:
    """The pending sign-up a link's ``token`` names. Raises :class:`SignupLinkInvalid` when the
    token is forged or malformed, older than :data:`SIGNUP_LINK_HOURS`, or its sign-up was
    completed or has expired. ``for_update`` locks the row (PostgreSQL) for the caller's
    transaction."""
    message = "This sign-up link has expired or was already used. Sign up again, or log in if you finished signing up."
    try:
        nonce = _serializer().loads(token, max_age=SIGNUP_LINK_HOURS * 3600)
    except SignatureExpired:
        raise SignupLinkInvalid(message) from None
    except BadSignature:
        raise SignupLinkInvalid(message) from None
    if not isinstance(nonce, str):
        raise SignupLinkInvalid(message)
    query = select(PendingSignup).where(PendingSignup.nonce == nonce)
    if for_update:
        query = query.with_for_update()
    pending = db.session.scalar(query)
    if pending is None or pending.expires_at <= (now or utcnow()):
        raise SignupLinkInvalid(message)
    return pending


def complete_sign_up(token: str, *, now: datetime | None = None) -> User:
    """Create the owner and business of the pending sign-up ``token`` names (as
    :func:`app.services.business_service.sign_up` does, with the password chosen at sign-up) and
    delete the pending row, in one transaction. Raises :class:`SignupLinkInvalid` (see
    :func:`pending_sign_up`) and :class:`ValidationFailed` when the address got an account
    meanwhile."""
    with unit_of_work():
        pending = pending_sign_up(token, now=now, for_update=True)
        user = User(email=pending.email, name=pending.name, password_hash=pending.password_hash)
        user.end_sessions()  # a first session token
        db.session.delete(pending)
        try:
            business_service.create_owner(user, business_name=pending.business_name, timezone=pending.timezone, currency=pending.currency)
        except ValidationFailed:
            raise ValidationFailed(
                "That e-mail address already has an account. Log in instead.", {"email": "Already has an account."}
            ) from None
    return user
