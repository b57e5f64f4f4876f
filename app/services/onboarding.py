"""The set-up wizard: six steps whose answers are saved per business and step, applied together.

Steps, in order (:data:`STEPS`): ``welcome`` (name, zone, currency, language, country and the
contact details the public page shows), ``crm`` (a SimplyBook.me account), ``booking`` (a first
service, weekly hours, approval, notice and advance limits), ``channels`` (e-mail sender name and
reply-to; SMS, WhatsApp, Messenger and Instagram credentials), ``automations`` (which default
automations to switch on) and ``done``.

Saving a step (:func:`save_step`) validates every field at once and raises
:class:`~app.services.errors.ValidationFailed` with a message per field; it records the
NON-secret answers in the step's :class:`~app.models.OnboardingStep` row (status ``done``) and
nothing else, except secrets: a CRM key or password and messaging tokens go straight into the
vault (:mod:`app.services.credentials`) as Connection rows, and the step keeps the connection's id.
:func:`skip_step` marks a step ``skipped``. :func:`resume_step` is the first step neither done nor
skipped, so an owner who leaves comes back where they stopped.

:func:`complete` applies every saved answer to the live business (profile, service, hours,
booking settings, e-mail sender, automation switches) in ONE transaction: all of it or, on any
error, none. Afterwards the applied answers are dropped from the steps (the live settings are the
truth from then on; reopening the wizard shows them), and the ``done`` step keeps a summary of
what was configured and what was skipped.

:func:`checklist` is what the overview shows an owner who has not finished: each item computed
from real state (a bookable service, hours checked, the page previewed, the link shared); the last
two, and "these hours are right", are recorded by :func:`mark_checklist` when the owner clicks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from babel.numbers import list_currencies
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.i18n import LANGUAGES
from app.integrations.errors import IntegrationError, TemporaryError
from app.integrations.http import RetryPolicy
from app.integrations import simplybook
from app.models import (
    AutomationRule,
    Business,
    Connection,
    ConnectionKind,
    OnboardingStep,
    Service,
    StaffMember,
    StepStatus,
    WeeklyHours,
    utcnow,
)
from app.models.onboarding import AUTOMATION_KINDS
from app.services import business_service, credentials
from app.services.clients import InvalidContact, normalise_email, normalise_phone
from app.services.errors import NotFound, ValidationFailed
from app.services.locks import unit_of_work
from app.text import BadText, check_line
from app.timezones import canonical_zone, is_timezone

STEPS = ("welcome", "crm", "booking", "channels", "automations", "done")
TITLES = {
    "welcome": "Your business",
    "crm": "CRM connection",
    "booking": "Booking set-up",
    "channels": "Channels",
    "automations": "Automations",
    "done": "Done",
}
#: Steps that may be skipped (the owner fills them in later, or never).
SKIPPABLE = ("crm", "channels", "automations")
CHECKLIST = "checklist"  # the row holding the overview checklist's marks
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

#: The booking step's service templates: (key, label, name, minutes, price, seats).
SERVICE_TEMPLATES = {
    "consultation": ("Free consultation", "Consultation", 30, "0.00", 1),
    "appointment": ("One-to-one appointment", "Appointment", 60, "50.00", 1),
    "class": ("Group class", "Group class", 60, "15.00", 8),
    "blank": ("Blank: I'll describe it", "", 60, "0.00", 1),
    "none": ("No new service", "", 60, "0.00", 1),
}
AUTOMATION_LABELS = {
    "confirmation": "Confirmation message when a booking is made",
    "reminders": "Reminders before the appointment",
    "no_show_follow_up": "Follow-up after a no-show",
    "review_request": "Review request after the visit",
}
CHANNELS = {
    # key: (label, provider, secret field, fields [(name, label)])
    "sms": ("SMS (Twilio)", "twilio", "auth_token", [("account_sid", "Account SID"), ("from_number", "Sending number")]),
    "whatsapp": ("WhatsApp (Twilio)", "twilio", "auth_token", [("account_sid", "Account SID"), ("from_number", "WhatsApp number")]),
    "messenger": ("Facebook Messenger (Meta)", "meta", "access_token", [("page_id", "Facebook Page ID")]),
    "instagram": ("Instagram (Meta)", "meta", "access_token", [("account_id", "Instagram account ID")]),
}
SECRET_LABELS = {"auth_token": "Auth token", "access_token": "Page access token"}
CRM_REASONS = {
    "ok": "Connected: SimplyBook.me accepted the credentials.",
    "wrong_company": "SimplyBook.me has no company with this company login. Check the login (it is in your SimplyBook.me address, e.g. mycompany.simplybook.me).",
    "wrong_key": "The company exists but SimplyBook.me refused this API key. Copy the key again from Settings → Custom Features → API.",
    "wrong_user": "No SimplyBook.me user has this login and password in this company.",
    "api_disabled": "The company has not switched on SimplyBook.me's API: enable the “API” custom feature in SimplyBook.me, then test again.",
    "network_error": "SimplyBook.me could not be reached (network error). Try again in a moment.",
    "timeout": "SimplyBook.me did not answer in time. Try again in a moment.",
}


# ------------------------------------------------------------------ state

@dataclass(frozen=True)
class StepState:
    step: str
    title: str
    status: str  # "pending", "done" or "skipped"
    data: dict
    updated_at: datetime | None


@dataclass(frozen=True)
class WizardStatus:
    """Where a business is in the wizard: every step's state, the step to resume at, whether it
    was completed (applied) and whether anything can be booked on its page now."""

    steps: list[StepState]
    current: str
    completed: bool
    bookable: bool


@dataclass(frozen=True)
class ChecklistItem:
    key: str  # "service", "hours", "preview", "share"
    label: str
    done: bool


@dataclass(frozen=True)
class CrmCheck:
    """The answer of a connection test: ``ok``, ``reason`` (a key of :data:`CRM_REASONS`) and
    its ``message`` for people."""

    ok: bool
    reason: str
    message: str


def _rows(business: Business) -> dict[str, OnboardingStep]:
    rows = db.session.scalars(select(OnboardingStep).where(OnboardingStep.business_id == business.id))
    return {row.step: row for row in rows}


def _check_step(step: str) -> str:
    if step not in STEPS:
        raise NotFound("No such set-up step.")
    return step


def status(business: Business) -> WizardStatus:
    """The wizard's state for ``business`` (reads only)."""
    rows = _rows(business)
    steps = [
        StepState(step, TITLES[step], rows[step].status.value if step in rows else "pending",
                  dict(rows[step].data or {}) if step in rows else {}, rows[step].updated_at if step in rows else None)
        for step in STEPS
    ]
    done = rows.get("done")
    return WizardStatus(steps, _resume(rows), done is not None and done.status == StepStatus.DONE, is_bookable(business))


