"""Inputs that used to crash the API or jam the owner's e-mail: control characters, loose types,
bodies that are not JSON (or too deep, or too big), duplicate ids, and HTTP conformance (405
keeps ``Allow``, an id of 0 is 404)."""
from __future__ import annotations

import json

import pytest

from app.models import Booking, Service
from tests.web.api.support import book_body, london

BASE = "/api/booking/public/swim-school-pro"


def booking_count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count()).select_from(Booking))


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    error = response.json["error"]
    assert set(error) >= {"code", "message", "fields"}
    assert error["code"] == code
    assert error["message"]
    return error


# ------------------------------------------------------------------ control characters

@pytest.mark.parametrize(
    "field, value",
    [
        ("client_name", "Eve\r\nBcc: x@evil.example"),
        ("client_name", "Eve\nBcc: x@evil.example"),
        ("client_name", "Eve\rBcc"),
        ("client_name", "Eve\x00"),
        ("client_name", "Eve\tSmith"),
        ("client_name", "Eve\x85Smith"),  # C1 NEL
        ("client_name", "Eve\u2028Smith"),
        ("client_name", "Eve\x7f"),
        ("client_email", "eve@example.com\r\nBcc: x@evil.example"),
        ("client_phone", "+44 7911 123456\n"),
    ],
)
def test_book_refuses_control_characters_in_one_line_fields(client, business, lesson, day, db, field, value):
    response = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10), **{field: value}))
    error = assert_error(response, 422, "validation_failed")
    assert error["fields"] == {field: "Remove line breaks, tabs and other control characters."}
    assert booking_count(db) == 0


def test_book_notes_keep_line_breaks_and_lose_other_control_characters(client, business, lesson, day, db):
    notes = "First line\r\nsecond\tline\x00\x07\rthird\x85"
    response = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10), notes=notes))
    assert response.status_code == 201, response.json
    db.session.expire_all()
    assert db.session.scalar(db.select(Booking.notes)) == "First line\nsecond\tline\nthird"


def test_owner_service_name_refuses_line_breaks_and_description_is_cleaned(client, business, auth, db):
    response = client.post("/api/services/", json={"name": "Lesson\r\nX-Evil: 1", "duration_minutes": 30}, headers=auth)
    assert assert_error(response, 422, "validation_failed")["fields"] == {
        "name": "Remove line breaks, tabs and other control characters."
    }
    response = client.post(
        "/api/services/", json={"name": "Lesson", "duration_minutes": 30, "description": "a\r\nb\x00c"}, headers=auth
    )
    assert response.status_code == 201
    assert response.json["description"] == "a\nbc"


# ------------------------------------------------------------------ loose types

@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"seats": True}, "seats", "Must be a whole number."),
        ({"seats": "1"}, "seats", "Must be a whole number."),
        ({"seats": 1.5}, "seats", "Must be a whole number."),
        ({"service_id": "1"}, "service_id", "Must be a whole number."),
        ({"client_name": 5}, "client_name", "Must be a string."),
        ({"start": 1767225600}, "start", "Must be an ISO-8601 time with its UTC offset, e.g. 2027-03-01T09:00:00+00:00."),
    ],
)
def test_book_body_types_are_strict(client, business, lesson, day, db, overrides, field, message):
    response = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10), **overrides))
    assert assert_error(response, 422, "validation_failed")["fields"] == {field: message}
    assert booking_count(db) == 0


@pytest.mark.parametrize("value", [0, 1, "true", "yes", "on"])
def test_settings_booleans_are_strict(client, business, auth, value):
    response = client.put("/api/booking/settings/", json={"requires_approval": value}, headers=auth)
    assert assert_error(response, 422, "validation_failed")["fields"] == {"requires_approval": "Must be true or false."}


def test_iso_strings_and_decimal_strings_are_still_accepted(client, business, lesson, day, auth, db):
    response = client.post(f"{BASE}/book/", json=book_body(lesson.id, london(day, 10)))
    assert response.status_code == 201
    response = client.post("/api/services/", json={"name": "Class", "duration_minutes": 30, "price": "12.50"}, headers=auth)
    assert (response.status_code, response.json["price"]) == (201, "12.50")
    staff_id = business.staff[0].id
    response = client.post(f"/api/staff/{staff_id}/overrides", json={"date": day.isoformat(), "intervals": []}, headers=auth)
    assert response.status_code in (200, 201), response.json


# ------------------------------------------------------------------ content types and bodies

