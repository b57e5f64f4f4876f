"""Property-based: no query string or JSON body makes the public API answer 5xx."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import next_weekday

BASE = "/api/booking/public/swim-school-pro"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

DAY = next_weekday(1)
nasty_text = st.text(max_size=60) | st.sampled_from(["", " ", "\x00", "null", "0", "-1", "1e309", "NaN", "9" * 40, "é", "💥", "a" * 3000])
ids = st.integers(min_value=-(2**70), max_value=2**70) | st.sampled_from([1, 2, 0, 2**31 - 1, 2**31, 2**63]) | nasty_text
dates = (
    st.dates().map(str)
    | st.dates(min_value=DAY - timedelta(days=90), max_value=DAY + timedelta(days=90)).map(str)
    | nasty_text
    | st.sampled_from(["2027-02-29", "2028-02-29", "0001-01-01", "9999-12-31", "2027-1-1", "20270101"])
)
zones = st.sampled_from(["UTC", "Europe/London", "Asia/Kathmandu", "America/New_York", "Pacific/Kiritimati", "Etc/GMT+12", "Mars/Base", "../../etc/passwd"]) | nasty_text
instants = (
    st.datetimes(timezones=st.timezones()).map(datetime.isoformat)
    | st.datetimes().map(datetime.isoformat)  # naive
    | st.integers(min_value=8, max_value=17).map(
        lambda h: datetime(DAY.year, DAY.month, DAY.day, h, tzinfo=timezone.utc).isoformat()
    )
    | st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2027-03-28T01:30:00+00:00"])
    | nasty_text
)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)


def _maybe(strategy):
    return st.none() | strategy | json_values


@FUZZ
@given(params=st.fixed_dictionaries({}, optional={"service_id": ids, "start_date": dates, "end_date": dates, "tz": zones, "other": nasty_text}))
def test_availability_never_5xx(client, lesson, params):
    params = {k: (str(lesson.id) if v == 1 else v) for k, v in params.items()}
    response = client.get(f"{BASE}/availability/", query_string=params)
    assert response.status_code < 500, (params, response.get_data(as_text=True))
    assert response.is_json


@FUZZ
@given(
    body=st.fixed_dictionaries(
        {},
        optional={
            "service_id": _maybe(ids),
            "start": _maybe(instants),
            "end_date": dates,
            "tz": zones,
            "staff_id": _maybe(ids),
            "seats": _maybe(st.integers(min_value=-5, max_value=2**65) | nasty_text),
            "client_name": _maybe(nasty_text),
            "client_email": _maybe(st.emails() | nasty_text),
            "client_phone": _maybe(st.sampled_from(["+44 7911 123456", "+1 212 555 0123", "07911123456", "+999"]) | nasty_text),
            "notes": _maybe(nasty_text),
            "client_timezone": _maybe(zones),
        },
    )
    | json_values,
    idempotency_key=st.none() | st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=300),
)
def test_book_never_5xx(client, lesson, body, idempotency_key):
    if isinstance(body, dict) and body.get("service_id") == 1:
        body["service_id"] = lesson.id
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else {}
    response = client.post(f"{BASE}/book/", json=body, headers=headers)
    assert response.status_code < 500, (body, response.get_data(as_text=True))
    assert response.is_json


@FUZZ
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_book_raw_bytes_never_5xx(client, lesson, raw):
    response = client.post(f"{BASE}/book/", data=raw, content_type="application/json")
    assert response.status_code < 500
    assert response.is_json