def _resume(rows: dict[str, OnboardingStep]) -> str:
    for step in STEPS:
        row = rows.get(step)
        if row is None or row.status == StepStatus.PENDING:
            return step
    return "done"


def resume_step(business: Business) -> str:
    """The step to show an owner who opens the wizard: the first one neither done nor skipped
    (``done`` once all are)."""
    return _resume(_rows(business))


def next_step(step: str) -> str:
    i = STEPS.index(_check_step(step))
    return STEPS[min(i + 1, len(STEPS) - 1)]


def previous_step(step: str) -> str | None:
    i = STEPS.index(_check_step(step))
    return STEPS[i - 1] if i else None


def is_completed(business: Business) -> bool:
    row = _rows(business).get("done")
    return row is not None and row.status == StepStatus.DONE


def is_bookable(business: Business) -> bool:
    """True when a client can book something now: the link is on and an active, bookable
    service is offered by an active staff member who has weekly hours."""
    if not business.settings or not business.settings.is_active:
        return False
    return any(
        staff.is_active and staff.weekly_hours
        for service in business.services if service.is_active and service.is_bookable
        for staff in service.staff
    )


def _owner_staff(business: Business) -> StaffMember | None:
    """The staff member whose hours the wizard sets: the first active one with a login (the owner
    at sign-up), else the first active one."""
    active = [s for s in business.staff if s.is_active]
    return next((s for s in active if s.user_id is not None), active[0] if active else None)


