"""``GET /api/openapi.json``: an OpenAPI 3.1 document built from the route table
(:data:`app.api.spec.ENDPOINTS`) and the pydantic models of :mod:`app.api.schemas`.

Request models are rendered in pydantic's validation mode and responses in serialization mode,
all into ``components.schemas`` (pydantic names a model ``X-Input``/``X-Output`` if the two
differ), so the document describes exactly what the views validate and return.
"""
from __future__ import annotations

import re
from functools import lru_cache

from flask import current_app, jsonify
from pydantic.json_schema import models_json_schema

from app.api import schemas
from app.api.spec import ENDPOINTS, Endpoint, endpoint

REF = "#/components/schemas/{model}"
_ARG = re.compile(r"<(?:([a-zA-Z_]+)(?:\([^)]*\))?:)?([a-zA-Z_]+)>")
_STATUS_TEXT = {
    200: "OK", 201: "Created", 204: "No content", 400: "Bad request (malformed JSON or missing CSRF header)",
    401: "Not authenticated", 403: "Forbidden: owners only (a staff member's session)", 404: "Not found", 409: "Conflict (the time is taken; see alternatives)",
    413: "Body too large (MAX_CONTENT_LENGTH)", 415: "Body not sent as application/json",
    422: "Invalid input: one message per field", 429: "Too many requests",
}
# Every endpoint that reads a body can answer these (app.api.io.body, MAX_CONTENT_LENGTH).
_BODY_ERRORS = (400, 413, 415)


def openapi_path(rule: str) -> str:
    """A Flask rule (``/api/services/<int(max=9):service_id>``) as an OpenAPI path (``/api/services/{service_id}``)."""
    return _ARG.sub(lambda m: "{" + m.group(2) + "}", rule)


def _path_parameters(rule: str) -> list[dict]:
    params = []
    for converter, name in _ARG.findall(rule):
        schema = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1} if converter in ("int", "id") else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return params


def _query_parameters(model, components: dict) -> list[dict]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop,
         **({"description": prop["description"]} if "description" in prop else {})}
        for name, prop in schema["properties"].items()
    ]


def _operation(e: Endpoint, refs: dict) -> dict:
    op: dict = {"operationId": e.view, "summary": e.summary, "tags": list(e.tags)}
    params = _path_parameters("/api" + e.rule)
    if e.query is not None:
        params += _query_parameters(e.query, refs)
    params += [{"name": name, "in": "header", "required": False, "description": text, "schema": {"type": "string"}}
               for name, text in e.headers]
    if params:
        op["parameters"] = params
    if e.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": refs[(e.body, "validation")]}}}
    responses: dict = {}
    if e.response is not None:
        responses[str(e.status)] = {
            "description": _STATUS_TEXT.get(e.status, ""),
            "content": {"application/json": {"schema": refs[(e.response, "serialization")]}},
        }
    else:
        responses[str(e.status)] = {"description": _STATUS_TEXT.get(e.status, "")}
    if e.status == 201 and e.headers:  # the book endpoint replays an earlier result with 200
        responses["200"] = {"description": "Replayed: the Idempotency-Key was seen before",
                            "content": {"application/json": {"schema": refs[(e.response, "serialization")]}}}
    errors = sorted(set(e.errors) | (set(_BODY_ERRORS) if e.body is not None else set()) | ({403} if e.owner else set()))
    for status in errors:
        responses[str(status)] = {
            "description": _STATUS_TEXT.get(status, ""),
            "content": {"application/json": {"schema": refs[(schemas.ErrorResponse, "serialization")]}},
        }
    op["responses"] = responses
    if e.owner:
        op["security"] = [{"bearer": []}, {"session": []}]
    return op


def build_document(base_url: str = "") -> dict:
    """The OpenAPI 3.1 document as a dict."""
    pairs = {(schemas.ErrorResponse, "serialization")}
    for e in ENDPOINTS:
        if e.body is not None:
            pairs.add((e.body, "validation"))
        if e.response is not None:
            pairs.add((e.response, "serialization"))
        if e.query is not None:
            pairs.add((e.query, "validation"))  # only for $defs its fields refer to
    refs, top = models_json_schema(sorted(pairs, key=lambda p: (p[0].__name__, p[1])), ref_template=REF)
    paths: dict = {}
    for e in ENDPOINTS:
        paths.setdefault(openapi_path("/api" + e.rule), {})[e.method.lower()] = _operation(e, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Flowkey API",
            "version": "1",
            "description": "Public booking endpoints (no auth) and owner endpoints (Authorization: Bearer <api key>, "
            "or a dashboard session plus an X-CSRFToken header on unsafe methods). Errors are "
            '{"error": {"code", "message", "fields"}}.',
        },
        "servers": [{"url": base_url or "/"}],
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API key from the dashboard or `flask api-keys create`."},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
    }


@lru_cache(maxsize=4)
def _cached(base_url: str) -> dict:
    return build_document(base_url)


@endpoint("/openapi.json", "GET", "This document", tag="meta")
def openapi_document():
    return jsonify(_cached(current_app.config["BASE_URL"]))
