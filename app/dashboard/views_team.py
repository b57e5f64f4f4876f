"""The Team page (owners only: :data:`app.dashboard.routes.STAFF_ENDPOINTS` lists none of these).

``/team`` lists the staff members (name, e-mail, zone, services, upcoming bookings, login,
active) and adds one, optionally e-mailing them an invitation. ``/team/<id>`` edits one: name,
e-mail, zone and services; their login (invite, send again, withdraw); and their status: to
deactivate someone, their future bookings are listed there, each to reassign (same time, another
staff member) or cancel first.

Forms post plainly (a redirect with a flash, or the page again with the errors: 422, or 409 for
a refused action). The invitation and status panels also answer HTMX with their block; a
reassigned or cancelled booking sends ``HX-Trigger: bookings-changed`` so the nav badge refreshes.
"""
from __future__ import annotations

from flask import flash, redirect, url_for

from app.dashboard import bp
from app.dashboard.common import BOOKINGS_CHANGED, actor, current_business, form_errors_from
from app.dashboard.forms import ReasonForm
from app.dashboard.forms_team import InviteForm, NewStaffForm, ReassignForm, StaffMemberForm
from app.models import Role, StaffMember, utcnow
from app.services import business_service, sent_mail, team
from app.services.errors import Conflict, NotFound, SlotUnavailable, ValidationFailed
from app.web import render, wants_fragment


# ------------------------------------------------------------------ the list

def _team_page(status: int = 200, form: NewStaffForm | None = None):
    business = current_business()
    return render(
        "dashboard/team.html",
        status=status,
        members=team.list_staff(business),
        now=utcnow(),
        form=form or NewStaffForm(formdata=None, services=business.services),
    )


@bp.get("/team", endpoint="team")
def team_list():
    return _team_page()


@bp.post("/team")
def team_add():
    business = current_business()
    form = NewStaffForm(services=business.services)
    if form.validate_on_submit():
        try:
            staff = team.create_staff(
                business, display_name=form.display_name.data, email=form.email.data or None,
                timezone=form.timezone.data or None, service_ids=form.service_ids.data or [],
            )
        except ValidationFailed as exc:
            form_errors_from(exc.fields, form)
        else:
            message = f"Added {staff.display_name}. Set their hours so clients can book them."
            if form.invite.data:
                try:
                    invitation = team.invite(business, staff.id, actor())
                except (ValidationFailed, Conflict) as exc:
                    flash(f"{message} The invitation was not sent: {exc.fields.get('email', exc.message)}", "error")
                    return redirect(url_for("dashboard.team_member", staff_id=staff.id), code=303)
                message += f" An invitation to log in is on its way to {invitation.email}."
            flash(message, "success")
            return redirect(url_for("dashboard.team_member", staff_id=staff.id), code=303)
    return _team_page(422, form)


# ------------------------------------------------------------------ one member

def _profile_form(business, staff: StaffMember) -> StaffMemberForm:
    return StaffMemberForm(
        formdata=None, services=business.services,
        data={
            "display_name": staff.display_name,
            "email": staff.contact_email or "",
            "timezone": staff.timezone or "",
            "service_ids": [s.id for s in business.services if staff in s.staff],
        },
    )


def _member_page(
    staff_id: int, status: int = 200, *, block: str | None = None, profile_form=None, invite_form=None,
    error: str | None = None, message: str | None = None, row_errors: dict | None = None, headers: dict | None = None,
):
    business = current_business()
    now = utcnow()
    summary = team.get_summary(business, staff_id, now)
    staff = summary.staff
    upcoming = team.future_bookings(business, staff, now)
    # Who could take each booking: active members offering its service (the reschedule re-checks).
    takers = {b.id: [s for s in b.service.staff if s.is_active and s.id != staff.id] for b in upcoming}
    return render(
        "dashboard/team_member.html",
        block=block,
        status=status,
        headers=headers,
        m=summary,
        staff=staff,
        now=now,
        profile_form=profile_form or _profile_form(business, staff),
        invite_form=invite_form or InviteForm(formdata=None, data={"send_to": staff.contact_email or ""}),
        upcoming=upcoming,
        takers=takers,
        panel=block,  # the panel ``error`` and ``message`` belong to
        error=error,
        message=message,
        row_errors=row_errors or {},
        invitation_days=team.INVITATION_DAYS,
        saved_in=str(sent_mail.mail_outbox_dir()) if sent_mail.writes_files() else None,
    )


def _done(staff_id: int, block: str, message: str, headers: dict | None = None):
    """After a change: the panel with ``message`` (HTMX), else a redirect with a flash."""
    if wants_fragment():
        return _member_page(staff_id, block=block, message=message, headers=headers)
    flash(message, "success")
    return redirect(url_for("dashboard.team_member", staff_id=staff_id), code=303)


@bp.get("/team/<int:staff_id>")
def team_member(staff_id: int):
    return _member_page(staff_id)


