"""The dashboard for everyday use: the compact header and its menus, the requests queue (soonest
to expire first, Reject reveals its reason), bookings search and the client's history, the
reschedule confirmation with a message, hours as time inputs (add, copy to weekdays, ranges,
nothing in the past), the Jobs page's pages, the brand colour control, where a service happens,
and a staff member who sees only their own rows. Pages in full and as HTMX fragments."""
from __future__ import annotations

import html
import re
from datetime import time, timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from app.domain.booking_state import BookingStatus as S
from app.models import Booking, DateOverride, Membership, Role, Service, StaffMember, User, WeeklyHours
from app.models.business import LocationKind, PhoneCaller
from app.models.outbox import JobStatus, OutboxJob
from app.services import business_service
from tests.web.dashboard.support import HX, at, field_error, flashes, monday, now, text


def ids(pattern: str, response) -> list[int]:
    return [int(i) for i in re.findall(pattern, text(response))]


def request_ids(response):
    return ids(r'<article class="request-row" id="request-(\d+)"', response)


def booking_ids(response):
    return ids(r'<tr id="booking-(\d+)">', response)


# ------------------------------------------------------------------ header and menus


def test_header_is_one_bar_with_a_menu_and_an_advanced_dropdown(client, logged_in):
    body = text(client.get("/dashboard/"))
    header = re.search(r'<header class="dash-header">.*?</header>', body, re.S).group(0)
    assert '<span class="dash-business" title="Swim School Pro">Swim School Pro</span>' in header
    menu = re.search(r'<details class="dash-menu" id="dash-menu">.*?</details>\s*</div>\s*</header>', header, re.S).group(0)
    assert '<summary class="dash-menu-button" aria-label="Menu">' in menu
    nav = re.search(r'<nav class="dash-nav" aria-label="Dashboard">.*</nav>', menu, re.S).group(0)
    main_links = re.findall(r'<li>\s*<a href="([^"]+)"', nav.split('<li class="advanced-item">')[0])
    assert main_links == ["/dashboard/", "/dashboard/requests", "/dashboard/bookings", "/dashboard/services", "/dashboard/hours",
                          "/dashboard/team", "/dashboard/settings"]
    advanced = re.search(r'<details class="dropdown advanced-menu">(.*?)</details>', nav, re.S).group(1)
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', advanced) == [
        ("/dashboard/jobs", "Jobs"), ("/dashboard/sent-email", "Sent e-mail"), ("/dashboard/api-keys", "API keys"),
    ]
    assert 'hx-get="/dashboard/jobs/failed-count"' in advanced  # the failed-jobs count shows on "Advanced"
    assert 'action="/logout"' in nav
    # Every id on the page once (the CSRF field has none).
    all_ids = re.findall(r'\sid="([^"]+)"', text(client.get("/dashboard/bookings")))
    assert sorted(all_ids) == sorted(set(all_ids))


def test_advanced_page_marks_the_advanced_menu_current(client, logged_in):
    body = text(client.get("/dashboard/jobs"))
    assert '<summary class="current">Advanced' in body
    assert '<a href="/dashboard/jobs" aria-current="page">Jobs</a>' in body
    assert '<summary class="current">' not in text(client.get("/dashboard/bookings"))


# ------------------------------------------------------------------ requests


def test_requests_soonest_to_expire_first_and_reject_reveals_its_reason(client, approval, book, db):
    business_service.update_settings(approval, booking_expiry_hours=48)
    far = book(approval, "10:00", client_name="Far Away")
    business_service.update_settings(approval, booking_expiry_hours=3)
    soon = book(approval, "12:00", client_name="Soon Expiring")
    response = client.get("/dashboard/requests")
    assert response.status_code == 200
    assert request_ids(response) == [soon.id, far.id]
    body = text(response)
    assert "Soonest to expire first." in body
    row = re.search(rf'<article class="request-row" id="request-{soon.id}".*?</article>', body, re.S).group(0)
    assert re.search(r'<dt>Expires</dt><dd class="expires-soon">in [23] h( \d+ min)?</dd>', row)
    # Approve first, on its own; Reject is a button that opens the reason field (closed at first).
    assert row.index('class="approve-form"') < row.index('<details class="reject">')
    assert '<summary role="button" class="secondary outline">Reject…<span class="visually-hidden"> Soon Expiring</span></summary>' in row
    assert '<button type="submit" class="danger">Reject request</button>' in row
    fragment = client.get("/dashboard/requests", headers=HX)
    assert "<html" not in text(fragment) and request_ids(fragment) == [soon.id, far.id]


