"""The set-up wizard: ``/dashboard/welcome`` (the step to resume at) and one plain page per step,
``/dashboard/welcome/<step>``. With HTMX each step's form swaps the ``wizard`` block in place and
pushes the next step's URL; without JavaScript every button is a form post answered by a redirect
(or the same step again, with its errors). The work is :mod:`app.services.onboarding`'s.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from urllib.parse import quote

import segno
from flask import abort, current_app, redirect, request, url_for
from markupsafe import Markup

from app.auth.forms import CURRENCIES
from app.dashboard import bp
from app.dashboard.common import current_business, is_owner
from app.i18n import LANGUAGES, format_price
from app.phones import country_choices
from app.services import onboarding as wizard_service
from app.services.errors import ValidationFailed
from app.timezones import zone_choices
from app.models import utcnow
from app.web import render, wants_fragment


def _owner_only():
    if not is_owner():
        abort(403)


def _form_data(step: str) -> dict:
    """The posted form as the service's data: ``a.b`` names nest (``sms.account_sid``), the
    booking step's ``day_<n>_open/start/end`` become ``hours``."""
    data: dict = {}
    for name in request.form:
        if name in ("csrf_token", "action") or name.startswith("day_"):
            continue
        value = request.form.get(name)
        if "." in name:
            group, key = name.split(".", 1)
            data.setdefault(group, {})[key] = value
        else:
            data[name] = value
    if step == "booking":
        data["hours"] = [
            {"open": request.form.get(f"day_{i}_open"), "start": request.form.get(f"day_{i}_start", ""), "end": request.form.get(f"day_{i}_end", "")}
            for i in range(7)
        ]
    return data


def _booking_url(business) -> str:
    return current_app.config["BASE_URL"] + "/book/" + business.slug


def _qr_svg(url: str) -> Markup:
    """The link as a QR code, inline SVG (segno, pure Python): no image request, no inline style."""
    # omitsize: a viewBox instead of a fixed width and height, so CSS sizes it.
    svg = segno.make(url, error="m").svg_inline(dark="#1b1b1b", light="#ffffff", title="QR code of your booking link", omitsize=True)
    return Markup(svg)


def _page(step: str, *, values: dict | None = None, errors: dict | None = None, status: int = 200, message: str | None = None,
          crm_check=None, headers: dict | None = None):
    business = current_business()
    wizard = wizard_service.status(business)
    if values is None:
        values = wizard_service.step_values(business, step, browser_language=request.accept_languages.best_match(list(LANGUAGES)))
    index = wizard_service.STEPS.index(step)
    context = dict(
        step=step, steps=wizard.steps, wizard=wizard, values=values, errors=errors or {}, message=message, crm_check=crm_check,
        step_number=index + 1, step_count=len(wizard_service.STEPS), title=wizard_service.TITLES[step],
        previous=wizard_service.previous_step(step), skippable=step in wizard_service.SKIPPABLE,
        templates=wizard_service.SERVICE_TEMPLATES, weekdays=wizard_service.WEEKDAYS, channels=wizard_service.CHANNELS,
        secret_labels=wizard_service.SECRET_LABELS, automation_labels=wizard_service.AUTOMATION_LABELS,
        language_options=[(code, lang.name) for code, lang in LANGUAGES.items()], countries=country_choices(),
        currencies=[(code, code) for code in _currencies(values.get("currency"))],
        zones=zone_choices(utcnow()) if step == "welcome" else [],
        booking_url=_booking_url(business),
    )
    if step == "done":
        context.update(
            qr=_qr_svg(_booking_url(business)), share_mailto=_share_mailto(business),
            step_keys={title: key for key, title in wizard_service.TITLES.items()},
        )
    if step == "booking":
        context.update(preview=_preview(business, values))
    return render("dashboard/onboarding.html", block="wizard", status=status, headers=headers, **context)


def _currencies(current: str | None) -> list[str]:
    return CURRENCIES + ([current] if current and current not in CURRENCIES else [])


def _share_mailto(business) -> str:
    subject = f"Book with {business.name}"
    body = f"You can book with {business.name} online: {_booking_url(business)}"
    return f"mailto:?subject={quote(subject)}&body={quote(body)}"


def _preview(business, values: dict) -> dict:
    """What the booking step's preview shows: the business as the public page presents it, with
    the service and hours being set up."""
    template = values.get("template") or "none"
    services = [s for s in business.services if s.is_active and s.is_bookable]
    return {
        "name": business.name,
        "services": [(s.name, s.duration_minutes, _price(s.price, business.currency)) for s in services],
        "new_service": None if template == "none" else (
            values.get("service_name") or "Your service", values.get("duration_minutes"), _price(values.get("price"), business.currency)
        ),
        "hours": values.get("hours") or [],
        "weekdays": wizard_service.WEEKDAYS,
        "approval": values.get("requires_approval"),
    }


