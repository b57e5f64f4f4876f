"""The set-up wizard's pages (/dashboard/welcome): every step as a full page and as an HTMX
fragment, errors per field, Back/Next/Skip, resume, the booking preview, completing, the done
step's link, QR code and share, sign-up landing in the wizard, and the overview's checklist."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models import Business, OnboardingStep
from app.services import onboarding
from tests.fakes.simplybook import FakeSimplyBook
from tests.web.dashboard.support import HX, field_error, flashes, text

KEY = "sb-key-0123456789abcdef"
WELCOME = {"name": "Ada's Pool", "timezone": "America/Chicago", "currency": "USD", "language": "en", "country": "US",
           "email": "hello@adaspool.example", "phone": "+1 312 555 0142", "address": "1 Lake Shore Dr"}


def booking_form(**overrides):
    form = {"template": "appointment", "service_name": "Swim lesson", "duration_minutes": "45", "price": "30", "capacity": "1",
            "min_advance_booking_hours": "2", "max_advance_booking_days": "30"}
    for i in range(7):
        form.update({f"day_{i}_start": "09:00", f"day_{i}_end": "17:00"})
        if i < 5:
            form[f"day_{i}_open"] = "1"
    form.update(overrides)
    return form


def heading(response) -> str:
    return re.search(r'<h2 id="step-heading"[^>]*>(.*?)</h2>', text(response)).group(1)


def current(response) -> str:
    return re.search(r'<a [^>]*aria-current="step"[^>]*>([^<]*)<', text(response), re.S).group(1).strip()


@pytest.fixture
def simplybook(app):
    fake = FakeSimplyBook().start()
    fake.add_company("acme", api_key=KEY)
    app.config.update(SIMPLYBOOK_API_URL=fake.url, SIMPLYBOOK_TIMEOUT=30)  # a busy machine may be slow; the timeout tests shorten it
    yield fake
    fake.stop()


@pytest.mark.parametrize(
    ("step", "title", "number"),
    [("welcome", "Your business", 1), ("crm", "CRM connection", 2), ("booking", "Booking set-up", 3),
     ("channels", "Channels", 4), ("automations", "Automations", 5), ("done", "Done", 6)],
)
def test_each_step_is_a_page_and_a_fragment(client, logged_in, step, title, number):
    page = client.get(f"/dashboard/welcome/{step}")
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    body = text(page)
    assert "<html" in body and 'id="wizard"' in body and f"Step {number} of 6" in body
    assert heading(page) == title and current(page) == title
    fragment = client.get(f"/dashboard/welcome/{step}", headers=HX)
    assert fragment.status_code == 200
    assert "<html" not in text(fragment) and text(fragment).lstrip().startswith('<section id="wizard"')
    assert heading(fragment) == title and f"Step {number} of 6" in text(fragment)


def test_the_wizard_opens_where_the_owner_stopped(client, logged_in):
    assert heading(client.get("/dashboard/welcome")) == "Your business"
    onboarding.save_step(logged_in.business, "welcome", WELCOME)
    onboarding.skip_step(logged_in.business, "crm")
    assert heading(client.get("/dashboard/welcome")) == "Booking set-up"


def test_welcome_defaults_from_the_browser_and_the_zone(client, logged_in):
    body = text(client.get("/dashboard/welcome/welcome", headers={"Accept-Language": "fr-FR,fr;q=0.9"}))
    assert '<option value="fr" selected>' in body  # the browser's language
    assert '<option value="GB" selected>' in body  # the zone's country


def test_next_saves_and_moves_on_without_javascript(client, logged_in, db):
    response = client.post("/dashboard/welcome/welcome", data={**WELCOME, "action": "next"})
    assert (response.status_code, response.headers["Location"]) == (303, "/dashboard/welcome/crm")
    row = db.session.scalar(select(OnboardingStep).where(OnboardingStep.step == "welcome"))
    assert row.data["name"] == "Ada's Pool" and row.status.value == "done"


def test_next_with_htmx_swaps_in_the_next_step_and_pushes_its_url(client, logged_in):
    response = client.post("/dashboard/welcome/welcome", data={**WELCOME, "action": "next"}, headers=HX)
    assert response.status_code == 200 and response.headers["HX-Push-Url"] == "/dashboard/welcome/crm"
    assert heading(response) == "CRM connection" and "<html" not in text(response)


@pytest.mark.parametrize("headers", [{}, HX])
def test_bad_input_answers_422_with_a_message_per_field(client, logged_in, headers):
    data = {**WELCOME, "name": "", "timezone": "Mars/Base", "email": "nope", "action": "next"}
    response = client.post("/dashboard/welcome/welcome", data=data, headers=headers)
    assert response.status_code == 422
    assert field_error(response, "f-name") == "Please enter your business's name."
    assert field_error(response, "f-timezone") == "Choose a time zone from the list."
    assert field_error(response, "f-email") is not None
    assert ('<html' in text(response)) == (not headers)
    assert 'value="+1 312 555 0142"' in text(response)  # what was typed is kept


def test_skip_and_back(client, logged_in):
    response = client.post("/dashboard/welcome/crm", data={"action": "skip"})
    assert response.headers["Location"] == "/dashboard/welcome/booking"
    assert onboarding.status(logged_in.business).steps[1].status == "skipped"
    page = text(client.get("/dashboard/welcome/booking"))
    assert 'href="/dashboard/welcome/crm"' in page and ">Back</a>" in page
    assert client.post("/dashboard/welcome/welcome", data={"action": "skip"}).status_code == 422


def test_crm_test_connection_shows_the_reason_and_keeps_working_credentials(client, logged_in, simplybook):
    bad = client.post("/dashboard/welcome/crm", data={"company_login": "nobody", "auth": "api_key", "api_key": KEY, "action": "test"}, headers=HX)
    assert bad.status_code == 200 and onboarding.CRM_REASONS["wrong_company"] in text(bad)
    assert KEY not in text(bad)
    ok = client.post("/dashboard/welcome/crm", data={"company_login": "acme", "auth": "api_key", "api_key": KEY, "action": "test"})
    assert onboarding.CRM_REASONS["ok"] in text(ok) and "Credentials are stored for <strong>acme</strong>" in text(ok)
    nxt = client.post("/dashboard/welcome/crm", data={"company_login": "acme", "auth": "api_key", "api_key": "", "action": "next"})
    assert nxt.headers["Location"] == "/dashboard/welcome/booking"


def test_booking_copy_hours_and_template_without_javascript(client, logged_in):
    form = booking_form(day_0_start="07:00", day_0_end="12:00", day_3_open="", action="copy")
    body = text(client.post("/dashboard/welcome/booking", data=form))
    assert body.count('value="07:00"') == 5 and body.count('value="12:00"') == 5
    body = text(client.post("/dashboard/welcome/booking", data=booking_form(template="class", action="template")))
    assert 'name="service_name" type="text" value="Group class"' in body
    assert 'name="capacity" type="number" value="8"' in body


def test_booking_errors_per_day_and_the_live_preview(client, logged_in):
    response = client.post("/dashboard/welcome/booking", data=booking_form(day_1_start="18:00", price="abc", action="next"))
    assert response.status_code == 422
    assert field_error(response, "day-1") == "Tuesday: 17:00 must be after 18:00."
    assert field_error(response, "f-price").startswith("Enter a price")
    preview = client.post("/dashboard/welcome/booking/preview", data=booking_form(service_name="Crawl clinic", price="25"), headers=HX)
    assert preview.status_code == 200 and "Crawl clinic" in text(preview) and "45 min" in text(preview)
    assert "$25.00" in text(preview) and "<html" not in text(preview)


def test_the_whole_wizard_applies_on_finish(client, logged_in, db):
    business = logged_in.business
    client.post("/dashboard/welcome/welcome", data={**WELCOME, "action": "next"})
    client.post("/dashboard/welcome/crm", data={"action": "skip"})
    assert client.post("/dashboard/welcome/booking", data=booking_form(action="next")).headers["Location"] == "/dashboard/welcome/channels"
    assert business.services == []  # nothing applied yet
    client.post("/dashboard/welcome/channels", data={"sender_name": "Ada", "reply_to": "", "action": "next"})
    done = client.post("/dashboard/welcome/automations", data={"confirmation": "1", "reminders": "1", "action": "next"})
    assert done.headers["Location"] == "/dashboard/welcome/done"
    db.session.expire_all()
    assert business.name == "Ada's Pool" and [s.name for s in business.services] == ["Swim lesson"]
    page = client.get("/dashboard/welcome/done")
    body = text(page)
    assert "Your link is ready." in body and "http://localhost/book/" in body
    assert "<svg" in body and "QR code of your booking link" in body
    assert "CRM connection (<a href=\"/dashboard/welcome/crm\">set up now</a>)" in body
    assert heading(client.get("/dashboard/welcome")) == "Done"  # resumes at the end


def test_done_says_not_bookable_when_nothing_can_be_booked(client, logged_in):
    client.post("/dashboard/welcome/booking", data=booking_form(template="none", action="next"))
    client.post("/dashboard/welcome/automations", data={"action": "skip"})
    body = text(client.get("/dashboard/welcome/done"))
    assert "Your link is not bookable yet." in body and "Your link is ready." not in body


def test_checklist_buttons_record_and_go_on(client, logged_in):
    business = logged_in.business
    preview = client.post("/dashboard/welcome/checklist/preview")
    assert (preview.status_code, preview.headers["Location"]) == (303, f"http://localhost/book/{business.slug}")
    share = client.post("/dashboard/welcome/checklist/share", data={"to": "mailto"})
    assert share.headers["Location"].startswith("mailto:?subject=Book%20with%20")
    assert client.post("/dashboard/welcome/checklist/share", data={"quiet": "1"}).status_code == 204
    assert client.post("/dashboard/welcome/checklist/nope").status_code == 404
    assert {i.key: i.done for i in onboarding.checklist(business)} == {"service": False, "hours": False, "preview": True, "share": True}


def test_overview_shows_the_checklist_and_honest_texts(client, logged_in, factory):
    body = text(client.get("/dashboard/"))
    assert "Get ready for your first booking" in body
    assert "Not bookable yet" in body and "Share your link to get some" not in body
    assert "Clients can book." not in body
    factory.service(logged_in.business, name="Lesson")
    body = text(client.get("/dashboard/"))
    assert "Clients can book." in body and "Share your link to get some." in body
    for item in ("hours", "preview", "share"):
        onboarding.mark_checklist(logged_in.business, item)
    assert "Get ready for your first booking" not in text(client.get("/dashboard/"))


def test_settings_links_to_the_wizard(client, logged_in):
    assert 'href="/dashboard/welcome/welcome">Set-up wizard</a>' in text(client.get("/dashboard/settings"))


def test_sign_up_lands_in_the_wizard_with_no_public_email_and_the_zone_currency(client, db):
    from tests.web.dashboard.test_dashboard_auth import confirm_path

    data = {"name": "Ada", "email": "ada@example.com", "password": "analytical engine", "business_name": "Ada's Pool",
            "timezone": "America/Chicago", "currency": ""}
    assert client.post("/signup", data=data).status_code == 303
    response = client.post(confirm_path(db))
    assert (response.status_code, response.headers["Location"]) == (303, "/dashboard/welcome")
    business = db.session.scalar(select(Business))
    assert (business.currency, business.email) == ("USD", "")
    page = client.get("/dashboard/welcome")
    assert heading(page) == "Your business"
    assert flashes(page) == ["Welcome to Flowkey! A few questions set up your booking page."]