def test_a_missing_reason_opens_the_reject_panel(client, approval, book):
    b = book(approval, "10:00")
    response = client.post(f"/dashboard/requests/{b.id}/reject", data={"reason": ""}, headers=HX)
    assert response.status_code == 422
    assert '<details class="reject" open>' in text(response)
    assert field_error(response, f"reason-{b.id}") == "A reason is required."
    page = client.post(f"/dashboard/requests/{b.id}/reject", data={"reason": ""})
    assert page.status_code == 422 and '<details class="reject" open>' in text(page) and "<html" in text(page)


def test_detail_page_reject_is_revealed_too(client, approval, book):
    b = book(approval, "10:00")
    body = text(client.get(f"/dashboard/bookings/{b.id}"))
    assert '<details class="reject">' in body and '<button type="submit" class="approve-button">Approve</button>' in body
    response = client.post(f"/dashboard/requests/{b.id}/reject", data={"reason": "", "from": "detail"})
    assert response.status_code == 422
    assert '<details class="reject" open>' in text(response) and field_error(response, "reject-reason") == "A reason is required."


def test_deciding_a_request_clears_its_notification_from_the_bell(client, approval, book, db, factory):
    from app.models.notification import BookingNotification

    b = book(approval, "10:00")
    other = book(approval, "12:00")
    assert re.search(r'<span class="badge">2<span class="visually-hidden"> unread', text(client.get("/dashboard/notifications/count", headers=HX)))
    client.post(f"/dashboard/requests/{b.id}/approve", headers=HX)
    count = text(client.get("/dashboard/notifications/count", headers=HX))
    badge = text(client.get("/dashboard/requests/count", headers=HX))
    assert '<span class="badge">1<span class="visually-hidden"> unread</span></span>' in count
    assert '<span class="badge">1<span class="visually-hidden"> awaiting approval</span></span>' in badge
    db.session.expire_all()
    unread = db.session.scalars(db.select(BookingNotification.booking_id).where(BookingNotification.read_at.is_(None))).all()
    assert unread == [other.id]


# ------------------------------------------------------------------ bookings: search and history


@pytest.fixture
def clients(logged_in, book):
    business = logged_in.business
    ada = book(business, "09:00", client_name="Ada Lovelace", client_email="ada@example.com", client_phone="+447700900123")
    grace = book(business, "11:00", client_name="Grace Hopper", client_email="grace@navy.example")
    again = book(business, "13:00", day=monday() + timedelta(days=1), client_name="Ada Lovelace", client_email="ada@example.com")
    return {"ada": ada, "grace": grace, "again": again}


@pytest.mark.parametrize(
    "q, expected",
    [("lovelace", ["ada", "again"]), ("navy", ["grace"]), ("07700900123", ["ada"]), ("nobody", [])],
)
def test_search_bookings_page_and_fragment(client, clients, q, expected):
    page = client.get(f"/dashboard/bookings?q={q}")
    assert page.status_code == 200 and "<html" in text(page)
    assert booking_ids(page) == [clients[k].id for k in expected]
    assert f'id="q" maxlength="100" name="q" placeholder="Name, e-mail or phone" type="search" value="{q}"' in text(page)
    if expected:
        assert f"Upcoming bookings matching “{q}” ({len(expected)})" in html.unescape(text(page))
    else:
        assert "No bookings match." in text(page)
    fragment = client.get(f"/dashboard/bookings?q={q}", headers=HX)
    assert text(fragment).lstrip().startswith('<section id="results"')
    assert booking_ids(fragment) == booking_ids(page)


