"""The SMTP transport keeps its connection for the next message, replaces one the server closed
without sending anything twice, and never re-sends once DATA has begun (a real aiosmtpd server)."""
from __future__ import annotations

import time
from email.message import EmailMessage

import pytest

from app.integrations.smtp import SmtpError, SmtpTransport, parse_smtp_url
from tests.fakes.smtp_server import FakeSmtpServer


def _message(n: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Swim School <bookings@flowkey.test>"
    msg["To"] = "ada@example.com"
    msg["Subject"] = f"Message {n}"
    msg["Message-ID"] = f"<m{n}@flowkey.test>"
    msg.set_content(f"Body {n}\n")
    return msg


class CountingTransport(SmtpTransport):
    """Counts the connections it opens."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connections = 0

    def _connect(self):
        self.connections += 1
        return super()._connect()


@pytest.fixture
def server():
    s = FakeSmtpServer().start()
    yield s
    s.stop()


def subjects(server: FakeSmtpServer) -> list[str]:
    return [r.message["Subject"] for r in server.messages]


def test_messages_in_a_row_share_one_connection(server):
    transport = CountingTransport(parse_smtp_url(server.url, timeout=5))
    ids = [transport.send(_message(n)) for n in range(3)]
    transport.close()
    assert ids == ["<m0@flowkey.test>", "<m1@flowkey.test>", "<m2@flowkey.test>"]
    assert subjects(server) == ["Message 0", "Message 1", "Message 2"]
    assert transport.connections == 1


def test_a_connection_idle_too_long_is_replaced(server):
    transport = CountingTransport(parse_smtp_url(server.url, timeout=5))
    transport.IDLE_SECONDS = 0.05
    transport.send(_message(0))
    time.sleep(0.1)
    transport.send(_message(1))
    transport.close()
    assert subjects(server) == ["Message 0", "Message 1"]
    assert transport.connections == 2


def test_a_connection_the_server_closed_is_replaced_and_the_message_sent_once(server):
    transport = CountingTransport(parse_smtp_url(server.url, timeout=5))
    transport.send(_message(0))
    server.stop()  # drops the kept session, as a server restart or its idle timeout does
    restarted = FakeSmtpServer(port=server.port).start()
    try:
        assert transport.send(_message(1)) == "<m1@flowkey.test>"
        transport.close()
        assert subjects(server) == ["Message 0"]
        assert subjects(restarted) == ["Message 1"]
        assert transport.connections == 2
    finally:
        restarted.stop()


def test_no_second_try_once_data_has_begun(server):
    transport = CountingTransport(parse_smtp_url(server.url, timeout=0.5))
    transport.send(_message(0))
    server.delay = 1.0  # the server has the whole message but answers after the client gave up
    with pytest.raises(SmtpError) as raised:
        transport.send(_message(1))
    assert raised.value.temporary
    assert transport.connections == 1  # not sent again here: the job's retry decides that
    time.sleep(1.0)
    server.delay = 0.0
    transport.send(_message(2))  # the broken session was dropped: a new one
    transport.close()
    assert subjects(server) == ["Message 0", "Message 2"]  # aiosmtpd drops a message whose client left
    assert transport.connections == 2


def test_a_refused_message_drops_the_connection(server):
    transport = CountingTransport(parse_smtp_url(server.url, timeout=5))
    transport.send(_message(0))
    server.refuse(550)
    with pytest.raises(SmtpError) as raised:
        transport.send(_message(1))
    assert not raised.value.temporary and raised.value.code == 550
    server.refuse(None)
    transport.send(_message(2))
    transport.close()
    assert subjects(server) == ["Message 0", "Message 2"]
    assert transport.connections == 2
