"""The set-up wizard's service (app/services/onboarding.py): steps saved per business, validation
per field, secrets in the vault only, skip and resume, completing in one transaction, the
overview checklist, and the zone -> country -> currency defaults of sign-up."""
from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.models import AutomationRule, ConnectionKind, OnboardingStep
from app.services import business_service, credentials, onboarding
from app.services.errors import NotFound, ValidationFailed
from tests.fakes.simplybook import FakeSimplyBook

KEY = "sb-key-0123456789abcdef"
WELCOME = {
    "name": "Ada's Pool", "timezone": "America/Chicago", "currency": "USD", "language": "en", "country": "US",
    "email": "Hello@Adaspool.example", "phone": "(312) 555-0142", "address": "1 Lake Shore Dr",
}
HOURS = [{"open": i < 5, "start": "08:30", "end": "16:00"} for i in range(7)]
BOOKING = {
    "template": "class", "service_name": "Aqua fit", "duration_minutes": "45", "price": "12.5", "capacity": "10",
    "requires_approval": "1", "min_advance_booking_hours": "4", "max_advance_booking_days": "60", "hours": HOURS,
}


@pytest.fixture
def simplybook(app):
    fake = FakeSimplyBook().start()
    fake.add_company("acme", api_key=KEY, users={"admin": "s3cret-pass"})
    app.config.update(SIMPLYBOOK_API_URL=fake.url, SIMPLYBOOK_TIMEOUT=30)  # a busy machine may be slow; the timeout tests shorten it
    yield fake
    fake.stop()


def states(business):
    return [(s.step, s.status) for s in onboarding.status(business).steps]


# ------------------------------------------------------------------ status and resume

def test_a_new_business_starts_at_welcome_with_nothing_bookable(business):
    status = onboarding.status(business)
    assert states(business) == [(step, "pending") for step in onboarding.STEPS]
    assert (status.current, status.completed, status.bookable) == ("welcome", False, False)


def test_saving_and_skipping_moves_the_resume_point(business, db):
    onboarding.save_step(business, "welcome", WELCOME)
    assert onboarding.resume_step(business) == "crm"
    onboarding.skip_step(business, "crm")
    assert onboarding.resume_step(business) == "booking"
    assert states(business)[:3] == [("welcome", "done"), ("crm", "skipped"), ("booking", "pending")]
    row = db.session.scalar(select(OnboardingStep).where(OnboardingStep.step == "welcome"))
    assert row.data == {
        "name": "Ada's Pool", "timezone": "America/Chicago", "currency": "USD", "language": "en", "country": "US",
        "email": "hello@adaspool.example", "phone": "+13125550142", "address": "1 Lake Shore Dr",
    }
    assert business.name != "Ada's Pool"  # saved, not applied


def test_steps_are_per_business(business, factory):
    other = factory.owner(email="other@example.com").business
    onboarding.save_step(business, "welcome", WELCOME)
    assert onboarding.resume_step(other) == "welcome"


@pytest.mark.parametrize("step", ["welcome", "booking", "done"])
def test_required_steps_cannot_be_skipped(business, step):
    with pytest.raises(ValidationFailed):
        onboarding.skip_step(business, step)


def test_an_unknown_step_is_not_found(business):
    with pytest.raises(NotFound):
        onboarding.save_step(business, "payments", {})


# ------------------------------------------------------------------ validation per field

def test_welcome_names_every_bad_field(business):
    bad = {"name": " ", "timezone": "Mars/Olympus", "currency": "XXQ", "language": "tlh", "country": "ZZ",
           "email": "not-an-address", "phone": "12", "address": "a\x00b"}
    with pytest.raises(ValidationFailed) as info:
        onboarding.save_step(business, "welcome", bad)
    assert set(info.value.fields) == {"name", "timezone", "currency", "language", "country", "email", "phone", "address"}
    assert info.value.fields["name"] == "Please enter your business's name."
    assert info.value.fields["timezone"] == "Choose a time zone from the list."