def test_search_too_long_is_a_422_with_the_message(client, clients):
    response = client.get("/dashboard/bookings?q=" + "x" * 101)
    assert response.status_code == 422
    assert "Search clients: Search for at most 100 characters." in text(response)


def test_booking_rows_are_cards_on_a_phone(client, clients):
    body = text(client.get("/dashboard/bookings"))
    assert '<table class="striped bookings-table card-table">' in body
    row = re.search(rf'<tr id="booking-{clients["ada"].id}">.*?</tr>', body, re.S).group(0)
    assert re.findall(r'data-label="([^"]+)"', row) == ["When", "Client", "Service", "Staff", "Status"]
    assert 'class="nowrap"' in row  # the date stays on one line


def test_booking_page_shows_the_clients_other_bookings(client, clients, logged_in):
    body = text(client.get(f"/dashboard/bookings/{clients['ada'].id}"))
    section = re.search(r'<section aria-labelledby="client-bookings-heading">.*?</section>', body, re.S).group(0)
    assert "Ada Lovelace’s other bookings" in section
    assert re.findall(r'href="/dashboard/bookings/(\d+)"', section) == [str(clients["again"].id)]
    assert "This is their first booking with you." in text(client.get(f"/dashboard/bookings/{clients['grace'].id}"))


# ------------------------------------------------------------------ reschedule: confirm, then move with a message


def confirm_links(response) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'<a role="button" class="secondary outline small" href="([^"]+)"', text(response))]


def test_a_free_time_asks_for_confirmation_before_moving(client, logged_in, book, db):
    booking = book(logged_in.business, "10:00")
    picker = client.get(f"/dashboard/bookings/{booking.id}/reschedule")
    link = confirm_links(picker)[0]
    assert urlparse(link).path == f"/dashboard/bookings/{booking.id}/reschedule/confirm"
    start = parse_qs(urlparse(link).query)["start"][0]
    assert start == at(monday(), "09:00").isoformat()
    page = client.get(link)
    body = text(page)
    assert page.status_code == 200 and "<html" in body
    assert "Move this booking?" in body and "Move and e-mail the client" in body
    assert f'<input type="hidden" name="start" value="{start}">' in body
    assert '<textarea aria-describedby="message-hint" id="message" maxlength="2000" name="message" rows="3">' in body
    fragment = client.get(link, headers=HX)
    assert text(fragment).lstrip().startswith('<section id="reschedule" aria-labelledby="confirm-heading">')
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).start_at == at(monday(), "10:00")  # nothing moved yet


@pytest.mark.parametrize("query", ["start=bad&staff_id=1", "staff_id=1", "start=2030-01-01T10:00:00%2B00:00&staff_id=999999"])
def test_confirmation_with_a_bad_time_is_422(client, logged_in, book, query):
    booking = book(logged_in.business, "10:00")
    response = client.get(f"/dashboard/bookings/{booking.id}/reschedule/confirm?{query}")
    assert response.status_code == 422 and "Pick one of the free times." in text(response)


def test_moving_with_a_message_emails_it_to_the_client(client, logged_in, book, db):
    from app.services import emails

    booking = book(logged_in.business, "10:00")
    new = at(monday(), "14:00")
    response = client.post(
        f"/dashboard/bookings/{booking.id}/reschedule",
        data={"start": new.isoformat(), "staff_id": booking.staff_id, "message": "  The pool is closed in the morning.  "},
        headers=HX,
    )
    assert response.status_code == 200 and response.headers["HX-Push-Url"] == f"/dashboard/bookings/{booking.id}"
    assert "<html" not in text(response) and "Moved Client" in text(response)
    db.session.expire_all()
    moved = db.session.get(Booking, booking.id)
    assert moved.start_at == new and moved.events[-1].data["message"] == "The pool is closed in the morning."
    jobs = db.session.scalars(db.select(OutboxJob).where(OutboxJob.booking_id == booking.id, OutboxJob.idempotency_key.like("%:rescheduled:%"))).all()
    assert len(jobs) == 1
    email = emails.build_booking_email(moved, "rescheduled")
    assert "A message from Swim School Pro:\nThe pool is closed in the morning." in email.text


