"""Owner endpoints for the business profile and the team: what the dashboard's settings profile
and Team page do, so a business can be set up through the API alone.

Owners only (:mod:`app.api.auth`: a staff member's session is a 403). Every view touches only
the authenticated business's rows: another business's staff id is a 404, like a missing one.
"""
from __future__ import annotations

from flask import current_app, request

from app.api import schemas, serialize
from app.api.auth import current_owner, owner_required
from app.api.io import body, reply
from app.api.spec import ID, endpoint
from app.models import utcnow
from app.services import business_service, team

AUTH_ERRORS = (400, 401, 403)  # 400: session without X-CSRFToken on an unsafe method
# Profile fields that cannot be empty: ``null`` for them means "leave as is".
_PROFILE_NOT_NULL = ("name", "timezone", "currency", "language", "email", "phone", "address", "description")


# ------------------------------------------------------------------ business profile

def _business():
    business = current_owner().business
    return reply(serialize.business_profile(business, current_app.config["BASE_URL"].rstrip("/")))


@endpoint("/business/", "GET", "The business profile (name, zone, currency, language, country, contact, slug)",
          response=schemas.BusinessOut, errors=AUTH_ERRORS, owner=True, tag="business")
@owner_required
def get_business():
    return _business()


@endpoint("/business/", "PUT", "Change the business profile (any subset of the fields); a new slug keeps the old link forwarding",
          body=schemas.BusinessUpdate, response=schemas.BusinessOut, errors=AUTH_ERRORS + (422,), owner=True, tag="business")
@owner_required
def put_business():
    data = body(schemas.BusinessUpdate).model_dump(exclude_unset=True)
    business = current_owner().business
    fields = {k: v for k, v in data.items() if not (k in _PROFILE_NOT_NULL and v is None)}
    slug = fields.pop("slug", None)
    # The slug first: it is the one change the schema cannot check in full (taken or not), so a
    # refused slug leaves the rest unchanged too.
    if slug is not None:
        business_service.change_slug(business, slug)
    if fields:
        business_service.update_profile(business, **fields)
    return _business()


# ------------------------------------------------------------------ staff members

def _staff(staff_id: int, status: int = 200):
    return reply(serialize.staff_member(team.get_summary(current_owner().business, staff_id), utcnow()), status)


def _deactivate(staff_id: int):
    """Deactivate, or the 409 listing the future bookings in the way."""
    try:
        team.deactivate(current_owner().business, staff_id)
    except team.StaffHasBookings as exc:
        return reply(serialize.staff_has_bookings(exc), exc.status_code)
    return None


@endpoint("/staff/", "GET", "The staff members, active or not, with their services, upcoming bookings, login and invitation",
          response=schemas.StaffListResponse, errors=AUTH_ERRORS, owner=True, tag="staff")
@owner_required
def list_staff():
    now = utcnow()
    return reply(schemas.StaffListResponse([serialize.staff_member(m, now) for m in team.list_staff(current_owner().business, now)]))


@endpoint("/staff/", "POST", "Add a staff member (no login and no hours yet: set them with PUT /staff/{id}/hours)",
          body=schemas.StaffCreate, response=schemas.StaffOut, status=201, errors=AUTH_ERRORS + (422,), owner=True, tag="staff")
@owner_required
def create_staff():
    data = body(schemas.StaffCreate)
    staff = team.create_staff(
        current_owner().business, display_name=data.display_name, email=data.email or None, timezone=data.timezone,
        service_ids=data.service_ids or [],
    )
    return _staff(staff.id, 201)


@endpoint(f"/staff/<{ID}:staff_id>", "GET", "One staff member", response=schemas.StaffOut,
          errors=AUTH_ERRORS + (404,), owner=True, tag="staff")
@owner_required
def get_staff(staff_id: int):
    return _staff(staff_id)


@endpoint(f"/staff/<{ID}:staff_id>", "PUT",
          "Change a staff member (any subset); is_active false deactivates: 409 with error.bookings while they have future bookings",
          body=schemas.StaffUpdate, response=schemas.StaffOut, errors=AUTH_ERRORS + (404, 409, 422), owner=True, tag="staff")
@owner_required
def update_staff(staff_id: int):
    business = current_owner().business
    staff = business_service.get_staff(business, staff_id)  # 404 before 422
    data = body(schemas.StaffUpdate).model_dump(exclude_unset=True)
    if data.get("is_active") is False and staff.is_active and team.future_bookings(business, staff):
        refused = _deactivate(staff_id)  # the 409, before any other field changes
        if refused is not None:
            return refused
    fields = {}
    if data.get("display_name") is not None:
        fields["display_name"] = data["display_name"]
    if "email" in data:
        fields["email"] = data["email"] or None
    if "timezone" in data:
        fields["timezone"] = data["timezone"]
    if data.get("service_ids") is not None:
        fields["service_ids"] = data["service_ids"]
    if fields:
        team.update_staff(business, staff_id, **fields)
    if data.get("is_active") is False:
        refused = _deactivate(staff_id)
        if refused is not None:
            return refused
    elif data.get("is_active") is True:
        team.reactivate(business, staff_id)
    return _staff(staff_id)


@endpoint(f"/staff/<{ID}:staff_id>", "DELETE",
          "Deactivate a staff member (kept for their past bookings; 409 with error.bookings while they have future ones)",
          response=schemas.StaffOut, errors=AUTH_ERRORS + (404, 409), owner=True, tag="staff")
@owner_required
def deactivate_staff(staff_id: int):
    business_service.get_staff(current_owner().business, staff_id)
    refused = _deactivate(staff_id)
    return refused if refused is not None else _staff(staff_id)


# ------------------------------------------------------------------ invitations

@endpoint(f"/staff/<{ID}:staff_id>/invitation", "POST",
          "E-mail the staff member a link to set a password (7 days, once); sending again replaces the earlier link",
          body=schemas.InvitationIn, response=schemas.StaffOut, status=201, errors=AUTH_ERRORS + (404, 409, 422),
          owner=True, tag="staff")
@owner_required
def send_invitation(staff_id: int):
    owner = current_owner()
    business_service.get_staff(owner.business, staff_id)  # 404 before 422
    # An empty body is the same as {} (send again to the address on file).
    data = body(schemas.InvitationIn) if request.get_data(cache=True) else schemas.InvitationIn()
    team.invite(owner.business, staff_id, owner.user, email=data.email or None)
    return _staff(staff_id, 201)


@endpoint(f"/staff/<{ID}:staff_id>/invitation", "DELETE", "Withdraw the staff member's invitation (its link stops working)",
          status=204, errors=AUTH_ERRORS + (404,), owner=True, tag="staff")
@owner_required
def revoke_invitation(staff_id: int):
    team.revoke_invitation(current_owner().business, staff_id)
    return "", 204
