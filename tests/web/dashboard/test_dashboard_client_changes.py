"""The owner's side of client self-service: the four settings (labels, per-field errors, an older
form that does not post them), the booking page's history saying who changed what and when, the
client's manage link on it, and "Revoke client links"."""
from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from app.services import booking_service, client_self_service
from tests.web.dashboard.support import at, field_error, flashes, monday, text

VALID = {
    "requires_approval": "y",
    "buffer_time_minutes": "0",
    "booking_expiry_hours": "24",
    "max_advance_booking_days": "30",
    "min_advance_booking_hours": "2",
    "reminder_offsets_minutes": "24h",
    "clients_can_reschedule": "y",
    "client_reschedule_notice_hours": "24",
    "clients_can_cancel": "y",
    "client_cancel_notice_hours": "6",
}


def client_rules(db):
    db.session.expire_all()
    from app.models import BookingSettings

    s = db.session.scalar(db.select(BookingSettings))
    return (s.clients_can_reschedule, s.client_reschedule_notice_hours, s.clients_can_cancel, s.client_cancel_notice_hours)


def test_settings_page_lists_the_client_rules(client, logged_in):
    body = text(client.get("/dashboard/settings"))
    assert "<legend>Changes by clients</legend>" in body
    for name, label in [
        ("clients_can_reschedule", "Clients can reschedule online"),
        ("client_reschedule_notice_hours", "Online rescheduling closes (hours before the start)"),
        ("clients_can_cancel", "Clients can cancel online"),
        ("client_cancel_notice_hours", "Online cancelling closes (hours before the start)"),
    ]:
        assert label in body
        assert f'id="{name}"' in body
    assert re.search(r'id="client_reschedule_notice_hours"[^>]*value="12"', body)
    assert re.search(r'<input[^>]*checked[^>]*id="clients_can_cancel"|<input[^>]*id="clients_can_cancel"[^>]*checked', body)


def test_saving_the_client_rules(client, logged_in, db):
    assert client_rules(db) == (True, 12, True, 12)
    response = client.post("/dashboard/settings", data=VALID)
    assert response.status_code == 303
    assert client_rules(db) == (True, 24, True, 6)
    client.post("/dashboard/settings", data={**VALID, "clients_can_reschedule": None, "client_cancel_notice_hours": "0"})
    assert client_rules(db) == (False, 24, True, 0)


def test_an_older_form_without_them_keeps_them(client, logged_in, db):
    client.post("/dashboard/settings", data={**VALID, "clients_can_cancel": None, "client_cancel_notice_hours": "48"})
    older = {k: v for k, v in VALID.items() if not k.startswith("client")}
    assert client.post("/dashboard/settings", data=older).status_code == 303
    assert client_rules(db) == (True, 24, False, 48)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("client_reschedule_notice_hours", "-1", "Enter a whole number from 0 to 720."),
        ("client_reschedule_notice_hours", "721", "Enter a whole number from 0 to 720."),
        ("client_reschedule_notice_hours", "", "Enter a whole number from 0 to 720."),
        ("client_cancel_notice_hours", "two", "Not a valid integer value. Enter a whole number from 0 to 720."),
        ("client_cancel_notice_hours", "1.5", "Not a valid integer value. Enter a whole number from 0 to 720."),
    ],
)
def test_client_rules_are_validated_per_field(client, logged_in, db, field, value, message):
    response = client.post("/dashboard/settings", data={**VALID, field: value})
    assert response.status_code == 422
    assert field_error(response, field) == message
    other = "client_cancel_notice_hours" if field == "client_reschedule_notice_hours" else "client_reschedule_notice_hours"
    assert field_error(response, other) is None
    assert f'id="{field}"' in text(response) and 'aria-invalid="true"' in text(response)
    assert client_rules(db) == (True, 12, True, 12)


def history(response) -> list[str]:
    items = re.findall(r"<ol class=\"history\">(.*?)</ol>", text(response), re.S)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", li)).strip() for li in re.findall(r"<li>(.*?)</li>", items, re.S)]


def test_history_says_who_changed_what_and_when(client, approval, book, db, logged_in):
    b = book(approval, "10:00")
    client.post(f"/dashboard/requests/{b.id}/approve")
    booking_service.client_reschedule(approval, b.id, at(monday(), "14:00"))
    booking_service.client_cancel(approval, b.id, "Ill")
    rows = history(client.get(f"/dashboard/bookings/{b.id}"))
    when = r"\w{3} \d{2} \w{3} \d{4}, \d{2}:\d{2}"
    london = ZoneInfo("Europe/London")
    moved = f"{at(monday(), '10:00').astimezone(london):%a %d %b %Y, %H:%M} → {at(monday(), '14:00').astimezone(london):%a %d %b %Y, %H:%M}"
    expected = [
        "awaiting approval — booked online by the client",
        "awaiting approval → confirmed — approved by Owner 1",
        f"rescheduled ({moved}) by the client",
        "confirmed → cancelled — Ill by the client",
    ]
    assert [re.sub(rf"^{when}: ", "", r) for r in rows] == expected
    assert all(re.match(rf"^{when}: ", r) for r in rows)


def test_expiry_is_shown_as_automatic(client, approval, book, db, logged_in):
    b = book(approval, "10:00")
    booking_service.expire_pending(now=b.expires_at + timedelta(seconds=1))
    rows = history(client.get(f"/dashboard/bookings/{b.id}"))
    assert rows[-1].endswith("awaiting approval → expired — not approved in time by Flowkey (automatic)")


def test_manage_link_and_revoking_it(client, approval, book, db, logged_in):
    b = book(approval, "10:00")
    page = text(client.get(f"/dashboard/bookings/{b.id}"))
    link = client_self_service.manage_url(b)
    assert f'<input id="manage-url" type="text" readonly value="{link}">' in page
    assert "Revoke client links" in page
    assert client.get(client_self_service.manage_path(b)).status_code == 200

    response = client.post(f"/dashboard/bookings/{b.id}/revoke-links")
    assert (response.status_code, response.headers["Location"]) == (303, f"/dashboard/bookings/{b.id}")
    after = client.get(response.headers["Location"])
    assert flashes(after) == [
        f"The client's links to {b.reference} no longer work. E-mails from now on carry a new one; you can also send them the link below."
    ]
    assert client.get(link.replace("http://localhost", "")).status_code == 410
    db.session.expire_all()
    new = client_self_service.manage_url(db.session.get(type(b), b.id))
    assert new != link and f'value="{new}"' in text(after)
    assert client.get(new.replace("http://localhost", "")).status_code == 200


def test_no_manage_link_once_the_booking_is_over(client, approval, book, logged_in):
    b = book(approval, "10:00")
    client.post(f"/dashboard/bookings/{b.id}/cancel", data={"reason": "Closed"})
    page = text(client.get(f"/dashboard/bookings/{b.id}"))
    assert "manage-url" not in page and "Revoke client links" not in page


def test_revoking_another_business_booking_is_404(client, factory, logged_in, db):
    other = factory.owner(email="other@example.com", business_name="Other")
    lesson = factory.service(other.business, name="Theirs")
    theirs = factory.booking(other.business, lesson, at(monday(), "10:00"))
    secret = theirs.manage_secret
    assert client.post(f"/dashboard/bookings/{theirs.id}/revoke-links").status_code == 404
    db.session.expire_all()
    assert db.session.get(type(theirs), theirs.id).manage_secret == secret
