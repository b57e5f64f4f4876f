from flask import Blueprint

from app.extensions import csrf

bp = Blueprint("public", __name__)
# These pages may be framed by other sites, where the session cookie is not sent: their forms are
# checked by app.public.framed_csrf instead of Flask-WTF's session-bound check.
csrf.exempt(bp)

from app.public import routes  # noqa: E402,F401
from app.public import manage  # noqa: E402,F401  (the client's manage link)
from app.public import branding  # noqa: E402,F401  (theme, logo, embedded mode)
from app.public import framed_csrf  # noqa: E402,F401  (CSRF that works in a frame)