@bp.post("/team/<int:staff_id>")
def team_member_save(staff_id: int):
    business = current_business()
    staff = business_service.get_staff(business, staff_id)  # 404 before validating
    form = StaffMemberForm(services=business.services)
    if form.validate_on_submit():
        try:
            team.update_staff(
                business, staff.id,
                display_name=form.display_name.data,
                # Someone with a login keeps their login's address (the form shows it, read-only).
                email=(form.email.data or None) if staff.user_id is None else team.UNSET,
                timezone=form.timezone.data or None,
                service_ids=form.service_ids.data or [],
            )
        except ValidationFailed as exc:
            form_errors_from(exc.fields, form)
        else:
            flash(f"Saved {staff.display_name}.", "success")
            return redirect(url_for("dashboard.team_member", staff_id=staff.id), code=303)
    return _member_page(staff.id, 422, profile_form=form)


# ------------------------------------------------------------------ invitation

@bp.post("/team/<int:staff_id>/invitation")
def team_invite(staff_id: int):
    business = current_business()
    business_service.get_staff(business, staff_id)
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation = team.invite(business, staff_id, actor(), email=form.send_to.data or None)
        except ValidationFailed as exc:
            form_errors_from({"send_to" if name == "email" else name: message for name, message in exc.fields.items()}, form)
        except Conflict as exc:
            return _member_page(staff_id, 409, block="invitation", invite_form=form, error=exc.message)
        else:
            return _done(
                staff_id, "invitation",
                f"Invitation sent to {invitation.email}. The link works once, for {team.INVITATION_DAYS} days.",
            )
    return _member_page(staff_id, 422, block="invitation", invite_form=form)


@bp.post("/team/<int:staff_id>/invitation/revoke")
def team_invite_revoke(staff_id: int):
    business = current_business()
    staff = business_service.get_staff(business, staff_id)
    try:
        team.revoke_invitation(business, staff.id)
    except NotFound as exc:  # withdrawn or accepted meanwhile (another tab)
        return _member_page(staff.id, 409, block="invitation", error=exc.message)
    return _done(staff.id, "invitation", f"Invitation withdrawn: the link sent to {staff.contact_email} no longer works.")


# ------------------------------------------------------------------ status and future bookings

@bp.post("/team/<int:staff_id>/deactivate")
def team_deactivate(staff_id: int):
    business = current_business()
    staff = business_service.get_staff(business, staff_id)
    had_login = team.get_summary(business, staff.id).role == Role.STAFF
    try:
        team.deactivate(business, staff.id)
    except team.StaffHasBookings as exc:
        return _member_page(staff.id, 409, block="status", error=exc.message)
    message = f"{staff.display_name} is inactive: clients can no longer book them."
    if had_login:
        message += " They can no longer log in to the dashboard."
    return _done(staff.id, "status", message)


@bp.post("/team/<int:staff_id>/reactivate")
def team_reactivate(staff_id: int):
    staff = team.reactivate(current_business(), staff_id)
    return _done(staff.id, "status", f"{staff.display_name} is active again: clients can book them in their hours.")


def _row_error(staff_id: int, booking_id: int, status: int, message: str):
    return _member_page(staff_id, status, block="status", row_errors={booking_id: message})


@bp.post("/team/<int:staff_id>/bookings/<int:booking_id>/reassign")
def team_reassign(staff_id: int, booking_id: int):
    business = current_business()
    staff = business_service.get_staff(business, staff_id)
    team.staff_booking(business, staff.id, booking_id)  # 404 before validating
    others = [s for s in business.staff if s.is_active and s.id != staff.id]
    form = ReassignForm(staff=others)
    if not form.validate_on_submit():
        return _row_error(staff.id, booking_id, 422, "Choose who takes this booking.")
    try:
        booking = team.reassign_booking(business, staff.id, booking_id, form.to_staff.data, actor())
    except ValidationFailed as exc:
        return _row_error(staff.id, booking_id, 422, exc.fields.get("staff_id", exc.message))
    except SlotUnavailable:
        taker = next(s for s in others if s.id == form.to_staff.data)
        return _row_error(staff.id, booking_id, 409, f"{taker.display_name} is not free at that time. Choose someone else, or cancel.")
    except Conflict as exc:
        return _row_error(staff.id, booking_id, 409, exc.message)
    return _done(
        staff.id, "status", f"{booking.client_name}’s booking ({booking.reference}) is now {booking.staff.display_name}’s; the client is told.",
        headers=BOOKINGS_CHANGED,
    )


@bp.post("/team/<int:staff_id>/bookings/<int:booking_id>/cancel")
def team_cancel_booking(staff_id: int, booking_id: int):
    business = current_business()
    staff = business_service.get_staff(business, staff_id)
    team.staff_booking(business, staff.id, booking_id)  # 404 before validating
    form = ReasonForm()
    if not form.validate_on_submit():
        return _row_error(staff.id, booking_id, 422, "Give a reason: the client sees it.")
    try:
        booking = team.cancel_booking(business, staff.id, booking_id, actor(), form.reason.data)
    except ValidationFailed as exc:
        return _row_error(staff.id, booking_id, 422, exc.fields.get("reason", exc.message))
    except Conflict as exc:
        return _row_error(staff.id, booking_id, 409, exc.message)
    return _done(
        staff.id, "status", f"Cancelled {booking.client_name}’s booking ({booking.reference}); the client is told.",
        headers=BOOKINGS_CHANGED,
    )