# ------------------------------------------------------------------ what a step's form shows

def step_values(business: Business, step: str, *, browser_language: str | None = None) -> dict[str, Any]:
    """The values a step's form starts with: the live settings (or sensible defaults), overlaid
    with the answers saved for the step. ``browser_language``: the best of
    :data:`~app.i18n.LANGUAGES` for the browser, offered as the e-mail language before the owner
    chose one."""
    row = _rows(business).get(_check_step(step))
    saved = dict(row.data or {}) if row is not None else {}
    if step == "welcome":
        country = business.country or business_service.country_for_zone(business.timezone) or ""
        language = business.language
        if language == "en" and browser_language in LANGUAGES and not is_completed(business):
            language = browser_language
        values = {
            "name": business.name, "timezone": canonical_zone(business.timezone) or business.timezone,
            "currency": business.currency, "language": language, "country": country,
            "email": business.email or "", "phone": business.phone or "", "address": business.address or "",
        }
    elif step == "crm":
        values = {"company_login": "", "auth": "api_key", "user_login": ""}
        connection = _crm_connection(business)
        values["stored"] = connection is not None
        if connection is not None:
            values["company_login"] = connection.external_account_id or ""
    elif step == "booking":
        has_service = any(s.is_active and s.is_bookable for s in business.services)
        template = "none" if has_service else "appointment"
        _label, name, minutes, price, seats = SERVICE_TEMPLATES[template]
        values = {
            "template": template, "service_name": name, "duration_minutes": str(minutes), "price": price,
            "capacity": str(seats), "requires_approval": business.settings.requires_approval,
            "min_advance_booking_hours": str(business.settings.min_advance_booking_hours),
            "max_advance_booking_days": str(business.settings.max_advance_booking_days),
            "hours": _live_hours(business),
        }
    elif step == "channels":
        values = {"sender_name": business.email_sender_name or "", "reply_to": business.email_reply_to or ""}
        for key, (_label, provider, _secret, fields) in CHANNELS.items():
            connection = _channel_connection(business, key)
            values[key] = {"stored": connection is not None, **{name: "" for name, _ in fields}}
            if connection is not None:
                values[key].update({name: value for name, value in (saved.get(key) or {}).items() if name in dict(fields)})
    elif step == "automations":
        rules = {r.kind: r.enabled for r in db.session.scalars(select(AutomationRule).where(AutomationRule.business_id == business.id))}
        values = {kind: rules.get(kind, True) for kind in AUTOMATION_KINDS}
    else:
        values = {}
    for key, value in saved.items():
        if key in values and not isinstance(values[key], dict):
            values[key] = value
    return values


def _live_hours(business: Business) -> list[dict]:
    """``[{"open", "start", "end"}]`` per weekday (Monday first) from the owner's weekly hours:
    the day's first start to its last end."""
    staff = _owner_staff(business)
    days = [{"open": False, "start": "09:00", "end": "17:00"} for _ in range(7)]
    for row in staff.weekly_hours if staff else []:
        day = days[row.weekday]
        if not day["open"]:
            day.update(open=True, start=f"{row.start_time:%H:%M}", end=f"{row.end_time:%H:%M}")
        else:
            day["end"] = max(day["end"], f"{row.end_time:%H:%M}")
    return days


# ------------------------------------------------------------------ saving steps

def _text(data: dict, name: str, errors: dict, *, required: str | None = None, max_length: int = 255) -> str:
    value = data.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = "Must be text."
        return ""
    value = value.strip()
    try:
        check_line(value)
    except BadText as exc:
        errors[name] = str(exc)
        return ""
    if required and not value:
        errors[name] = required
    elif len(value) > max_length:
        errors[name] = f"At most {max_length} characters."
    return value


def _int(data: dict, name: str, errors: dict, lo: int, hi: int) -> int | None:
    raw = data.get(name)
    try:
        if isinstance(raw, bool):
            raise ValueError
        value = int(raw.strip()) if isinstance(raw, str) else int(raw)
        if isinstance(raw, float) and not raw.is_integer():
            raise ValueError
    except (TypeError, ValueError):
        errors[name] = f"Enter a whole number from {lo} to {hi}."
        return None
    if not lo <= value <= hi:
        errors[name] = f"Enter a whole number from {lo} to {hi}."
        return None
    return value


