"""The requests queue: approve and reject in place (HTMX) or with plain forms."""
from __future__ import annotations

import re

import pytest

from app.domain.booking_state import BookingStatus as S
from app.models import Booking, BookingAuditEntry, Client
from app.services import business_service
from tests.web.dashboard.support import HX, at, field_error, flashes, monday, text


def row_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'<article class="request-row" id="request-(\d+)"', text(response))]


def status_of(db, booking_id):
    db.session.expire_all()
    return db.session.get(Booking, booking_id).status


def test_queue_lists_pending_requests_soonest_to_expire_first(client, approval, book, db):
    first = book(approval, "10:00", client_name="Ada Lovelace", client_phone="+447700900123", notes="First lesson please")
    second = book(approval, "12:00", client_name="Grace Hopper")
    book(approval, "14:00")  # then rejected: not in the queue
    client.post(f"/dashboard/requests/{db.session.scalars(db.select(Booking.id).order_by(Booking.id.desc())).first()}/reject", data={"reason": "Full"})

    response = client.get("/dashboard/requests")
    assert response.status_code == 200
    body = text(response)
    assert "<html" in body
    assert row_ids(response) == [first.id, second.id]  # same expiry period: the older request expires first
    assert "Ada Lovelace · Private lesson" in body
    assert "+447700900123" in body and first.client_email in body
    assert "First lesson please" in body
    assert f"Mon {monday():%d %b %Y}, 10:00–11:00" in body
    assert re.search(r"<dt>Expires</dt><dd>in 2[34] h( \d+ min)?</dd>", body)


def test_queue_fragment_for_htmx(client, approval, book):
    b = book(approval, "10:00")
    response = client.get("/dashboard/requests", headers=HX)
    assert response.status_code == 200
    assert "<html" not in text(response)
    assert row_ids(response) == [b.id]
    assert "HX-Request" in response.headers["Vary"]


def test_empty_queue(client, approval):
    assert "No requests waiting." in text(client.get("/dashboard/requests"))


def test_approve_in_place(client, approval, book, db, logged_in):
    b = book(approval, "10:00")
    response = client.post(f"/dashboard/requests/{b.id}/approve", headers=HX)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "bookings-changed"
    body = text(response)
    assert "<html" not in body
    assert row_ids(response) == [b.id]
    assert "Approved: Client" in body and "Confirmed</span>" in body
    assert "Approve<" not in body  # no more buttons on a decided request
    db.session.expire_all()
    booking = db.session.get(Booking, b.id)
    assert (booking.status, booking.approved_by_id) == (S.CONFIRMED, logged_in.id)


def test_approve_without_javascript_redirects_with_a_flash(client, approval, book, db):
    b = book(approval, "10:00", client_name="Ada")
    response = client.post(f"/dashboard/requests/{b.id}/approve")
    assert (response.status_code, response.headers["Location"]) == (303, "/dashboard/requests")
    page = client.get("/dashboard/requests")
    assert flashes(page) == ["Approved: Ada's booking is confirmed."]
    assert row_ids(page) == []
    assert status_of(db, b.id) == S.CONFIRMED


def test_reject_in_place_with_reason(client, approval, book, db):
    b = book(approval, "10:00")
    response = client.post(f"/dashboard/requests/{b.id}/reject", data={"reason": "Pool closed"}, headers=HX)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "bookings-changed"
    assert "Rejected</span>" in text(response) and "Pool closed" in text(response)
    db.session.expire_all()
    booking = db.session.get(Booking, b.id)
    assert (booking.status, booking.rejection_reason) == (S.REJECTED, "Pool closed")


@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_needs_a_reason(client, approval, book, db, reason):
    b = book(approval, "10:00")
    response = client.post(f"/dashboard/requests/{b.id}/reject", data={"reason": reason}, headers=HX)
    assert response.status_code == 422
    assert field_error(response, f"reason-{b.id}") == "A reason is required."
    assert f'aria-describedby="reason-{b.id}-error"' in text(response)
    assert status_of(db, b.id) == S.PENDING


def test_reject_needs_a_reason_without_javascript(client, approval, book, db):
    b = book(approval, "10:00")
    response = client.post(f"/dashboard/requests/{b.id}/reject", data={"reason": ""})
    assert response.status_code == 422
    assert "<html" in text(response)
    assert field_error(response, f"reason-{b.id}") == "A reason is required."
    assert status_of(db, b.id) == S.PENDING


