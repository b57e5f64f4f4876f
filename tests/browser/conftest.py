"""Fixtures for the real-browser tests: the app served on a free localhost port, the demo business
seeded into it, and Playwright driving the machine's Chromium (``/usr/bin/chromium``, never a
downloaded browser).

The ``app`` fixture (tests/conftest.py) runs each test on SQLite and, when ``TEST_DATABASE_URL``
is set, on PostgreSQL. Here CSRF is switched ON so the browser submits the real forms.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def shots_dir(name: str) -> Path | None:
    """Where a walk's screenshots go: ``$BROWSER_SHOTS_DIR/<name>`` (``PUBLIC_SHOTS_DIR`` is read
    too), created; None when neither is set, and then no screenshots are taken. They are for a
    person to look at; what a test asserts does not depend on them."""
    base = os.environ.get("BROWSER_SHOTS_DIR") or os.environ.get("PUBLIC_SHOTS_DIR")
    if not base:
        return None
    directory = Path(base) / name
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def at_both_sizes(page, name: str, directory: Path | None, back_to: dict = PHONE) -> None:
    """Show ``page`` at 390x844 and at 1366x900: at neither may it scroll sideways (content
    cut off on a phone, or a table wider than the desk). With a ``directory``, a full-page
    screenshot of each size is saved there as ``<name>-390.png`` / ``<name>-1366.png``.
    Leaves the page at ``back_to``."""
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} at {size['width']} px scrolls sideways by {overflow} px"
        if directory is not None:
            page.screenshot(path=directory / f"{name}-{size['width']}.png", full_page=True)
    page.set_viewport_size(back_to)


@pytest.fixture
def config_overrides():
    """The browser exercises the real forms, CSRF tokens included."""
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The app behind a real threaded WSGI server on 127.0.0.1:<free port>; yields its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass(frozen=True)
class Demo:
    slug: str
    business_name: str
    owner_email: str
    owner_password: str
    owner_id: int
    pending: int  # requests the demo left awaiting approval


@pytest.fixture
def demo(app, db):
    """``flask demo``'s Swim School Pro (requires approval; a few requests already pending)."""
    from app import demo as demo_module
    from app.services import booking_queries, business_service

    business, created = demo_module.create_demo()
    assert created
    assert business.settings.requires_approval
    seeded = Demo(
        slug=business.slug,
        business_name=business.name,
        owner_email=demo_module.OWNER_EMAIL,
        owner_password=demo_module.OWNER_PASSWORD,
        owner_id=business_service.find_user_by_email(demo_module.OWNER_EMAIL).id,
        pending=booking_queries.pending_count(business),
    )
    # Release this thread's connection: the server threads write while the test waits.
    db.session.remove()
    return seeded


@pytest.fixture
def new_context(browser):
    """``new_context(**kwargs)`` -> a fresh browser context, closed after the test."""
    contexts = []

    def _new(**kwargs):
        kwargs.setdefault("locale", "en-GB")
        context = browser.new_context(**kwargs)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield _new
    for context in contexts:
        context.close()


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd, tests/fakes/smtp_server.py) on a free port; point the app at
    it with ``SMTP_URL`` (override ``config_overrides`` in the test module)."""
    from tests.fakes.smtp_server import FakeSmtpServer

    server = FakeSmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def outbox_runner(app, smtp_server):
    """The in-process outbox runner (what a web process without ``REDIS_URL`` runs), polling
    every 0.2 s and woken by each commit that records a job; stopped before the tables are emptied."""
    from app.jobs import InProcessRunner

    runner = InProcessRunner(app, poll_seconds=0.2)
    runner.start()
    yield runner
    runner.stop()
