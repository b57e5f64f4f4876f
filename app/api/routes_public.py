"""Public booking endpoints (no auth): the business, its bookable services, free slots per
date, and booking one."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import NoReturn

from flask import abort, jsonify, redirect, request

from app.api import schemas, serialize
from app.api.io import body, query, reply
from app.api.spec import endpoint
from app.domain.availability import group_by_local_date
from app.extensions import booking_limit
from app.models import Business
from app.phones import phone_region
from app.services import availability_cache, availability_service, booking_service, business_service
from app.services.booking_service import BookingRequest
from app.services.errors import BookingClosed, NotFound, SlotUnavailable, ValidationFailed

PUBLIC = "/booking/public/<slug>"
_SLUG = re.compile(r"^[a-z0-9-]{1,100}$")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as the header allows


def _business(slug: str) -> Business:
    """The business whose booking link is ``slug``, else :func:`_moved_or_not_found`."""
    business = availability_service.load_business_for_availability(slug) if _SLUG.match(slug) else None
    if business is None:
        _moved_or_not_found(slug)
    return business


def _moved_or_not_found(slug: str) -> NoReturn:
    """For a slug a business used before, answer 301 (308 for a POST, which keeps its method and
    body) to the same endpoint under its current slug, as the pages do; else raise
    :class:`NotFound`."""
    current = business_service.current_slug(slug) if _SLUG.match(slug) else None
    if current is None:
        raise NotFound("No business has that booking link.")
    prefix = f"/api/booking/public/{slug}"
    path = f"/api/booking/public/{current}{request.path[len(prefix):]}"
    query_string = request.query_string.decode("latin-1")
    abort(redirect(f"{path}?{query_string}" if query_string else path, code=301 if request.method in ("GET", "HEAD") else 308))


def _add_missing_contact(exc: ValidationFailed) -> None:
    """Report "give an e-mail or a phone" with the body's other errors in one answer: the
    schema's own check of it runs only once every field is valid."""
    raw = request.get_json(silent=True)
    if isinstance(raw, dict) and not any(isinstance(raw.get(k), str) and raw[k].strip() for k in ("client_email", "client_phone")):
        exc.fields.setdefault("client_email", "Give an e-mail address or a phone number.")


def _open(business: Business) -> None:
    if not business.settings.is_active:
        raise BookingClosed(f"{business.name} is not taking bookings right now.")


@endpoint(f"{PUBLIC}/", "GET", "The business and its public booking settings",
          response=schemas.PublicBusinessResponse, errors=(404,), tag="public")
def public_business(slug: str):
    return reply(serialize.public_business(_business(slug)))


@endpoint(f"{PUBLIC}/services/", "GET", "Bookable services",
          response=schemas.PublicServicesResponse, errors=(404,), tag="public")
def public_services(slug: str):
    business = _business(slug)
    return reply(schemas.PublicServicesResponse([serialize.service(s) for s in availability_service.bookable_services(business)]))


@endpoint(f"{PUBLIC}/availability/", "GET", "Free slots per date (business zone), start_date..end_date inclusive",
          query=schemas.AvailabilityQuery, response=schemas.AvailabilityResponse, errors=(404, 409, 422), tag="public")
def public_availability(slug: str):
    # The business as a plain snapshot (one query when this process has read it before), not ORM rows.
    current = availability_cache.current(slug) if _SLUG.match(slug) else None
    if current is None:
        _moved_or_not_found(slug)
    business = current.config
    q = query(schemas.AvailabilityQuery)
    if not business.is_active:
        raise BookingClosed(f"{business.name} is not taking bookings right now.")
    service = business.bookable_service(q.service_id)
    tz = q.tz or business.timezone
    by_date = group_by_local_date(
        availability_cache.client_slots(current, service, q.start_date, q.end_date), business.timezone
    )
    days = {
        (day := q.start_date + timedelta(days=n)).isoformat(): [serialize.slot(s, tz) for s in by_date.get(day, [])]
        for n in range((q.end_date - q.start_date).days + 1)
    }
    return jsonify(days)  # the shape of schemas.AvailabilityResponse, without a model per slot


@endpoint(f"{PUBLIC}/book/", "POST", "Book a slot (201; 200 with the existing booking when the Idempotency-Key was seen before, "
          "or when the same client, by e-mail or phone, already holds this slot)",
          body=schemas.BookIn, response=schemas.BookResponse, status=201, errors=(400, 404, 409, 422, 429), tag="public",
          headers=(("Idempotency-Key", "Repeat a submit safely: for 24 hours the same key with the same body returns "
                    "the first booking; with another body, 422 idempotency_key_reused."),))
@booking_limit
def public_book(slug: str):
    business = _business(slug)
    try:
        data = body(schemas.BookIn, context={"phone_region": phone_region(business)})
    except ValidationFailed as exc:
        _add_missing_contact(exc)
        raise
    key = request.headers.get("Idempotency-Key")
    if key is not None and not _IDEMPOTENCY_KEY.match(key):
        raise ValidationFailed("Invalid Idempotency-Key.", {"Idempotency-Key": "Use 1-255 visible ASCII characters."})
    client_tz = data.client_timezone or business.timezone
    try:
        result = booking_service.create_booking(
            business,
            BookingRequest(
                service_id=data.service_id, start=data.start, client_name=data.client_name,
                client_email=data.client_email, client_phone=data.client_phone, client_timezone=client_tz,
                notes=data.notes, seats=data.seats, staff_id=data.staff_id, idempotency_key=key or None,
            ),
        )
    except SlotUnavailable as exc:
        return reply(serialize.slot_unavailable(exc, client_tz), exc.status_code)
    # The client already held this time (same e-mail or phone): their booking, 200, nothing new.
    headers = {} if result.created or result.already_booked else {"Idempotent-Replayed": "true"}
    return reply(serialize.booked(result.booking), 201 if result.created else 200, headers)