def _flag(data: dict, name: str) -> bool:
    value = data.get(name)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "on", "true", "yes", "y")
    return bool(value)


_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _welcome(business: Business, data: dict) -> dict:
    errors: dict[str, str] = {}
    answers = {"name": _text(data, "name", errors, required="Please enter your business's name.", max_length=120)}
    zone = _text(data, "timezone", errors, max_length=64)
    if not is_timezone(zone):
        errors["timezone"] = "Choose a time zone from the list."
    answers["timezone"] = canonical_zone(zone) or zone
    currency = _text(data, "currency", errors, max_length=3).upper()
    if currency not in list_currencies():
        errors["currency"] = "Choose a currency from the list."
    answers["currency"] = currency
    language = _text(data, "language", errors, max_length=8)
    if language not in LANGUAGES:
        errors["language"] = "Choose one of the languages listed."
    answers["language"] = language
    country = _text(data, "country", errors, max_length=2).upper()
    if country and country not in phonenumbers.SUPPORTED_REGIONS:
        errors["country"] = "Choose a country from the list."
    answers["country"] = country
    email = _text(data, "email", errors)
    try:
        answers["email"] = normalise_email(email) or ""
    except InvalidContact as exc:
        errors.setdefault("email", str(exc))
    phone = _text(data, "phone", errors, max_length=40)
    try:
        answers["phone"] = normalise_phone(phone, country if country in phonenumbers.SUPPORTED_REGIONS else None) or ""
    except InvalidContact as exc:
        errors.setdefault("phone", str(exc))
    answers["address"] = _text(data, "address", errors)
    _raise(errors)
    return answers


def _booking(business: Business, data: dict) -> dict:
    errors: dict[str, str] = {}
    template = data.get("template") or "none"
    if not isinstance(template, str) or template not in SERVICE_TEMPLATES:
        errors["template"] = "Choose one of the templates."
        template = "none"
    answers: dict[str, Any] = {"template": template}
    if template != "none":
        answers["service_name"] = _text(data, "service_name", errors, required="Please name the service.", max_length=120)
        answers["duration_minutes"] = _int(data, "duration_minutes", errors, 5, 1440)
        answers["capacity"] = _int(data, "capacity", errors, 1, 500)
        price = data.get("price")
        try:
            amount = Decimal(str(price).strip())
            if not amount.is_finite() or amount < 0 or amount >= Decimal("100000000") or amount.as_tuple().exponent < -2:
                raise InvalidOperation
            answers["price"] = f"{amount:.2f}"
        except (InvalidOperation, ValueError):
            errors["price"] = "Enter a price from 0 to 99,999,999.99 with at most two decimals (0 for free)."
    answers["requires_approval"] = _flag(data, "requires_approval")
    answers["min_advance_booking_hours"] = _int(data, "min_advance_booking_hours", errors, 0, 720)
    answers["max_advance_booking_days"] = _int(data, "max_advance_booking_days", errors, 1, 730)
    hours = data.get("hours")
    if not isinstance(hours, list) or len(hours) != 7 or not all(isinstance(d, dict) for d in hours):
        errors["hours"] = "Give the hours of all seven days, Monday first."
        hours = []
    days = []
    for i, day in enumerate(hours):
        is_open = _flag(day, "open")
        start, end = str(day.get("start") or "").strip(), str(day.get("end") or "").strip()
        if is_open:
            if not _TIME.match(start) or not _TIME.match(end):
                errors[f"day_{i}"] = f"{WEEKDAYS[i]}: enter the opening and closing times, like 09:00 and 17:00."
            elif end <= start:
                errors[f"day_{i}"] = f"{WEEKDAYS[i]}: {end} must be after {start}."
        days.append({"open": is_open, "start": start if _TIME.match(start) else "09:00", "end": end if _TIME.match(end) else "17:00"})
    if days and template != "none" and not any(d["open"] for d in days):
        errors.setdefault("hours", "Open at least one day, or clients cannot book the service.")
    answers["hours"] = days
    _raise(errors)
    return answers