def test_a_message_too_long_is_refused(client, logged_in, book, db):
    booking = book(logged_in.business, "10:00")
    data = {"start": at(monday(), "14:00").isoformat(), "staff_id": booking.staff_id, "message": "x" * 2001}
    response = client.post(f"/dashboard/bookings/{booking.id}/reschedule", data=data)
    assert response.status_code == 422 and "Keep the message under 2000 characters." in text(response)
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).start_at == at(monday(), "10:00")


def test_a_request_is_moved_without_asking_for_a_message(client, approval, book):
    booking = book(approval, "10:00")
    link = confirm_links(client.get(f"/dashboard/bookings/{booking.id}/reschedule"))[0]
    body = text(client.get(link))
    assert 'name="message"' not in body and "the client hears the new time when you approve it" in body
    assert ">Move the booking</button>" in body


# ------------------------------------------------------------------ hours


def hours_of(db, staff_id):
    db.session.expire_all()
    return [(h.weekday, h.start_time, h.end_time) for h in db.session.get(StaffMember, staff_id).weekly_hours]


def test_hours_are_time_inputs_with_a_spare_pair_and_unique_ids(client, logged_in):
    body = text(client.get("/dashboard/hours"))
    monday_row = re.search(r'<fieldset class="weekday-row" id="day-0">.*?</fieldset>', body, re.S).group(0)
    assert re.findall(r'<input id="(day-0-(?:start|end)-\d)" name="day_0_(?:start|end)" type="time" value="([^"]*)"', monday_row) == [
        ("day-0-start-1", "09:00"), ("day-0-end-1", "17:00"), ("day-0-start-2", ""), ("day-0-end-2", ""),
    ]
    assert '<li class="interval" data-interval data-spare>' in monday_row
    assert '<button type="submit" name="copy_from" value="0"' in monday_row
    saturday = re.search(r'<fieldset class="weekday-row" id="day-5">.*?</fieldset>', body, re.S).group(0)
    assert '<p class="day-off" data-day-off>Not working</p>' in saturday
    all_ids = re.findall(r'\sid="([^"]+)"', body)
    assert sorted(all_ids) == sorted(set(all_ids))
    assert body.count('name="csrf_token"') == 4  # log-out, weekly hours, add an override, add a staff member
    assert 'id="csrf_token"' not in body


def pairs(**days) -> dict:
    """Form data: ``pairs(day_0=[("09:00", "12:00"), ...])``; days not given are left empty."""
    data = {}
    for i in range(7):
        intervals = days.get(f"day_{i}", [])
        data[f"day_{i}_start"] = [a for a, _ in intervals] + [""]
        data[f"day_{i}_end"] = [b for _, b in intervals] + [""]
    return data


def test_save_pairs_with_an_added_interval(client, logged_in, db):
    staff = logged_in.business.staff[0]
    data = pairs(day_0=[("09:00", "12:00"), ("13:00", "17:00")], day_5=[("10:00:00", "14:00")])
    response = client.post(f"/dashboard/hours/{staff.id}", data=data)
    assert response.status_code == 303
    assert hours_of(db, staff.id) == [(0, time(9), time(12)), (0, time(13), time(17)), (5, time(10), time(14))]
    assert flashes(client.get(response.headers["Location"])) == ["Weekly hours saved for Owner 1."]


def test_copy_a_day_to_all_weekdays(client, logged_in, db):
    staff = logged_in.business.staff[0]
    data = {**pairs(day_1=[("10:00", "12:00"), ("13:00", "18:00")], day_6=[("10:00", "11:00")]), "copy_from": "1"}
    response = client.post(f"/dashboard/hours/{staff.id}", data=data)
    assert response.status_code == 303
    expected = [(d, time(10), time(12)) for d in range(5)] + [(d, time(13), time(18)) for d in range(5)]
    assert hours_of(db, staff.id) == sorted(expected) + [(6, time(10), time(11))]
    assert flashes(client.get(response.headers["Location"])) == ["Tuesday’s hours copied to Monday to Friday and saved for Owner 1."]


