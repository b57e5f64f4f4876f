"""Booking pages on owners' sites: who may frame them (CSP frame-ancestors; the dashboard never),
the "Add to your website" page (full page and fragment) and its sites setting, the brand colour
theme, and booking from inside a frame on another site, where no session cookie arrives."""
from __future__ import annotations

import html
import re

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from app.models import Booking, Business
from app.services import branding
from tests.conftest import next_weekday
from tests.web.dashboard.support import HX, field_error, flashes, text
from tests.web.public.support import at, details_url, form_data
from tests.web.test_security_headers import csp


@pytest.fixture
def lesson(factory, business):
    return factory.service(business, name="Private lesson", duration_minutes=60, buffer_before_minutes=0, buffer_after_minutes=0)


def saved_origins(db):
    db.session.expire_all()
    return db.session.scalar(select(Business)).embed_origins


# ------------------------------------------------------------------ framing headers

def test_public_pages_may_be_framed_anywhere_by_default(client, business, lesson):
    for url in (f"/book/{business.slug}", f"/book/{business.slug}/{lesson.id}"):
        response = client.get(url)
        assert response.status_code == 200
        assert csp(response)["frame-ancestors"] == "*"
        assert "X-Frame-Options" not in response.headers


def test_listed_sites_only(client, business, lesson, db):
    branding.set_embed_origins(business, ("https://shop.example", "https://*.shop.example"))
    response = client.get(f"/book/{business.slug}")
    assert csp(response)["frame-ancestors"] == "'self' https://shop.example https://*.shop.example"
    assert "X-Frame-Options" not in response.headers
    fragment = client.get(f"/book/{business.slug}/{lesson.id}", headers=HX)
    assert csp(fragment)["frame-ancestors"] == "'self' https://shop.example https://*.shop.example"


def test_unknown_business_gets_the_default(client):
    response = client.get("/book/no-such-shop")
    assert response.status_code == 404 and csp(response)["frame-ancestors"] == "*"


def test_dashboard_and_auth_pages_are_never_framed(client, logged_in, lesson, db):
    branding.set_embed_origins(logged_in.business, ("https://shop.example",))
    for url in ("/dashboard/", "/dashboard/settings", "/dashboard/settings/embed"):
        response = client.get(url)
        assert (csp(response)["frame-ancestors"], response.headers["X-Frame-Options"]) == ("'none'", "DENY"), url
    client.post("/logout")
    response = client.get("/login")
    assert (csp(response)["frame-ancestors"], response.headers["X-Frame-Options"]) == ("'none'", "DENY")


class TestInstanceDefault:
    @pytest.fixture
    def config_overrides(self):
        return {"PUBLIC_FRAME_ANCESTORS": "'self'"}

    def test_operator_default_applies_to_businesses_that_list_none(self, client, business, lesson):
        response = client.get(f"/book/{business.slug}")
        assert (csp(response)["frame-ancestors"], response.headers["X-Frame-Options"]) == ("'self'", "SAMEORIGIN")
        branding.set_embed_origins(business, ("https://shop.example",))
        response = client.get(f"/book/{business.slug}")
        assert csp(response)["frame-ancestors"] == "'self' https://shop.example" and "X-Frame-Options" not in response.headers


# ------------------------------------------------------------------ the embed page

def test_embed_page(app, client, logged_in, db):
    business = logged_in.business
    business.brand_color = "#ffd000"
    db.session.commit()
    response = client.get("/dashboard/settings/embed")
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    body = html.unescape(text(response))
    base = app.config["BASE_URL"]
    assert (
        f'<iframe data-flowkey-embed src="{base}/book/{business.slug}?embed=1" title="Book with Swim School Pro" loading="lazy"\n'
        f'        style="display:block;width:100%;height:720px;border:0"></iframe>\n'
        f'<script src="{base}/static/embed.js" async></script></textarea>'
    ) in body
    assert (
        f'<a data-flowkey-popup href="{base}/book/{business.slug}" data-flowkey-color="#ffd000"\n'
        f'   data-flowkey-text-color="#000000" data-flowkey-border-color="#b29100">Book now</a>\n'
        f'<script src="{base}/static/embed.js" async></script></textarea>'
    ) in body
    # The live previews: the real booking page in a frame, and a working button.
    assert f'<iframe data-flowkey-embed src="/book/{business.slug}?embed=1" title="Preview of your booking frame"' in body
    assert f'<a data-flowkey-popup href="/book/{business.slug}" data-flowkey-color="#ffd000"' in body
    assert '<script src="/static/embed.js" async></script>' in body
    assert '<input checked id="where-0" name="where" required type="radio" value="any"> Any website' in body