def _channels(business: Business, data: dict) -> tuple[dict, dict[str, dict]]:
    """``(answers, secrets per channel to store)``."""
    errors: dict[str, str] = {}
    answers: dict[str, Any] = {"sender_name": _text(data, "sender_name", errors, max_length=120)}
    reply_to = _text(data, "reply_to", errors)
    try:
        answers["reply_to"] = normalise_email(reply_to) or ""
    except InvalidContact as exc:
        errors.setdefault("reply_to", str(exc))
    to_store: dict[str, dict] = {}
    for key, (_label, _provider, secret_name, fields) in CHANNELS.items():
        given = data.get(key) or {}
        if not isinstance(given, dict):
            errors[key] = "Must be an object of fields."
            continue
        field_errors: dict[str, str] = {}
        values = {name: _text(given, name, field_errors, max_length=120) for name, _ in fields}
        errors.update({f"{key}.{name}": message for name, message in field_errors.items()})
        secret = given.get(secret_name) or ""
        if not isinstance(secret, str) or len(secret) > 500:
            errors[f"{key}.{secret_name}"] = "At most 500 characters of text."
            continue
        secret = secret.strip()
        stored = _channel_connection(business, key) is not None
        if not any(values.values()) and not secret:
            continue  # left blank: this channel is skipped (or keeps what is stored)
        for name, label in fields:
            if not values[name]:
                errors[f"{key}.{name}"] = f"Enter the {label}, or leave this channel blank."
        if not secret and not stored:
            errors[f"{key}.{secret_name}"] = f"Enter the {SECRET_LABELS[secret_name].lower()}, or leave this channel blank."
        if "from_number" in values and values["from_number"]:
            try:
                values["from_number"] = normalise_phone(values["from_number"], business.country)
            except InvalidContact as exc:
                errors[f"{key}.from_number"] = str(exc)
        answers[key] = values
        to_store[key] = {"secret": secret, **values}
    _raise(errors)
    return answers, to_store


def _automations(data: dict) -> dict:
    return {kind: _flag(data, kind) for kind in AUTOMATION_KINDS}


def _raise(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors)


def save_step(business: Business, step: str, data: dict) -> OnboardingStep:
    """Validate ``data`` (form or JSON values, see each step's fields) for ``step`` and save it:
    the non-secret answers in the step's row, status ``done``; the CRM and channel secrets in the
    vault (a new Connection, or the business's existing one of that provider updated). Nothing
    is applied to the live settings (:func:`complete` does). The ``done`` step completes the
    wizard. Raises :class:`ValidationFailed` (``fields``: a message per field; channel fields
    as ``"sms.account_sid"``), :class:`NotFound` for an unknown step."""
    _check_step(step)
    if not isinstance(data, dict):
        raise ValidationFailed("Send the step's fields as an object.", {"data": "Must be an object."})
    if step == "done":
        complete(business)
        return _rows(business)["done"]
    if step == "welcome":
        answers = _welcome(business, data)
    elif step == "crm":
        answers = _save_crm(business, data)
    elif step == "booking":
        answers = _booking(business, data)
    elif step == "channels":
        answers, to_store = _channels(business, data)
        for key, values in to_store.items():
            answers[key]["connection_id"] = _store_channel(business, key, values)
    else:
        answers = _automations(data)
    return _write(business, step, StepStatus.DONE, answers)


def skip_step(business: Business, step: str) -> OnboardingStep:
    """Mark ``step`` skipped (its saved answers kept, unused). Only the CRM, channels and
    automations steps can be skipped; raises :class:`ValidationFailed` for the others."""
    if _check_step(step) not in SKIPPABLE:
        raise ValidationFailed(f"The {TITLES[step].lower()} step cannot be skipped.", {"step": "This step cannot be skipped."})
    row = _rows(business).get(step)
    return _write(business, step, StepStatus.SKIPPED, dict(row.data or {}) if row else {})


def _write(business: Business, step: str, status_: StepStatus, data: dict) -> OnboardingStep:
    with unit_of_work():
        row = db.session.scalar(
            select(OnboardingStep).where(OnboardingStep.business_id == business.id, OnboardingStep.step == step).with_for_update()
        )
        if row is None:
            row = OnboardingStep(business_id=business.id, step=step)
            db.session.add(row)
        row.status, row.data, row.updated_at = status_, data, utcnow()
    return row


