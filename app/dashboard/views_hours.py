"""Working hours per staff member: weekly intervals (time inputs, add/remove an interval, copy a
day to all weekdays), date overrides for one date or a range (a holiday), adding staff.

A staff user sees and edits only their own hours: another staff member's (``?staff=<id>`` or a
POST to their id) is a 404, and they cannot add staff.
"""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for

from app.dashboard import bp
from app.dashboard.common import current_business, current_staff_member, form_errors_from, is_owner
from app.dashboard.forms import WEEKDAYS, WORKING_WEEK, OverrideForm, StaffForm, WeeklyHoursForm, format_intervals
from app.models import StaffMember
from app.services import business_service
from app.services.errors import NotFound, ValidationFailed
from app.web import render


def _weekly_form_for(staff: StaffMember) -> WeeklyHoursForm:
    form = WeeklyHoursForm(formdata=None)
    for i, f in enumerate(form.days()):
        f.data = format_intervals((h.start_time, h.end_time) for h in staff.weekly_hours if h.weekday == i)
    return form


def _page(staff: StaffMember, status: int = 200, hours_form=None, override_form=None, staff_form=None):
    posted = request.form if hours_form is not None and request.method == "POST" else None
    hours_form = hours_form or _weekly_form_for(staff)
    return render(
        "dashboard/hours.html",
        status=status,
        staff=staff,
        staff_choices=_staff_choices(staff),
        can_add_staff=is_owner(),
        hours_form=hours_form,
        day_rows=list(zip(range(7), WEEKDAYS, hours_form.days(), hours_form.pairs(posted))),
        override_form=override_form or OverrideForm(formdata=None),
        staff_form=staff_form or StaffForm(formdata=None),
        today=business_service.staff_today(staff),
        format_intervals=format_intervals,
    )


def _staff_choices(staff: StaffMember) -> list[StaffMember]:
    """The staff members the picker offers: everyone for an owner, only themselves for staff."""
    return list(current_business().staff) if is_owner() else [staff]


def _own_staff() -> StaffMember:
    """The logged-in user's hours page subject when none is asked for: their own staff member,
    else (an owner who is not bookable) the business's first."""
    mine = current_staff_member()
    if mine is not None:
        return mine
    business = current_business()
    if not is_owner() or not business.staff:  # sign-up always creates one; never a 500 if it was removed
        abort(404)
    return business.staff[0]


def _staff(staff_id: int) -> StaffMember:
    """Staff member ``staff_id`` of the business, when the user may edit their hours (404 otherwise)."""
    staff = business_service.get_staff(current_business(), staff_id)
    if not is_owner():
        mine = current_staff_member()
        if mine is None or mine.id != staff.id:
            raise NotFound("No such staff member.")
    return staff


def _hours_url(staff: StaffMember) -> str:
    return url_for("dashboard.hours", staff=staff.id)


@bp.get("/hours")
def hours():
    staff_id = request.args.get("staff", "")
    if staff_id:
        if not staff_id.isdigit():
            abort(404)
        staff = _staff(int(staff_id))
    else:
        staff = _own_staff()
    return _page(staff)


@bp.post("/hours/<int:staff_id>")
def hours_save(staff_id: int):
    staff = _staff(staff_id)
    form = WeeklyHoursForm()
    if form.validate_on_submit():
        parsed = form.parsed(request.form)
        if parsed is not None:
            try:
                business_service.set_weekly_hours(staff, parsed)
            except ValidationFailed as exc:
                form_errors_from(exc.fields, form)
            else:
                source = form.copy_from(request.form)
                if source is not None:
                    days = f"{WEEKDAYS[WORKING_WEEK[0]]} to {WEEKDAYS[WORKING_WEEK[-1]]}"
                    flash(f"{WEEKDAYS[source]}’s hours copied to {days} and saved for {staff.display_name}.", "success")
                else:
                    flash(f"Weekly hours saved for {staff.display_name}.", "success")
                return redirect(_hours_url(staff), code=303)
    return _page(staff, 422, hours_form=form)


@bp.post("/hours/<int:staff_id>/overrides")
def override_add(staff_id: int):
    staff = _staff(staff_id)
    form = OverrideForm()
    if form.validate_on_submit():
        intervals = form.parsed()
        if intervals is not None:
            first, last = form.date.data, form.last_day()
            try:
                business_service.set_overrides(staff, first, last, intervals)
            except ValidationFailed as exc:
                form_errors_from(exc.fields, form)
            else:
                if last == first:
                    flash(f"Hours for {first:%a %d %b %Y} saved.", "success")
                else:
                    flash(f"Hours for {first:%a %d %b %Y} to {last:%a %d %b %Y} ({(last - first).days + 1} days) saved.", "success")
                return redirect(_hours_url(staff), code=303)
    return _page(staff, 422, override_form=form)


@bp.post("/hours/<int:staff_id>/overrides/<int:override_id>/delete")
def override_delete(staff_id: int, override_id: int):
    staff = _staff(staff_id)
    business_service.delete_override(staff, override_id)
    flash("Date override removed: the weekly hours apply again.", "success")
    return redirect(_hours_url(staff), code=303)


@bp.post("/staff")
def staff_add():
    if not is_owner():
        abort(403)
    business = current_business()
    form = StaffForm()
    if form.validate_on_submit():
        staff = business_service.add_staff(business, form.display_name.data, form.staff_timezone.data or None)
        flash(f"Added {staff.display_name}. Set their hours below.", "success")
        return redirect(_hours_url(staff), code=303)
    return _page(_own_staff(), 422, staff_form=form)
