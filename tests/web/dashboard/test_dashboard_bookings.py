"""Bookings: upcoming/past, filters, cancel in place, detail with history; and the overview."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.domain.booking_state import BookingStatus as S
from app.models import Booking
from app.services import business_service
from tests.web.dashboard.support import HX, at, field_error, flashes, monday, now, text


def row_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="booking-(\d+)">', text(response))]


@pytest.fixture
def week(business, book, db, factory):
    """Three upcoming bookings on two staff members and one past one."""
    second = business_service.add_staff(business, "Ben")
    business_service.set_weekly_hours(second, {0: [(at(monday(), "09:00").time(), at(monday(), "16:00").time())]})
    lesson = business.services[0]
    business_service.save_service(business, lesson, staff_ids=[business.staff[0].id, second.id])
    a = book(business, "10:00")
    b = book(business, "12:00", day=monday() + timedelta(days=1))
    c = book(business, "10:00", staff_id=second.id)
    past = book(business, "15:00")
    # Move one into the past (as if it happened last week).
    db.session.get(Booking, past.id).start_at = now() - timedelta(days=7)
    db.session.get(Booking, past.id).end_at = now() - timedelta(days=7) + timedelta(hours=1)
    db.session.commit()
    return {"a": a, "b": b, "c": c, "past": past, "ben": second}


def test_upcoming_soonest_first_and_past(client, logged_in, week):
    upcoming = client.get("/dashboard/bookings")
    assert upcoming.status_code == 200
    assert row_ids(upcoming) == [week["a"].id, week["c"].id, week["b"].id]
    assert "Upcoming bookings (3)" in text(upcoming)
    past = client.get("/dashboard/bookings?when=past")
    assert row_ids(past) == [week["past"].id]
    assert '<a href="/dashboard/bookings?when=past" aria-current="page">Past</a>' in text(past)


def test_filters(client, logged_in, week):
    ben = week["ben"].id
    assert row_ids(client.get(f"/dashboard/bookings?staff={ben}")) == [week["c"].id]
    day = monday() + timedelta(days=1)
    assert row_ids(client.get(f"/dashboard/bookings?date_from={day}&date_to={day}")) == [week["b"].id]
    client.post(f"/dashboard/bookings/{week['a'].id}/cancel", data={"reason": "Ill"})
    assert row_ids(client.get("/dashboard/bookings?status=cancelled")) == [week["a"].id]
    assert row_ids(client.get("/dashboard/bookings?status=confirmed")) == [week["c"].id, week["b"].id]


def test_filter_fragment(client, logged_in, week):
    response = client.get(f"/dashboard/bookings?staff={week['ben'].id}", headers=HX)
    body = text(response)
    assert "<html" not in body and body.lstrip().startswith('<section id="results"')
    assert row_ids(response) == [week["c"].id]


@pytest.mark.parametrize(
    "query, message",
    [
        ("status=bogus", "Status: Not a valid choice."),
        ("date_from=2027-13-40", "From: Not a valid date value."),
        ("date_from=2030-01-02&date_to=2030-01-01", "To: “To” must be on or after “From”."),
        ("staff=999999", "Staff: Not a valid choice."),
        ("when=later", "Show: Not a valid choice."),
    ],
)
def test_bad_filters_are_422(client, logged_in, week, query, message):
    response = client.get(f"/dashboard/bookings?{query}")
    assert response.status_code == 422
    assert message in text(response).replace("&#34;", '"')
    assert row_ids(response) == []


def test_cancel_in_place(client, logged_in, week, db):
    a = week["a"]
    response = client.post(f"/dashboard/bookings/{a.id}/cancel", data={"reason": "Instructor ill"}, headers=HX)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "bookings-changed"
    body = text(response)
    assert "<html" not in body and row_ids(response) == [a.id]
    assert "Cancelled</span>" in body and "Cancel…" not in body
    db.session.expire_all()
    booking = db.session.get(Booking, a.id)
    assert (booking.status, booking.cancellation_reason, booking.sequence) == (S.CANCELLED, "Instructor ill", 1)


def test_cancelled_row_varies_on_hx_request(client, logged_in, week):
    response = client.post(f"/dashboard/bookings/{week['a'].id}/cancel", data={"reason": "Ill"}, headers=HX)
    assert response.status_code == 200 and row_ids(response) == [week["a"].id]
    assert "HX-Request" in response.headers["Vary"]


def test_cancel_needs_a_reason(client, logged_in, week, db):
    a = week["a"]
    response = client.post(f"/dashboard/bookings/{a.id}/cancel", data={"reason": " "}, headers=HX)
    assert response.status_code == 422
    assert field_error(response, f"cancel-reason-{a.id}") == "A reason is required."
    assert "<details class=\"cancel\" open>" in text(response)
    assert db.session.get(Booking, a.id).status == S.CONFIRMED


def test_cancel_without_javascript(client, logged_in, week, db):
    a = week["a"]
    response = client.post(f"/dashboard/bookings/{a.id}/cancel", data={"reason": "Ill", "next": "/dashboard/bookings?when=upcoming"})
    assert (response.status_code, response.headers["Location"]) == (303, "/dashboard/bookings?when=upcoming")
    assert flashes(client.get("/dashboard/bookings")) == [f"Cancelled {a.client_name}'s booking ({a.reference})."]
    missing = client.post(f"/dashboard/bookings/{week['b'].id}/cancel", data={"reason": ""})
    assert missing.status_code == 422
    assert "<html" in text(missing) and field_error(missing, "cancel-reason") == "A reason is required."


def test_cancelling_twice_is_a_conflict(client, logged_in, week):
    a = week["a"]
    client.post(f"/dashboard/bookings/{a.id}/cancel", data={"reason": "Ill"})
    response = client.post(f"/dashboard/bookings/{a.id}/cancel", data={"reason": "Again"}, headers=HX)
    assert response.status_code == 409
    assert "This booking is cancelled; it cannot be cancelled." in text(response)


def test_detail_page_with_history(client, approval, book, logged_in):
    b = book(approval, "10:00", notes="Bring goggles")
    client.post(f"/dashboard/requests/{b.id}/approve")
    response = client.get(f"/dashboard/bookings/{b.id}")
    assert response.status_code == 200
    body = text(response)
    assert f"<h1>Booking {b.reference}</h1>" in body
    assert "Bring goggles" in body
    history = re.findall(r"<li>\s*<time[^>]*>[^<]*</time>:\s*(.*?)\s*</li>", body, re.S)
    assert [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", h)).strip() for h in history] == [
        "awaiting approval — booked online by the client",
        "awaiting approval → confirmed — approved by Owner 1",
    ]
    assert "by Owner 1" in body or f"by {logged_in.name}" in body


def test_detail_page_reject_without_javascript(client, approval, book, db):
    b = book(approval, "10:00")
    missing = client.post(f"/dashboard/requests/{b.id}/reject", data={"reason": "", "from": "detail"})
    assert missing.status_code == 422
    assert field_error(missing, "reject-reason") == "A reason is required."
    ok = client.post(f"/dashboard/requests/{b.id}/reject", data={"reason": "Full", "from": "detail", "next": f"/dashboard/bookings/{b.id}"})
    assert (ok.status_code, ok.headers["Location"]) == (303, f"/dashboard/bookings/{b.id}")


def test_overview(client, approval, book):
    book(approval, "10:00")
    confirmed = book(approval, "12:00")
    client.post(f"/dashboard/requests/{confirmed.id}/approve")
    body = text(client.get("/dashboard/"))
    assert 'value="http://localhost/book/swim-school-pro"' in body
    assert "<strong>1</strong> request awaiting approval" in body
    upcoming = re.findall(r'<a href="/dashboard/bookings/(\d+)"', body)
    assert upcoming == [str(i) for i in sorted([confirmed.id, confirmed.id - 1])]