# ------------------------------------------------------------------ the vault

def _crm_connection(business: Business) -> Connection | None:
    rows = credentials.list_connections(business, kind=ConnectionKind.CRM, provider="simplybook")
    return next((c for c in rows if c.staff_member_id is None), None)


def _channel_connection(business: Business, key: str) -> Connection | None:
    provider = CHANNELS[key][1]
    rows = credentials.list_connections(business, kind=ConnectionKind.MESSAGING, provider=provider)
    return next((c for c in rows if c.staff_member_id is None and c.account_label.startswith(CHANNELS[key][0] + ":")), None)


def _crm_secrets(data: dict, errors: dict) -> tuple[str, dict[str, str]]:
    company = _text(data, "company_login", errors, required="Enter your SimplyBook.me company login.", max_length=120)
    auth = data.get("auth") or "api_key"
    if not isinstance(auth, str) or auth not in ("api_key", "user"):
        errors["auth"] = "Choose an API key or a user log-in."
        return company, {}
    if auth == "api_key":
        key = data.get("api_key") or ""
        if not isinstance(key, str) or not key.strip():
            errors["api_key"] = "Enter the API key (SimplyBook.me: Settings → Custom Features → API)."
            return company, {}
        return company, {"company_login": company, "api_key": key.strip()}
    user = _text(data, "user_login", errors, required="Enter the user login.", max_length=120)
    password = data.get("password") or ""
    if not isinstance(password, str) or not password:
        errors["password"] = "Enter the user's password."
        return company, {}
    return company, {"company_login": company, "user_login": user, "password": password}


def _save_crm(business: Business, data: dict) -> dict:
    errors: dict[str, str] = {}
    existing = _crm_connection(business)
    blank_secret = not (data.get("api_key") or data.get("password"))
    if existing is not None and blank_secret:
        # Nothing new typed: keep the stored credentials (they are never shown back).
        company = _text(data, "company_login", errors, max_length=120) or existing.external_account_id or ""
        _raise(errors)
        row = _rows(business).get("crm")
        before = dict(row.data or {}) if row is not None else {}
        return {
            "company_login": company, "auth": before.get("auth", "api_key"), "user_login": before.get("user_login", ""),
            "connection_id": existing.id,
        }
    company, secrets = _crm_secrets(data, errors)
    _raise(errors)
    label = f"{company}.simplybook" + (f" ({secrets['user_login']})" if "user_login" in secrets else "")
    if existing is None:
        connection = credentials.create_connection(
            business, provider="simplybook", kind=ConnectionKind.CRM, secrets=secrets, account_label=label, external_account_id=company,
        )
    else:
        connection = credentials.save_secrets(existing, secrets)
        with unit_of_work():
            connection.account_label, connection.external_account_id = label[:255], company
    return {
        "company_login": company, "auth": "user" if "user_login" in secrets else "api_key",
        "user_login": secrets.get("user_login", ""), "connection_id": connection.id,
    }


def _store_channel(business: Business, key: str, values: dict) -> int:
    label, provider, secret_name, fields = CHANNELS[key]
    public = {name: values[name] for name, _ in fields}
    account = public.get("from_number") or public.get("page_id") or public.get("account_id") or ""
    existing = _channel_connection(business, key)
    if existing is not None and not values["secret"]:
        secrets = credentials.read_secrets(existing)
        secrets.update(public)
        credentials.save_secrets(existing, secrets)
        connection = existing
    else:
        secrets = {**public, secret_name: values["secret"]}
        if existing is None:
            connection = credentials.create_connection(
                business, provider=provider, kind=ConnectionKind.MESSAGING, secrets=secrets,
                account_label=f"{label}: {account}", external_account_id=account,
            )
        else:
            connection = credentials.save_secrets(existing, secrets)
    with unit_of_work():
        connection.account_label, connection.external_account_id = f"{label}: {account}"[:255], account
    return connection.id


# ------------------------------------------------------------------ test connection