def test_booking_checks_the_service_the_rules_and_each_day(business):
    hours = [dict(day) for day in HOURS]
    hours[1] = {"open": True, "start": "17:00", "end": "09:00"}
    hours[2] = {"open": True, "start": "9am", "end": "17:00"}
    bad = {**BOOKING, "service_name": "", "duration_minutes": "0", "price": "1.234", "capacity": "x",
           "min_advance_booking_hours": "-1", "max_advance_booking_days": "9999", "hours": hours}
    with pytest.raises(ValidationFailed) as info:
        onboarding.save_step(business, "booking", bad)
    assert info.value.fields == {
        "service_name": "Please name the service.",
        "duration_minutes": "Enter a whole number from 5 to 1440.",
        "capacity": "Enter a whole number from 1 to 500.",
        "price": "Enter a price from 0 to 99,999,999.99 with at most two decimals (0 for free).",
        "min_advance_booking_hours": "Enter a whole number from 0 to 720.",
        "max_advance_booking_days": "Enter a whole number from 1 to 730.",
        "day_1": "Tuesday: 09:00 must be after 17:00.",
        "day_2": "Wednesday: enter the opening and closing times, like 09:00 and 17:00.",
    }


def test_booking_with_a_service_needs_an_open_day(business):
    with pytest.raises(ValidationFailed) as info:
        onboarding.save_step(business, "booking", {**BOOKING, "hours": [{"open": False, "start": "", "end": ""}] * 7})
    assert info.value.fields == {"hours": "Open at least one day, or clients cannot book the service."}


# ------------------------------------------------------------------ secrets go to the vault

def test_crm_secrets_are_stored_in_the_vault_not_in_the_step(business, db):
    onboarding.save_step(business, "crm", {"company_login": "acme", "auth": "api_key", "api_key": KEY})
    [connection] = credentials.list_connections(business, kind=ConnectionKind.CRM)
    assert (connection.provider, connection.external_account_id) == ("simplybook", "acme")
    assert credentials.read_secrets(connection) == {"company_login": "acme", "api_key": KEY}
    row = db.session.scalar(select(OnboardingStep).where(OnboardingStep.step == "crm"))
    assert row.data == {"company_login": "acme", "auth": "api_key", "user_login": "", "connection_id": connection.id}
    assert KEY not in str(row.data)
    # Saved again without a key: the stored one is kept, no second connection.
    onboarding.save_step(business, "crm", {"company_login": "acme", "auth": "api_key", "api_key": ""})
    assert credentials.list_connections(business, kind=ConnectionKind.CRM) == [connection]
    assert credentials.read_secrets(connection)["api_key"] == KEY


def test_crm_requires_a_key_or_a_password(business):
    with pytest.raises(ValidationFailed) as info:
        onboarding.save_step(business, "crm", {"company_login": "", "auth": "user", "user_login": "", "password": ""})
    assert info.value.fields == {"company_login": "Enter your SimplyBook.me company login.", "user_login": "Enter the user login.", "password": "Enter the user's password."}


def test_channels_store_each_given_channel_and_skip_blank_ones(business, db):
    data = {
        "sender_name": "Ada at the pool", "reply_to": "Bookings@Adaspool.example",
        "sms": {"account_sid": "AC123", "from_number": "+1 312 555 0100", "auth_token": "twilio-token-1"},
        "whatsapp": {"account_sid": "", "from_number": "", "auth_token": ""},
        "messenger": {"page_id": "1234567890", "access_token": "meta-page-token-1"},
    }
    onboarding.save_step(business, "channels", data)
    connections = credentials.list_connections(business, kind=ConnectionKind.MESSAGING)
    assert [(c.provider, c.account_label) for c in connections] == [
        ("twilio", "SMS (Twilio): +13125550100"), ("meta", "Facebook Messenger (Meta): 1234567890"),
    ]
    assert credentials.read_secrets(connections[0]) == {"account_sid": "AC123", "from_number": "+13125550100", "auth_token": "twilio-token-1"}
    row = db.session.scalar(select(OnboardingStep).where(OnboardingStep.step == "channels"))
    assert row.data == {
        "sender_name": "Ada at the pool", "reply_to": "bookings@adaspool.example",
        "sms": {"account_sid": "AC123", "from_number": "+13125550100", "connection_id": connections[0].id},
        "messenger": {"page_id": "1234567890", "connection_id": connections[1].id},
    }
    assert "token" not in str(row.data)


