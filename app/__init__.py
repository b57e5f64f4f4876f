"""Flowkey: a self-hosted booking link for small businesses."""
from __future__ import annotations

from flask import Flask

from app.config import INSTANCE, Config


def create_app(config: type[Config] | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder="../static", instance_path=str(INSTANCE))
    app.config.from_object(config or Config)
    INSTANCE.mkdir(parents=True, exist_ok=True)
    if proxies := app.config.get("TRUSTED_PROXIES", 0):
        # Behind N reverse proxies the peer is the nearest proxy: take the client's address,
        # scheme and host from the X-Forwarded-* values those N proxies appended (werkzeug docs,
        # "Tell Flask it is Behind a Proxy"), so rate limits and links see the real client.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    register_logging(app)
    register_ops(app)
    register_extensions(app)
    register_availability_versions(app)
    register_blueprints(app)
    register_errors(app)
    register_cli(app)
    register_template_helpers(app)
    register_security_headers(app)
    register_subscribers(app)
    register_jobs(app)
    return app


def register_subscribers(app: Flask) -> None:
    """What happens when a booking changes: every side effect of a booking event, in order.

    Each is called inside the transaction of the change (see :mod:`app.services.booking_events`).
    """
    from app import metrics
    from app.services import booking_emails, booking_events, notifications, reminders, request_expiry

    for subscriber in (
        booking_emails.on_booking_event,  # e-mails to the client and the owner
        notifications.on_booking_event,  # the owner dashboard's bell
        reminders.on_booking_event,  # reminder e-mails before confirmed bookings
        request_expiry.on_booking_event,  # expiry of requests nobody answered
        metrics.on_booking_event,  # the bookings counter on /metrics
    ):
        booking_events.subscribe(subscriber, app)


def register_availability_versions(app: Flask) -> None:
    """Every change that can change availability bumps a version in its own transaction, whoever
    makes it (:mod:`app.services.availability_versions`); cached availability is keyed on them."""
    from app.services import availability_versions

    availability_versions.install()


def register_ops(app: Flask) -> None:
    """``/healthz``, ``/readyz``, ``/metrics`` and the per-request id, latency and log line
    (:mod:`app.ops`). Registered before the extensions' hooks, so a request they answer early
    (a 429 from the rate limiter, a CSRF failure) is timed and logged too."""
    from app.ops import register

    register(app)


def register_jobs(app: Flask) -> None:
    """Without Redis (the single-process default) run outbox jobs on a thread in this process;
    with Redis, enqueue the jobs this process records as soon as they commit.

    Started on the first request rather than here, so ``flask db upgrade`` and other commands
    (which also build the app) never start a poller, and each gunicorn worker starts its own after
    forking (claims are atomic, so several runners never run one job twice).
    """
    from app.jobs import start_in_process_runner, start_web_dispatcher

    @app.before_request
    def _start_jobs() -> None:
        if "outbox_runner" in app.extensions or "outbox_dispatcher" in app.extensions:
            return
        if app.config.get("REDIS_URL"):
            start_web_dispatcher(app)
        else:
            start_in_process_runner(app)


def register_logging(app: Flask) -> None:
    """Keep secrets (config values, stored credentials) out of every log record."""
    from app.redaction import install_log_filter

    install_log_filter(app)


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (register the mappers before anything queries)
    from app.extensions import babel, csrf, db, htmx, limiter, login_manager, migrate, warn_if_limits_not_shared
    from app.i18n import select_locale
    from app.services.locks import install_sqlite_locking

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    with app.app_context():
        install_sqlite_locking(db.engine)

    @login_manager.user_loader
    def load_user(session_id: str):
        # "<id>:<session token>": a session from before the last log-out or password change
        # carries an old token and is refused (see app.services.accounts).
        from app.services.accounts import user_for_session

        return user_for_session(session_id)

    warn_if_limits_not_shared(app)


def register_blueprints(app: Flask) -> None:
    from app.api import bp as api_bp
    from app.auth import bp as auth_bp
    from app.dashboard import bp as dashboard_bp
    from app.public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(dashboard_bp, url_prefix="/dashboard")
    app.register_blueprint(api_bp, url_prefix="/api")


def register_errors(app: Flask) -> None:
    from app.errors import register

    register(app)


def register_cli(app: Flask) -> None:
    from app.cli import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from app.i18n import register as register_i18n
    from app.web import register

    register(app)
    register_i18n(app)  # the public pages' language: date, price and day-name helpers, the lang cookie


def register_security_headers(app: Flask) -> None:
    """CSP with per-request nonces, framing, referrer, nosniff and HSTS on every response."""
    from app.security_headers import register

    register(app)