def check_crm_connection(business: Business, data: dict | None = None) -> CrmCheck:
    """Try SimplyBook.me credentials: those in ``data`` (``company_login`` with ``api_key``, or
    ``auth="user"`` with ``user_login`` and ``password``), else the business's stored ones. One
    log-in call, no retries, ``SIMPLYBOOK_TIMEOUT`` seconds at most. Marks a stored connection
    ok or failing. Raises :class:`ValidationFailed` when neither is given; every answer of the
    provider (and its silence) is a :class:`CrmCheck`."""
    data = data or {}
    errors: dict[str, str] = {}
    connection = None
    if data.get("api_key") or data.get("password") or data.get("user_login"):
        _company, secrets = _crm_secrets(data, errors)
        _raise(errors)
    else:
        connection = _crm_connection(business)
        if connection is None:
            raise ValidationFailed(
                "Enter the company login and an API key (or a user log-in) to test.",
                {"company_login": "Enter your SimplyBook.me company login.", "api_key": "Enter the API key."},
            )
        secrets = credentials.read_secrets(connection)
    client = simplybook.client_from(secrets, current_app.config, retry=RetryPolicy(retries=0, read_retries=0))
    reason = "ok"
    try:
        with client:
            client.authenticate()
    except simplybook.CompanyNotFound:
        reason = "wrong_company"
    except simplybook.WrongApiKey:
        reason = "wrong_key"
    except simplybook.WrongUserCredentials:
        reason = "wrong_user"
    except simplybook.ApiNotEnabled:
        reason = "api_disabled"
    except simplybook.SimplyBookTimeout:
        reason = "timeout"
    except TemporaryError:
        reason = "network_error"
    except IntegrationError:
        reason = "network_error"
    if connection is not None:
        if reason == "ok":
            credentials.record_ok(connection)
        else:
            credentials.record_error(connection, CRM_REASONS[reason], needs_reconnect=reason in ("wrong_company", "wrong_key", "wrong_user", "api_disabled"))
    return CrmCheck(reason == "ok", reason, CRM_REASONS[reason])


# ------------------------------------------------------------------ completing

def complete(business: Business) -> dict:
    """Apply every saved answer to the live business in ONE transaction and mark the wizard
    done: the welcome step's profile, the booking step's new service (offered by the owner's
    staff member), weekly hours and booking settings, the channels step's e-mail sender name and
    reply-to, the automations step's switches (an ``AutomationRule`` per kind). A step neither
    saved nor skipped counts as skipped. Returns the summary kept on the ``done`` step:
    ``{"configured": [titles], "skipped": [titles], "completed_at": iso}``. Raises
    :class:`ValidationFailed` when a saved answer no longer applies (the business is unchanged)."""
    rows = _rows(business)
    answers = {step: dict(row.data or {}) for step, row in rows.items() if row.status == StepStatus.DONE}
    configured, skipped = [], []
    for step in STEPS[:-1]:
        (configured if step in answers else skipped).append(TITLES[step])
    staff = _owner_staff(business)
    business_id = business.id
    with unit_of_work(lock_staff=[staff.id] if staff else ()):
        business = db.session.get(Business, business_id)
        welcome = answers.get("welcome")
        if welcome:
            business.name = welcome["name"]
            business.timezone = welcome["timezone"]
            business.currency = welcome["currency"]
            business.language = welcome["language"]
            business.country = welcome["country"] or None
            business.email, business.phone, business.address = welcome["email"], welcome["phone"], welcome["address"]
        booking = answers.get("booking")
        if booking:
            settings = business.settings
            settings.requires_approval = booking["requires_approval"]
            settings.min_advance_booking_hours = booking["min_advance_booking_hours"]
            settings.max_advance_booking_days = booking["max_advance_booking_days"]
            if staff is not None:
                staff = db.session.get(StaffMember, staff.id)
                staff.weekly_hours.clear()
                db.session.flush()
                for weekday, day in enumerate(booking["hours"]):
                    if day["open"]:
                        staff.weekly_hours.append(
                            WeeklyHours(weekday=weekday, start_time=time.fromisoformat(day["start"]), end_time=time.fromisoformat(day["end"]))
                        )
            if booking["template"] != "none":
                service = Service(
                    business_id=business.id, name=booking["service_name"], duration_minutes=booking["duration_minutes"],
                    price=Decimal(booking["price"]), capacity=booking["capacity"],
                )
                service.staff = [staff] if staff is not None else []
                db.session.add(service)
        channels = answers.get("channels")
        if channels:
            business.email_sender_name = channels.get("sender_name") or None
            business.email_reply_to = channels.get("reply_to") or None
        automations = answers.get("automations")
        if automations:
            rules = {r.kind: r for r in db.session.scalars(select(AutomationRule).where(AutomationRule.business_id == business.id))}
            for kind in AUTOMATION_KINDS:
                rule = rules.get(kind) or AutomationRule(business_id=business.id, kind=kind)
                rule.enabled = bool(automations.get(kind))
                db.session.add(rule)
        # The live settings are the truth from now on: drop what was applied, keep the vault
        # references (CRM and channel connection ids).
        for step in ("welcome", "booking", "automations"):
            if step in rows:
                rows[step].data = {}
        if "channels" in rows:
            rows["channels"].data = {k: v for k, v in (rows["channels"].data or {}).items() if k in CHANNELS}
        for step in STEPS[:-1]:
            if step not in rows:
                db.session.add(OnboardingStep(business_id=business.id, step=step, status=StepStatus.SKIPPED, data={}))
        summary = {"configured": configured, "skipped": skipped, "completed_at": utcnow().isoformat()}
        done = rows.get("done") or OnboardingStep(business_id=business.id, step="done")
        done.status, done.data, done.updated_at = StepStatus.DONE, summary, utcnow()
        db.session.add(done)
    return summary