def test_a_half_filled_channel_names_its_missing_fields(business):
    with pytest.raises(ValidationFailed) as info:
        onboarding.save_step(business, "channels", {"sms": {"account_sid": "AC1", "from_number": "", "auth_token": ""}, "reply_to": "nope"})
    assert set(info.value.fields) == {"sms.from_number", "sms.auth_token", "reply_to"}
    assert credentials.list_connections(business) == []


# ------------------------------------------------------------------ test connection

@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"company_login": "acme", "api_key": KEY}, "ok"),
        ({"company_login": "acme", "auth": "user", "user_login": "admin", "password": "s3cret-pass"}, "ok"),
        ({"company_login": "nobody", "api_key": KEY}, "wrong_company"),
        ({"company_login": "acme", "api_key": "wrong"}, "wrong_key"),
        ({"company_login": "acme", "auth": "user", "user_login": "admin", "password": "wrong"}, "wrong_user"),
    ],
)
def test_check_crm_connection_names_the_reason(business, simplybook, data, reason):
    check = onboarding.check_crm_connection(business, data)
    assert (check.ok, check.reason, check.message) == (reason == "ok", reason, onboarding.CRM_REASONS[reason])


def test_check_crm_connection_api_disabled_timeout_and_network(business, simplybook, app):
    simplybook.api_enabled["acme"] = False
    assert onboarding.check_crm_connection(business, {"company_login": "acme", "api_key": KEY}).reason == "api_disabled"
    app.config["SIMPLYBOOK_TIMEOUT"] = 1
    simplybook.api_enabled["acme"], simplybook.delay = True, 3
    assert onboarding.check_crm_connection(business, {"company_login": "acme", "api_key": KEY}).reason == "timeout"
    simplybook.delay = 0
    simplybook.stop()
    assert onboarding.check_crm_connection(business, {"company_login": "acme", "api_key": KEY}).reason == "network_error"


def test_check_crm_connection_uses_and_marks_the_stored_connection(business, simplybook):
    with pytest.raises(ValidationFailed):
        onboarding.check_crm_connection(business, {})
    onboarding.save_step(business, "crm", {"company_login": "acme", "api_key": "wrong-key-1"})
    assert onboarding.check_crm_connection(business, {}).reason == "wrong_key"
    [connection] = credentials.list_connections(business)
    assert (connection.status.value, connection.last_error) == ("needs_reconnect", onboarding.CRM_REASONS["wrong_key"])


# ------------------------------------------------------------------ complete

def test_complete_applies_every_saved_answer(business, db):
    onboarding.save_step(business, "welcome", WELCOME)
    onboarding.skip_step(business, "crm")
    onboarding.save_step(business, "booking", BOOKING)
    onboarding.save_step(business, "channels", {"sender_name": "Ada at the pool", "reply_to": "bookings@adaspool.example"})
    onboarding.save_step(business, "automations", {"confirmation": True, "reminders": "on", "no_show_follow_up": "", "review_request": False})
    summary = onboarding.complete(business)

    db.session.expire_all()
    assert (business.name, business.timezone, business.currency, business.country, business.email, business.phone, business.address) == (
        "Ada's Pool", "America/Chicago", "USD", "US", "hello@adaspool.example", "+13125550142", "1 Lake Shore Dr",
    )
    assert (business.email_sender_name, business.email_reply_to) == ("Ada at the pool", "bookings@adaspool.example")
    s = business.settings
    assert (s.requires_approval, s.min_advance_booking_hours, s.max_advance_booking_days) == (True, 4, 60)
    [service] = business.services
    assert (service.name, service.duration_minutes, service.price, service.capacity, [m.id for m in service.staff]) == (
        "Aqua fit", 45, Decimal("12.50"), 10, [business.staff[0].id],
    )
    assert [(h.weekday, h.start_time, h.end_time) for h in business.staff[0].weekly_hours] == [(d, time(8, 30), time(16)) for d in range(5)]
    rules = {r.kind: r.enabled for r in db.session.scalars(select(AutomationRule))}
    assert rules == {"confirmation": True, "reminders": True, "no_show_follow_up": False, "review_request": False}
    assert summary["configured"] == ["Your business", "Booking set-up", "Channels", "Automations"]
    assert summary["skipped"] == ["CRM connection"]
    status = onboarding.status(business)
    assert (status.completed, status.current, status.bookable) == (True, "done", True)
    # Applied answers are dropped: reopening the wizard shows the live settings.
    assert onboarding.status(business).steps[0].data == {}
    assert onboarding.step_values(business, "welcome")["name"] == "Ada's Pool"
    assert onboarding.step_values(business, "booking")["template"] == "none"


