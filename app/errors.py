"""Error pages and JSON errors: a human message on pages, ``{"error": {...}}`` under /api."""
from __future__ import annotations

from flask import Flask, current_app, jsonify, make_response, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.services.errors import ServiceError


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str, fields: dict | None = None, **extra):
    body = {"error": {"code": code, "message": message, "fields": fields or {}, **extra}}
    return jsonify(body), status


def register(app: Flask) -> None:
    from app.web import render

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        # Page texts are gettext: English except on the public pages (app.i18n.select_locale).
        message = _("Your form expired or was sent from elsewhere. Please reload the page and try again.")
        if is_api_request():
            return json_error(400, "csrf_failed", message)
        return render("errors/error.html", block="content", status=400, code=400, title=_("Please try again"), message=message)

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        if is_api_request():
            return json_error(exc.status_code, exc.code, exc.message, exc.fields)
        return render("errors/error.html", block="content", status=exc.status_code, code=exc.status_code, title=_("Sorry"), message=exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        titles = {404: _("Page not found"), 405: _("Not allowed"), 429: _("Too many requests"), 413: _("Too large")}
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        messages = {
            404: _("We couldn't find that page. Check the link you were given."),
            429: _("You're going a little fast. Please wait a minute and try again."),
            413: _("What you sent is too large (at most %(kb)d KB). Please send less.", kb=limit // 1024) if limit else _("What you sent is too large."),
        }
        message = messages.get(code, exc.description or "")
        if is_api_request():
            response = make_response(json_error(code, (exc.name or "error").lower().replace(" ", "_"), message))
        else:
            response = render("errors/error.html", block="content", status=code, code=code, title=titles.get(code, exc.name), message=message)
        # The exception's own headers (Allow on a 405, RFC 9110 section 15.5.6; Retry-After,
        # WWW-Authenticate) belong on the answer that replaces its body.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(500)
    def server_error(exc):
        from app.extensions import db

        db.session.rollback()
        message = _("Something went wrong on our side. Please try again.")
        if is_api_request():
            return json_error(500, "server_error", message)
        return render("errors/error.html", block="content", status=500, code=500, title=_("Something went wrong"), message=message)
