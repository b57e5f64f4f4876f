"""The credentials vault (app/services/credentials.py): encryption at rest, masking, key rotation
(service and ``flask credentials``), unreadable tokens, the instance key file, and secrets kept out
of logs, job errors and the Jobs page."""
from __future__ import annotations

import logging
import os
import stat
from datetime import datetime, timezone

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, update

import app.config as config_module
from app import redaction
from app.jobs import run_job
from app.jobs.registry import HANDLERS, handler
from app.models import Connection, ConnectionKind, ConnectionStatus
from app.models.outbox import JobStatus, OutboxJob
from app.services import credentials, outbox
from app.services.credentials import CredentialsUnreadable
from app.services.errors import NotFound, ValidationFailed

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
SECRETS = {"api_key": "sb-live-6f1c2d9e8a7b", "password": "hunter2-but-longer"}


@pytest.fixture
def config_overrides():
    return {"FLOWKEY_ENCRYPTION_KEYS": (OLD_KEY,), "FLOWKEY_ENCRYPTION_KEYS_FILE": None}


def connect(business, secrets=SECRETS, **fields):
    values = dict(provider="simplybook", kind="crm", account_label="Swim School CRM", external_account_id="company-42")
    values.update(fields)
    return credentials.create_connection(business, secrets=secrets, **values)


def stored_token(db, connection_id: int) -> str:
    db.session.rollback()
    return db.session.scalar(select(Connection.encrypted_secrets).where(Connection.id == connection_id))


def use_keys(app, *keys: str) -> None:
    app.config["FLOWKEY_ENCRYPTION_KEYS"] = keys


# ------------------------------------------------------------------ round trip, masking, scoping

def test_secrets_round_trip_and_are_encrypted_at_rest(db, business, factory):
    expires = datetime(2027, 6, 1, 9, 0, tzinfo=timezone.utc)
    connection = connect(business, staff_member=business.staff[0], token_expires_at=expires, provider="Google", kind=ConnectionKind.CALENDAR)

    token = stored_token(db, connection.id)
    assert all(value not in token for value in SECRETS.values())
    assert Fernet(OLD_KEY).decrypt(token.encode())  # a Fernet token under the configured key
    db.session.expire_all()
    assert credentials.read_secrets(connection) == SECRETS
    assert (connection.provider, connection.kind, connection.status) == ("google", ConnectionKind.CALENDAR, ConnectionStatus.CONNECTED)
    assert connection.token_expires_at == expires
    assert connection.staff_member_id == business.staff[0].id

    credentials.update_secrets(connection, {"access_token": "ya29.new-access-token", "password": None})
    db.session.expire_all()
    assert credentials.read_secrets(connection) == {"api_key": SECRETS["api_key"], "access_token": "ya29.new-access-token"}
    assert connection.token_expires_at == expires  # kept unless given
    credentials.save_secrets(connection, {"refresh_token": "1//refresh-me"}, token_expires_at=None)
    db.session.expire_all()
    assert credentials.read_secrets(connection) == {"refresh_token": "1//refresh-me"}
    assert connection.token_expires_at is None
    assert credentials.masked_secrets(connection) == {"refresh_token": "•••• h-me"}


def test_every_query_is_scoped_to_the_business(db, business, factory):
    mine = connect(business)
    other = factory.owner(email="other@example.com", business_name="Other Pool").business
    theirs = connect(other, provider="zoom", kind="video")

    assert [c.id for c in credentials.list_connections(business)] == [mine.id]
    assert [c.id for c in credentials.list_connections(other.id, kind="video")] == [theirs.id]
    assert credentials.list_connections(business, provider="zoom") == []
    assert credentials.get_connection(business.id, mine.id) is mine
    with pytest.raises(NotFound):
        credentials.get_connection(business, theirs.id)
    with pytest.raises(ValidationFailed):
        connect(business, staff_member=other.staff[0])
    with pytest.raises(ValidationFailed):
        connect(business, kind="fax")
    with pytest.raises(ValidationFailed):
        connect(business, secrets={"api_key": 12345})


