"""Rescheduling from the dashboard: the detail page links to a day picker with the day's free
times; each time links to a confirmation step whose form POSTs the move. Without JavaScript: redirect + flash; with HTMX: the booking's
page swapped in, its URL pushed, ``HX-Trigger: bookings-changed``. 409 for a taken time or a
booking that cannot move, 422 for a bad date, 404 for another business's booking."""
from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from markupsafe import escape

from app.domain.booking_state import BookingStatus as S
from app.models import Booking, BookingAuditEntry
from app.services import booking_service, business_service
from tests.web.dashboard.support import HX, LONDON, at, field_error, flashes, monday, text


def slot_links(response) -> list[str]:
    """The free times' links to the confirmation step, in page order."""
    return [html.unescape(h) for h in re.findall(r'href="([^"]*/reschedule/confirm\?[^"]+)"', text(response))]


def slot_starts(response) -> list[str]:
    """The ``start`` of each free time's link, in page order."""
    return [parse_qs(urlparse(link).query)["start"][0] for link in slot_links(response)]


def reload(db, booking_id) -> Booking:
    db.session.rollback()
    return db.session.get(Booking, booking_id, populate_existing=True)


@pytest.fixture
def confirmed(logged_in, book):
    """A confirmed 10:00 lesson on monday() (the owner's business needs no approval)."""
    return book(logged_in.business, "10:00")


def test_detail_page_links_to_reschedule(client, confirmed):
    body = text(client.get(f"/dashboard/bookings/{confirmed.id}"))
    assert f'<a role="button" class="secondary outline" href="/dashboard/bookings/{confirmed.id}/reschedule">Reschedule</a>' in body


def test_no_reschedule_link_for_a_cancelled_booking(client, confirmed, logged_in):
    booking_service.cancel(logged_in.business, confirmed.id, logged_in, "Ill")
    assert "/reschedule" not in text(client.get(f"/dashboard/bookings/{confirmed.id}"))


def test_page_defaults_to_the_bookings_day_and_lists_its_free_times(client, confirmed, book, logged_in):
    book(logged_in.business, "14:00")
    response = client.get(f"/dashboard/bookings/{confirmed.id}/reschedule")
    body = text(response)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert "<h1>Reschedule booking " + confirmed.reference + "</h1>" in body
    day = monday()
    assert f'name="date" type="date" value="{day.isoformat()}"' in body
    # Its own 10:00 and the taken 14:00 are not offered.
    walls = ["09:00", "11:00", "12:00", "13:00", "15:00", "16:00"]
    assert slot_starts(response) == [at(day, w).isoformat() for w in walls]
    assert body.count(f'hx-get="/dashboard/bookings/{confirmed.id}/reschedule/confirm?') == len(walls)
    assert f'<h2 id="times-heading" class="h-small">Free times on Monday {day.day} {day.strftime("%B %Y")} (Europe/London)</h2>' in body


def test_another_day_and_its_fragment(client, confirmed):
    tuesday = monday() + timedelta(days=1)
    url = f"/dashboard/bookings/{confirmed.id}/reschedule?date={tuesday.isoformat()}"
    page = client.get(url)
    assert slot_starts(page) == [at(tuesday, f"{h:02d}:00").isoformat() for h in range(9, 17)]
    fragment = client.get(url, headers=HX)
    body = text(fragment)
    assert fragment.status_code == 200
    assert "<html" not in body and body.lstrip().startswith('<section id="reschedule"')
    assert slot_starts(fragment) == slot_starts(page)


@pytest.mark.parametrize(
    "value,message",
    [
        ("not-a-date", "Enter a date like 2027-06-07."),
        ("2020-01-01", "Pick today or a later date."),
        ("2999-01-01", "Bookings can be moved up to 30 days ahead."),
    ],
)
def test_bad_date_is_422_with_the_message_on_the_field(client, confirmed, value, message):
    response = client.get(f"/dashboard/bookings/{confirmed.id}/reschedule?date={value}")
    assert response.status_code == 422
    assert field_error(response, "date") == message
    assert 'aria-invalid="true"' in text(response) and 'aria-describedby="date-error"' in text(response)
    assert slot_starts(response) == []
    assert client.get(f"/dashboard/bookings/{confirmed.id}/reschedule?date={value}", headers=HX).status_code == 422