def test_embed_snippets_fragment_follows_the_button_text(client, logged_in):
    response = client.get("/dashboard/settings/embed?label=Reserve+a+lane+%3Cnow%3E", headers=HX)
    assert response.status_code == 200
    body = text(response)
    assert body.lstrip().startswith('<div id="popup-snippet-block">') and body.rstrip().endswith("</div>")
    assert "<h1>" not in body and "sites-heading" not in body
    # Escaped in the snippet (shown escaped once more in the textarea) and in the preview button.
    assert "&gt;Reserve a lane &amp;lt;now&amp;gt;&lt;/a&gt;" in body and ">Reserve a lane &lt;now&gt;</a>" in body
    full = text(client.get("/dashboard/settings/embed?label=Reserve+a+lane"))
    assert "<h1>Add your booking page to your website</h1>" in full and ">Reserve a lane</a>" in full


def test_bad_button_text_falls_back_with_a_message(client, logged_in):
    response = client.get("/dashboard/settings/embed?label=" + "x" * 61)
    assert response.status_code == 200
    assert field_error(response, "label") == "Keep the button text under 60 characters."
    assert ">Book now</a>" in text(response)


def test_link_cards_point_to_the_embed_page(client, logged_in):
    for url in ("/dashboard/", "/dashboard/settings"):
        assert '<a href="/dashboard/settings/embed">Add it to your website</a>' in text(client.get(url))


# ------------------------------------------------------------------ the sites setting

def test_list_sites_then_allow_any(client, logged_in, db):
    response = client.post(
        "/dashboard/settings/embed/sites", data={"where": "listed", "origins": "www.swim.example\nhttps://*.swim.example/\nwww.swim.example"}
    )
    assert (response.status_code, response.headers["Location"]) == (303, "/dashboard/settings/embed#sites-heading")
    assert saved_origins(db) == ["https://www.swim.example", "https://*.swim.example"]
    page = client.get("/dashboard/settings/embed")
    assert flashes(page) == ["Only these websites may now show your booking page: https://www.swim.example, https://*.swim.example."]
    assert '<input checked id="where-1" name="where" required type="radio" value="listed">' in text(page)
    assert "https://www.swim.example\nhttps://*.swim.example</textarea>" in text(page)
    response = client.post("/dashboard/settings/embed/sites", data={"where": "any", "origins": "https://www.swim.example"})
    assert response.status_code == 303 and saved_origins(db) is None
    assert flashes(client.get("/dashboard/settings/embed")) == ["Any website may now show your booking page."]


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"where": "listed", "origins": ""}, "origins", "List at least one site, or let any site show your booking page."),
        ({"where": "listed", "origins": "https://ok.example\nhttps://x.example/page"}, "origins",
         "Line 2: Give only the site, without a page path: e.g. https://www.example.com."),
        ({"where": "listed", "origins": "ftp://a.example"}, "origins", "Line 1: Use an address starting with https:// (or http://)."),
        ({"where": "listed", "origins": "https://a.example;script-src"}, "origins",
         "Line 1: An address cannot contain spaces, quotes, commas or semicolons."),
        ({"where": "listed", "origins": "https://a.example'"}, "origins",
         "Line 1: An address cannot contain spaces, quotes, commas or semicolons."),
        ({"where": "everywhere", "origins": ""}, "where", "Not a valid choice."),
        ({"origins": ""}, "where", "Choose one."),
    ],
)
def test_bad_sites_are_422_with_a_message(client, logged_in, db, data, field, message):
    response = client.post("/dashboard/settings/embed/sites", data=data)
    assert response.status_code == 422
    assert field_error(response, field) == message
    assert saved_origins(db) is None


# ------------------------------------------------------------------ theme and embedded mode

