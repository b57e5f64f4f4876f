"""Owner endpoints: settings, link, services, hours, overrides, requests and bookings.

Every view runs as :func:`app.api.auth.current_owner` and only touches that business's rows; an id
of another business's row is a 404, exactly like one that does not exist.
"""
from __future__ import annotations

from flask import current_app

from app.api import schemas, serialize
from app.api.auth import current_owner, owner_required
from app.api.io import body, query, reply
from app.api.spec import ID, endpoint
from app.domain.booking_state import BookingStatus
from app.models import utcnow
from app.services import booking_queries, booking_service, business_service
from app.services.booking_queries import BookingFilter
from app.services.errors import SlotUnavailable

AUTH_ERRORS = (400, 401)  # 400: session without X-CSRFToken on an unsafe method
# Service fields that cannot be empty: ``null`` for them means "leave as is" (or the default).
_NOT_NULL = (
    "name", "description", "duration_minutes", "price", "capacity", "is_bookable", "location_kind", "is_active", "location_detail",
)


def _service_fields(data: dict) -> tuple[dict, list[int] | None]:
    staff_ids = data.pop("staff_ids", None)
    return {k: v for k, v in data.items() if not (k in _NOT_NULL and v is None)}, staff_ids


# ------------------------------------------------------------------ settings and link

@endpoint("/booking/settings/", "GET", "Booking settings", response=schemas.SettingsOut,
          errors=AUTH_ERRORS, owner=True, tag="settings")
@owner_required
def get_settings():
    return reply(serialize.settings(current_owner().business))


@endpoint("/booking/settings/", "PUT", "Change booking settings (any subset of the fields)",
          body=schemas.SettingsUpdate, response=schemas.SettingsOut, errors=AUTH_ERRORS + (422,), owner=True, tag="settings")
@owner_required
def put_settings():
    data = body(schemas.SettingsUpdate)
    business = current_owner().business
    business_service.update_settings(business, **data.model_dump(exclude_unset=True, exclude_none=True))
    return reply(serialize.settings(business))


@endpoint("/booking/link/", "GET", "The business's booking link", response=schemas.LinkOut,
          errors=AUTH_ERRORS, owner=True, tag="settings")
@owner_required
def get_link():
    business = current_owner().business
    url = f"{current_app.config['BASE_URL']}/book/{business.slug}"
    return reply(schemas.LinkOut(url=url, slug=business.slug, is_active=business.settings.is_active))


# ------------------------------------------------------------------ services

@endpoint("/services/", "GET", "All services, active or not", response=schemas.OwnerServicesResponse,
          errors=AUTH_ERRORS, owner=True, tag="services")
@owner_required
def list_services():
    business = current_owner().business
    return reply(schemas.OwnerServicesResponse([serialize.owner_service(s) for s in business.services]))


@endpoint("/services/", "POST", "Create a service", body=schemas.ServiceCreate, response=schemas.OwnerServiceOut,
          status=201, errors=AUTH_ERRORS + (404, 422), owner=True, tag="services")
@owner_required
def create_service():
    data, staff_ids = _service_fields(body(schemas.ServiceCreate).model_dump(exclude_unset=True))
    service = business_service.save_service(current_owner().business, None, staff_ids=staff_ids, **data)
    return reply(serialize.owner_service(service), 201)


@endpoint(f"/services/<{ID}:service_id>", "GET", "One service", response=schemas.OwnerServiceOut,
          errors=AUTH_ERRORS + (404,), owner=True, tag="services")
@owner_required
def get_service(service_id: int):
    return reply(serialize.owner_service(business_service.get_service(current_owner().business, service_id)))


@endpoint(f"/services/<{ID}:service_id>", "PUT", "Change a service (any subset of the fields)",
          body=schemas.ServiceUpdate, response=schemas.OwnerServiceOut, errors=AUTH_ERRORS + (404, 422), owner=True, tag="services")
@owner_required
def update_service(service_id: int):
    business = current_owner().business
    service = business_service.get_service(business, service_id)
    data, staff_ids = _service_fields(body(schemas.ServiceUpdate).model_dump(exclude_unset=True))
    service = business_service.save_service(business, service, staff_ids=staff_ids, **data)
    return reply(serialize.owner_service(service))


@endpoint(f"/services/<{ID}:service_id>", "DELETE", "Deactivate a service (bookings keep it)",
          response=schemas.OwnerServiceOut, errors=AUTH_ERRORS + (404,), owner=True, tag="services")
@owner_required
def deactivate_service(service_id: int):
    business = current_owner().business
    service = business_service.save_service(business, business_service.get_service(business, service_id), is_active=False)
    return reply(serialize.owner_service(service))


# ------------------------------------------------------------------ hours and overrides

@endpoint(f"/staff/<{ID}:staff_id>/hours", "GET", "A staff member's weekly hours", response=schemas.HoursOut,
          errors=AUTH_ERRORS + (404,), owner=True, tag="hours")
@owner_required
def get_hours(staff_id: int):
    return reply(serialize.hours(business_service.get_staff(current_owner().business, staff_id)))


@endpoint(f"/staff/<{ID}:staff_id>/hours", "PUT", "Replace a staff member's weekly hours", body=schemas.HoursIn,
          response=schemas.HoursOut, errors=AUTH_ERRORS + (404, 422), owner=True, tag="hours")
