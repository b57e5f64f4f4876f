"""The credentials vault: provider accounts (:class:`~app.models.Connection`) and their secrets.

A connection's secrets (API keys, passwords, OAuth access and refresh tokens) are a JSON object
``{name: value}`` (``str -> str``) encrypted as one Fernet token with cryptography's
``MultiFernet`` (https://cryptography.io/en/latest/fernet/#cryptography.fernet.MultiFernet):
encryption uses the first key of ``FLOWKEY_ENCRYPTION_KEYS`` (newest first, see app/config.py),
decryption tries every key in order, and ``MultiFernet.rotate`` re-encrypts a token under the first
key. A Fernet token is authenticated (AES-128-CBC + HMAC-SHA256), so a wrong key and a tampered
token fail alike, with :class:`CredentialsUnreadable`.

Secrets are never shown back (:func:`masked`) and never logged: every value this module encrypts
or decrypts is handed to :func:`app.redaction.remember_secret`, so job errors, the Jobs page and
log records show ``***`` instead.

Every query a business's pages or jobs make is scoped to that business (:func:`get_connection`,
:func:`list_connections`); only the key maintenance (:func:`reencrypt_all`) walks every row.
Functions that write commit, like the other services.
"""
from __future__ import annotations

import fcntl
import json
import os
import secrets as _random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import select, update

from app.config import read_key_file
from app.integrations import registry
from app.extensions import db
from app.models import Business, Connection, ConnectionKind, ConnectionStatus, StaffMember, utcnow
from app.redaction import redact, remember_secret
from app.services.locks import unit_of_work
from app.services.errors import NotFound, ServiceError, ValidationFailed

_KEEP = object()  # "leave token_expires_at as it is"
MAX_ERROR_LENGTH = 2000


class CredentialsUnreadable(ServiceError):
    """A connection's secrets cannot be decrypted with the configured keys: the key they were
    written with is missing from ``FLOWKEY_ENCRYPTION_KEYS`` (or ``instance/encryption_keys``),
    or the stored token was altered. A configuration problem for whoever runs Flowkey, hence 503;
    ``connection_id`` names the row."""

    status_code = 503
    code = "credentials_unreadable"

    def __init__(self, connection: Connection):
        self.connection_id = connection.id
        super().__init__(
            f"The credentials of connection {connection.id} ({connection.provider}, "
            f"{connection.account_label or 'no label'!r}) cannot be decrypted with the configured "
            "encryption keys: they were written with a key that is not configured, or the stored "
            "data was altered. Set FLOWKEY_ENCRYPTION_KEYS to include the key it was written with "
            "(or restore instance/encryption_keys from the backup taken with the database), then "
            "restart; if the key is lost, reconnect the account."
        )


class EncryptionKeysInvalid(ServiceError):
    """``FLOWKEY_ENCRYPTION_KEYS`` is empty or holds something that is not a Fernet key (32
    url-safe base64-encoded bytes, as ``flask credentials new-key`` prints). The message gives the
    key's position, never the key."""

    status_code = 503
    code = "encryption_keys_invalid"


@dataclass
class Reencrypted:
    """What :func:`reencrypt_all` did: ``rewritten`` tokens now under the newest key,
    ``current`` already under it (left alone), ``unreadable`` the errors of those it could not
    decrypt (left alone)."""

    rewritten: int = 0
    current: int = 0
    unreadable: list[CredentialsUnreadable] = field(default_factory=list)


# ------------------------------------------------------------------ keys

def generate_key() -> str:
    """A new random Fernet key (``Fernet.generate_key()``: 32 bytes, url-safe base64, 44 chars)."""
    return Fernet.generate_key().decode("ascii")


def _keys() -> tuple[str, ...]:
    return tuple(current_app.config.get("FLOWKEY_ENCRYPTION_KEYS") or ())


