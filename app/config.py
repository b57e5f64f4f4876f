"""Configuration read once from the environment (12-factor).

Defaults run on a laptop: SQLite under ``instance/``, no Redis, e-mail written to files.
"""
from __future__ import annotations

import base64
import os
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def _database_url(value: str | None) -> str:
    if not value:
        return f"sqlite:///{INSTANCE / 'flowkey.db'}"
    # Heroku-style URLs and plain "postgresql://" both mean psycopg 3 here.
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix):]
    return value


def _instance_file(name: str, make: Callable[[], str], read: Callable[[Path], object], missing: str):
    """The value kept in ``instance/<name>``: created once with ``make()`` (mode 0600, written
    atomically by whichever process gets there first), else what ``read(path)`` returns once the
    creator has finished writing. Raises ``RuntimeError(missing)`` for a file that stays empty."""
    path = INSTANCE / name
    INSTANCE.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process may have created it a moment ago and be writing it
            if value := read(path):
                return value
            time.sleep(0.02)
        raise RuntimeError(f"{path} {missing}")
    value = make()
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return read(path)


def _secret_key() -> str:
    """``SECRET_KEY`` from the environment, else a random key kept in ``instance/secret_key``.

    A self-hosted shop that never sets one still gets a key nobody else knows, stable across
    restarts and shared by every process on the machine.
    """
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    return _instance_file(
        "secret_key", lambda: secrets.token_urlsafe(48), lambda path: path.read_text().strip(),
        "is empty: delete it or set SECRET_KEY",
    )