@pytest.mark.parametrize(
    "intervals, message",
    [
        ([("09:00", "")], "Enter both a start and an end time (or clear both)."),
        ([("17:00", "09:00")], "09:00 must be after 17:00."),
        ([("09:00", "13:00"), ("12:00", "17:00")], "09:00-13:00 overlaps 12:00-17:00."),
        ([("25:00", "26:00")], "“25:00” is not a time of day (00:00 to 23:59)."),
    ],
)
def test_bad_pairs_are_422_with_the_days_message(client, logged_in, db, intervals, message):
    staff = logged_in.business.staff[0]
    before = hours_of(db, staff.id)
    response = client.post(f"/dashboard/hours/{staff.id}", data=pairs(day_2=intervals))
    assert response.status_code == 422
    assert field_error(response, "day_2") == message
    assert '<fieldset class="weekday-row" id="day-2" aria-describedby="day_2-error">' in text(response)
    shown = re.findall(r'name="day_2_start" type="time" value="([^"]*)"', text(response))
    assert shown == [a for a, _ in intervals] + [""]  # what was typed comes back
    assert hours_of(db, staff.id) == before


def test_range_override_and_the_past_refused(client, logged_in, db):
    staff = logged_in.business.staff[0]
    url = f"/dashboard/hours/{staff.id}/overrides"
    first = business_service.staff_today(staff) + timedelta(days=20)
    response = client.post(url, data={"date": first.isoformat(), "date_to": (first + timedelta(days=2)).isoformat(), "unavailable": "y"})
    assert response.status_code == 303
    rows = db.session.scalars(db.select(DateOverride).order_by(DateOverride.date)).all()
    assert [(o.date, o.intervals) for o in rows] == [(first + timedelta(days=n), []) for n in range(3)]
    page = client.get(response.headers["Location"])
    assert flashes(page) == [f"Hours for {first:%a %d %b %Y} to {first + timedelta(days=2):%a %d %b %Y} (3 days) saved."]
    one = client.post(url, data={"date": (first + timedelta(days=5)).isoformat(), "start": "10:00", "end": "14:00"})
    assert one.status_code == 303
    assert db.session.scalar(db.select(DateOverride.intervals).where(DateOverride.date == first + timedelta(days=5))) == [["10:00", "14:00"]]

    yesterday = business_service.staff_today(staff) - timedelta(days=1)
    past = client.post(url, data={"date": yesterday.isoformat(), "unavailable": "y"})
    assert past.status_code == 422 and field_error(past, "date") == "Pick today or a later date."
    backwards = client.post(url, data={"date": first.isoformat(), "date_to": (first - timedelta(days=1)).isoformat(), "unavailable": "y"})
    assert backwards.status_code == 422 and field_error(backwards, "date_to") == "Pick the same date as “From” or a later one."
    no_hours = client.post(url, data={"date": first.isoformat(), "start": "", "end": ""})
    assert no_hours.status_code == 422 and field_error(no_hours, "start") == "Enter the hours, or tick Unavailable."
    assert db.session.scalar(db.select(db.func.count(DateOverride.id))) == 4


# ------------------------------------------------------------------ jobs


def test_jobs_page_is_paginated_and_resend_shows_only_with_failures(client, logged_in, db, monkeypatch):
    from app.dashboard import views_jobs
    from app.services import outbox
    from app.services.locks import unit_of_work

    monkeypatch.setattr(views_jobs, "PER_PAGE", 2)
    with unit_of_work():
        for i in range(5):
            outbox.record("cleanup_outbox", {}, key=f"test:{i}", business_id=logged_in.business.id)
    first = client.get("/dashboard/jobs")
    body = text(first)
    assert len(re.findall(r'<tr id="job-\d+"', body)) == 2
    assert "Resend all failed" not in body and "No failed jobs" in body
    assert '<a href="/dashboard/jobs?page=2"' in body and "rel=\"prev\"" not in body
    last = client.get("/dashboard/jobs?page=3", headers=HX)
    assert text(last).lstrip().startswith('<section id="jobs"')
    assert len(re.findall(r'<tr id="job-\d+"', text(last))) == 1
    assert 'href="/dashboard/jobs?page=2"' in text(last) and 'rel="next"' not in text(last)
    job = db.session.scalars(db.select(OutboxJob)).first()
    job.status = JobStatus.FAILED
    db.session.commit()
    assert "Resend all failed (1)" in text(client.get("/dashboard/jobs"))