def test_complete_is_one_transaction(business, db, monkeypatch):
    onboarding.save_step(business, "welcome", WELCOME)
    onboarding.save_step(business, "booking", BOOKING)
    name = business.name

    def boom(**fields):  # the hours are written after the profile and the settings
        raise RuntimeError("disk full")

    monkeypatch.setattr(onboarding, "WeeklyHours", boom)
    with pytest.raises(RuntimeError):
        onboarding.complete(business)
    db.session.expire_all()
    assert business.name == name and business.services == [] and not business.settings.requires_approval
    assert [(h.weekday, h.start_time) for h in business.staff[0].weekly_hours] == [(d, time(9)) for d in range(5)]
    assert not onboarding.status(business).completed
    assert onboarding.status(business).steps[0].data["name"] == "Ada's Pool"  # still saved, ready to retry


def test_saving_the_done_step_completes(business):
    onboarding.save_step(business, "welcome", WELCOME)
    onboarding.save_step(business, "done", {})
    assert onboarding.is_completed(business) and business.name == "Ada's Pool"


# ------------------------------------------------------------------ checklist

def test_checklist_items_follow_real_state(business, factory):
    assert [(i.key, i.done) for i in onboarding.checklist(business)] == [("service", False), ("hours", False), ("preview", False), ("share", False)]
    assert onboarding.show_checklist(business)
    factory.service(business, name="Lesson")
    onboarding.mark_checklist(business, "preview")
    onboarding.mark_checklist(business, "share")
    assert [i.done for i in onboarding.checklist(business)] == [True, False, True, True]
    onboarding.mark_checklist(business, "hours")
    assert all(i.done for i in onboarding.checklist(business))
    assert not onboarding.show_checklist(business)
    with pytest.raises(NotFound):
        onboarding.mark_checklist(business, "service")


def test_a_service_with_nobody_working_is_not_bookable(business, factory):
    factory.service(business, name="Lesson")
    assert onboarding.is_bookable(business)
    business_service.set_weekly_hours(business.staff[0], {d: [] for d in range(7)})
    assert not onboarding.is_bookable(business)


# ------------------------------------------------------------------ sign-up defaults

@pytest.mark.parametrize(
    ("zone", "country", "currency"),
    [("America/Chicago", "US", "USD"), ("Europe/London", "GB", "GBP"), ("Europe/Paris", "FR", "EUR"),
     ("Asia/Tokyo", "JP", "JPY"), ("Asia/Calcutta", "IN", "INR"), ("UTC", None, "USD")],
)
def test_country_and_currency_from_the_zone(zone, country, currency):
    assert business_service.country_for_zone(zone) == country
    assert business_service.currency_for_zone(zone) == currency


def test_client_emails_use_the_sender_name_and_reply_to(business, factory, db):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from app.services.emails import build_booking_email
    from tests.conftest import next_weekday

    service = factory.service(business, name="Lesson")
    start = datetime.combine(next_weekday(1), time(10), tzinfo=ZoneInfo("Europe/London"))
    booking = factory.booking(business, service, start)
    before = build_booking_email(booking, "confirmed")
    assert (before.from_name, before.reply_to) == (business.name, "owner@example.com")
    onboarding.save_step(business, "channels", {"sender_name": "Ada at the pool", "reply_to": "desk@adaspool.example"})
    onboarding.complete(business)
    client = build_booking_email(booking, "confirmed")
    assert (client.from_name, client.reply_to) == ("Ada at the pool", "desk@adaspool.example")
    owner = build_booking_email(booking, "owner_confirmed")
    assert owner.from_name == business.name  # the owner's own e-mails keep the business name
