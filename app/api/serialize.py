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


def slot(s: Slot, tz: str) -> schemas.SlotOut:
    """A slot with ``HH:MM`` times and ISO instants expressed in ``tz`` (same instants)."""
    zone = ZoneInfo(tz)
    start, end = s.start.astimezone(zone), s.end.astimezone(zone)
    return schemas.SlotOut(
        start_time=f"{start:%H:%M}", end_time=f"{end:%H:%M}", available_spots=s.available_spots,
        staff_id=s.staff_id, start=start, end=end,
    )


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
