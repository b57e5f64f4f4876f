"""A real SMTP server in-process (aiosmtpd) on a free port, collecting what it receives.

    server = FakeSmtpServer().start()
    ... send to 127.0.0.1:server.port ...
    server.messages  # [Received(mail_from, rcpt_tos, message)]
    server.refuse(451)  # answer DATA with 451 (temporary) / 550 (permanent); refuse(None) to accept
    server.stop(); server.start()  # down, then up again on the same port
"""
from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        """The message parsed (line endings normalised from the wire's CRLF to LF)."""
        return email.message_from_bytes(self.raw.replace(b"\r\n", b"\n"), policy=email.policy.default)


class _Handler:
    def __init__(self, server: "FakeSmtpServer"):
        self.server = server

    async def handle_DATA(self, _server, _session, envelope):
        if self.server.delay:
            await asyncio.sleep(self.server.delay)  # a slow server: the job is mid-send meanwhile
        if self.server.refuse_code is not None:
            code = self.server.refuse_code
            return f"{code} {'4.3.0 Try again later' if code < 500 else '5.7.1 Message rejected'}"
        with self.server.lock:
            self.server.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 2.0.0 OK queued"


class FakeSmtpServer:
    def __init__(self, port: int | None = None, authenticator=None):
        self.port = port or free_port()
        self.messages: list[Received] = []
        self.refuse_code: int | None = None
        self.delay = 0.0  # seconds to wait before answering DATA
        self.lock = threading.Lock()
        self._controller: Controller | None = None
        self._authenticator = authenticator

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> "FakeSmtpServer":
        kwargs = {}
        if self._authenticator is not None:
            kwargs.update(authenticator=self._authenticator, auth_require_tls=False)
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def refuse(self, code: int | None) -> None:
        self.refuse_code = code

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until at least ``count`` messages arrived; returns them (raises on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} messages, got {len(self.messages)} within {timeout}s")