@owner_required
def put_hours(staff_id: int):
    staff = business_service.get_staff(current_owner().business, staff_id)
    data = body(schemas.HoursIn)
    by_day: dict[int, list] = {}
    for h in data.hours:
        by_day.setdefault(h.weekday, []).append((schemas.parse_wall(h.start), schemas.parse_wall(h.end)))
    business_service.set_weekly_hours(staff, by_day)
    return reply(serialize.hours(staff))


@endpoint(f"/staff/<{ID}:staff_id>/overrides", "GET", "A staff member's date overrides",
          response=schemas.OverridesResponse, errors=AUTH_ERRORS + (404,), owner=True, tag="hours")
@owner_required
def list_overrides(staff_id: int):
    staff = business_service.get_staff(current_owner().business, staff_id)
    return reply(schemas.OverridesResponse([serialize.override(o) for o in staff.overrides]))


@endpoint(f"/staff/<{ID}:staff_id>/overrides", "POST", "Set one date's hours (replaces that date's override)",
          body=schemas.OverrideIn, response=schemas.OverrideOut, status=201, errors=AUTH_ERRORS + (404, 422), owner=True, tag="hours")
@owner_required
def create_override(staff_id: int):
    staff = business_service.get_staff(current_owner().business, staff_id)
    data = body(schemas.OverrideIn)
    intervals = [(schemas.parse_wall(i.start), schemas.parse_wall(i.end)) for i in data.intervals]
    return reply(serialize.override(business_service.set_override(staff, data.date, intervals)), 201)


@endpoint(f"/staff/<{ID}:staff_id>/overrides/<{ID}:override_id>", "DELETE", "Remove a date override",
          status=204, errors=AUTH_ERRORS + (404,), owner=True, tag="hours")
@owner_required
def delete_override(staff_id: int, override_id: int):
    staff = business_service.get_staff(current_owner().business, staff_id)
    business_service.delete_override(staff, override_id)
    return "", 204


# ------------------------------------------------------------------ requests and bookings

def _filter(q: schemas.BookingsQuery | schemas.RequestsQuery, **extra) -> BookingFilter:
    return BookingFilter(status=q.status, date_from=q.start_date, date_to=q.end_date, staff_id=q.staff_id, **extra)


@endpoint("/booking/requests/", "GET", "Booking requests (default: pending, not yet expired), newest first",
          query=schemas.RequestsQuery, response=schemas.BookingsResponse, errors=AUTH_ERRORS + (422,), owner=True, tag="requests")
@owner_required
def list_requests():
    q = query(schemas.RequestsQuery)
    rows = booking_queries.list_bookings(current_owner().business, _filter(q, limit=500))
    if q.status == BookingStatus.PENDING:
        now = utcnow()
        rows = [b for b in rows if b.expires_at is None or b.expires_at > now]  # lapsed ones are expired
    rows.sort(key=lambda b: (b.created_at, b.id), reverse=True)
    return reply(schemas.BookingsResponse([serialize.booking(b) for b in rows]))


@endpoint(f"/booking/requests/<{ID}:booking_id>/approve/", "POST", "Approve a request (re-checks the slot)",
          response=schemas.BookingOut, errors=AUTH_ERRORS + (404, 409), owner=True, tag="requests")
@owner_required
def approve_request(booking_id: int):
    owner = current_owner()
    return reply(serialize.booking(booking_service.approve(owner.business, booking_id, owner.user)))


@endpoint(f"/booking/requests/<{ID}:booking_id>/reject/", "POST", "Reject a request with a reason",
          body=schemas.RejectIn, response=schemas.BookingOut, errors=AUTH_ERRORS + (404, 409, 422), owner=True, tag="requests")
@owner_required
def reject_request(booking_id: int):
    owner = current_owner()
    booking_service.get_booking(owner.business, booking_id)  # 404 before 422
    data = body(schemas.RejectIn)
    return reply(serialize.booking(booking_service.reject(owner.business, booking_id, owner.user, data.reason)))


@endpoint("/bookings/", "GET", "Bookings: upcoming soonest first, otherwise latest first",
          query=schemas.BookingsQuery, response=schemas.BookingsResponse, errors=AUTH_ERRORS + (422,), owner=True, tag="bookings")
@owner_required
def list_bookings():
    q = query(schemas.BookingsQuery)
    rows = booking_queries.list_bookings(current_owner().business, _filter(q, when=q.when, limit=q.limit, offset=q.offset))
    return reply(schemas.BookingsResponse([serialize.booking(b) for b in rows]))


@endpoint(f"/bookings/<{ID}:booking_id>/reschedule/", "POST",
          "Move a pending or confirmed booking to another free time (same reference and calendar event, SEQUENCE + 1)",
          body=schemas.RescheduleIn, response=schemas.BookingOut, errors=AUTH_ERRORS + (404, 409, 422), owner=True, tag="bookings")
@owner_required
def reschedule_booking(booking_id: int):
    owner = current_owner()
    business = owner.business
    booking_service.get_booking(business, booking_id)  # 404 before 422
    data = body(schemas.RescheduleIn)
    try:
        booking = booking_service.reschedule(business, booking_id, owner.user, data.start, staff_id=data.staff_id)
    except SlotUnavailable as exc:
        return reply(serialize.slot_unavailable(exc, business.timezone), exc.status_code)
    return reply(serialize.booking(booking))
