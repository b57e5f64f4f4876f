"""Inputs that used to crash the public pages or jam the owner's e-mail: out-of-range instants and
dates in the URL, control characters (NUL among them, which PostgreSQL cannot store) in the form."""
from __future__ import annotations

import html as html_lib
import re

import pytest

from app.models import Booking
from tests.web.public.support import at, details_url, form_data

HX = {"HX-Request": "true"}
YEARS = "Pick a time between the years 2000 and 2999 from the calendar."


def booking_count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(db.select(db.func.count()).select_from(Booking))


# ------------------------------------------------------------------ instants and dates in URLs

OUT_OF_RANGE_STARTS = [
    "9999-12-31T23:59:59%2B00:00",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-23:59",
    "9999-12-31T00:00:00-23:59",
    "0001-01-01T00:00:00%2B00:00",
    "0001-01-01T00:00:00%2B23:59",
    "0001-01-01T00:00:00-23:59",
    "1999-12-31T12:00:00%2B00:00",
    "3000-01-01T00:00:00%2B00:00",
]


@pytest.mark.parametrize("start", OUT_OF_RANGE_STARTS)
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "fragment"])
def test_details_with_an_out_of_range_start_is_422_not_500(client, db, shop, lesson, start, method, headers):
    url = f"/book/{shop.slug}/{lesson.id}/details?start={start}"
    response = getattr(client, method)(url, data=form_data() if method == "post" else None, headers=headers)
    body = response.get_data(as_text=True)
    assert response.status_code == 422, body
    assert ("<html" in body) is (not headers)
    assert "Something in that link is not right" in body
    assert YEARS in html_lib.unescape(body)
    assert booking_count(db) == 0


@pytest.mark.parametrize(
    "query, field",
    [
        ("month=9999-12", "Month"),
        ("month=0001-01", "Month"),
        ("month=1999-12", "Month"),
        ("date=9999-12-31", "Date"),
        ("date=0001-01-01", "Date"),
        ("month=2027-01&date=9999-12-31", "Date"),
    ],
)
def test_times_page_with_an_out_of_range_month_or_date_is_422(client, shop, lesson, query, field):
    response = client.get(f"/book/{shop.slug}/{lesson.id}?{query}")
    body = html_lib.unescape(response.get_data(as_text=True))
    assert response.status_code == 422, body
    assert f"{field}:" in body and YEARS in body


def test_edges_of_the_window_are_not_errors(client, shop, lesson):
    # Far outside the bookable window but inside the years: the calendar is clamped, no error.
    assert client.get(f"/book/{shop.slug}/{lesson.id}?month=2999-12").status_code == 200
    response = client.get(f"/book/{shop.slug}/{lesson.id}/details?start=2999-12-31T23:59:59%2B00:00")
    assert response.status_code == 409  # not free: the nearest free times instead


# ------------------------------------------------------------------ control characters in the form

@pytest.mark.parametrize(
    "fields, field",
    [
        ({"name": "Eve\r\nBcc: x@evil.example"}, "name"),
        ({"name": "Eve\x00"}, "name"),
        ({"name": "Eve\u2028Bcc"}, "name"),
        ({"email": "eve@example.com\x00"}, "email"),
        ({"email": "eve@example.com\r\nBcc: x@evil.example"}, "email"),
        ({"email": "", "phone": "+44 7911 123456\x00"}, "phone"),
        ({"idempotency_key": "key\x00"}, "idempotency_key"),
    ],
)
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "fragment"])
def test_control_characters_in_one_line_fields_are_422_with_a_message(client, db, shop, lesson, day, fields, field, headers):
    response = client.post(details_url(shop, lesson, at(day, "09:00")), data=form_data(**fields), headers=headers)
    body = response.get_data(as_text=True)
    assert response.status_code == 422, body
    assert ("<html" in body) is (not headers)
    if field != "idempotency_key":  # hidden: the summary says it, there is no visible field
        assert re.search(rf'<small id="{field}-error" class="field-error">Remove line breaks, tabs and other control characters.', body)
    assert booking_count(db) == 0


def test_nul_in_notes_is_dropped_and_line_breaks_kept(client, db, shop, lesson, day):
    response = client.post(details_url(shop, lesson, at(day, "09:00")), data=form_data(notes="one\x00\r\ntwo\x1b"))
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(db.select(Booking.notes)) == "one\ntwo"