def _walk_in(db, business, service, start, end):
    """A confirmed booking entered straight into the calendar (not through availability)."""
    other = Client(business_id=business.id, name="Walk-in", email="walkin@example.com")
    db.session.add(other)
    db.session.flush()
    db.session.add(
        Booking(
            reference="FK-WALKIN", business_id=business.id, service_id=service.id, staff_id=business.staff[0].id,
            client_id=other.id, start_at=start, end_at=end, client_name="Walk-in", client_email="walkin@example.com",
            client_timezone="Europe/London", status=S.CONFIRMED,
        )
    )
    db.session.commit()


def test_approval_conflict_is_a_409_message_in_the_row(client, approval, book, lesson, db):
    b = book(approval, "10:00")
    _walk_in(db, approval, lesson, at(monday(), "10:30"), at(monday(), "11:30"))
    response = client.post(f"/dashboard/requests/{b.id}/approve", headers=HX)
    assert response.status_code == 409
    assert row_ids(response) == [b.id]
    assert '<p class="row-error" role="alert">Another booking has taken this time since the request was made.</p>' in text(response)
    assert status_of(db, b.id) == S.PENDING
    confirmed = db.session.scalars(db.select(Booking.reference).where(Booking.status == S.CONFIRMED)).all()
    assert confirmed == ["FK-WALKIN"]


def test_approval_conflict_without_javascript(client, approval, book, lesson, db):
    b = book(approval, "10:00")
    _walk_in(db, approval, lesson, at(monday(), "09:30"), at(monday(), "10:30"))
    response = client.post(f"/dashboard/requests/{b.id}/approve")
    assert response.status_code == 409
    assert "<html" in text(response)
    assert "Another booking has taken this time since the request was made." in text(response)
    assert status_of(db, b.id) == S.PENDING


def test_two_overlapping_pending_requests_first_approval_wins(client, approval, book, lesson, db):
    business_service.save_service(approval, lesson, capacity=2)
    a = book(approval, "10:00")
    b = book(approval, "10:00")
    business_service.save_service(approval, lesson, capacity=1)  # the class shrank to one seat
    assert client.post(f"/dashboard/requests/{a.id}/approve", headers=HX).status_code == 200
    second = client.post(f"/dashboard/requests/{b.id}/approve", headers=HX)
    assert second.status_code == 409
    assert second.headers["HX-Trigger"] == "bookings-changed"
    assert "Another booking has taken this time since the request was made." in text(second)
    assert "Approve<" in text(second)  # still pending: the owner can reject it
    assert (status_of(db, a.id), status_of(db, b.id)) == (S.CONFIRMED, S.PENDING)


def test_approving_a_decided_booking_is_a_conflict(client, approval, book, db):
    b = book(approval, "10:00")
    client.post(f"/dashboard/requests/{b.id}/reject", data={"reason": "No"})
    response = client.post(f"/dashboard/requests/{b.id}/approve", headers=HX)
    assert response.status_code == 409
    assert "This booking is rejected; only requests awaiting approval can be approved." in text(response)


def test_count_badge(client, approval, book):
    assert text(client.get("/dashboard/requests/count", headers=HX)).strip() == ""
    book(approval, "10:00")
    book(approval, "12:00")
    badge = text(client.get("/dashboard/requests/count", headers=HX)).strip()
    assert badge == '<span class="badge">2<span class="visually-hidden"> awaiting approval</span></span>'
    page = text(client.get("/dashboard/"))
    assert 'hx-get="/dashboard/requests/count" hx-trigger="load, bookings-changed from:body"' in page
    assert badge in page


def test_badge_and_row_fragments_vary_on_hx_request(client, approval, book):
    a, b = book(approval, "10:00"), book(approval, "12:00")
    badge = client.get("/dashboard/requests/count", headers=HX)
    approved = client.post(f"/dashboard/requests/{a.id}/approve", headers=HX)
    no_reason = client.post(f"/dashboard/requests/{b.id}/reject", data={"reason": ""}, headers=HX)
    assert [r.status_code for r in (badge, approved, no_reason)] == [200, 200, 422]
    assert all("HX-Request" in r.headers["Vary"] for r in (badge, approved, no_reason))
    assert badge.headers["Cache-Control"] == "no-store"
    assert approved.headers["HX-Trigger"] == no_reason.headers["HX-Trigger"] == "bookings-changed"


def test_history_records_the_decision(client, approval, book, db, logged_in):
    b = book(approval, "10:00")
    client.post(f"/dashboard/requests/{b.id}/reject", data={"reason": "Pool closed"})
    events = db.session.scalars(db.select(BookingAuditEntry).where(BookingAuditEntry.booking_id == b.id).order_by(BookingAuditEntry.id)).all()
    assert [(e.from_status, e.to_status, e.actor_user_id, e.note) for e in events] == [
        (None, S.PENDING, None, "booked online"),
        (S.PENDING, S.REJECTED, logged_in.id, "Pool closed"),
    ]
