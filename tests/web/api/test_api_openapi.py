"""The OpenAPI document covers every /api route and describes what the endpoints really return."""
from __future__ import annotations

import json
import re
from datetime import date, datetime

import pytest

from tests.web.api.support import book_body, london

SKIP_METHODS = {"HEAD", "OPTIONS"}


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_every_api_route_is_documented(app, client):
    doc = client.get("/api/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    routed = {
        (openapi_path(rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - SKIP_METHODS
    }
    assert routed, "no API routes?"
    assert routed == documented


def test_every_ref_resolves(client):
    doc = client.get("/api/openapi.json").json
    refs = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(doc)))
    assert refs <= set(doc["components"]["schemas"])


# ------------------------------------------------------------------ a small JSON Schema checker
# (the subset pydantic emits: $ref, type, properties, required, additionalProperties, items,
# anyOf, enum, const, format date/date-time, minimum/maximum, minLength/maxLength, pattern)

def check(schema: dict, value, components: dict, path: str = "$") -> list[str]:
    if "$ref" in schema:
        return check(components[schema["$ref"].rsplit("/", 1)[1]], value, components, path)
    if "anyOf" in schema:
        if any(not check(s, value, components, path) for s in schema["anyOf"]):
            return []
        return [f"{path}: matches none of anyOf"]
    errors: list[str] = []
    kind = schema.get("type")
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind:
        ok = isinstance(value, types[kind])
    else:
        ok = True
    if not ok:
        return [f"{path}: {value!r} is not {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: {value!r} != {schema['const']!r}")
    if kind == "string":
        fmt = schema.get("format")
        try:
            if fmt == "date-time":
                assert datetime.fromisoformat(value).tzinfo is not None
            elif fmt == "date":
                date.fromisoformat(value)
        except (ValueError, AssertionError):
            errors.append(f"{path}: {value!r} is not a {fmt}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{path}: {value!r} does not match {schema['pattern']}")
    if kind == "object":
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{path}: missing {name}")
        for name, item in value.items():
            if name in props:
                errors += check(props[name], item, components, f"{path}.{name}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += check(schema["additionalProperties"], item, components, f"{path}.{name}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unexpected {name}")
        if "propertyNames" in schema:
            for name in value:
                errors += check(schema["propertyNames"], name, components, f"{path}[{name!r}]")
    if kind == "array":
        for i, item in enumerate(value):
            errors += check(schema.get("items", {}), item, components, f"{path}[{i}]")
    return errors


def response_schema(doc: dict, path: str, method: str, status: int) -> dict:
    return doc["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]


def assert_valid(doc, path, method, response):
    schema = response_schema(doc, path, method, response.status_code)
    assert check(schema, response.json, doc["components"]["schemas"]) == []


def test_real_responses_match_their_schemas(client, business, lesson, day, factory, auth, db):
    doc = client.get("/api/openapi.json").json
    public = "/api/booking/public/{slug}"
    base = "/api/booking/public/swim-school-pro"
    assert_valid(doc, f"{public}/", "get", client.get(f"{base}/"))
    assert_valid(doc, f"{public}/services/", "get", client.get(f"{base}/services/"))
    slots = client.get(f"{base}/availability/", query_string={"service_id": lesson.id, "start_date": str(day), "end_date": str(day)})
    assert slots.json[str(day)]
    assert_valid(doc, f"{public}/availability/", "get", slots)
    booked = client.post(f"{base}/book/", json=book_body(lesson.id, london(day, 10)))
    assert booked.status_code == 201
    assert_valid(doc, f"{public}/book/", "post", booked)
    # Another client (another e-mail and phone: the same phone would be the same client, given their booking).
    taken = client.post(f"{base}/book/", json=book_body(lesson.id, london(day, 10), client_email="b@example.com", client_phone=None))
    assert taken.status_code == 409 and taken.json["error"]["alternatives"]
    assert_valid(doc, f"{public}/book/", "post", taken)
    invalid = client.post(f"{base}/book/", json={"service_id": "x"})
    assert invalid.status_code == 422
    assert_valid(doc, f"{public}/book/", "post", invalid)

    assert_valid(doc, "/api/booking/settings/", "get", client.get("/api/booking/settings/", headers=auth))
    assert_valid(doc, "/api/booking/link/", "get", client.get("/api/booking/link/", headers=auth))
    assert_valid(doc, "/api/services/", "get", client.get("/api/services/", headers=auth))
    assert_valid(doc, "/api/bookings/", "get", client.get("/api/bookings/", headers=auth))
    staff_id = business.staff[0].id
    assert_valid(doc, "/api/staff/{staff_id}/hours", "get", client.get(f"/api/staff/{staff_id}/hours", headers=auth))
    assert_valid(doc, "/api/services/", "get", client.get("/api/services/"))  # 401


def test_the_checker_catches_mismatches(client):
    doc = client.get("/api/openapi.json").json
    schema = response_schema(doc, "/api/booking/public/{slug}/services/", "get", 200)
    bad = [{"id": "1", "name": "x", "description": "", "duration_minutes": 60, "capacity": 1}]
    assert sorted(check(schema, bad, doc["components"]["schemas"])) == ["$[0].id: '1' is not integer", "$[0]: missing price"]


@pytest.mark.parametrize("path", ["/api/booking/public/{slug}/availability/", "/api/bookings/", "/api/booking/requests/"])
def test_query_parameters_are_documented(client, path):
    params = {p["name"] for p in client.get("/api/openapi.json").json["paths"][path]["get"]["parameters"] if p["in"] == "query"}
    expected = {
        "/api/booking/public/{slug}/availability/": {"service_id", "start_date", "end_date", "tz"},
        "/api/bookings/": {"status", "start_date", "end_date", "staff_id", "when", "limit", "offset"},
        "/api/booking/requests/": {"status", "start_date", "end_date", "staff_id"},
    }[path]
    assert params == expected