def read_key_file(path: str | os.PathLike) -> tuple[str, ...]:
    """The Fernet keys in a key file: one a line, newest first; blank lines and ``#`` comments
    are skipped. A missing file reads as no keys."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return ()
    return tuple(line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))


def _encryption_keys() -> tuple[tuple[str, ...], str | None]:
    """``(keys, key_file)``: the Fernet keys that encrypt stored credentials, newest first.

    ``FLOWKEY_ENCRYPTION_KEYS`` (comma-separated) from the environment, with ``key_file`` None;
    else the keys in ``instance/encryption_keys``, created with one new key (mode 0600) the first
    time, as ``instance/secret_key`` is. That file must be backed up with the database: without
    it the stored credentials cannot be read.
    """
    if value := os.environ.get("FLOWKEY_ENCRYPTION_KEYS", "").strip():
        return tuple(k.strip() for k in value.split(",") if k.strip()), None
    path = INSTANCE / "encryption_keys"
    keys = _instance_file(
        "encryption_keys",
        # What cryptography's Fernet.generate_key() returns, without importing it for every command.
        lambda: base64.urlsafe_b64encode(os.urandom(32)).decode(),
        lambda path: path.read_text().endswith("\n") and read_key_file(path),
        "holds no key: restore it from your backup or set FLOWKEY_ENCRYPTION_KEYS",
    )
    return keys, str(path)


class Config:
    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = _database_url(os.environ.get("DATABASE_URL"))
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL") or None
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    # Flask-Limiter: memory storage is per process; set RATELIMIT_STORAGE_URI=redis://... when
    # several processes serve the app so the limits are shared.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # A rate-limit store that is down must never take bookings or log-ins down: Flask-Limiter
    # falls back to per-process counters (logging it once) and swallows what still fails, the
    # response headers it writes after the view committed included; short timeouts so a
    # vanished Redis costs a second, not a hung request.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1} if RATELIMIT_STORAGE_URI.startswith(("redis://", "rediss://")) else {}
    BOOKING_RATE_LIMIT = os.environ.get("BOOKING_RATE_LIMIT", "10 per minute")
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    SIGNUP_RATE_LIMIT = os.environ.get("SIGNUP_RATE_LIMIT", "5 per hour")
    # Reverse proxies in front of the app (0 = clients connect directly): with N, werkzeug's
    # ProxyFix takes the client address, scheme and host from the last N X-Forwarded-* entries, so
    # rate limits count clients, not the proxy. Never more than the proxies that set them.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    # A login lasts this long after the last request (each response renews the cookie).
    PERMANENT_SESSION_LIFETIME = timedelta(days=int(os.environ.get("SESSION_LIFETIME_DAYS", "14")))
    SESSION_REFRESH_EACH_REQUEST = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    # Who may frame the public booking pages of a business that lists no sites of its own (CSP
    # frame-ancestors source list: "*" any site, "'self'", "'self' https://shop.example"); the
    # dashboard, sign-in pages and API are never framed.
    PUBLIC_FRAME_ANCESTORS = os.environ.get("PUBLIC_FRAME_ANCESTORS", "*")
    # A confirmation link works until this many days after the appointment (then 410 Gone).
    CONFIRMATION_LINK_DAYS = int(os.environ.get("CONFIRMATION_LINK_DAYS", "30"))
    # A client's "Manage booking" link works until this many days after the appointment ends.
    MANAGE_LINK_DAYS_AFTER = int(os.environ.get("MANAGE_LINK_DAYS_AFTER", "7"))
    WTF_CSRF_TIME_LIMIT = None  # a booking page left open over lunch must still submit
    MAX_CONTENT_LENGTH = 256 * 1024
    # E-mail (app/integrations/smtp.py): smtp://user:pass@host:587?starttls=1 or smtps://...:465;
    # unset = .eml files in MAIL_OUTBOX_DIR. MAIL_FROM is the From address (and envelope sender).
    SMTP_URL = os.environ.get("SMTP_URL") or None
    SMTP_TIMEOUT = float(os.environ.get("SMTP_TIMEOUT", "10"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "Flowkey <no-reply@flowkey.invalid>")
    MAIL_OUTBOX_DIR = os.environ.get("MAIL_OUTBOX_DIR") or str(INSTANCE / "outbox")
    # Background jobs (app/services/outbox.py, app/jobs/): poll interval of the in-process runner and
    # of the RQ dispatcher, attempts before a job is parked as failed, days to keep done rows.
    OUTBOX_POLL_SECONDS = float(os.environ.get("OUTBOX_POLL_SECONDS", "2"))
    OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "5"))
    OUTBOX_KEEP_DAYS = int(os.environ.get("OUTBOX_KEEP_DAYS", "7"))
    # Leases: a running job renews its lease every third of OUTBOX_LEASE_SECONDS while its worker
    # lives, so a job whose worker died is taken back within that time; a dispatched job Redis lost
    # is caught within seconds by the dispatcher's check, and its lease is only the backstop.
    OUTBOX_LEASE_SECONDS = int(os.environ.get("OUTBOX_LEASE_SECONDS", "30"))
    OUTBOX_DISPATCH_LEASE_SECONDS = int(os.environ.get("OUTBOX_DISPATCH_LEASE_SECONDS", "900"))
    # Clients' availability reads (app/services/availability_cache.py): "on" (default) caches
    # computed slots (in Redis when REDIS_URL is set, else in this process) under versions every
    # change bumps; "off" computes every read, as the booking path always does.
    AVAILABILITY_CACHE = os.environ.get("AVAILABILITY_CACHE", "on").strip().lower()
    # Monitoring (app/ops): /metrics is off unless METRICS_ENABLED=1 (open: protect it on the
    # network) or METRICS_TOKEN is set (then only "Authorization: Bearer <token>" may read it).
    METRICS_ENABLED = os.environ.get("METRICS_ENABLED", "0") == "1"
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
    # Credentials vault (app/services/credentials.py): Fernet keys, newest first, and the instance
    # file they came from (None when FLOWKEY_ENCRYPTION_KEYS is set: rotation cannot rewrite it).
    FLOWKEY_ENCRYPTION_KEYS, FLOWKEY_ENCRYPTION_KEYS_FILE = _encryption_keys()
    # SimplyBook.me's JSON-RPC host (accounts live on .me, .net or .it); tests point it at a fake.
    SIMPLYBOOK_API_URL = os.environ.get("SIMPLYBOOK_API_URL", "https://user-api.simplybook.me").rstrip("/")


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = _database_url(os.environ.get("TEST_DATABASE_URL")) if os.environ.get(
        "TEST_DATABASE_URL"
    ) else "sqlite://"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    BOOKING_RATE_LIMIT = "1000 per minute"
    LOGIN_RATE_LIMIT = "1000 per minute"
    SIGNUP_RATE_LIMIT = "1000 per minute"
    WTF_CSRF_ENABLED = False
    BASE_URL = "http://localhost"
    SMTP_URL = None  # tests that send start their own SMTP server and set it
    MAIL_OUTBOX_DIR = str(INSTANCE / "test-outbox")
    FLOWKEY_ENCRYPTION_KEYS = ("Zmxvd2tleS10ZXN0LWVuY3J5cHRpb24ta2V5LTAwMDE=",)  # 32 fixed bytes, base64
    FLOWKEY_ENCRYPTION_KEYS_FILE = None