# ------------------------------------------------------------------ the overview checklist

CHECKLIST_ITEMS = {
    "service": "Add a service",
    "hours": "Check your hours",
    "preview": "Preview your page",
    "share": "Share your link",
}


def checklist(business: Business) -> list[ChecklistItem]:
    """The overview's checklist, each item from real state: ``service`` a bookable service is
    offered (:func:`is_bookable`), ``hours`` the wizard's booking step was saved, the owner's
    weekly hours differ from the sign-up default (edited on the Hours page) or the owner said
    they are right, ``preview`` the page was opened from the dashboard, ``share`` the
    link was copied or shared from the dashboard."""
    rows = _rows(business)
    marks = dict(rows[CHECKLIST].data or {}) if CHECKLIST in rows else {}
    booking = rows.get("booking")
    staff = _owner_staff(business)
    hours = sorted((h.weekday, h.start_time, h.end_time) for h in staff.weekly_hours) if staff else []
    done = {
        "service": is_bookable(business),
        # Hours that differ from the sign-up default were edited, so they were looked at.
        "hours": bool(marks.get("hours")) or (booking is not None and booking.status == StepStatus.DONE)
        or hours != sorted(business_service.DEFAULT_HOURS),
        "preview": bool(marks.get("preview")),
        "share": bool(marks.get("share")),
    }
    return [ChecklistItem(key, label, done[key]) for key, label in CHECKLIST_ITEMS.items()]


def mark_checklist(business: Business, item: str) -> None:
    """Record that the owner checked their hours (``hours``), opened their page (``preview``) or
    copied or shared their link (``share``), at the current instant. Raises :class:`NotFound`
    for another item."""
    if item not in ("hours", "preview", "share"):
        raise NotFound("No such checklist item.")
    with unit_of_work():
        row = db.session.scalar(
            select(OnboardingStep).where(OnboardingStep.business_id == business.id, OnboardingStep.step == CHECKLIST).with_for_update()
        )
        if row is None:
            row = OnboardingStep(business_id=business.id, step=CHECKLIST, status=StepStatus.PENDING, data={})
            db.session.add(row)
        if not (row.data or {}).get(item):
            row.data = {**(row.data or {}), item: utcnow().isoformat()}


def show_checklist(business: Business) -> bool:
    """Whether the overview shows the checklist: the wizard is not completed (skipped or left
    half-way) and some item is not done."""
    return not is_completed(business) and not all(item.done for item in checklist(business))
