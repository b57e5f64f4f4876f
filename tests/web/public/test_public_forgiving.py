"""The forgiving booking form: every problem reported at once, local phone numbers, the same
client asking twice for the same time getting their booking back, an honest confirmation page
(where it was sent, calendar buttons only once confirmed, a hold never past the appointment),
confirmation links revoked with the manage links, and old or reordered booking links forwarding."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from app.domain.booking_events import BookingEvent
from app.models import Booking, BookingAuditEntry, BusinessSlugHistory, OutboxJob, utcnow
from app.public.routes import hold_until
from app.services import booking_service, business_service
from app.services.errors import ValidationFailed
from tests.conftest import next_weekday
from tests.web.public.support import LONDON, at, confirmation_link, details_url, form_data

HX = {"HX-Request": "true"}
BASE = "/api/booking/public"


def field_errors(html: str) -> dict[str, str]:
    return {m[0]: unescape(m[1]) for m in re.findall(r'<small id="([\w-]+)-error" class="field-error">([^<]*)<', html)}


def summary_links(html: str) -> list[str]:
    summary = html.split('id="error-summary"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'<a href="#(\w+)">', summary)


def input_value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match, name
    value = re.search(r'value="([^"]*)"', match.group(0))
    return unescape(value.group(1)) if value else ""


def bookings(db) -> list[Booking]:
    db.session.expire_all()
    return db.session.scalars(select(Booking).order_by(Booking.id)).all()


@pytest.fixture
def group_class(factory, shop):
    return factory.service(shop, name="Group class", duration_minutes=60, capacity=6, buffer_before_minutes=0, buffer_after_minutes=0)


# ------------------------------------------------------------------ one-pass validation

@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_empty_submit_reports_every_missing_field_at_once(client, db, shop, lesson, day, headers):
    response = client.post(details_url(shop, lesson, at(day, "09:00")), data=form_data(name="", email="", phone=""), headers=headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert ("<html" in html) is (not headers)
    assert field_errors(html) == {
        "name": "Please enter your name.",
        "email": "Please give an e-mail address or a phone number so we can reach you.",
    }
    assert summary_links(html) == ["name", "email"]
    assert bookings(db) == []


def test_a_bad_phone_and_a_missing_name_are_reported_together(client, db, shop, lesson, day):
    html = client.post(details_url(shop, lesson, at(day, "09:00")), data=form_data(name="", email="", phone="12")).get_data(as_text=True)
    assert field_errors(html) == {
        "name": "Please enter your name.",
        "phone": "That phone number does not look right; write it like 07400 123456 or +44 7400 123456.",
    }


# ------------------------------------------------------------------ local phone numbers

@pytest.mark.parametrize(
    ("country", "zone", "business_phone", "typed", "stored"),
    [
        (None, "Europe/London", "+44 20 7946 0000", "020 7946 0999", "+442079460999"),  # the business phone's country
        ("GB", "Europe/London", "", "020 7946 0999", "+442079460999"),
        ("FR", "Europe/London", "+44 20 7946 0000", "01 42 68 53 00", "+33142685300"),  # the setting wins
        (None, "America/New_York", "", "(212) 555-0123", "+12125550123"),  # the time zone's
        ("GB", "Europe/London", "", "+33 1 42 68 53 00", "+33142685300"),  # a country code is read as written
        ("GB", "Europe/London", "", "00 33 1 42 68 53 00", "+33142685300"),  # so is the UK's international prefix
    ],
)
def test_phone_numbers_are_read_as_dialled_in_the_business_country(client, db, shop, lesson, day, country, zone, business_phone, typed, stored):
    shop.country, shop.timezone, shop.phone = country, zone, business_phone
    db.session.commit()
    response = client.post(details_url(shop, lesson, at(day, "10:00", tz=ZoneInfo(zone)), tz=zone), data=form_data(email="", phone=typed))
    assert response.status_code == 303, response.get_data(as_text=True)
    assert [(b.client_email, b.client_phone) for b in bookings(db)] == [(None, stored)]


def test_the_form_shows_a_local_example_and_numbers_back_in_international_form(client, db, shop, lesson, day):
    url = details_url(shop, lesson, at(day, "09:00"))
    page = client.get(url).get_data(as_text=True)
    assert '<small id="phone-hint" class="field-hint">Like 07400 123456 or +44 7400 123456.</small>' in page
    html = client.post(url, data=form_data(name="", phone="020 7946 0999")).get_data(as_text=True)
    assert field_errors(html) == {"name": "Please enter your name."}
    assert input_value(html, "phone") == "+44 20 7946 0999"
    html = client.post(url, data=form_data(name="", phone="020 79")).get_data(as_text=True)
    assert input_value(html, "phone") == "020 79"  # a number that does not parse stays as typed


def test_without_a_country_the_hint_asks_for_the_country_code(client, db, shop, lesson, day):
    shop.country, shop.timezone, shop.phone = None, "UTC", ""
    db.session.commit()
    page = client.get(details_url(shop, lesson, at(day, "09:00"), tz="UTC")).get_data(as_text=True)
    assert '<small id="phone-hint" class="field-hint">With country code, like +44 7911 123456.</small>' in page


def test_the_api_reads_local_numbers_too(client, db, shop, lesson, day):
    body = {"service_id": lesson.id, "start": at(day, "10:00").isoformat(), "client_name": "Ada", "client_phone": "07911 123456"}
    response = client.post(f"{BASE}/{shop.slug}/book/", json=body)
    assert response.status_code == 201, response.json
    assert [b.client_phone for b in bookings(db)] == ["+447911123456"]


# ------------------------------------------------------------------ the same client, the same time

def test_the_same_client_asking_again_for_a_group_class_gets_their_booking(client, db, shop, group_class, day):
    url = details_url(shop, group_class, at(day, "10:00"))
    first = client.post(url, data=form_data(idempotency_key="k1"))
    again = client.post(url, data=form_data(email="ADA@Example.com", notes="again", idempotency_key="k2"))
    [booking] = bookings(db)
    assert confirmation_link(first.headers["Location"]) == confirmation_link(again.headers["Location"])
    assert "already=1" in again.headers["Location"] and "already=1" not in first.headers["Location"]
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "You already have this time</strong> — here is your booking. Nothing new was booked." in page
    assert f'<dd class="reference">{booking.reference}</dd>' in page
    assert "You already have this time" not in client.get(first.headers["Location"]).get_data(as_text=True)


def test_the_same_phone_written_another_way_is_the_same_client(client, db, shop, lesson, day):
    url = details_url(shop, lesson, at(day, "10:00"))
    client.post(url, data=form_data(email="", phone="+44 7911 123456", idempotency_key="k1"))
    again = client.post(url, data=form_data(email="", phone="07911 123456", idempotency_key="k2"), headers=HX)
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and "<html" not in html
    assert "You already have this time" in html and "already=1" in again.headers["HX-Push-Url"]
    assert len(bookings(db)) == 1


def test_a_pending_request_counts_and_a_cancelled_booking_does_not(client, db, shop, lesson, day):
    business_service.update_settings(shop, requires_approval=True)
    url = details_url(shop, lesson, at(day, "10:00"))
    client.post(url, data=form_data(idempotency_key="k1"))
    again = client.post(url, data=form_data(idempotency_key="k2"))
    [request] = bookings(db)
    assert request.status.value == "pending" and "already=1" in again.headers["Location"]

    booking_service.client_cancel(shop, request.id)
    third = client.post(url, data=form_data(idempotency_key="k3"))
    assert third.status_code == 303 and "already=1" not in third.headers["Location"]
    assert [b.status.value for b in bookings(db)] == ["cancelled", "pending"]


def test_another_client_in_the_same_class_books_a_seat_of_their_own(client, db, shop, group_class, day):
    url = details_url(shop, group_class, at(day, "10:00"))
    client.post(url, data=form_data(idempotency_key="k1"))
    other = client.post(url, data=form_data(name="Bob", email="bob@example.com", idempotency_key="k2"))
    assert "already=1" not in other.headers["Location"]
    assert [b.client_email for b in bookings(db)] == ["ada@example.com", "bob@example.com"]


def test_back_to_a_time_this_browser_holds_shows_the_booking_not_taken(client, db, shop, lesson, day):
    url = details_url(shop, lesson, at(day, "10:00"))
    booked = client.post(url, data=form_data())
    back = client.get(url)  # JS off: Back re-asks the details page of a time that is now taken
    assert back.status_code == 303
    assert confirmation_link(back.headers["Location"]) == confirmation_link(booked.headers["Location"])
    assert "already=1" in back.headers["Location"]
    htmx = client.get(url, headers=HX)
    assert htmx.status_code == 200 and "You already have this time" in htmx.get_data(as_text=True)
    # Another browser, which booked nothing, is told the time is taken.
    other = client.application.test_client().get(url)
    assert other.status_code == 409


def test_api_gives_the_existing_booking_with_200(client, db, shop, lesson, day):
    body = {"service_id": lesson.id, "start": at(day, "10:00").isoformat(), "client_name": "Ada", "client_email": "ada@example.com"}
    first = client.post(f"{BASE}/{shop.slug}/book/", json=body, headers={"Idempotency-Key": "a"})
    again = client.post(f"{BASE}/{shop.slug}/book/", json={**body, "client_email": "Ada@example.com"}, headers={"Idempotency-Key": "b"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert "Idempotent-Replayed" not in again.headers
    assert len(bookings(db)) == 1


def test_the_lookup_matches_service_time_contact_and_holding_statuses_only(app, db, shop, lesson, group_class, day, factory):
    start = at(day, "10:00")
    mine = factory.booking(shop, group_class, start, client_email="ada@example.com", client_phone="+447911123456")
    request = booking_service.BookingRequest(
        service_id=group_class.id, start=start, client_name="Ada", client_email=None, client_phone="+447911123456",
        client_timezone="Europe/London",
    )
    assert booking_service._clients_booking_of_slot(shop.id, group_class.id, start, request, utcnow()) == mine
    assert booking_service._clients_booking_of_slot(shop.id, group_class.id, start + timedelta(hours=1), request, utcnow()) is None
    assert booking_service._clients_booking_of_slot(shop.id, lesson.id, start, request, utcnow()) is None  # another service
    other = booking_service.BookingRequest(**{**request.__dict__, "client_phone": "+447911000000", "client_email": "bob@example.com"})
    assert booking_service._clients_booking_of_slot(shop.id, group_class.id, start, other, utcnow()) is None
    result = booking_service.create_booking(shop, request)
    assert (result.booking, result.created, result.already_booked) == (mine, False, True)


# ------------------------------------------------------------------ the confirmation page

def book_page(client, shop, service, start, headers=None, **data):
    response = client.post(details_url(shop, service, start), data=form_data(**data))
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"], client.get(response.headers["Location"], headers=headers or {}).get_data(as_text=True)


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_confirmed_booking_says_where_it_was_sent_and_offers_calendars(client, db, shop, lesson, day, headers):
    _url, html = book_page(client, shop, lesson, at(day, "10:00"), headers=headers)
    assert '<p class="sent-to">' in html and "We e-mailed you at a…@example.com." in html
    assert re.findall(r">(Add to Google Calendar|Add to Outlook|Download \.ics)<", html) == [
        "Add to Google Calendar", "Add to Outlook", "Download .ics",
    ]
    assert "outlook.live.com" in html


def test_a_request_shows_no_calendar_buttons_until_approved(client, db, shop, lesson, day):
    business_service.update_settings(shop, requires_approval=True)
    _url, html = book_page(client, shop, lesson, at(day, "10:00"))
    assert "We e-mailed you at a…@example.com. You'll get a calendar invitation when it is approved." in html
    assert "Add to Google Calendar" not in html and "Download .ics" not in html and "Add to Outlook" not in html


def test_phone_only_and_no_email_sent(client, db, shop, lesson, day):
    _url, html = book_page(client, shop, lesson, at(day, "10:00"), email="", phone="020 7946 0999")
    assert f"No e-mail was sent: you gave a phone number only (+44 … 0999). {shop.name} may call you about it." in html
    url, _html = book_page(client, shop, lesson, at(day, "11:00"), email="bob@example.com", idempotency_key="k2")
    booking = bookings(db)[-1]
    db.session.execute(delete(OutboxJob).where(OutboxJob.booking_id == booking.id))  # e-mails off for it
    db.session.commit()
    html = client.get(url).get_data(as_text=True)
    assert "No confirmation e-mail was sent for this booking. Keep this page's link or the reference." in html
    assert "We e-mailed" not in html


def test_the_hold_shown_is_never_at_or_after_the_appointment(client, db, shop, lesson, factory):
    business_service.update_settings(shop, requires_approval=True, booking_expiry_hours=720, min_advance_booking_hours=0)
    # A Tuesday at least a day ahead: well inside the 720-hour expiry.
    soon = (utcnow() + timedelta(days=1)).astimezone(LONDON).date()
    day = next_weekday(1, weeks_ahead=0) if next_weekday(1, weeks_ahead=0) > soon else next_weekday(1)
    url, html = book_page(client, shop, lesson, at(day, "10:00"))
    [booking] = bookings(db)
    assert booking.expires_at == booking.start_at  # a request cannot hold past its slot
    assert hold_until(booking) is None
    assert "Your time is held for you until the appointment; if it is not approved before it starts, the request lapses." in html
    assert f"{booking.start_at.astimezone(LONDON):%A %-d %B, %H:%M}</strong>" not in html

    business_service.update_settings(shop, booking_expiry_hours=2)
    _url, html = book_page(client, shop, lesson, at(day, "11:00"), email="bob@example.com", idempotency_key="k2")
    second = bookings(db)[-1]
    assert hold_until(second) == second.expires_at < second.start_at
    shown = second.expires_at.astimezone(LONDON)
    assert f"Your time is held for you until <strong>{shown:%A %-d %B, %H:%M}</strong> (Europe/London)" in html


# ------------------------------------------------------------------ confirmation links and revoking

def test_revoking_client_links_revokes_the_confirmation_link_and_is_in_the_history(client, db, shop, lesson, day, owner, login):
    url, html = book_page(client, shop, lesson, at(day, "10:00"))
    assert "Manage booking" in html
    [booking] = bookings(db)
    login()
    assert client.post(f"/dashboard/bookings/{booking.id}/revoke-links").status_code == 303

    gone = client.get(url)
    assert gone.status_code == 410 and "This link no longer works" in gone.get_data(as_text=True)
    reference, token = confirmation_link(url)
    assert client.get(f"/book/{shop.slug}/confirmation/{reference}.ics?token={token}").status_code == 410
    db.session.expire_all()
    [entry] = [e for e in db.session.get(Booking, booking.id).events if e.event == BookingEvent.LINKS_REVOKED]
    assert (entry.actor_user_id, entry.actor_kind.value, entry.from_status, entry.to_status) == (owner.id, "owner", booking.status, booking.status)
    detail = client.get(f"/dashboard/bookings/{booking.id}").get_data(as_text=True)
    assert re.search(r"<strong>client links revoked</strong>\s*<span class=\"history-who\">by Owner \d+</span>", detail)


def test_a_confirmation_link_from_before_shows_the_booking_without_the_manage_link(client, db, shop, lesson, day):
    from itsdangerous import URLSafeSerializer

    _url, _html = book_page(client, shop, lesson, at(day, "10:00"))
    [booking] = bookings(db)
    legacy = URLSafeSerializer(client.application.secret_key, salt="booking-confirmation").dumps(booking.reference)
    page = client.get(f"/book/{shop.slug}/confirmation/{booking.reference}?token={legacy}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'<dd class="reference">{booking.reference}</dd>' in html
    assert "Manage booking" not in html


def test_revoking_from_the_service_writes_one_history_row(app, db, shop, lesson, day, factory):
    booking = factory.booking(shop, lesson, at(day, "10:00"))
    booking_service.revoke_client_links(shop, booking.id)
    db.session.expire_all()
    rows = db.session.scalars(select(BookingAuditEntry).where(BookingAuditEntry.booking_id == booking.id).order_by(BookingAuditEntry.id)).all()
    assert [(r.event, r.actor_kind.value, r.note) for r in rows] == [
        (BookingEvent.BOOKED, "client", "booked online"), (BookingEvent.LINKS_REVOKED, "system", "client links revoked"),
    ]


# ------------------------------------------------------------------ landing and error pages

def test_landing_page_for_visitors_and_dashboard_for_owners(client, db, owner, login):
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.findall(r'<a href="(/login|/signup)"', html)[:2] == ["/login", "/signup"]
    assert "One booking link. Your calendar, kept in order." in html
    login()
    response = client.get("/")
    assert (response.status_code, response.headers["Location"]) == (302, "/dashboard/")


def error_links(html: str) -> list[tuple[str, str]]:
    nav = html.split('class="error-links"', 1)[1].split("</ul>", 1)[0]
    return [(unescape(text), href) for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', nav)]


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_error_pages_link_somewhere_useful(client, db, shop, headers):
    html = client.get(f"/book/{shop.slug}/99999", headers=headers).get_data(as_text=True)
    assert error_links(html) == [(f"Book with {shop.name}", f"/book/{shop.slug}"), ("Flowkey home", "/")]
    html = client.get("/book/no-such-business", headers=headers).get_data(as_text=True)
    assert error_links(html) == [("Flowkey home", "/")]
    assert "Go back" not in html


def test_error_page_for_an_owner_links_the_dashboard(client, db, owner, login):
    login()
    html = client.get("/no/such/page").get_data(as_text=True)
    assert error_links(html) == [("Go to your dashboard", "/dashboard/")]


# ------------------------------------------------------------------ redirects and slugs

def test_slug_then_book_forwards_to_the_booking_link(client, db, shop):
    response = client.get(f"/{shop.slug}/book?tz=Europe/Paris")
    assert (response.status_code, response.headers["Location"]) == (301, f"/book/{shop.slug}?tz=Europe/Paris")
    assert client.get("/no-such-business/book").status_code == 404


def test_changing_the_slug_forwards_every_old_link(client, db, shop, lesson, day, owner, login):
    old = shop.slug
    login()
    page = client.get("/dashboard/settings").get_data(as_text=True)
    assert input_value(page, "slug") == old
    response = client.post("/dashboard/settings/slug", data={"slug": "  Swim-Lessons "})
    assert (response.status_code, response.headers["Location"]) == (303, "/dashboard/settings")
    db.session.expire_all()
    assert shop.slug == "swim-lessons"

    for path, query in [("", ""), (f"/{lesson.id}", "?date=2030-01-01&tz=Europe/London")]:
        moved = client.get(f"/book/{old}{path}{query}")
        assert (moved.status_code, moved.headers["Location"]) == (301, f"/book/swim-lessons{path}{query}")
    post = client.post(f"/book/{old}/{lesson.id}/details?start=2030-01-01T09:00:00Z", data=form_data())
    assert (post.status_code, post.headers["Location"]) == (308, f"/book/swim-lessons/{lesson.id}/details?start=2030-01-01T09:00:00Z")
    old_order = client.get(f"/{old}/book")
    assert (old_order.status_code, old_order.headers["Location"]) == (301, "/book/swim-lessons")
    assert client.get("/book/swim-lessons").status_code == 200


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("", "Please enter a link name."),
        ("-swim", "Use 1 to 100 lower-case letters, digits and hyphens (not first or last)."),
        ("swim school", "Use 1 to 100 lower-case letters, digits and hyphens (not first or last)."),
        ("dashboard", "That word is reserved; choose another."),
    ],
)
def test_a_bad_slug_is_422_with_a_message(client, db, shop, owner, login, slug, message):
    login()
    response = client.post("/dashboard/settings/slug", data={"slug": slug})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True)) == {"slug": message}


def test_old_slugs_cannot_be_taken_by_another_business_but_come_back_to_their_own(app, db, factory):
    first = factory.owner(business_name="First").business
    second = factory.owner(business_name="Second").business
    business_service.change_slug(first, "renamed")
    taken = "Another business has (or had) that link; choose another."
    for slug in ("first", "renamed"):
        with pytest.raises(ValidationFailed) as caught:
            business_service.change_slug(second, slug)
        assert caught.value.fields == {"slug": taken}
    business_service.change_slug(first, "first")  # back to its old name
    assert (first.slug, business_service.current_slug("renamed"), business_service.current_slug("first")) == ("first", "first", None)
    assert sorted(db.session.scalars(select(BusinessSlugHistory.slug))) == ["renamed"]
    assert business_service.unique_slug("Renamed") == "renamed-2"  # sign-up does not take it either


def test_country_setting_is_saved_and_kept_when_not_posted(client, db, shop, owner, login):
    login()
    data = {"name": shop.name, "description": "", "address": "", "phone": "", "email": "owner@example.com",
            "timezone": "Europe/London", "currency": "GBP"}
    assert client.post("/dashboard/settings/profile", data={**data, "country": "FR"}).status_code == 303
    db.session.expire_all()
    assert shop.country == "FR"
    assert client.post("/dashboard/settings/profile", data=data).status_code == 303
    db.session.expire_all()
    assert shop.country == "FR"
    bad = client.post("/dashboard/settings/profile", data={**data, "country": "XX"})
    assert bad.status_code == 422 and field_errors(bad.get_data(as_text=True)) == {"country": "Choose a country from the list."}
    assert client.post("/dashboard/settings/profile", data={**data, "country": ""}).status_code == 303
    db.session.expire_all()
    assert shop.country is None