@lru_cache(maxsize=8)
def _fernets(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    """``(MultiFernet over keys, Fernet of the newest)``; raises :class:`EncryptionKeysInvalid`."""
    if not keys:
        raise EncryptionKeysInvalid("No encryption key is configured: set FLOWKEY_ENCRYPTION_KEYS (see `flask credentials new-key`).")
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise EncryptionKeysInvalid(
                f"Encryption key {position} of {len(keys)} in FLOWKEY_ENCRYPTION_KEYS is not a Fernet key "
                "(32 url-safe base64-encoded bytes, as `flask credentials new-key` prints)."
            ) from None
    return MultiFernet(fernets), fernets[0]


def _reload_key_file() -> bool:
    """Re-read ``instance/encryption_keys`` (when the keys come from it) and return True if it
    changed: ``flask credentials rotate-key`` in another process added a key this process, which
    read the file at start, does not know yet."""
    path = current_app.config.get("FLOWKEY_ENCRYPTION_KEYS_FILE")
    if not path:
        return False
    keys = read_key_file(path)
    if not keys or keys == _keys():
        return False
    current_app.config["FLOWKEY_ENCRYPTION_KEYS"] = keys
    return True


def add_key_to_file(path: str | os.PathLike) -> tuple[str, ...]:
    """Generate a key and write it first in the key file at ``path`` (newest first), keeping the
    others; this process uses the new list from now on. Returns the new list.

    The file is replaced atomically (a new file with mode 0600, renamed over it) under an
    exclusive ``flock`` on ``<path>.lock``, so two rotations at once cannot lose each other's key.
    Raises :class:`EncryptionKeysInvalid` if the file holds no key (restore it rather than start
    over: the stored secrets need the old keys).
    """
    path = Path(path)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        old = read_key_file(path)
        if not old:
            raise EncryptionKeysInvalid(f"{path} holds no key: restore it from the backup taken with the database.")
        keys = (generate_key(), *old)
        tmp = path.with_name(f".{path.name}.{_random.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write("".join(key + "\n" for key in keys))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    current_app.config["FLOWKEY_ENCRYPTION_KEYS"] = keys
    return keys


# ------------------------------------------------------------------ secrets

def masked(value: str | None) -> str:
    """What a page may show of a secret: ``"•••• "`` + its last 4 characters, or ``"••••"``
    alone when it has 4 characters or fewer (showing them would show it all)."""
    if not value or len(value) <= 4:
        return "••••"
    return "•••• " + value[-4:]


def _checked(secrets: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(secrets, Mapping) or not all(isinstance(k, str) and k and isinstance(v, str) for k, v in secrets.items()):
        raise ValidationFailed("Secrets must map non-empty names to text values.", {"secrets": "Names and values must be text."})
    return dict(secrets)


def _encrypt(secrets: dict[str, str]) -> str:
    for value in secrets.values():
        remember_secret(value)
    multi, _ = _fernets(_keys())
    return multi.encrypt(json.dumps(secrets, sort_keys=True).encode()).decode("ascii")


def read_secrets(connection: Connection) -> dict[str, str]:
    """``connection``'s secrets, decrypted: ``{name: value}``. Raises
    :class:`CredentialsUnreadable` (naming the connection) when no configured key opens them, and
    :class:`EncryptionKeysInvalid` when the key list is empty or malformed."""
    token = (connection.encrypted_secrets or "").encode("ascii", "replace")
    try:
        plaintext = _fernets(_keys())[0].decrypt(token)
    except InvalidToken:
        if not _reload_key_file():
            raise CredentialsUnreadable(connection) from None
        try:
            plaintext = _fernets(_keys())[0].decrypt(token)
        except InvalidToken:
            raise CredentialsUnreadable(connection) from None
    secrets = json.loads(plaintext)
    for value in secrets.values():
        remember_secret(value)
    return secrets


def masked_secrets(connection: Connection) -> dict[str, str]:
    """``{name: masked(value)}`` for a page that shows what is stored (see :func:`masked`)."""
    return {name: masked(value) for name, value in read_secrets(connection).items()}


def create_connection(
    business: Business,
    *,
    provider: str,
    kind: ConnectionKind | str,
    secrets: Mapping[str, str],
    account_label: str = "",
    external_account_id: str | None = None,
    staff_member: StaffMember | None = None,
    token_expires_at: datetime | None = None,
) -> Connection:
    """Store a new, ``connected`` account of ``business`` (of ``staff_member``, one of its staff,
    when given) with its ``secrets`` encrypted, and commit. ``provider`` is a short lower-case
    name ("google", "twilio"); ``token_expires_at`` an aware UTC instant. Raises
    :class:`ValidationFailed` for a bad provider, kind, staff member or secrets."""
    provider = (provider or "").strip().lower()
    if not provider or len(provider) > 32:
        raise ValidationFailed("Choose a provider.", {"provider": "Give the provider's short name."})
    try:
        kind = ConnectionKind(kind)
    except ValueError:
        raise ValidationFailed(f"Unknown kind of connection: {kind!r}.", {"kind": "Choose crm, calendar, video or messaging."}) from None
    if staff_member is not None and staff_member.business_id != business.id:
        raise ValidationFailed("That staff member works for another business.", {"staff_member": "Choose one of your staff."})
    connection = Connection(
        business_id=business.id,
        staff_member_id=staff_member.id if staff_member is not None else None,
        provider=provider,
        kind=kind,
        account_label=(account_label or "").strip()[:255],
        external_account_id=external_account_id,
        status=ConnectionStatus.CONNECTED,
        encrypted_secrets=_encrypt(_checked(secrets)),
        token_expires_at=token_expires_at,
    )
    with unit_of_work():
        db.session.add(connection)
    return connection


def save_secrets(connection: Connection, secrets: Mapping[str, str], *, token_expires_at=_KEEP) -> Connection:
    """Replace ``connection``'s secrets with ``secrets`` (``{name: value}``, all text) and, when
    given, its ``token_expires_at`` (aware UTC or None); commit. Raises :class:`ValidationFailed`."""
    encrypted = _encrypt(_checked(secrets))
    with unit_of_work():
        connection.encrypted_secrets = encrypted
        if token_expires_at is not _KEEP:
            connection.token_expires_at = token_expires_at
    return connection


def update_secrets(connection: Connection, changes: Mapping[str, str | None], *, token_expires_at=_KEEP) -> Connection:
    """Merge ``changes`` into ``connection``'s secrets (a value of None removes that name), e.g. a
    refreshed access token, and set ``token_expires_at`` when given; commit. Raises
    :class:`CredentialsUnreadable` if the current secrets cannot be read, :class:`ValidationFailed`."""
    secrets = read_secrets(connection)
    for name, value in changes.items():
        if value is None:
            secrets.pop(name, None)
        else:
            secrets[name] = value
    return save_secrets(connection, secrets, token_expires_at=token_expires_at)


# ------------------------------------------------------------------ rows and status

def _business_id(business: Business | int) -> int:
    return business if isinstance(business, int) else business.id


def get_connection(business: Business | int, connection_id: int) -> Connection:
    """The connection ``connection_id`` of ``business`` (a row or its id); raises
    :class:`NotFound` if there is none or it belongs to another business."""
    connection = db.session.get(Connection, connection_id)
    if connection is None or connection.business_id != _business_id(business):
        raise NotFound("No such connection.")
    return connection


def list_connections(
    business: Business | int, *, kind: ConnectionKind | str | None = None, provider: str | None = None
) -> list[Connection]:
    """``business``'s connections (its own and its staff's), oldest first, optionally only of one
    ``kind`` or ``provider``. Reads no secret."""
    query = select(Connection).where(Connection.business_id == _business_id(business)).order_by(Connection.id)
    if kind is not None:
        query = query.where(Connection.kind == ConnectionKind(kind))
    if provider is not None:
        query = query.where(Connection.provider == provider)
    return list(db.session.scalars(query))


def set_status(connection: Connection, status: ConnectionStatus | str, *, error: str | None = None) -> Connection:
    """Set ``connection``'s status and its ``last_error`` (redacted, at most 2,000 characters;
    None clears it); commit."""
    status = ConnectionStatus(status)
    with unit_of_work():
        connection.status = status
        connection.last_error = redact(error)[:MAX_ERROR_LENGTH] if error else None
    return connection


def record_ok(connection: Connection, now: datetime | None = None) -> Connection:
    """A call with these credentials succeeded at ``now`` (aware UTC, default the clock): status
    ``connected``, ``last_ok_at`` = now, ``last_error`` cleared; commit."""
    with unit_of_work():
        connection.last_ok_at = now or utcnow()
    return set_status(connection, ConnectionStatus.CONNECTED)


def record_error(connection: Connection, error: str, *, needs_reconnect: bool = False) -> Connection:
    """A call with these credentials failed with ``error`` (stored redacted): status
    ``needs_reconnect`` when the provider refused the credentials themselves (a person must sign in
    again), else ``error``; commit."""
    status = ConnectionStatus.NEEDS_RECONNECT if needs_reconnect else ConnectionStatus.ERROR
    return set_status(connection, status, error=error)


def client_for(connection: Connection):
    """The provider client for ``connection``: an object of its kind's protocol
    (:mod:`app.integrations.registry`: calendar, video, messaging or CRM), built from its
    decrypted secrets and the app's config, so callers never need to know the provider.

    Raises :class:`CredentialsUnreadable`, or :class:`app.integrations.errors.UnknownProvider`
    when no client is registered for the provider."""
    return registry.client_for(connection.kind.value, connection.provider, read_secrets(connection), current_app.config)


# ------------------------------------------------------------------ key rotation

def reencrypt_all(keys: Sequence[str] | None = None) -> Reencrypted:
    """Re-encrypt every connection's secrets (every business's) under the newest of ``keys``
    (default the configured ones) with ``MultiFernet.rotate``; tokens already under it are left
    alone, so running it twice rewrites nothing the second time.

    One short unit of work per connection, not one for all: a web process refreshing a token is
    never blocked for the whole run, and a run stopped half-way leaves every token readable (the
    older keys are still configured). Each row is read under its lock (``FOR UPDATE`` on
    PostgreSQL, the write lock on SQLite), so a token refreshed meanwhile is never overwritten.
    Tokens no key opens are counted in ``unreadable`` and left as they are.
    """
    keys = tuple(keys) if keys is not None else _keys()
    multi, newest = _fernets(keys)
    result = Reencrypted()
    ids = list(db.session.scalars(select(Connection.id).order_by(Connection.id)))
    for connection_id in ids:
        with unit_of_work():
            connection = db.session.scalar(select(Connection).where(Connection.id == connection_id).with_for_update())
            if connection is None:  # deleted meanwhile
                continue
            token = connection.encrypted_secrets.encode("ascii", "replace")
            try:
                newest.decrypt(token)
            except InvalidToken:
                pass
            else:
                result.current += 1
                continue
            try:
                rotated = multi.rotate(token).decode("ascii")
            except InvalidToken:
                result.unreadable.append(CredentialsUnreadable(connection))
                continue
            db.session.execute(
                update(Connection)
                .where(Connection.id == connection_id)
                # The secrets did not change: keep updated_at as it was.
                .values(encrypted_secrets=rotated, updated_at=Connection.updated_at)
                .execution_options(synchronize_session=False)
            )
            result.rewritten += 1
    db.session.expire_all()
    return result
