"""The SMTP client against a real SMTP server (aiosmtpd), and the development file transport."""
from __future__ import annotations

import email
import email.policy
import socket
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import AuthResult

from app.integrations.smtp import FileTransport, SmtpError, SmtpSettings, SmtpTransport, parse_smtp_url, transport_from_config
from tests.fakes.smtp_server import FakeSmtpServer, free_port


@pytest.mark.parametrize(
    "url, expected",
    [
        ("smtp://localhost", SmtpSettings("localhost", 25)),
        ("smtp://mail.example.com:2525", SmtpSettings("mail.example.com", 2525)),
        ("smtp://u%40x.com:p%3Ass@mail.example.com?starttls=1", SmtpSettings("mail.example.com", 587, "u@x.com", "p:ss", starttls=True)),
        ("smtps://user:pw@mail.example.com", SmtpSettings("mail.example.com", 465, "user", "pw", ssl=True)),
        ("smtps://mail.example.com:2465?starttls=1", SmtpSettings("mail.example.com", 2465, ssl=True)),
    ],
)
def test_parse_smtp_url(url, expected):
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "mail.example.com:25"])
def test_parse_smtp_url_rejects_other_urls(url):
    with pytest.raises(ValueError):
        parse_smtp_url(url)


def test_settings_repr_hides_the_password():
    assert "secret" not in repr(parse_smtp_url("smtp://me:secret@host"))


def _message(to="ada@example.com, bob@example.com") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Swim School <bookings@flowkey.test>"
    msg["To"] = to
    msg["Subject"] = "Hello"
    msg["Message-ID"] = "<abc@flowkey.test>"
    msg.set_content("Plain body\n")
    return msg


@pytest.fixture
def server():
    s = FakeSmtpServer().start()
    yield s
    s.stop()


def test_sends_to_every_recipient_with_the_envelope_sender(server):
    transport = SmtpTransport(parse_smtp_url(server.url, timeout=5), envelope_from="bounces@flowkey.test")
    assert transport.send(_message()) == "<abc@flowkey.test>"
    [got] = server.messages
    assert (got.mail_from, got.rcpt_tos, got.message["Subject"], got.message.get_content()) == (
        "bounces@flowkey.test", ["ada@example.com", "bob@example.com"], "Hello", "Plain body\n"
    )


