"""Flask extensions, created unbound and initialised in :func:`app.create_app`."""
from flask_babel import Babel
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
htmx = HTMX()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
babel = Babel()  # e-mails only: see app/i18n.py


def _booking_rate_limit() -> str:
    from flask import current_app

    return current_app.config["BOOKING_RATE_LIMIT"]


#: One budget of booking submissions per client address (``BOOKING_RATE_LIMIT``), however they
#: arrive: the booking page's form and the public API decorate their POST views with it
#: (Flask-Limiter "shared limits": one counter for every view in the scope).
booking_limit = limiter.shared_limit(_booking_rate_limit, scope="booking", methods=["POST"])


def serving_processes(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> int:
    """How many processes probably serve this app, each with its own memory.

    Under gunicorn (its arbiter module is loaded): the worker count of its command line
    (``argv``, default ``sys.argv``) and ``GUNICORN_CMD_ARGS``, parsed by gunicorn's own parser,
    whose default is ``WEB_CONCURRENCY`` or 1 (gunicorn's "workers" setting); a config file is not
    read. Otherwise ``WEB_CONCURRENCY`` (the Procfile's worker count), else 1.
    """
    import os
    import shlex
    import sys

    environ = os.environ if environ is None else environ
    try:
        default = max(1, int(environ.get("WEB_CONCURRENCY", "1")))
    except ValueError:
        default = 1
    if argv is None:
        if "gunicorn.arbiter" not in sys.modules:
            return default
        argv = sys.argv[1:]
    from gunicorn.config import Config as GunicornConfig

    parser = GunicornConfig().parser()
    args, _ = parser.parse_known_args(shlex.split(environ.get("GUNICORN_CMD_ARGS", "")) + list(argv))
    return args.workers or default


def warn_if_limits_not_shared(app) -> None:
    """Log a warning (once per process, at start-up) when rate-limit counters live in process
    memory (``memory://``) while several processes serve: each would count on its own, letting
    that many times the limit through."""
    if not app.config.get("RATELIMIT_ENABLED", True):
        return
    storage = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    processes = serving_processes()
    if storage.startswith("memory://") and processes > 1:
        app.logger.warning(
            "Rate limits are kept in each process's memory (RATELIMIT_STORAGE_URI=memory://) but %d processes "
            "serve this app: each counts on its own. Set RATELIMIT_STORAGE_URI (or REDIS_URL) to a shared store.",
            processes,
        )
