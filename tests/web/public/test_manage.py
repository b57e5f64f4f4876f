"""The client's manage pages (``/book/<slug>/manage/<token>``): full pages and HTMX fragments for
the booking, the reschedule picker, its confirm step and cancelling; the policy stated before
the client tries and enforced after; bad, foreign, revoked and expired links; CSRF and the
shared rate limit on the POSTs; the link on the confirmation page."""
from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.domain.booking_state import BookingStatus as S
from app.models import ActorKind, Booking, utcnow
from app.services import booking_service, business_service, client_self_service
from tests.web.public.support import at, form_data, iso_z

HX = {"HX-Request": "true"}


def text(response) -> str:
    return response.get_data(as_text=True)


def visible(response) -> str:
    """The page's text without tags, spaces collapsed."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", text(response), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).replace(" .", ".").replace(" ,", ",").strip()


def step(response) -> str:
    """The visible text of the step box only (what HTMX swaps)."""
    body = text(response)
    if "<html" in body:
        body = body[body.index('<div id="booking-step">'):body.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).replace(" .", ".").replace(" ,", ",").strip()


def reload(db, booking_id) -> Booking:
    db.session.expire_all()
    return db.session.get(Booking, booking_id)


@pytest.fixture
def book(factory, shop, lesson, day):
    """``book(wall="10:00", **fields)``: a booking of the lesson on ``day`` (confirmed unless the shop asks for approval)."""

    def _book(wall: str = "10:00", **fields):
        fields.setdefault("client_name", "Ada Lovelace")
        fields.setdefault("client_email", "ada@example.com")
        fields.setdefault("client_timezone", "America/New_York")
        return factory.booking(shop, lesson, at(day, wall), **fields)

    return _book


def path(booking, suffix: str = "") -> str:
    return client_self_service.manage_path(booking) + suffix


# ------------------------------------------------------------------ the manage page


def test_manage_page_shows_the_booking_and_states_the_policy(client, shop, book, day):
    b = book()
    response = client.get(path(b))
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    page = visible(response)
    deadline = (at(day, "10:00") - timedelta(hours=12)).astimezone(ZoneInfo("America/New_York"))
    start = at(day, "10:00").astimezone(ZoneInfo("America/New_York"))
    assert (
        f"Your booking Status: confirmed Reference {b.reference} Service Private lesson With Owner 1 "
        f"When {start:%A} {start.day} {start:%B %Y}, {start:%H:%M} – {(start + timedelta(hours=1)):%H:%M} (America/New York) "
        "Where In person at 1 Pool Lane, London E1 6AN "
        "Changes You can reschedule or cancel online until 12 hours before your appointment. "
        f"That is, until {deadline:%A} {deadline.day} {deadline:%B}, {deadline:%H:%M} (America/New York). "
        "Pick a new time Cancel booking"
    ) in page
    body = text(response)
    token = client_self_service.manage_token(b)
    assert f'href="/book/{shop.slug}/manage/{token}/reschedule?tz=America/New_York"' in body
    assert f'href="/book/{shop.slug}/manage/{token}/cancel?tz=America/New_York"' in body
    assert "<title>Manage booking " + b.reference + " · Swim School Pro</title>" in body


def test_manage_page_as_an_htmx_fragment(client, book):
    b = book()
    response = client.get(path(b), headers=HX)
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body and "<header" not in body
    assert body.lstrip().startswith('<section aria-labelledby="step-title" class="step" data-step="manage">')
    assert "You can reschedule or cancel online until 12 hours before your appointment." in step(response)


def test_times_shown_in_another_zone_on_request(client, book, day):
    b = book()
    response = client.get(path(b, "?tz=Asia/Tokyo"))
    start = at(day, "10:00").astimezone(ZoneInfo("Asia/Tokyo"))
    assert f"{start:%H:%M} – {(start + timedelta(hours=1)):%H:%M} (Asia/Tokyo)" in visible(response)
    # A zone we do not know falls back to the client's own.
    assert "(America/New York)" in visible(client.get(path(b, "?tz=Not/AZone")))


def test_separate_limits_and_switched_off_changes_are_stated(client, shop, book):
    business_service.update_settings(shop, client_reschedule_notice_hours=0, clients_can_cancel=False)
    b = book()
    page = step(client.get(path(b)))
    assert "You can reschedule online until your appointment starts." in page
    assert (
        "This booking cannot be cancelled online. Pick a new time For any other change: Please call Swim School Pro on "
        f"+44 20 7946 0000 or e-mail owner@example.com, quoting your reference {b.reference}."
    ) in page
    assert "Cancel booking" not in page and "Pick a new time" in page


def test_inside_the_window_the_page_says_whom_to_call(client, shop, book, db):
    business_service.update_settings(shop, client_reschedule_notice_hours=720, client_cancel_notice_hours=720)
    b = book()
    response = client.get(path(b))
    page = step(response)
    assert (
        "Changes Rescheduling and cancelling online closed 720 hours before your appointment. "
        "It is too late to change this booking online. Please call Swim School Pro on +44 20 7946 0000 or e-mail "
        f"owner@example.com, quoting your reference {b.reference}."
    ) in page
    assert 'href="tel:+442079460000"' in text(response) and 'href="mailto:owner@example.com"' in text(response)
    assert "Pick a new time" not in page and "Cancel booking" not in page
    # Trying anyway: refused with the same advice, nothing changed.
    for attempt in (client.get(path(b, "/reschedule")), client.post(path(b, "/cancel"), data={"reason": ""}),
                    client.post(path(b, f"/reschedule/confirm?start={iso_z(b.start_at + timedelta(hours=2))}"))):
        assert attempt.status_code == 409
        assert "It is too late to change this booking online: it can be" in step(attempt)
        assert "Please call Swim School Pro on" in step(attempt)
    assert reload(db, b.id).status == S.CONFIRMED


def test_a_request_can_be_withdrawn_even_inside_the_window(client, shop, book, db):
    business_service.update_settings(
        shop, requires_approval=True, booking_expiry_hours=720, client_reschedule_notice_hours=720, clients_can_cancel=False,
    )
    b = book()
    page = step(client.get(path(b)))
    assert "Your request Status: awaiting approval" in page
    assert "You can withdraw your request at any time." in page
    assert "Withdraw request" in page and "Pick a new time" not in page
    form = client.get(path(b, "/cancel"))
    assert "Withdraw your request?" in step(form)
    done = client.post(path(b, "/cancel"), data={"reason": "Found another time"})
    assert done.status_code == 303
    after = reload(db, b.id)
    assert (after.status, after.cancellation_reason, after.events[-1].actor_kind) == (S.CANCELLED, "Found another time", ActorKind.CLIENT)
    page = client.get(done.headers["Location"])
    assert "Your request is withdrawn. Swim School Pro has been told." in visible(page)
    assert "This booking is cancelled. Nothing more to do here." in step(page)


# ------------------------------------------------------------------ links that do not work


def test_bad_and_foreign_links_are_404(client, shop, book, factory):
    b = book()
    token = client_self_service.manage_token(b)
    other = factory.owner(email="other@example.com", business_name="Other Shop")
    theirs = factory.booking(other.business, factory.service(other.business, name="Other lesson"), b.start_at, client_email="x@example.com")
    for url in (
        f"/book/{shop.slug}/manage/{token[:-3]}abc",  # tampered signature
        f"/book/{shop.slug}/manage/nonsense",
        f"/book/{shop.slug}/manage/{client_self_service.manage_token(theirs)}",  # another business's booking
        f"/book/{other.business.slug}/manage/{token}",  # our token under another business
        f"/book/no-such-shop/manage/{token}",
        f"/book/{shop.slug}/manage/{token[:-3]}abc/reschedule",
        f"/book/{shop.slug}/manage/{token[:-3]}abc/cancel",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Page not found" in text(response)
    assert client.post(f"/book/{shop.slug}/manage/{token[:-3]}abc/cancel").status_code == 404


def test_a_revoked_link_is_410_with_a_helpful_page(client, shop, book, db):
    b = book()
    old = path(b)
    booking_service.revoke_client_links(shop, b.id)
    response = client.get(old)
    assert response.status_code == 410
    page = step(response)
    assert page == (
        "This link no longer works "
        "Swim School Pro has replaced the links to this booking, so this one no longer opens it. The booking itself is not changed by this. "
        "Use the link in the latest e-mail you had about it, or ask Swim School Pro for a new one. "
        "Need to talk to Swim School Pro? Please call Swim School Pro on +44 20 7946 0000 or e-mail owner@example.com. "
        "Book with Swim School Pro"
    )
    assert b.reference not in text(response)  # a revoked link shows nothing of the booking
    assert client.post(old + "/cancel").status_code == 410
    assert reload(db, b.id).status == S.CONFIRMED
    assert client.get(path(reload(db, b.id))).status_code == 200
    # htmx swaps no 410: a step asked for with it loads the whole (410) page instead.
    fragment = client.post(old + "/cancel", headers=HX)
    assert (fragment.status_code, fragment.headers["HX-Redirect"]) == (410, old)
    assert "<html" not in text(fragment)


def test_an_expired_link_is_410(client, app, shop, book, db):
    b = book()
    b.start_at, b.end_at = utcnow() - timedelta(days=8, hours=1), utcnow() - timedelta(days=8)
    db.session.commit()
    response = client.get(path(b))
    assert response.status_code == 410
    expired_on = (b.end_at + timedelta(days=7)).astimezone(ZoneInfo("Europe/London"))
    assert f"Links to manage a booking stop working some days after the appointment; this one expired on {expired_on.day} {expired_on:%B %Y}." in step(response)
    app.config["MANAGE_LINK_DAYS_AFTER"] = 30
    response = client.get(path(b))
    assert response.status_code == 200
    assert "This appointment has started or is over, so it can no longer be changed online." in step(response)


# ------------------------------------------------------------------ rescheduling


def test_reschedule_picker_full_page_and_fragment(client, shop, book, day):
    b = book()
    book("14:00", client_name="Bea", client_email="bea@example.com")
    token = client_self_service.manage_token(b)
    url = path(b, f"/reschedule?month={day:%Y-%m}&date={day.isoformat()}&tz=Europe/London")
    response = client.get(url)
    assert response.status_code == 200
    page = step(response)
    assert "Pick a new time Private lesson · with Owner 1 Now booked for" in page
    # The day's free times, the booking's own 10:00 and the taken 14:00 left out; each leads to the confirm step.
    times = re.findall(r'<a class="slot" href="([^"]+)"', text(response))
    walls = ["09:00", "11:00", "12:00", "13:00", "15:00", "16:00"]
    assert times == [
        f"/book/{shop.slug}/manage/{token}/reschedule/confirm?start={iso_z(at(day, w))}&amp;tz=Europe/London" for w in walls
    ]
    days = re.findall(r'<a class="day free[^"]*" href="([^"]+)"', text(response))
    assert f"/book/{shop.slug}/manage/{token}/reschedule?month={day:%Y-%m}&amp;date={day.isoformat()}&amp;tz=Europe/London#times" in days
    fragment = client.get(url, headers=HX)
    assert fragment.status_code == 200 and "<html" not in text(fragment)
    assert re.findall(r'<a class="slot" href="([^"]+)"', text(fragment)) == times


def test_reschedule_without_javascript(client, shop, book, day, db):
    b = book()
    new = at(day, "15:00")
    confirm = client.get(path(b, f"/reschedule/confirm?start={iso_z(new)}&tz=Europe/London"))
    assert confirm.status_code == 200
    assert "Confirm your new time Private lesson · with Owner 1 Now" in step(confirm)
    assert f"New time {day:%A} {day.day} {day:%B %Y}, 15:00 – 16:00" in step(confirm)
    done = client.post(path(b, f"/reschedule/confirm?start={iso_z(new)}&tz=Europe/London"))
    assert done.status_code == 303
    assert done.headers["Location"] == path(b, "?tz=Europe/London")
    after = reload(db, b.id)
    assert (after.start_at, after.sequence, after.reference, after.events[-1].actor_kind) == (new, 1, b.reference, ActorKind.CLIENT)
    page = client.get(done.headers["Location"])
    assert "Your booking has moved to its new time. We have e-mailed you the details." in visible(page)
    assert f"{day.day} {day:%B %Y}, 15:00 – 16:00 (Europe/London)" in step(page)


def test_reschedule_with_htmx_swaps_the_step_and_pushes_the_url(client, book, day, db):
    b = book()
    new = at(day, "15:00")
    response = client.post(path(b, f"/reschedule/confirm?start={iso_z(new)}&tz=Europe/London"), headers=HX)
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == path(b, "?tz=Europe/London")
    assert "<html" not in text(response)
    assert step(response).startswith("Your booking Your booking has moved to its new time.")
    assert reload(db, b.id).start_at == new


def test_a_taken_time_offers_the_nearest_ones(client, shop, book, day, db):
    b = book()
    taken = at(day, "14:00")
    token = client_self_service.manage_token(b)
    confirm_url = path(b, f"/reschedule/confirm?start={iso_z(taken)}&tz=Europe/London")
    form = client.get(confirm_url)  # free when the page is opened
    assert form.status_code == 200
    book("14:00", client_name="Bea", client_email="bea@example.com")  # then someone takes it
    for response in (client.post(confirm_url), client.get(confirm_url), client.post(confirm_url, headers=HX)):
        assert response.status_code == 409
        assert "That time is not available" in step(response) and "Your booking is unchanged." in step(response)
        assert re.findall(r'<a class="slot" href="([^"]+)"', text(response)) == [
            f"/book/{shop.slug}/manage/{token}/reschedule/confirm?start={iso_z(at(day, w))}&amp;tz=Europe/London"
            for w in ("12:00", "13:00", "15:00")
        ]
    assert reload(db, b.id).start_at == at(day, "10:00")


def test_malformed_start_is_422(client, book):
    b = book()
    response = client.get(path(b, "/reschedule/confirm?start=soon"))
    assert response.status_code == 422
    assert "The chosen time is missing or malformed." in step(response)
    assert client.get(path(b, "/reschedule?month=2027-13")).status_code == 422


# ------------------------------------------------------------------ cancelling


def test_cancel_without_javascript(client, shop, book, db):
    b = book()
    form = client.get(path(b, "/cancel"))
    assert form.status_code == 200
    page = step(form)
    assert page.startswith("Cancel your booking? Status: confirmed")
    assert "Reason (optional)" in page and "Keep my booking" in page
    done = client.post(path(b, "/cancel"), data={"reason": "Ill"})
    assert (done.status_code, done.headers["Location"]) == (303, path(b, "?tz=America/New_York"))
    after = reload(db, b.id)
    assert (after.status, after.cancellation_reason, after.sequence) == (S.CANCELLED, "Ill", 1)
    page = client.get(done.headers["Location"])
    assert "Your booking is cancelled. Swim School Pro has been told, and we have e-mailed you a confirmation." in visible(page)
    assert "Status: cancelled" in step(page)


def test_cancel_with_htmx_and_a_too_long_reason(client, book, db):
    b = book()
    long = client.post(path(b, "/cancel"), data={"reason": "x" * 2001}, headers=HX)
    assert long.status_code == 422
    assert "Reason (optional): Please keep the reason under 2000 characters." in step(long)
    assert 'aria-invalid="true"' in text(long)
    assert reload(db, b.id).status == S.CONFIRMED
    done = client.post(path(b, "/cancel"), data={"reason": ""}, headers=HX)
    assert done.status_code == 200
    assert done.headers["HX-Push-Url"] == path(b, "?tz=America/New_York")
    assert (reload(db, b.id).status, reload(db, b.id).cancellation_reason) == (S.CANCELLED, None)


def test_confirmation_page_links_to_the_manage_page(client, shop, lesson, day, db):
    url = f"/book/{shop.slug}/{lesson.id}/details?start={iso_z(at(day, '09:00'))}&tz=Europe/London"
    response = client.post(url, data=form_data())
    page = client.get(response.headers["Location"])
    b = db.session.scalar(select(Booking))
    link = path(b)
    assert f'<a href="{link}" hx-get="{link}" hx-target="#booking-step" hx-push-url="true">Manage booking</a>' in text(page)
    assert client.get(link).status_code == 200


# ------------------------------------------------------------------ CSRF and rate limit


class TestCsrf:
    @pytest.fixture
    def config_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_posts_need_the_token(self, client, book, day, db):
        b = book()
        new = at(day, "15:00")
        url = path(b, f"/reschedule/confirm?start={iso_z(new)}")
        assert client.post(url).status_code == 400
        assert client.post(path(b, "/cancel"), data={"reason": "x"}).status_code == 400
        assert reload(db, b.id).sequence == 0
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text(client.get(url))).group(1)
        assert client.post(url, data={"csrf_token": token}).status_code == 303
        assert reload(db, b.id).start_at == new


class TestRateLimit:
    @pytest.fixture
    def config_overrides(self):
        return {"BOOKING_RATE_LIMIT": "2 per minute"}

    def test_manage_posts_share_the_booking_budget(self, client, shop, lesson, book, day):
        b = book()
        details = f"/book/{shop.slug}/{lesson.id}/details?start={iso_z(at(day, '09:00'))}&tz=Europe/London"
        assert client.post(details, data=form_data(email="bad")).status_code == 422
        assert client.post(path(b, "/cancel"), data={"reason": "x" * 2001}).status_code == 422
        limited = client.post(path(b, "/cancel"), data={"reason": ""})
        assert limited.status_code == 429
        assert [client.get(path(b)).status_code for _ in range(3)] == [200] * 3  # pages stay readable