def test_superseded_reminders_show_as_not_needed(client, logged_in, book, db):
    booking = book(logged_in.business, "10:00")
    data = {"start": at(monday(), "14:00").isoformat(), "staff_id": booking.staff_id}
    client.post(f"/dashboard/bookings/{booking.id}/reschedule", data=data)
    body = text(client.get("/dashboard/jobs"))
    old = db.session.scalars(db.select(OutboxJob.id).where(OutboxJob.idempotency_key.like("%:reminder:s0:%"))).all()
    for job_id in old:
        row = re.search(rf'<tr id="job-{job_id}".*?</tr>', body, re.S).group(0)
        assert '<span class="status status-expired job-not-needed">not needed</span><br><small>Booking rescheduled</small>' in row


# ------------------------------------------------------------------ settings: one colour control, the slug


def test_brand_colour_is_one_control_with_the_default_as_a_choice(client, logged_in, db):
    body = text(client.get("/dashboard/settings"))
    assert 'list="brand-swatches" name="brand_color" type="color" value="#1f5fbf"' in body
    assert '<option value="#1f5fbf">Flowkey default</option>' in body
    assert 'name="default_colors"' not in body and "Now: Flowkey’s default colours." in body
    assert 'id="csrf_token"' not in body
    profile = {"name": "Swim School Pro", "timezone": "Europe/London", "currency": "GBP", "language": "en"}
    client.post("/dashboard/settings/profile", data={**profile, "brand_color": "#0A7EA4"})
    db.session.expire_all()
    assert logged_in.business.brand_color == "#0a7ea4"
    assert "Now: your colour <code>#0a7ea4</code>." in text(client.get("/dashboard/settings"))
    client.post("/dashboard/settings/profile", data={**profile, "brand_color": "#1F5FBF"})  # picking the default
    db.session.expire_all()
    assert logged_in.business.brand_color is None


def test_changing_the_slug_redirects_the_old_link(client, logged_in):
    old = logged_in.business.slug
    response = client.post("/dashboard/settings/slug", data={"slug": "Swim-Club"})
    assert response.status_code == 303
    assert flashes(client.get("/dashboard/settings")) == [f"Your booking link is now /book/swim-club. The old link /book/{old} forwards to it."]
    forwarded = client.get(f"/book/{old}")
    assert (forwarded.status_code, forwarded.headers["Location"].endswith("/book/swim-club")) == (301, True)
    assert client.get("/book/swim-club").status_code == 200


# ------------------------------------------------------------------ services: where


SERVICE = {"name": "Call", "description": "", "duration_minutes": "30", "price": "0", "capacity": "1", "is_bookable": "y", "is_active": "y"}


def test_service_form_saves_the_detail_of_the_chosen_kind(client, logged_in, db):
    staff_id = logged_in.business.staff[0].id
    data = {**SERVICE, "staff_ids": [str(staff_id)], "location_kind": "phone", "phone_caller": "client",
            "location_phone": "020 7946 0999", "location_address": "ignored", "video_provider": "zoom", "location_note": "ignored"}
    assert client.post("/dashboard/services/new", data=data).status_code == 303
    service = db.session.scalar(db.select(Service).where(Service.name == "Call"))
    assert (service.location_kind, service.phone_caller, service.location_detail, service.video_provider) == (
        LocationKind.PHONE, PhoneCaller.CLIENT, "020 7946 0999", None,
    )
    form = text(client.get(f"/dashboard/services/{service.id}"))
    assert 'id="location_phone" maxlength="500" name="location_phone" placeholder="" type="tel" value="020 7946 0999"' in form
    assert re.search(r'id="location_address" maxlength="500" name="location_address"[^>]*value=""', form)
    assert "Off: retired everywhere" in form and "On: clients find it on your booking page." in form
    listing = text(client.get("/dashboard/services"))
    assert '<td data-label="Where">By phone: the client calls 020 7946 0999</td>' in listing
    public = text(client.get(f"/book/{logged_in.business.slug}?lang=en"))
    assert '<p class="service-where">By phone: you call us on 020 7946 0999</p>' in public