@pytest.mark.parametrize(
    ("value", "shown"),
    [("sk_live_abcdef123456", "•••• 3456"), ("12345", "•••• 2345"), ("1234", "••••"), ("ab", "••••"), ("", "••••"), (None, "••••")],
)
def test_masked_shows_at_most_the_last_four_characters(value, shown):
    assert credentials.masked(value) == shown


def test_status_ok_and_errors_are_recorded_redacted(db, business):
    connection = connect(business)
    credentials.read_secrets(connection)  # what a job does before calling the provider
    when = datetime(2027, 6, 1, 8, 0, tzinfo=timezone.utc)

    credentials.record_error(connection, f"401 for key {SECRETS['api_key']}", needs_reconnect=True)
    assert (connection.status, connection.last_error) == (ConnectionStatus.NEEDS_RECONNECT, "401 for key ***")
    credentials.record_error(connection, "timeout")
    assert connection.status == ConnectionStatus.ERROR
    credentials.record_ok(connection, now=when)
    db.session.expire_all()
    assert (connection.status, connection.last_ok_at, connection.last_error) == (ConnectionStatus.CONNECTED, when, None)


# ------------------------------------------------------------------ keys: rotation, tampering, missing keys

def test_rotation_rewrites_every_token_so_the_old_key_can_go(app, db, business):
    first, second = connect(business), connect(business, provider="twilio", kind="messaging", secrets={"auth_token": "twilio-token-0001"})
    before = stored_token(db, first.id)

    use_keys(app, NEW_KEY, OLD_KEY)  # new key first, old second: old tokens still readable
    db.session.expire_all()
    assert credentials.read_secrets(first) == SECRETS
    assert stored_token(db, first.id) == before  # reading does not rewrite

    result = credentials.reencrypt_all()

    assert (result.rewritten, result.current, result.unreadable) == (2, 0, [])
    for connection in (first, second):
        with pytest.raises(InvalidToken):
            Fernet(OLD_KEY).decrypt(stored_token(db, connection.id).encode())
    use_keys(app, NEW_KEY)  # the old key dropped
    db.session.expire_all()
    assert credentials.read_secrets(first) == SECRETS
    assert credentials.read_secrets(second) == {"auth_token": "twilio-token-0001"}
    again = credentials.reencrypt_all()
    assert (again.rewritten, again.current) == (0, 2)


def test_a_tampered_token_is_rejected_with_the_typed_error(db, business):
    connection = connect(business)
    token = stored_token(db, connection.id)
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]
    db.session.execute(update(Connection).where(Connection.id == connection.id).values(encrypted_secrets=tampered))
    db.session.commit()
    db.session.expire_all()

    with pytest.raises(CredentialsUnreadable) as raised:
        credentials.read_secrets(connection)
    assert raised.value.connection_id == connection.id


def test_a_missing_key_names_the_connection_and_what_to_do(app, db, business):
    connection = connect(business, account_label="alex@example.com", provider="google", kind="calendar")
    use_keys(app, NEW_KEY)  # OLD_KEY, which wrote it, is not configured

    with pytest.raises(CredentialsUnreadable) as raised:
        credentials.read_secrets(connection)

    message = str(raised.value)
    assert f"connection {connection.id}" in message and "google" in message and "alex@example.com" in message
    assert "Set FLOWKEY_ENCRYPTION_KEYS to include the key it was written with" in message
    assert OLD_KEY not in message and NEW_KEY not in message
    with pytest.raises(CredentialsUnreadable):
        credentials.update_secrets(connection, {"api_key": "replacement-key"})
    result = credentials.reencrypt_all()
    assert (result.rewritten, [e.connection_id for e in result.unreadable]) == (0, [connection.id])


def test_an_unreadable_connection_is_an_error_page_or_json_never_a_traceback(app, client, db, business):
    connection = connect(business)
    use_keys(app, NEW_KEY)
    app.add_url_rule("/_vault_probe", "vault_probe", lambda: str(credentials.read_secrets(credentials.get_connection(business.id, connection.id))))
    app.add_url_rule("/api/_vault_probe", "api_vault_probe", lambda: str(credentials.read_secrets(credentials.get_connection(business.id, connection.id))))

    page = client.get("/_vault_probe")
    assert page.status_code == 503
    assert "FLOWKEY_ENCRYPTION_KEYS" in page.get_data(as_text=True) and "Traceback" not in page.get_data(as_text=True)
    api = client.get("/api/_vault_probe")
    assert api.status_code == 503
    assert api.get_json()["error"]["code"] == "credentials_unreadable"


