"""A real WSGI server (werkzeug, threaded) on the test database, for the race tests.

The server runs the ``app`` fixture's app in a background thread; each request gets its own app
context and so its own database session and connection, like separate web workers would.
"""
from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import requests
from werkzeug.serving import make_server


@pytest.fixture
def live_server(app, db):
    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def fire(n: int, send: Callable[[int], requests.Response]) -> list[requests.Response]:
    """Call ``send(i)`` for i in 0..n-1 from ``n`` threads released together by a barrier."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = send(i)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    errors = [r for r in results if not isinstance(r, requests.Response)]
    assert not errors, errors
    return results
