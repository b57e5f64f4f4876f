"""Headers a browser enforces: a nonce-based Content-Security-Policy, framing rules, referrer and
MIME sniffing, HSTS behind TLS; no inline handler or un-nonced inline script on any page; the
confirmation link expires."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.jobs import run_job
from app.models import Booking, OutboxJob, SentMessage
from app.security_headers import HSTS
from tests.conftest import next_weekday
from tests.web.public.support import at, confirmation_link, details_url, form_data


def csp(response) -> dict[str, str]:
    """The response's Content-Security-Policy as {directive: source list}."""
    header = response.headers["Content-Security-Policy"]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] if " " in d else "" for d in (p.strip() for p in header.split(";")) if d}


def nonce_of(response) -> str:
    match = re.search(r"'nonce-([A-Za-z0-9_-]{16,})'", csp(response)["script-src"])
    assert match, response.headers["Content-Security-Policy"]
    return match.group(1)


@pytest.fixture
def lesson(factory, business):
    return factory.service(business, name="Private lesson", duration_minutes=60, buffer_before_minutes=0, buffer_after_minutes=0)


@pytest.fixture
def day():
    return next_weekday(1)


@pytest.fixture
def booked(client, business, lesson, day, db):
    """A booking made through the form, with its confirmation URL."""
    response = client.post(details_url(business, lesson, at(day, "09:00")), data=form_data())
    assert response.status_code == 303
    return db.session.scalar(select(Booking)), response.headers["Location"]


def assert_common_headers(response):
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # SESSION_COOKIE_SECURE is off


def test_public_page_headers(client, business, lesson):
    response = client.get(f"/book/{business.slug}")
    assert response.status_code == 200
    assert_common_headers(response)
    policy = csp(response)
    nonce = nonce_of(response)
    assert policy["script-src"] == f"'self' 'nonce-{nonce}'" and "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert policy["style-src"] == f"'self' 'nonce-{nonce}'"
    assert (policy["default-src"], policy["object-src"], policy["base-uri"]) == ("'self'", "'none'", "'self'")
    assert policy["frame-ancestors"] == "*"  # PUBLIC_FRAME_ANCESTORS default: any site may embed it
    assert "X-Frame-Options" not in response.headers  # it cannot say "any site": the CSP decides


def test_nonce_is_new_on_every_response(client, business, lesson):
    nonces = {nonce_of(client.get(f"/book/{business.slug}")) for _ in range(3)}
    assert len(nonces) == 3


