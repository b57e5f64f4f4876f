"""Booking link & settings: the link, its on/off switch, the booking settings and the profile."""
from __future__ import annotations

from flask import flash, redirect, url_for

from app.dashboard import bp
from app.dashboard.common import current_business, form_errors_from
from app.dashboard.forms import BRAND_SWATCHES, LinkForm, LogoForm, ProfileForm, RemoveLogoForm, SettingsForm, SlugForm
from app.services import business_service
from app.services.errors import ValidationFailed
from app.web import render, wants_fragment


def _page(status=200, link_form=None, settings_form=None, profile_form=None, block=None, link_message=None, logo_form=None,
          slug_form=None):
    business = current_business()
    return render(
        "dashboard/settings.html",
        block=block,
        status=status,
        link_message=link_message,
        slug_form=slug_form or SlugForm(formdata=None, obj=business),
        link_form=link_form or LinkForm(formdata=None, obj=business.settings),
        settings_form=settings_form or SettingsForm(formdata=None, obj=business.settings),
        profile_form=profile_form or ProfileForm(formdata=None, obj=business, default_colors=business.brand_color is None),
        logo_form=logo_form or LogoForm(formdata=None),
        remove_logo_form=RemoveLogoForm(formdata=None),
        brand_swatches=BRAND_SWATCHES,
    )


@bp.get("/settings")
def settings():
    return _page()


@bp.post("/settings/link")
def settings_link():
    business = current_business()
    form = LinkForm()
    if not form.validate_on_submit():
        return _page(422, link_form=form, block="link")
    business_service.update_settings(business, is_active=form.is_active.data)
    message = "Your booking link is on." if form.is_active.data else "Your booking link is off: clients see “not taking bookings”."
    if wants_fragment():
        return _page(link_form=form, block="link", link_message=message)
    flash(message, "success")
    return redirect(url_for("dashboard.settings"), code=303)


@bp.post("/settings/slug")
def settings_slug():
    """Change the booking link's slug; the old one keeps forwarding (301)."""
    business = current_business()
    form = SlugForm()
    if form.validate_on_submit():
        old = business.slug
        try:
            business_service.change_slug(business, form.slug.data)
        except ValidationFailed as exc:
            form_errors_from(exc.fields, form)
        else:
            if business.slug != old:
                flash(f"Your booking link is now /book/{business.slug}. The old link /book/{old} forwards to it.", "success")
            return redirect(url_for("dashboard.settings"), code=303)
    return _page(422, slug_form=form)


@bp.post("/settings")
def settings_save():
    business = current_business()
    form = SettingsForm()
    if form.validate_on_submit():
        try:
            fields = {name: getattr(form, name).data for name in SettingsForm.FIELDS}
            if fields.get("reminder_offsets_minutes") is None:  # not posted (an older form): keep them
                fields.pop("reminder_offsets_minutes", None)
            notices = ("client_reschedule_notice_hours", "client_cancel_notice_hours")
            if all(fields.get(name) is None for name in notices):  # no "changes by clients" part: keep them
                for name in SettingsForm.CLIENT_CHANGE_FIELDS:
                    fields.pop(name, None)
            for name in notices:
                if fields.get(name) is None:
                    fields.pop(name, None)
            business_service.update_settings(business, **fields)
        except ValidationFailed as exc:
            form_errors_from(exc.fields, form)
        else:
            flash("Booking settings saved.", "success")
            return redirect(url_for("dashboard.settings"), code=303)
    return _page(422, settings_form=form)


@bp.post("/settings/profile")
def settings_profile():
    business = current_business()
    form = ProfileForm()
    if form.validate_on_submit():
        fields = {name: getattr(form, name).data for name in ProfileForm.FIELDS}
        fields = {k: (v or "").strip() for k, v in fields.items()}  # all text; a field not posted is ""
        fields["email"] = fields["email"].lower()
        business_service.update_profile(business, **fields, **form.branding(), **form.country_field())
        flash("Business profile saved.", "success")
        return redirect(url_for("dashboard.settings"), code=303)
    return _page(422, profile_form=form)