def test_service_form_refuses_a_bad_provider(client, logged_in, db):
    data = {**SERVICE, "staff_ids": [str(logged_in.business.staff[0].id)], "location_kind": "video", "video_provider": "skype"}
    response = client.post("/dashboard/services/new", data=data)
    assert response.status_code == 422 and field_error(response, "video_provider") == "Not a valid choice."


@pytest.mark.parametrize(
    "fields, shown",
    [
        ({"location_kind": LocationKind.IN_PERSON}, None),  # the header shows the business's address
        ({"location_kind": LocationKind.IN_PERSON, "location_detail": "Lido, Park Road"}, "In person at Lido, Park Road"),
        ({"location_kind": LocationKind.PHONE}, "By phone: we call you on the number you give"),
        ({"location_kind": LocationKind.VIDEO, "video_provider": "google_meet"}, "By video on Google Meet"),
        ({"location_kind": LocationKind.VIDEO, "video_provider": "other", "location_detail": "Link by e-mail"}, "By video · Link by e-mail"),
    ],
)
def test_public_page_shows_where(client, logged_in, factory, fields, shown):
    business_service.update_profile(logged_in.business, address="1 High Street")
    factory.service(logged_in.business, name="Lesson", **fields)
    body = text(client.get(f"/book/{logged_in.business.slug}?lang=en"))
    if shown is None:
        assert 'class="service-where"' not in body and "1 High Street" in body
    else:
        assert f'<p class="service-where">{shown}</p>' in body


