"""Reading and writing JSON with the schemas of :mod:`app.api.schemas`.

Bad input never reaches a service: a body sent with another content type than JSON is a 415 (so a
plain HTML form elsewhere cannot post to the API), a body that is not JSON (or nested deeper than
the parser's limit) is a 400, a body or query string that does not fit its model is a 422 with one
message per field (the field's path joined by "."). Bodies are validated strictly (no ``true`` for
a number, no ``1`` for a boolean); query strings, which are all text, are converted.
"""
from __future__ import annotations

from typing import TypeVar

from flask import Response, jsonify, request
from pydantic import BaseModel, ValidationError

from app.services.errors import ServiceError, ValidationFailed

M = TypeVar("M", bound=BaseModel)


class BadJson(ServiceError):
    status_code = 400
    code = "invalid_json"


class UnsupportedMediaType(ServiceError):
    status_code = 415
    code = "unsupported_media_type"


def is_json_mimetype(mimetype: str) -> bool:
    """``application/json`` or a ``+json`` structured syntax suffix (RFC 6839 section 3.1);
    parameters such as ``charset`` are already stripped by werkzeug's ``request.mimetype``."""
    return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))


# One message per kind of wrong type, the same for query strings (lax) and bodies (strict).
_TYPE_MESSAGES = {
    "int_type": "Must be a whole number.",
    "int_parsing": "Must be a whole number.",
    "int_from_float": "Must be a whole number.",
    "bool_type": "Must be true or false.",
    "bool_parsing": "Must be true or false.",
    "string_type": "Must be a string.",
    "model_type": "Must be a JSON object.",
    "model_attributes_type": "Must be a JSON object.",
    "dict_type": "Must be a JSON object.",
    "list_type": "Must be a list.",
    "datetime_type": "Must be an ISO-8601 time with its UTC offset, e.g. 2027-03-01T09:00:00+00:00.",
    "datetime_parsing": "Must be an ISO-8601 time with its UTC offset, e.g. 2027-03-01T09:00:00+00:00.",
    "datetime_from_date_parsing": "Must be an ISO-8601 time with its UTC offset, e.g. 2027-03-01T09:00:00+00:00.",
    "date_type": "Must be a date written like 2027-03-01.",
    "date_parsing": "Must be a date written like 2027-03-01.",
    "date_from_datetime_parsing": "Must be a date written like 2027-03-01.",
    "date_from_datetime_inexact": "Must be a date written like 2027-03-01.",
    "decimal_type": 'Must be a decimal number, e.g. "25.00".',
    "decimal_parsing": 'Must be a decimal number, e.g. "25.00".',
}


def _message(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind]
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


def validate_json(model: type[M], raw: bytes, context: dict | None = None) -> M:
    """``raw`` (a JSON document) validated by ``model`` in strict mode (pydantic's JSON mode still
    reads ISO-8601 strings as dates and instants), with pydantic's validation ``context``. Raises :class:`BadJson` when ``raw`` is not JSON,
    or nests deeper than pydantic-core's parser allows (a few hundred levels, instead of Python's
    recursion limit), and :class:`ValidationFailed` when it does not fit ``model``."""
    try:
        return model.model_validate_json(raw, strict=True, context=context)
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            raise BadJson("The request body must be JSON.") from None
        raise ValidationFailed("Please correct the highlighted fields.", field_errors(exc)) from None


def query(model: type[M]) -> M:
    """The query string validated by ``model`` (a repeated parameter: the first value)."""
    return validate(model, request.args.to_dict())


def body(model: type[M], context: dict | None = None) -> M:
    """The JSON body validated by ``model`` (see :func:`validate_json`; ``context`` for its validators). Raises
    :class:`UnsupportedMediaType` (415) unless the Content-Type is JSON; a body over
    ``MAX_CONTENT_LENGTH`` is werkzeug's 413."""
    if not is_json_mimetype(request.mimetype):
        raise UnsupportedMediaType("Send the body as JSON, with Content-Type: application/json.")
    return validate_json(model, request.get_data(cache=True), context)


def reply(model: BaseModel, status: int = 200, headers: dict | None = None) -> tuple[Response, int]:
    response = jsonify(model.model_dump(mode="json"))
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response, status