def test_dashboard_and_auth_pages_may_not_be_framed(client, logged_in):
    for url in ("/dashboard/", "/dashboard/requests", "/dashboard/settings"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_common_headers(response)
        assert csp(response)["frame-ancestors"] == "'none'"
        assert response.headers["X-Frame-Options"] == "DENY"
    client.post("/logout")
    for url in ("/login", "/signup"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert csp(response)["frame-ancestors"] == "'none'" and response.headers["X-Frame-Options"] == "DENY"


def test_htmx_fragment_carries_the_headers_too(client, logged_in):
    response = client.get("/dashboard/requests/count", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_api_response_headers(client, business, lesson):
    response = client.get(f"/api/booking/public/{business.slug}/services/")
    assert response.status_code == 200 and response.is_json
    assert_common_headers(response)
    policy = csp(response)
    assert (policy["default-src"], policy["frame-ancestors"]) == ("'none'", "'none'")
    assert response.headers["X-Frame-Options"] == "DENY"
    error = client.get("/api/booking/public/no-such-shop/services/")
    assert error.status_code == 404 and error.headers["X-Frame-Options"] == "DENY"


class TestPublicFramingIsASetting:
    @pytest.fixture
    def config_overrides(self):
        return {"PUBLIC_FRAME_ANCESTORS": "'self' https://shop.example"}

    def test_public_pages_follow_the_setting_and_the_dashboard_does_not(self, client, business, lesson, logged_in):
        public = client.get(f"/book/{business.slug}")
        assert csp(public)["frame-ancestors"] == "'self' https://shop.example"
        assert "X-Frame-Options" not in public.headers  # it cannot name another origin: the CSP decides
        assert csp(client.get("/dashboard/"))["frame-ancestors"] == "'none'"


class TestBehindTLS:
    @pytest.fixture
    def config_overrides(self):
        return {"SESSION_COOKIE_SECURE": True}

    def test_hsts_when_cookies_are_https_only(self, client, business, lesson):
        for response in (client.get(f"/book/{business.slug}"), client.get(f"/api/booking/public/{business.slug}/")):
            assert response.headers["Strict-Transport-Security"] == HSTS


# ---------------------------------------------------------------- no inline script without the nonce

INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.I)


def assert_page_is_csp_clean(response, url: str) -> None:
    """Every inline <script>/<style> carries this response's nonce; no on*= handler, no
    javascript: URL, no style attribute (a nonce cannot allow those)."""
    html = response.get_data(as_text=True)
    nonce = nonce_of(response)
    for tag in re.findall(r"<(?:script|style)\b[^>]*>", html, re.I):
        if "src=" in tag:
            continue
        assert f'nonce="{nonce}"' in tag, (url, tag)
    assert not INLINE_HANDLER.search(html), (url, INLINE_HANDLER.search(html).group(0))
    assert "javascript:" not in html.lower(), url
    if response.request.path.startswith("/dashboard/sent-email/"):
        html = re.sub(r'srcdoc="[^"]*"', "", html)  # the e-mail's own HTML, under this page's own style rule
    assert not STYLE_ATTRIBUTE.search(html), (url, STYLE_ATTRIBUTE.search(html).group(0))


def test_every_main_page_is_csp_clean(client, business, lesson, day, db, app, booked):
    booking, confirmation = booked
    for job_id in db.session.scalars(select(OutboxJob.id).where(OutboxJob.booking_id == booking.id, OutboxJob.kind.like("%email%"))):
        run_job(job_id)  # a sent e-mail, for the preview page
    db.session.rollback()
    start = at(day, "10:00")
    public = [
        f"/book/{business.slug}", f"/book/{business.slug}/{lesson.id}", details_url(business, lesson, start), confirmation,
        f"/book/{business.slug}/no-such-service", "/no-such-page",
    ]
    for url in public + ["/login", "/signup"]:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert_page_is_csp_clean(response, url)
    # the details form re-rendered with errors, as a full page and as an htmx fragment
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(details_url(business, lesson, start), data=form_data(name="", idempotency_key="k2"), headers=headers)
        assert response.status_code == 422
        assert_page_is_csp_clean(response, "details 422")

    assert client.post("/login", data={"email": "owner@example.com", "password": "correct horse battery"}).status_code == 302
    dashboard = [
        "/dashboard/", "/dashboard/requests", "/dashboard/bookings", f"/dashboard/bookings/{booking.id}",
        f"/dashboard/bookings/{booking.id}/reschedule", "/dashboard/services", "/dashboard/services/new",
        f"/dashboard/services/{lesson.id}", "/dashboard/hours", "/dashboard/settings", "/dashboard/api-keys",
        "/dashboard/notifications", "/dashboard/notifications/preferences", "/dashboard/jobs", "/dashboard/sent-email",
    ]
    message = db.session.scalar(select(SentMessage.id).limit(1))
    assert message is not None
    dashboard.append(f"/dashboard/sent-email/{message}")
    for url in dashboard:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_page_is_csp_clean(response, url)
    # The e-mail preview's srcdoc inherits the page's policy and e-mail HTML is styled inline.
    preview = client.get(f"/dashboard/sent-email/{message}")
    assert csp(preview)["style-src"] == "'self' 'unsafe-inline'" and "unsafe-inline" not in csp(preview)["script-src"]


# ---------------------------------------------------------------- the confirmation link

def test_confirmation_link_expires_thirty_days_after_the_appointment(client, db, booked):
    booking, url = booked
    assert client.get(url).status_code == 200
    assert client.get(url.split("?")[0] + ".ics?" + url.split("?")[1].split("&")[0]).status_code == 200
    # Thirty days after the end, the link (and its .ics) is gone.
    booking.start_at -= timedelta(days=60)
    booking.end_at -= timedelta(days=60)
    db.session.commit()
    for link in (url, url.replace("?", ".ics?", 1).split("&")[0]):
        response = client.get(link)
        html = response.get_data(as_text=True)
        assert response.status_code == 410, link
        assert "This link has expired" in html and "<html" in html
        assert booking.client_name not in html and booking.reference not in html.split("<main", 1)[1]


def test_confirmation_link_still_works_29_days_after(client, db, booked):
    from app.models import utcnow

    booking, url = booked
    booking.end_at = utcnow() - timedelta(days=29)
    booking.start_at = booking.end_at - timedelta(hours=1)
    db.session.commit()
    assert client.get(url).status_code == 200


def test_expired_link_with_a_bad_token_is_still_404(client, db, booked):
    booking, url = booked
    reference, _token = confirmation_link(url)
    booking.end_at -= timedelta(days=90)
    booking.start_at -= timedelta(days=90)
    db.session.commit()
    assert client.get(url.split("?")[0] + "?token=forged").status_code == 404


def test_confirmation_token_is_kept_out_of_logs(app, booked, caplog):
    import logging

    _booking, url = booked
    _reference, token = confirmation_link(url)
    logging.getLogger("werkzeug").warning('127.0.0.1 - - "GET %s HTTP/1.1" 200 -', url)
    assert token not in caplog.text and "token=***" in caplog.text


def test_google_calendar_link_opens_without_referrer_or_opener(client, booked):
    html = client.get(booked[1]).get_data(as_text=True)
    links = re.findall(r'<a [^>]*target="_blank"[^>]*>', html)
    assert links and all('rel="noopener noreferrer"' in link for link in links)


def test_htmx_adds_no_inline_style(client):
    """htmx 2 would add its indicator styles as an inline <style>, and settle an old element's
    style attribute onto its replacement: both are inline styles the policy refuses."""
    import json

    html = client.get("/login").get_data(as_text=True)
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html).group(1))
    assert config["includeIndicatorStyles"] is False
    assert "style" not in config["attributesToSettle"]