def test_malformed_keys_are_a_clear_error(app, business):
    use_keys(app, "not-a-fernet-key")
    with pytest.raises(credentials.EncryptionKeysInvalid, match="key 1 of 1"):
        connect(business)


def test_redact_hides_the_encryption_keys_and_remembered_secrets(app, monkeypatch):
    monkeypatch.setattr(redaction, "_known", {})  # this test's secrets only, forgotten after it
    monkeypatch.setattr(redaction, "_known_sorted", ())
    assert redaction.redact(f"bad token for key {OLD_KEY}") == "bad token for key ***"
    redaction.remember_secret("short")  # under 6 characters: would mangle ordinary words
    redaction.remember_secret('p@ss "word" 42')
    assert redaction.redact("a short note") == "a short note"
    assert redaction.redact('sent {"password": "p@ss \\"word\\" 42"}') == 'sent {"password": "***"}'
    assert redaction.redact("url p%40ss%20%22word%22%2042") == "url ***"


def test_the_instance_key_file_is_created_once_with_mode_0600(tmp_path, monkeypatch):
    monkeypatch.delenv("FLOWKEY_ENCRYPTION_KEYS", raising=False)
    monkeypatch.setattr(config_module, "INSTANCE", tmp_path)

    keys, path = config_module._encryption_keys()

    assert path == str(tmp_path / "encryption_keys")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(keys) == 1 and Fernet(keys[0])
    assert config_module._encryption_keys() == (keys, path)  # the next start reads the same key
    monkeypatch.setenv("FLOWKEY_ENCRYPTION_KEYS", f" {NEW_KEY}, {OLD_KEY} ")
    assert config_module._encryption_keys() == ((NEW_KEY, OLD_KEY), None)


# ------------------------------------------------------------------ flask credentials

def test_rotate_key_with_the_instance_key_file(app, db, business, tmp_path):
    key_file = tmp_path / "encryption_keys"
    key_file.write_text(OLD_KEY + "\n")
    key_file.chmod(0o600)
    app.config["FLOWKEY_ENCRYPTION_KEYS_FILE"] = str(key_file)
    connection = connect(business)

    result = app.test_cli_runner().invoke(args=["credentials", "rotate-key"])

    assert result.exit_code == 0, result.output
    keys = key_file.read_text().split()
    assert len(keys) == 2 and keys[1] == OLD_KEY and keys[0] != OLD_KEY
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "Re-encrypted 1 secret(s) with the newest key; 0 already used it." in result.output
    assert keys[0] not in result.output
    assert Fernet(keys[0]).decrypt(stored_token(db, connection.id).encode())
    use_keys(app, keys[0])
    db.session.expire_all()
    assert credentials.read_secrets(connection) == SECRETS

    again = app.test_cli_runner().invoke(args=["credentials", "rotate-key", "--no-new-key"])
    assert "Re-encrypted 0 secret(s) with the newest key; 1 already used it." in again.output
    assert len(key_file.read_text().split()) == 2


def test_a_process_started_before_a_rotation_rereads_the_key_file(app, db, business, tmp_path):
    key_file = tmp_path / "encryption_keys"
    key_file.write_text(OLD_KEY + "\n")
    app.config["FLOWKEY_ENCRYPTION_KEYS_FILE"] = str(key_file)
    connection = connect(business)
    credentials.reencrypt_all(keys=(NEW_KEY, OLD_KEY))
    key_file.write_text(f"{NEW_KEY}\n{OLD_KEY}\n")  # what rotate-key in another process leaves

    db.session.expire_all()
    assert credentials.read_secrets(connection) == SECRETS
    assert app.config["FLOWKEY_ENCRYPTION_KEYS"] == (NEW_KEY, OLD_KEY)