def test_services_api_reads_and_writes_the_location(client, logged_in, db):
    from app.services import api_keys

    _key, token = api_keys.create_key(logged_in.business, logged_in, "Test")
    headers = {"Authorization": f"Bearer {token}"}
    body = {"name": "Video", "duration_minutes": 30, "location_kind": "video", "video_provider": "teams", "location_detail": "Link the day before"}
    created = client.post("/api/services/", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    got = created.get_json()
    assert {k: got[k] for k in ("location_kind", "location_detail", "phone_caller", "video_provider")} == {
        "location_kind": "video", "location_detail": "Link the day before", "phone_caller": None, "video_provider": "teams",
    }
    updated = client.put(f"/api/services/{got['id']}", json={"location_kind": "phone", "phone_caller": "client"}, headers=headers).get_json()
    assert (updated["phone_caller"], updated["video_provider"]) == ("client", None)
    bad = client.put(f"/api/services/{got['id']}", json={"location_kind": "video", "video_provider": "skype"}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"] == {"video_provider": "Choose one of the video services listed."}


# ------------------------------------------------------------------ a staff member sees only their own rows


@pytest.fixture
def team(client, approval, book, db, lesson):
    """Two staff members with logins (Sam, Kim) who offer the lesson, a request for each and one
    for the owner; logged in as Sam."""
    members = {}
    for name in ("Sam", "Kim"):
        user = User(email=f"{name.lower()}@example.com", name=name)
        user.set_password("correct horse battery")
        db.session.add(user)
        db.session.add(Membership(user=user, business=approval, role=Role.STAFF))
        member = StaffMember(business=approval, user=user, display_name=name)
        db.session.add(member)
        db.session.commit()
        business_service.set_weekly_hours(member, {d: [(time(9), time(17))] for d in range(5)})
        members[name] = member
    business_service.save_service(approval, lesson, staff_ids=[s.id for s in approval.staff])
    rows = {
        "owner": book(approval, "10:00", staff_id=approval.staff[0].id),
        "sam": book(approval, "10:00", staff_id=members["Sam"].id),
        "kim": book(approval, "10:00", staff_id=members["Kim"].id),
    }
    client.post("/logout")
    assert client.post("/login", data={"email": "sam@example.com", "password": "correct horse battery"}).status_code == 302
    return {"members": members, "bookings": rows}


def test_staff_see_only_their_own_requests_and_bookings(client, team):
    mine = team["bookings"]["sam"].id
    assert request_ids(client.get("/dashboard/requests")) == [mine]
    assert request_ids(client.get("/dashboard/requests", headers=HX)) == [mine]
    bookings = client.get("/dashboard/bookings")
    assert booking_ids(bookings) == [mine]
    assert 'name="staff"' not in text(bookings)  # no staff filter to choose from
    other = team["members"]["Kim"].id
    assert booking_ids(client.get(f"/dashboard/bookings?staff={other}")) == [mine]  # the filter cannot widen it


@pytest.mark.parametrize("who", ["kim", "owner"])
def test_staff_get_404_for_someone_elses_booking(client, team, db, who):
    booking = team["bookings"][who]
    b = booking.id
    assert client.get(f"/dashboard/bookings/{b}").status_code == 404
    assert client.post(f"/dashboard/requests/{b}/approve").status_code == 404
    assert client.post(f"/dashboard/requests/{b}/reject", data={"reason": "x"}).status_code == 404
    assert client.post(f"/dashboard/bookings/{b}/cancel", data={"reason": "x"}).status_code == 404
    assert client.get(f"/dashboard/bookings/{b}/reschedule").status_code == 404
    data = {"start": at(monday(), "14:00").isoformat(), "staff_id": booking.staff_id}
    assert client.post(f"/dashboard/bookings/{b}/reschedule", data=data).status_code == 404
    db.session.expire_all()
    assert db.session.get(Booking, b).status == S.PENDING


def test_staff_act_on_their_own_booking(client, team, db):
    mine = team["bookings"]["sam"]
    assert client.get(f"/dashboard/bookings/{mine.id}").status_code == 200
    assert client.post(f"/dashboard/requests/{mine.id}/approve", headers=HX).status_code == 200
    db.session.expire_all()
    assert db.session.get(Booking, mine.id).status == S.CONFIRMED


def test_staff_reschedule_only_into_their_own_time(client, team):
    mine = team["bookings"]["sam"]
    picker = text(client.get(f"/dashboard/bookings/{mine.id}/reschedule"))
    assert "With Kim" not in picker and "With Owner" not in picker
    kim = team["members"]["Kim"].id
    data = {"start": at(monday(), "14:00").isoformat(), "staff_id": kim}
    response = client.post(f"/dashboard/bookings/{mine.id}/reschedule", data=data)
    assert response.status_code == 422 and "Pick one of your own free times." in text(response)


def test_staff_hours_are_their_own_only(client, team, db):
    sam, kim = team["members"]["Sam"], team["members"]["Kim"]
    page = text(client.get("/dashboard/hours"))
    assert "Weekly hours of Sam" in page and '<select id="staff"' not in page and "Add a staff member" not in page
    assert client.get(f"/dashboard/hours?staff={sam.id}").status_code == 200
    assert client.get(f"/dashboard/hours?staff={kim.id}").status_code == 404
    assert client.post(f"/dashboard/hours/{kim.id}", data=pairs(day_0=[("10:00", "11:00")])).status_code == 404
    today = business_service.staff_today(kim)
    assert client.post(f"/dashboard/hours/{kim.id}/overrides", data={"date": (today + timedelta(days=3)).isoformat(), "unavailable": "y"}).status_code == 404
    assert client.post(f"/dashboard/hours/{sam.id}", data=pairs(day_0=[("10:00", "11:00")])).status_code == 303
    assert hours_of(db, sam.id) == [(0, time(10), time(11))]
    assert client.post("/dashboard/staff", data={"display_name": "Sneaky"}).status_code == 403
