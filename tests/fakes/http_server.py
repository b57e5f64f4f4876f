"""A scriptable HTTP server in-process (stdlib ``http.server`` on a thread, free port).

    server = FakeHttpServer().start()
    server.reply(503).reply(200, json={"ok": True})           # answered in order, one per request
    server.reply(429, headers={"Retry-After": "1"}, delay=0.5)  # wait before answering
    ... call server.url + "/path" ...
    server.requests  # [Seen(method, path, headers, body)], path with its query string
    server.stop()

When the queue is empty every request gets ``server.default`` (404 with a JSON error), so a
missing script shows up as a clear failure rather than a hang.
"""
from __future__ import annotations

import json as jsonlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from requests.structures import CaseInsensitiveDict

from tests.fakes.smtp_server import free_port


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    body: bytes | str | None = None  # raw body, used when ``json`` is None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line is sent

    def payload(self) -> tuple[bytes, str | None]:
        if self.json is not None:
            return jsonlib.dumps(self.json).encode(), "application/json"
        if self.body is None:
            return b"", None
        return (self.body.encode() if isinstance(self.body, str) else self.body), "text/plain; charset=utf-8"


@dataclass
class Seen:
    method: str
    path: str  # with the query string, as sent
    headers: CaseInsensitiveDict
    body: bytes

    @property
    def json(self) -> Any:
        return jsonlib.loads(self.body)

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real APIs: retries reuse or replace connections
    server: "_Server"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        fake = self.server.fake
        with fake.lock:
            fake.requests.append(Seen(self.command, self.path, CaseInsensitiveDict(self.headers.items()), body))
            reply = fake.queue.pop(0) if fake.queue else fake.default
        if reply.delay and fake.stopping.wait(reply.delay):
            return
        payload, content_type = reply.payload()
        self.send_response(reply.status)
        if content_type and not any(k.lower() == "content-type" for k in reply.headers):
            self.send_header("Content-Type", content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (stdlib signature)
        pass  # quiet test output


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a reply still delayed when the test ends must not hold up stop()
    fake: "FakeHttpServer"

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001
        pass  # the client gave up (timeout) and closed the socket: expected in tests


class FakeHttpServer:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.queue: list[Reply] = []
        self.requests: list[Seen] = []
        self.default = Reply(404, json={"error": {"code": "notScripted", "message": "no scripted reply"}})
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakeHttpServer":
        self.stopping.clear()
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.stopping.set()  # ends delayed replies
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        self._server = self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def reply(self, status: int = 200, json: Any = None, *, body: bytes | str | None = None, headers: dict[str, str] | None = None, delay: float = 0.0, times: int = 1) -> "FakeHttpServer":
        """Queue ``times`` identical replies; returns the server, so calls chain."""
        with self.lock:
            self.queue.extend(Reply(status, json, body, dict(headers or {}), delay) for _ in range(times))
        return self

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Seen]:
        """Wait until at least ``count`` requests arrived; returns them (raises on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} requests, got {len(self.requests)} within {timeout}s")