def _price(amount, currency: str) -> str:
    try:
        return format_price(Decimal(str(amount).strip()), currency)
    except (InvalidOperation, ValueError, TypeError):
        return "?"


def _go(step: str, status: int = 200):
    """After a successful post: the step's block (HTMX, its URL pushed) or a redirect to its page."""
    url = url_for("dashboard.onboarding_step", step=step)
    if wants_fragment():
        return _page(step, headers={"HX-Push-Url": url})
    return redirect(url, code=303)


@bp.get("/welcome")
def onboarding():
    _owner_only()
    return _page(wizard_service.resume_step(current_business()))


@bp.get("/welcome/<step>")
def onboarding_step(step: str):
    _owner_only()
    if step not in wizard_service.STEPS:
        abort(404)
    return _page(step)


@bp.post("/welcome/<step>")
def onboarding_save(step: str):
    _owner_only()
    if step not in wizard_service.STEPS:
        abort(404)
    business = current_business()
    action = request.form.get("action", "next")
    data = _form_data(step)
    try:
        if action == "skip":
            wizard_service.skip_step(business, step)
            if step == "automations":
                wizard_service.complete(business)
            return _go(wizard_service.next_step(step))
        if step == "booking" and action in ("copy", "template"):
            return _page(step, values=_booking_values(data, action))
        if step == "crm" and action == "test":
            check = wizard_service.check_crm_connection(business, data)
            if check.ok and (data.get("api_key") or data.get("password")):
                # Credentials that work are kept at once, so they need not be typed again.
                wizard_service.save_step(business, step, data)
            return _page(step, values=_crm_values(business, data), crm_check=check)
        wizard_service.save_step(business, step, data)
        if step == "automations":
            wizard_service.complete(business)
    except ValidationFailed as exc:
        values = _booking_values(data, None) if step == "booking" else _crm_values(business, data) if step == "crm" else _posted(step, data)
        return _page(step, values=values, errors=exc.fields, status=422, message=exc.message)
    return _go(wizard_service.next_step(step))


def _posted(step: str, data: dict) -> dict:
    values = wizard_service.step_values(current_business(), step)
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    if step == "automations":
        values.update({kind: bool(data.get(kind)) for kind in wizard_service.AUTOMATION_LABELS})
    return values


def _crm_values(business, data: dict) -> dict:
    values = wizard_service.step_values(business, "crm")
    values.update({k: data.get(k, "") for k in ("company_login", "auth", "user_login")})
    values["auth"] = values["auth"] or "api_key"
    return values


def _booking_values(data: dict, action: str | None) -> dict:
    """The booking form as posted, for showing it again: ``copy`` copies Monday's hours to
    Tuesday-Friday; ``template`` fills the service fields from the chosen template."""
    values = {**data, "requires_approval": bool(data.get("requires_approval"))}
    values["hours"] = [
        {"open": bool(day.get("open")), "start": day.get("start") or "09:00", "end": day.get("end") or "17:00"} for day in data["hours"]
    ]
    if action == "copy":
        monday = values["hours"][0]
        for day in values["hours"][1:5]:
            day.update(monday)
    if action == "template" and values.get("template") in wizard_service.SERVICE_TEMPLATES:
        _label, name, minutes, price, seats = wizard_service.SERVICE_TEMPLATES[values["template"]]
        values.update(service_name=name, duration_minutes=str(minutes), price=price, capacity=str(seats))
    return values


@bp.post("/welcome/booking/preview")
def onboarding_preview():
    """The booking step's preview for the form as it is now (HTMX, on every change); saves nothing."""
    _owner_only()
    values = _booking_values(_form_data("booking"), None)
    return render("dashboard/_onboarding_preview.html", preview=_preview(current_business(), values))


@bp.post("/welcome/checklist/<item>")
def onboarding_checklist(item: str):
    """Record a checklist item (``preview``, ``share``, ``hours``), then go on: the public page
    (preview), the e-mail app (``share`` with ``to=mailto``), or back to the overview. A script's
    post (the copy and share buttons) gets 204."""
    _owner_only()
    business = current_business()
    wizard_service.mark_checklist(business, item)
    if item == "preview":
        return redirect(_booking_url(business), code=303)
    if item == "share" and request.form.get("to") == "mailto":
        return redirect(_share_mailto(business), code=303)
    if request.form.get("quiet"):
        return "", 204
    return redirect(url_for("dashboard.index"), code=303)