def test_post_moves_the_booking_redirects_and_flashes(client, confirmed, db, logged_in):
    new = at(monday() + timedelta(days=1), "14:00")
    response = client.post(
        f"/dashboard/bookings/{confirmed.id}/reschedule", data={"start": new.isoformat(), "staff_id": confirmed.staff_id}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/dashboard/bookings/{confirmed.id}"
    after = reload(db, confirmed.id)
    assert (after.status, after.start_at, after.end_at, after.sequence, after.reference) == (
        S.CONFIRMED, new, new + timedelta(hours=1), 1, confirmed.reference
    )
    event = db.session.query(BookingAuditEntry).filter_by(booking_id=confirmed.id).order_by(BookingAuditEntry.id.desc()).first()
    assert (event.note, event.actor_user_id) == ("rescheduled", logged_in.id)
    page = client.get(response.headers["Location"])
    assert flashes(page) == [f"Moved {confirmed.client_name}'s booking ({confirmed.reference}) to {_london(new)}."]


def _london(instant) -> str:
    """How the flash names a time: the business's zone (Europe/London)."""
    return instant.astimezone(LONDON).strftime("%a %d %b %Y, %H:%M")


def test_post_with_htmx_swaps_the_booking_page_and_triggers_bookings_changed(client, confirmed, db):
    new = at(monday(), "15:00")
    response = client.post(
        f"/dashboard/bookings/{confirmed.id}/reschedule", data={"start": new.isoformat(), "staff_id": confirmed.staff_id}, headers=HX
    )
    body = text(response)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "bookings-changed"
    assert response.headers["HX-Push-Url"] == f"/dashboard/bookings/{confirmed.id}"
    assert "<html" not in body and "<h1>Booking " + confirmed.reference + "</h1>" in body
    message = f"Moved {confirmed.client_name}'s booking ({confirmed.reference}) to {_london(new)}."
    assert f'<p class="row-message" role="status">{escape(message)}</p>' in body
    assert reload(db, confirmed.id).start_at == new


def test_taken_time_is_409_with_the_message_and_fresh_times(client, confirmed, book, logged_in, db):
    page = client.get(f"/dashboard/bookings/{confirmed.id}/reschedule")
    taken = at(monday(), "13:00")
    assert taken.isoformat() in slot_starts(page)
    book(logged_in.business, "13:00")  # someone books it meanwhile
    for headers in ({}, HX):
        response = client.post(
            f"/dashboard/bookings/{confirmed.id}/reschedule",
            data={"start": taken.isoformat(), "staff_id": confirmed.staff_id}, headers=headers,
        )
        body = text(response)
        assert response.status_code == 409
        assert '<p class="row-error" role="alert">That time is not free. Please pick another.</p>' in body
        assert "Nearest free times" in body
        assert taken.isoformat() not in slot_starts(response)
        assert ("<html" in body) == (headers == {})
    assert (reload(db, confirmed.id).start_at, reload(db, confirmed.id).sequence) == (at(monday(), "10:00"), 0)


def test_a_cancelled_booking_cannot_move(client, confirmed, logged_in, db):
    booking_service.cancel(logged_in.business, confirmed.id, logged_in, "Ill")
    page = client.get(f"/dashboard/bookings/{confirmed.id}/reschedule")
    assert page.status_code == 409
    assert "only requests and confirmed bookings can be rescheduled" in text(page)
    assert slot_starts(page) == []
    response = client.post(
        f"/dashboard/bookings/{confirmed.id}/reschedule",
        data={"start": at(monday(), "12:00").isoformat(), "staff_id": confirmed.staff_id},
    )
    assert response.status_code == 409
    assert "This booking is cancelled; only requests and confirmed bookings can be rescheduled." in text(response)


@pytest.mark.parametrize("data", [{}, {"start": "noon", "staff_id": "1"}, {"start": "2027-06-07T10:00:00", "staff_id": "1"},
                                  {"start": "2027-06-07T10:00:00+00:00", "staff_id": "x"}])
def test_bad_post_is_422(client, confirmed, data, db):
    response = client.post(f"/dashboard/bookings/{confirmed.id}/reschedule", data=data)
    assert response.status_code == 422
    assert '<p class="row-error" role="alert">Pick one of the free times.</p>' in text(response)
    assert reload(db, confirmed.id).sequence == 0


def test_past_time_is_422(client, confirmed, db):
    response = client.post(
        f"/dashboard/bookings/{confirmed.id}/reschedule", data={"start": "2020-01-06T10:00:00+00:00", "staff_id": confirmed.staff_id}
    )
    assert response.status_code == 422
    assert "That time has already passed. Pick a time in the future." in text(response)


def test_pending_request_can_be_rescheduled_too(client, approval, book, db):
    request = book(approval, "10:00")
    assert request.status == S.PENDING
    new = at(monday(), "11:00")
    response = client.post(f"/dashboard/bookings/{request.id}/reschedule", data={"start": new.isoformat(), "staff_id": request.staff_id})
    assert response.status_code == 303
    after = reload(db, request.id)
    assert (after.status, after.start_at, after.sequence) == (S.PENDING, new, 1)


def test_move_to_another_staff_member_from_the_page(client, confirmed, logged_in, db):
    business = logged_in.business
    ben = business_service.add_staff(business, "Ben")
    business_service.set_weekly_hours(ben, {0: [(at(monday(), "09:00").time(), at(monday(), "11:00").time())]})
    lesson = business.services[0]
    business_service.save_service(business, lesson, staff_ids=[business.staff[0].id, ben.id])
    page = client.get(f"/dashboard/bookings/{confirmed.id}/reschedule")
    body = text(page)
    assert '<h3 class="h-small">With Ben</h3>' in body
    # Ben's 10:00 is free (the booking is with the owner), offered as a button naming him.
    assert any(parse_qs(urlparse(link).query)["staff_id"] == [str(ben.id)] for link in slot_links(page))
    assert "with Ben</span>" in body
    response = client.post(
        f"/dashboard/bookings/{confirmed.id}/reschedule", data={"start": at(monday(), "10:00").isoformat(), "staff_id": ben.id}
    )
    assert response.status_code == 303
    assert (reload(db, confirmed.id).staff_id, reload(db, confirmed.id).start_at) == (ben.id, at(monday(), "10:00"))


def test_another_business_booking_is_404(client, logged_in, factory):
    other = factory.owner(email="other@example.com", business_name="Other")
    service = factory.service(other.business, name="Other lesson")
    theirs = factory.booking(other.business, service, at(monday(), "10:00"))
    assert client.get(f"/dashboard/bookings/{theirs.id}/reschedule").status_code == 404
    response = client.post(f"/dashboard/bookings/{theirs.id}/reschedule", data={"start": at(monday(), "12:00").isoformat(), "staff_id": 1})
    assert response.status_code == 404


class TestWithCsrf:
    """With CSRF on (as in production), the slot buttons carry a token that works."""

    @pytest.fixture
    def config_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_slot_button_posts_with_its_token(self, client, owner, book, db):
        login_page = text(client.get("/login"))
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', login_page).group(1)
        credentials = {"email": "owner@example.com", "password": "correct horse battery", "csrf_token": token}
        assert client.post("/login", data=credentials).status_code == 302
        booking = book(owner.business, "10:00")
        page = text(client.get(f"/dashboard/bookings/{booking.id}/reschedule"))
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        new = at(monday(), "12:00")
        data = {"start": new.isoformat(), "staff_id": booking.staff_id}
        assert client.post(f"/dashboard/bookings/{booking.id}/reschedule", data=data).status_code == 400
        assert reload(db, booking.id).sequence == 0
        response = client.post(f"/dashboard/bookings/{booking.id}/reschedule", data={**data, "csrf_token": token})
        assert response.status_code == 303
        assert reload(db, booking.id).start_at == new


@pytest.mark.parametrize("start", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_out_of_range_times_are_422_not_500(client, confirmed, start):
    response = client.post(f"/dashboard/bookings/{confirmed.id}/reschedule", data={"start": start, "staff_id": confirmed.staff_id})
    assert response.status_code == 422