def test_rotate_key_with_keys_from_the_environment(app, db, business):
    connection = connect(business)
    new_key = app.test_cli_runner().invoke(args=["credentials", "new-key"]).output.strip()
    assert Fernet(new_key)
    use_keys(app, new_key, OLD_KEY)

    result = app.test_cli_runner().invoke(args=["credentials", "rotate-key"])

    assert result.exit_code == 0, result.output
    assert "cannot change" in result.output and "first (newest) key" in result.output
    assert "Re-encrypted 1 secret(s) with the newest key; 0 already used it." in result.output
    use_keys(app, new_key)
    db.session.expire_all()
    assert credentials.read_secrets(connection) == SECRETS


def test_rotate_key_reports_unreadable_connections_and_fails(app, db, business):
    connection = connect(business, provider="zoom", kind="video", account_label="Zoom account")
    use_keys(app, NEW_KEY)

    result = app.test_cli_runner().invoke(args=["credentials", "rotate-key"])

    assert result.exit_code == 1
    assert f"connection {connection.id} (zoom, 'Zoom account')" in result.output


# ------------------------------------------------------------------ never logged, never shown

@pytest.fixture
def secret_job():
    log = logging.getLogger("tests.secret_job")

    @handler("test_secret_job")
    def run(key: str, business_id: int, connection_id: int):
        secret = credentials.read_secrets(credentials.get_connection(business_id, connection_id))["api_key"]
        log.info("using %s", secret)
        log.debug("headers: %r", {"Authorization": f"Bearer {secret}"})
        try:
            raise ValueError(f"provider said: bad key {secret}")
        except ValueError:
            log.exception("call with %s failed", secret)
            raise RuntimeError(f"provider refused key {secret!r}") from None

    yield "test_secret_job"
    HANDLERS.pop("test_secret_job", None)


def test_a_secret_is_never_logged_stored_in_errors_or_shown(app, db, client, logged_in, secret_job, caplog, monkeypatch):
    secret = "sk_live_" + os.urandom(12).hex()
    connection = connect(logged_in.business, secrets={"api_key": secret})
    # Forget what creating it taught this process: the worker that runs the job learns the secret
    # only by reading it from the vault.
    monkeypatch.setattr(redaction, "_known", {})
    monkeypatch.setattr(redaction, "_known_sorted", ())
    caplog.set_level(logging.DEBUG)  # the root logger: every logger's records

    job = outbox.record(
        secret_job, {"business_id": logged_in.business.id, "connection_id": connection.id},
        key=f"secret-job:{connection.id}", business_id=logged_in.business.id, max_attempts=1,
    )
    db.session.commit()
    assert run_job(job.id) == "failed"

    records = [r for r in caplog.records if r.name == "tests.secret_job"]
    assert [r.getMessage() for r in records][:1] == ["using ***"]
    assert any("ValueError: provider said: bad key ***" in (r.exc_text or "") for r in records)
    assert secret not in caplog.text
    db.session.rollback()
    stored = db.session.get(OutboxJob, job.id, populate_existing=True)
    assert stored.status == JobStatus.FAILED
    assert stored.last_error == "RuntimeError: provider refused key '***'"
    for url in ("/dashboard/jobs", f"/dashboard/jobs/{job.id}/status"):
        page = client.get(url)
        assert page.status_code == 200
        assert "provider refused key" in page.get_data(as_text=True) and secret not in page.get_data(as_text=True)
    assert secret not in caplog.text


def test_the_client_for_a_connection_is_found_by_kind_and_provider(app, db, business, monkeypatch):
    """A service asks for "the calendar client of this connection" without naming the provider."""
    from app.integrations import registry
    from app.integrations.errors import UnknownProvider
    from app.integrations.registry import BusyInterval

    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))
    built = []

    @registry.register("calendar", "fakecal")
    class FakeCalendar:
        def __init__(self, secrets, config):
            built.append((secrets, config is app.config))

        def busy_intervals(self, start, end):
            return [BusyInterval(start, end)]

        def create_event(self, event): ...

        def update_event(self, ref, event): ...

        def delete_event(self, ref): ...

    connection = credentials.create_connection(business, provider="fakecal", kind="calendar", secrets={"token": "tok-123456"})
    client = credentials.client_for(connection)
    assert isinstance(client, registry.CalendarClient) and built == [({"token": "tok-123456"}, True)]
    other = credentials.create_connection(business, provider="nowhere", kind="calendar", secrets={"token": "x"})
    with pytest.raises(UnknownProvider):
        credentials.client_for(other)
