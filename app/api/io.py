"""Reading and writing JSON with the schemas of :mod:`app.api.schemas`.

Bad input never reaches a service: a body that is not JSON is a 400, a body or query string that
does not fit its model is a 422 with one message per field (the field's path joined by ".").
"""
from __future__ import annotations

from typing import TypeVar

from flask import Response, jsonify, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import BadRequest

from app.services.errors import ServiceError, ValidationFailed

M = TypeVar("M", bound=BaseModel)


class BadJson(ServiceError):
    status_code = 400
    code = "invalid_json"


def _message(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return "This field is required."
    if kind in ("too_short", "string_too_short") and ctx.get("min_length") == 1 and isinstance(error.get("input"), str):
        return "This field is required."
    if kind in ("too_long", "string_too_long") and isinstance(error.get("input"), str):
        return f"Must be at most {ctx['max_length']} characters."
    if kind == "extra_forbidden":
        return "Unknown field."
    message = error["msg"]
    return message.removeprefix("Value error, ")


def field_errors(exc: ValidationError) -> dict[str, str]:
    """``{"field.path": "message"}``, the first message per field. Model-level errors name their
    field in ``ctx["field"]`` (see :mod:`app.api.schemas`), else they are reported under ``"body"``."""
    fields: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        path = ".".join(loc) or str((error.get("ctx") or {}).get("field", "body"))
        fields.setdefault(path, _message(error))
    return fields


def validate(model: type[M], data) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed("Please correct the highlighted fields.", field_errors(exc)) from None


def query(model: type[M]) -> M:
    """The query string validated by ``model`` (a repeated parameter: the first value)."""
    return validate(model, request.args.to_dict())


def body(model: type[M]) -> M:
    """The JSON body validated by ``model``; 400 when it is not JSON at all."""
    try:
        data = request.get_json(force=True, silent=False)
    except BadRequest:
        raise BadJson("The request body must be JSON.") from None
    return validate(model, data)


def reply(model: BaseModel, status: int = 200, headers: dict | None = None) -> tuple[Response, int]:
    response = jsonify(model.model_dump(mode="json"))
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response, status
