"""A local SimplyBook.me JSON-RPC "User API" (log-in endpoint), as api-notes.md section 1a describes it.

    fake = FakeSimplyBook().start()
    fake.add_company("acme", api_key="k-123", users={"admin": "pw"})
    fake.api_enabled["acme"] = False   # -32600 "Access denied" for every log-in of acme
    fake.delay = 2.0                   # seconds before each answer (timeouts)
    ... SimplyBookClient("acme", api_key="k-123", base_url=fake.url).authenticate()
    fake.calls                         # [(endpoint, method, params, headers)]
    fake.stop()

Errors come back as JSON-RPC error objects with HTTP 200, like the real service: "Company does
not exist", "Wrong api key", "User with this login and password not found", -32600 "Access
denied"; an unknown method is -32601. Named params are refused (the real API takes positional
ones only).
"""
from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.smtp_server import free_port


@dataclass
class Company:
    api_key: str
    users: dict[str, str] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def do_POST(self) -> None:  # noqa: N802 (stdlib name)
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if fake.delay and fake.stopping.wait(fake.delay):
            return
        try:
            request = json.loads(raw)
        except ValueError:
            return self._send({"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None})
        endpoint = self.path.strip("/")
        method, params, rpc_id = request.get("method"), request.get("params"), request.get("id")
        with fake.lock:
            fake.calls.append((endpoint, method, params, dict(self.headers.items())))
        if not isinstance(params, list):
            return self._send({"jsonrpc": "2.0", "error": {"code": -32602, "message": "Invalid params"}, "id": rpc_id})
        try:
            result = fake.answer(endpoint, method, params)
        except _RpcError as exc:
            return self._send({"jsonrpc": "2.0", "error": {"code": exc.code, "message": exc.message}, "id": rpc_id})
        self._send({"jsonrpc": "2.0", "result": result, "id": rpc_id})

    def _send(self, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: "FakeSimplyBook"

    def handle_error(self, request, client_address) -> None:  # noqa: ANN001
        pass  # the client timed out and hung up


class _RpcError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code, self.message = code, message


class FakeSimplyBook:
    def __init__(self) -> None:
        self.port = free_port()
        self.companies: dict[str, Company] = {}
        self.api_enabled: dict[str, bool] = {}
        self.tokens: dict[str, str] = {}  # token -> company login
        self.calls: list[tuple[str, str, list, dict]] = []
        self.delay = 0.0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._server: _Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add_company(self, login: str, *, api_key: str, users: dict[str, str] | None = None, api_enabled: bool = True) -> "FakeSimplyBook":
        self.companies[login] = Company(api_key, dict(users or {}))
        self.api_enabled[login] = api_enabled
        return self

    def answer(self, endpoint: str, method: str, params: list) -> Any:
        if endpoint != "login":
            raise _RpcError(-32600, "Access denied")
        if method == "getToken" and len(params) == 2:
            company = self._company(params[0])
            if params[1] != company.api_key:
                raise _RpcError(-32001, "Wrong api key")
            return self._token(params[0])
        if method == "getUserToken" and len(params) == 3:
            company = self._company(params[0])
            if company.users.get(params[1]) != params[2]:
                raise _RpcError(-32085, "User with this login and password not found")
            return self._token(params[0])
        raise _RpcError(-32601, "Method not found")

    def _company(self, login: str) -> Company:
        company = self.companies.get(login)
        if company is None:
            raise _RpcError(-32080, "Company does not exist")
        if not self.api_enabled[login]:
            raise _RpcError(-32600, "Access denied")
        return company

    def _token(self, login: str) -> str:
        token = secrets.token_hex(32)
        self.tokens[token] = login
        return token

    def start(self) -> "FakeSimplyBook":
        self.stopping.clear()
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.fake = self
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._server = None
