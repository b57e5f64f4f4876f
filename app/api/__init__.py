"""The JSON API under ``/api``: public booking endpoints and the owner's endpoints.

The API takes JSON, not forms, so Flask-WTF's form CSRF check is off for the blueprint; owner
endpoints reached with a session cookie check the ``X-CSRFToken`` header themselves
(:mod:`app.api.auth`).
"""
from flask import Blueprint

from app.extensions import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)

from app.api import routes  # noqa: E402,F401