def test_logs_in_when_the_url_has_credentials():
    seen = []

    def authenticator(_server, _session, _envelope, mechanism, auth_data):
        seen.append((mechanism, auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"right", handled=False)

    server = FakeSmtpServer(authenticator=authenticator).start()
    try:
        ok = SmtpTransport(parse_smtp_url(f"smtp://me:right@127.0.0.1:{server.port}", timeout=5))
        ok.send(_message())
        bad = SmtpTransport(parse_smtp_url(f"smtp://me:wrong@127.0.0.1:{server.port}", timeout=5))
        with pytest.raises(SmtpError) as info:
            bad.send(_message())
    finally:
        server.stop()
    assert len(server.messages) == 1
    assert (info.value.code, info.value.temporary) == (535, False)
    assert {s[1:] for s in seen} == {(b"me", b"right"), (b"me", b"wrong")}  # smtplib tries PLAIN, then LOGIN


@pytest.mark.parametrize("code, temporary", [(451, True), (554, False)])
def test_refused_data_maps_to_temporary_or_permanent(server, code, temporary):
    server.refuse(code)
    with pytest.raises(SmtpError) as info:
        SmtpTransport(parse_smtp_url(server.url, timeout=5)).send(_message())
    assert (info.value.code, info.value.temporary, info.value.permanent) == (code, temporary, not temporary)
    assert server.messages == []


def test_server_down_is_temporary():
    transport = SmtpTransport(parse_smtp_url(f"smtp://127.0.0.1:{free_port()}", timeout=2))
    with pytest.raises(SmtpError) as info:
        transport.send(_message())
    assert info.value.temporary and info.value.code is None


def test_a_silent_server_times_out():
    with socket.socket() as silent:  # accepts connections (backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        transport = SmtpTransport(parse_smtp_url(f"smtp://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5))
        with pytest.raises(SmtpError, match="timed out") as info:
            transport.send(_message())
    assert info.value.temporary


def test_no_recipients_is_permanent(server):
    msg = _message()
    del msg["To"]
    with pytest.raises(SmtpError) as info:
        SmtpTransport(parse_smtp_url(server.url)).send(msg)
    assert info.value.permanent


def test_file_transport_writes_eml_files(tmp_path):
    transport = FileTransport(tmp_path / "outbox")
    name = transport.send(_message())
    [path] = (tmp_path / "outbox").iterdir()
    assert path.name == name and name.endswith("-abc@flowkey.test.eml")
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert (parsed["To"], parsed["Subject"], parsed.get_content()) == ("ada@example.com, bob@example.com", "Hello", "Plain body\n")


def test_transport_from_config(tmp_path):
    smtp = transport_from_config({"SMTP_URL": "smtp://mail.example.com:2525", "SMTP_TIMEOUT": 3, "MAIL_FROM": "X <x@y.test>"})
    assert isinstance(smtp, SmtpTransport)
    assert (smtp.settings.host, smtp.settings.port, smtp.settings.timeout, smtp.envelope_from) == ("mail.example.com", 2525, 3.0, "x@y.test")
    files = transport_from_config({"SMTP_URL": None, "MAIL_OUTBOX_DIR": str(tmp_path)})
    assert isinstance(files, FileTransport) and files.directory == tmp_path


# --- the shared error kinds (app.integrations.errors) -----------------------------------------


def test_bad_credentials_are_authentication_required():
    from app.integrations.errors import AuthenticationRequired

    server = FakeSmtpServer(authenticator=lambda *_args: AuthResult(success=False, handled=False)).start()
    try:
        with pytest.raises(AuthenticationRequired) as info:
            SmtpTransport(parse_smtp_url(f"smtp://me:wrong@127.0.0.1:{server.port}", timeout=5)).send(_message())
    finally:
        server.stop()
    assert isinstance(info.value, SmtpError)
    assert (info.value.code, info.value.provider, info.value.permanent, info.value.temporary) == (535, "smtp", True, False)
    assert "wrong" not in str(info.value)


@pytest.mark.parametrize("code, kind_name", [(451, "TemporaryError"), (554, "PermanentError")])
def test_refused_data_is_a_temporary_or_permanent_error(server, code, kind_name):
    from app.integrations import errors

    server.refuse(code)
    with pytest.raises(getattr(errors, kind_name)) as info:
        SmtpTransport(parse_smtp_url(server.url, timeout=5)).send(_message())
    assert isinstance(info.value, SmtpError) and not isinstance(info.value, errors.AuthenticationRequired)
    assert (info.value.code, info.value.provider) == (code, "smtp")


def test_server_down_is_a_temporary_error():
    from app.integrations.errors import TemporaryError

    with pytest.raises(TemporaryError) as info:
        SmtpTransport(parse_smtp_url(f"smtp://127.0.0.1:{free_port()}", timeout=2)).send(_message())
    assert isinstance(info.value, SmtpError) and not info.value.permanent


@pytest.mark.parametrize(
    "temporary, code, kind_name, permanent",
    [(True, 451, "TemporaryError", False), (True, None, "TemporaryError", False), (False, 550, "PermanentError", True), (False, None, "PermanentError", True),
     (False, 535, "AuthenticationRequired", True), (False, 530, "AuthenticationRequired", True), (True, 454, "TemporaryError", False)],
)
def test_smtp_error_is_built_as_the_kind_that_fits(temporary, code, kind_name, permanent):
    import pickle

    from app.integrations import errors

    error = SmtpError("server refused: x", temporary=temporary, code=code)
    assert isinstance(error, getattr(errors, kind_name)) and isinstance(error, SmtpError)
    assert (error.temporary, error.permanent, bool(getattr(error, "permanent", False)), error.code, str(error)) == (temporary, permanent, permanent, code, "server refused: x")
    assert f"{type(error).__name__}: {error}" == "SmtpError: server refused: x"  # as the Jobs page shows it
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.code, copy.temporary) == (type(error), code, temporary)