def test_brand_colour_themes_the_booking_page_through_a_nonced_style(client, business, lesson, db):
    assert "<style" not in text(client.get(f"/book/{business.slug}"))  # default colours: nothing inline
    business.brand_color = "#ffd000"
    db.session.commit()
    response = client.get(f"/book/{business.slug}")
    nonce = re.search(r"'nonce-([^']+)'", csp(response)["style-src"]).group(1)
    style = re.search(r'<style nonce="([^"]+)">(.*?)</style>', text(response), re.S)
    assert style.group(1) == nonce
    assert style.group(2) == (
        ":root[data-theme]{--pico-primary:#8f7400;--pico-primary-background:#ffd000;--pico-primary-border:#b29100;"
        "--pico-primary-underline:#8f740080;--pico-primary-hover:#7a6300;--pico-primary-hover-background:#d9b100;"
        "--pico-primary-hover-border:#b29100;--pico-primary-hover-underline:#7a6300;--pico-primary-focus:#8f740080;"
        "--pico-primary-inverse:#000000;--pico-text-selection-color:#8f740040;--brand-on-primary-hover:#000000;"
        "--brand-tint:#fff9e0;--brand-tint-hover:#fff5c7;--brand-on-tint:#876d00;}"
    )


def test_embedded_mode_drops_the_description_and_contacts(client, business, lesson, db):
    business.description = "Lessons for all ages."
    business.email = "hello@swim.example"
    db.session.commit()
    normal = text(client.get(f"/book/{business.slug}"))
    assert "Lessons for all ages." in normal and "hello@swim.example" in normal
    embedded = text(client.get(f"/book/{business.slug}?embed=1"))
    assert '<header class="container biz-header biz-header-embedded">' in embedded
    assert "Lessons for all ages." not in embedded and "hello@swim.example" not in embedded
    assert "<h1>" + business.name + "</h1>" in embedded


# ------------------------------------------------------------------ booking from a frame on another site

class TestCsrfInAFrame:
    """With CSRF on. A cross-site frame gets no session cookie: the test client's cookie jar is
    emptied between the page and the POST, as the browser would not send it there."""

    @pytest.fixture
    def config_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    @pytest.fixture
    def page(self, client, business, lesson):
        url = details_url(business, lesson, at(next_weekday(1), "10:00"))
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text(client.get(url))).group(1)
        client._cookies.clear()  # the frame on another site: no cookie reaches Flowkey
        return url, token

    def bookings(self, db) -> int:
        return db.session.scalar(select(func.count(Booking.id)))

    def test_a_form_in_a_frame_books_without_the_session_cookie(self, client, db, page):
        url, token = page
        response = client.post(url, data=form_data(csrf_token=token), headers={"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"})
        assert response.status_code == 303 and self.bookings(db) == 1

    @pytest.mark.parametrize(
        "headers",
        [
            {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
            {"Sec-Fetch-Site": "same-site", "Origin": "https://other.localhost"},
            {"Origin": "https://evil.example"},  # an older browser without Fetch Metadata
            {"Origin": "null"},
        ],
    )
    def test_another_site_posting_is_refused_even_with_a_valid_token(self, client, db, page, headers):
        url, token = page
        response = client.post(url, data=form_data(csrf_token=token), headers=headers)
        assert response.status_code == 400 and "Please reload the page and try again" in text(response)
        assert self.bookings(db) == 0

    @pytest.mark.parametrize("token", ["", "not-a-token", "ImFiYyI.aaaa.bbbb"])
    def test_a_missing_or_forged_token_is_refused(self, client, db, page, token):
        url, _ = page
        response = client.post(url, data=form_data(csrf_token=token), headers={"Sec-Fetch-Site": "same-origin"})
        assert response.status_code == 400 and self.bookings(db) == 0

    def test_with_the_session_cookie_the_token_must_match_the_session(self, client, db, business, lesson):
        url = details_url(business, lesson, at(next_weekday(1), "10:00"))
        client.get(url)  # this client's session now holds its own token
        # Another visitor's token: signed by Flowkey (as Flask-WTF signs them), for another session.
        foreign = URLSafeTimedSerializer(client.application.secret_key, salt="wtf-csrf-token").dumps("another-session")
        response = client.post(url, data=form_data(csrf_token=foreign))
        assert response.status_code == 400 and self.bookings(db) == 0