@pytest.mark.parametrize(
    "content_type, data",
    [
        ("text/plain", None),  # what a cross-site <form enctype="text/plain"> sends
        ("application/x-www-form-urlencoded", None),
        ("multipart/form-data; boundary=x", None),
        ("text/html", None),
        (None, None),
    ],
)
def test_book_refuses_anything_but_json_with_415(client, business, lesson, day, db, content_type, data):
    payload = json.dumps(book_body(lesson.id, london(day, 10)))
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(f"{BASE}/book/", data=payload, headers=headers)
    assert_error(response, 415, "unsupported_media_type")
    assert booking_count(db) == 0


def test_owner_endpoints_refuse_anything_but_json_with_415(client, business, auth):
    response = client.post("/api/services/", data='{"name": "x", "duration_minutes": 30}', headers={**auth, "Content-Type": "text/plain"})
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/json;charset=UTF-8", "application/vnd.flowkey+json"])
def test_book_accepts_json_content_types(client, business, lesson, day, db, content_type):
    payload = json.dumps(book_body(lesson.id, london(day, 10)))
    response = client.post(f"{BASE}/book/", data=payload, headers={"Content-Type": content_type})
    assert response.status_code == 201, response.json


@pytest.mark.parametrize("depth", [300, 100_000])
def test_deeply_nested_json_is_400_not_500(client, business, lesson, auth, depth):
    nested = "[" * depth + "]" * depth
    response = client.post(f"{BASE}/book/", data=nested, content_type="application/json")
    assert_error(response, 400, "invalid_json")
    response = client.post("/api/services/", data='{"name": ' + nested + "}", content_type="application/json", headers=auth)
    assert_error(response, 400, "invalid_json")


def test_too_large_body_is_a_json_413(app, client, business, lesson, day):
    limit = app.config["MAX_CONTENT_LENGTH"]
    payload = json.dumps(book_body(lesson.id, london(day, 10), notes="x" * (limit + 1)))
    response = client.post(f"{BASE}/book/", data=payload, content_type="application/json")
    error = assert_error(response, 413, "request_entity_too_large")
    assert f"{limit // 1024} KB" in error["message"]


# ------------------------------------------------------------------ duplicate ids

def test_duplicate_staff_ids_are_422_on_create_and_update(client, business, auth, db):
    staff_id = business.staff[0].id
    body = {"name": "Lesson", "duration_minutes": 30, "staff_ids": [staff_id, staff_id]}
    response = client.post("/api/services/", json=body, headers=auth)
    assert assert_error(response, 422, "validation_failed")["fields"] == {"staff_ids": "List each id once."}
    created = client.post("/api/services/", json={"name": "Lesson", "duration_minutes": 30}, headers=auth)
    assert created.status_code == 201
    response = client.put(f"/api/services/{created.json['id']}", json={"staff_ids": [staff_id, staff_id]}, headers=auth)
    assert assert_error(response, 422, "validation_failed")["fields"] == {"staff_ids": "List each id once."}
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count()).select_from(Service)) == 1


def test_openapi_documents_unique_staff_ids_and_body_errors(client):
    doc = client.get("/api/openapi.json").json
    ref = doc["paths"]["/api/services/"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    staff_ids = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]["staff_ids"]
    assert {"type": "array", "uniqueItems": True}.items() <= staff_ids["anyOf"][0].items()
    assert {"400", "413", "415"} <= set(doc["paths"]["/api/services/"]["post"]["responses"])


# ------------------------------------------------------------------ HTTP conformance

def test_405_keeps_its_allow_header_on_the_api(client):
    response = client.delete(f"{BASE}/book/")
    assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"POST", "OPTIONS"}


def test_405_keeps_its_allow_header_on_pages(client):
    response = client.delete("/login")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]
    assert "<html" in response.get_data(as_text=True)


@pytest.mark.parametrize("method", ["get", "put", "delete"])
@pytest.mark.parametrize("service_id", ["0", "00", "007", "2147483648", "99999999999999999999"])
def test_out_of_range_ids_are_404_whatever_the_method(client, business, auth, method, service_id):
    response = getattr(client, method)(f"/api/services/{service_id}", headers=auth, json={})
    assert_error(response, 404, "not_found")


def test_largest_id_still_routes(client, business, auth):
    response = client.delete("/api/services/2147483647", headers=auth)
    assert_error(response, 404, "not_found")
    assert "No such service" in response.json["error"]["message"]
