"""Working hours per staff member: weekly intervals, date overrides, adding staff."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, request, url_for

from app.dashboard import bp
from app.dashboard.common import current_business, form_errors_from
from app.dashboard.forms import OverrideForm, StaffForm, WeeklyHoursForm, format_intervals
from app.models import StaffMember, utcnow
from app.services import business_service
from app.services.errors import ValidationFailed
from app.web import render


def _weekly_form_for(staff: StaffMember) -> WeeklyHoursForm:
    form = WeeklyHoursForm(formdata=None)
    for i, f in enumerate(form.days()):
        f.data = format_intervals((h.start_time, h.end_time) for h in staff.weekly_hours if h.weekday == i)
    return form


def _page(staff: StaffMember, status: int = 200, hours_form=None, override_form=None, staff_form=None):
    return render(
        "dashboard/hours.html",
        status=status,
        staff=staff,
        hours_form=hours_form or _weekly_form_for(staff),
        override_form=override_form or OverrideForm(formdata=None),
        staff_form=staff_form or StaffForm(formdata=None),
        today=utcnow().astimezone(ZoneInfo(staff.effective_timezone)).date(),
        format_intervals=format_intervals,
    )


def _first_staff(business) -> StaffMember:
    if not business.staff:  # sign-up always creates one; never a 500 if it was removed
        abort(404)
    return business.staff[0]


def _hours_url(staff: StaffMember) -> str:
    return url_for("dashboard.hours", staff=staff.id)


@bp.get("/hours")
def hours():
    business = current_business()
    staff_id = request.args.get("staff", "")
    if staff_id:
        if not staff_id.isdigit():
            abort(404)
        staff = business_service.get_staff(business, int(staff_id))
    else:
        staff = _first_staff(business)
    return _page(staff)


@bp.post("/hours/<int:staff_id>")
def hours_save(staff_id: int):
    staff = business_service.get_staff(current_business(), staff_id)
    form = WeeklyHoursForm()
    if form.validate_on_submit():
        parsed = form.parsed()
        if parsed is not None:
            try:
                business_service.set_weekly_hours(staff, parsed)
            except ValidationFailed as exc:
                form_errors_from(exc.fields, form)
            else:
                flash(f"Weekly hours saved for {staff.display_name}.", "success")
                return redirect(_hours_url(staff), code=303)
    return _page(staff, 422, hours_form=form)


@bp.post("/hours/<int:staff_id>/overrides")
def override_add(staff_id: int):
    staff = business_service.get_staff(current_business(), staff_id)
    form = OverrideForm()
    if form.validate_on_submit():
        intervals = form.parsed()
        if intervals is not None:
            try:
                business_service.set_override(staff, form.date.data, intervals)
            except ValidationFailed as exc:
                form_errors_from(exc.fields, form)
            else:
                flash(f"Hours for {form.date.data:%a %d %b %Y} saved.", "success")
                return redirect(_hours_url(staff), code=303)
    return _page(staff, 422, override_form=form)


@bp.post("/hours/<int:staff_id>/overrides/<int:override_id>/delete")
def override_delete(staff_id: int, override_id: int):
    staff = business_service.get_staff(current_business(), staff_id)
    business_service.delete_override(staff, override_id)
    flash("Date override removed: the weekly hours apply again.", "success")
    return redirect(_hours_url(staff), code=303)


@bp.post("/staff")
def staff_add():
    business = current_business()
    form = StaffForm()
    if form.validate_on_submit():
        staff = business_service.add_staff(business, form.display_name.data, form.staff_timezone.data or None)
        flash(f"Added {staff.display_name}. Set their hours below.", "success")
        return redirect(_hours_url(staff), code=303)
    return _page(_first_staff(business), 422, staff_form=form)
