"""Model rows and engine slots -> the response schemas of :mod:`app.api.schemas`."""
from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from app.api import schemas
from app.domain.availability import Slot
from app.models import Booking, Business, DateOverride, Service, StaffMember
from app.services.errors import SlotUnavailable


def price(value: Decimal | None) -> str:
    return str(Decimal(value or 0).quantize(Decimal("0.01")))


def slot(s: Slot, tz: str) -> dict:
    """A slot as :class:`app.api.schemas.SlotOut` writes it in JSON: ``HH:MM`` times and ISO
    instants expressed in ``tz`` (same instants).

    A plain dict rather than the model: a week of a free calendar is hundreds of slots, and a
    model per slot (built, then dumped) cost more than computing them. ``tests/web/api`` checks
    the answers against the OpenAPI document, which still describes them with ``SlotOut``."""
    zone = ZoneInfo(tz)
    start, end = s.start.astimezone(zone).isoformat(), s.end.astimezone(zone).isoformat()
    return {  # "YYYY-MM-DDTHH:MM:SS+hh:mm"[11:16] is the wall-clock HH:MM, without a strftime each
        "start_time": start[11:16], "end_time": end[11:16], "available_spots": s.available_spots,
        "staff_id": s.staff_id, "start": start, "end": end,
    }


def public_business(b: Business) -> schemas.PublicBusinessResponse:
    return schemas.PublicBusinessResponse(
        business=schemas.PublicBusiness(
            name=b.name, slug=b.slug, description=b.description or "", address=b.address or "",
            phone=b.phone or "", email=b.email or "", timezone=b.timezone, currency=b.currency,
        ),
        settings=schemas.PublicSettings(
            requires_approval=b.settings.requires_approval,
            buffer_time_minutes=b.settings.buffer_time_minutes,
            is_active=b.settings.is_active,
        ),
    )


def service(s: Service) -> schemas.ServiceOut:
    return schemas.ServiceOut(
        id=s.id, name=s.name, description=s.description or "", duration_minutes=s.duration_minutes,
        capacity=s.capacity, price=price(s.price),
    )


def owner_service(s: Service) -> schemas.OwnerServiceOut:
    return schemas.OwnerServiceOut(
        **service(s).model_dump(),
        buffer_before_minutes=s.buffer_before_minutes,
        buffer_after_minutes=s.buffer_after_minutes,
        slot_interval_minutes=s.slot_interval_minutes,
        is_bookable=s.is_bookable,
        is_active=s.is_active,
        location_kind=s.location_kind,
        location_detail=s.location_detail or "",
        phone_caller=s.phone_caller,
        video_provider=s.video_provider,
        staff_ids=[m.id for m in s.staff],
    )


def settings(b: Business) -> schemas.SettingsOut:
    s = b.settings
    return schemas.SettingsOut(**{name: getattr(s, name) for name in schemas.SettingsOut.model_fields})


def booked(b: Booking) -> schemas.BookResponse:
    tz = ZoneInfo(b.client_timezone)
    return schemas.BookResponse(
        reference=b.reference, status=b.status, service_id=b.service_id, staff_id=b.staff_id,
        start=b.start_at.astimezone(tz), end=b.end_at.astimezone(tz), seats=b.seats,
        client_timezone=b.client_timezone, expires_at=b.expires_at,
    )


def booking(b: Booking) -> schemas.BookingOut:
    return schemas.BookingOut(
        id=b.id, reference=b.reference, status=b.status, service_id=b.service_id, service_name=b.service.name,
        staff_id=b.staff_id, staff_name=b.staff.display_name, start=b.start_at, end=b.end_at, seats=b.seats,
        client_name=b.client_name, client_email=b.client_email, client_phone=b.client_phone,
        client_timezone=b.client_timezone, notes=b.notes or "", expires_at=b.expires_at, approved_at=b.approved_at,
        rejection_reason=b.rejection_reason, cancellation_reason=b.cancellation_reason, created_at=b.created_at,
    )


def hours(staff: StaffMember) -> schemas.HoursOut:
    return schemas.HoursOut(
        staff_id=staff.id,
        timezone=staff.effective_timezone,
        hours=[
            schemas.WeeklyInterval(weekday=h.weekday, start=f"{h.start_time:%H:%M}", end=f"{h.end_time:%H:%M}")
            for h in staff.weekly_hours
        ],
    )


def override(o: DateOverride) -> schemas.OverrideOut:
    return schemas.OverrideOut(
        id=o.id, date=o.date, intervals=[schemas.WallInterval(start=a, end=b) for a, b in o.intervals],
        unavailable=not o.intervals,
    )


def slot_unavailable(exc: SlotUnavailable, tz: str) -> schemas.ErrorResponse:
    """The 409 body for a time that is not (or no longer) free: the error on ``start`` and the
    nearest free slots, expressed in ``tz``."""
    return schemas.ErrorResponse(error=schemas.ErrorDetail(
        code=exc.code, message=exc.message, fields={"start": "That time is not available."},
        alternatives=[slot(s, tz) for s in exc.alternatives],
    ))


def business_profile(b: Business, base_url: str) -> schemas.BusinessOut:
    return schemas.BusinessOut(
        name=b.name, slug=b.slug, booking_url=f"{base_url}/book/{b.slug}", timezone=b.timezone, currency=b.currency,
        language=b.language, country=b.country, email=b.email or "", phone=b.phone or "", address=b.address or "",
        description=b.description or "",
    )


def staff_member(summary, now) -> schemas.StaffOut:
    """A :class:`app.services.team.StaffSummary` as the API shows it (``now``: for the invitation's state)."""
    s, invitation = summary.staff, summary.invitation
    return schemas.StaffOut(
        id=s.id, display_name=s.display_name, email=s.contact_email, timezone=s.timezone,
        effective_timezone=s.effective_timezone, is_active=s.is_active,
        role=summary.role.value if summary.role is not None else None,
        service_ids=[service.id for service in summary.services], upcoming_bookings=summary.upcoming,
        invitation=schemas.InvitationOut(
            email=invitation.email, status=summary.invitation_state(now), sent_at=invitation.sent_at, expires_at=invitation.expires_at,
        ) if invitation is not None else None,
    )


def staff_has_bookings(exc) -> schemas.ErrorResponse:
    """The 409 body of a refused deactivation (:class:`app.services.team.StaffHasBookings`): the
    message and the future bookings to reassign or cancel first."""
    return schemas.ErrorResponse(error=schemas.ErrorDetail(
        code=exc.code, message=exc.message, bookings=[booking(b) for b in exc.bookings],
    ))
