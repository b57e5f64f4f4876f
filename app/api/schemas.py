"""Request and response schemas of the JSON API: the one source for input validation and for the
OpenAPI document served at ``/api/openapi.json`` (see :mod:`app.api.openapi`).

Conventions: instants are ISO-8601 with an offset; dates ``YYYY-MM-DD``; wall-clock times
``HH:MM``; money a decimal string (``"50.00"``); ids positive 32-bit integers. Every string is
checked for characters a database cannot store (NUL, lone surrogates), so no input reaches the
database that would make it fail with a 500; one-line strings (names, contacts) refuse every
control character and multi-line ones (notes, descriptions) lose them, by the rule of
:mod:`app.text`. Bodies are validated in pydantic's strict mode (:func:`app.api.io.body`): ``true``
is not a number, ``1`` is not a boolean, ``"5"`` is not an integer; instants and dates are ISO
strings.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    RootModel,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app.domain.booking_state import BookingStatus
from app.models.business import LocationKind
from app.services.clients import InvalidContact, normalise_email, normalise_phone
from app.text import BadText, check_line, clean_paragraph
from app.timezones import MAX_YEAR, MIN_YEAR, is_timezone

MAX_RANGE_DAYS = 62
MAX_ID = 2**31 - 1


def _clean(value: str) -> str:
    """Strip; refuse NUL and lone surrogates (PostgreSQL and UTF-8 cannot store them)."""
    if "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise PydanticCustomError("invalid_characters", "Contains characters that are not allowed.")
    return value.strip()


def _line(value: str) -> str:
    """A one-line value, stripped (see :func:`app.text.check_line`)."""
    try:
        return check_line(value).strip()
    except BadText as exc:
        raise PydanticCustomError("invalid_characters", str(exc)) from None


def _paragraph(value: str) -> str:
    """A multi-line value, stripped, control characters but LF and tab removed (see
    :func:`app.text.clean_paragraph`)."""
    try:
        return clean_paragraph(value).strip()
    except BadText as exc:
        raise PydanticCustomError("invalid_characters", str(exc)) from None


def _unique(values: list | None) -> list | None:
    if values is not None and len(set(values)) != len(values):
        raise PydanticCustomError("unique_items", "List each id once.")
    return values


def _whole_number(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_PRICE = r"^-?[0-9]{1,12}(\.[0-9]{1,12})?$"


def _price_text(value):
    """Prices travel as decimal strings (a JSON number would lose cents to binary floats)."""
    if not isinstance(value, str) or not re.match(_PRICE, value):
        raise PydanticCustomError("decimal_type", 'Must be a decimal number, e.g. "25.00".')
    return Decimal(value)


def _check_date(value: date) -> date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise PydanticCustomError("date_range", "Use a date between {lo} and {hi}.", {"lo": MIN_YEAR, "hi": MAX_YEAR})
    return value


def _check_instant(value: datetime) -> datetime:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise PydanticCustomError("date_range", "Use a time between {lo} and {hi}.", {"lo": MIN_YEAR, "hi": MAX_YEAR})
    return value


def _check_zone(value: str | None) -> str | None:
    if value and not is_timezone(value):
        raise PydanticCustomError("timezone", "Unknown time zone; use an IANA name like Europe/London.")
    return value or None


# JSON Schema counts 3.0 as an integer (2020-12 validation, section 6.1.1): so do we; true does not.
Int = Annotated[int, BeforeValidator(_whole_number)]
Line = Annotated[str, AfterValidator(_line)]
Paragraph = Annotated[str, AfterValidator(_paragraph)]
Id = Annotated[Int, Field(ge=1, le=MAX_ID)]
Day = Annotated[date, AfterValidator(_check_date)]
Instant = Annotated[AwareDatetime, AfterValidator(_check_instant)]
Zone = Annotated[str, Field(max_length=64), AfterValidator(_clean), AfterValidator(_check_zone)]
WallTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["09:00"], description="HH:MM")]
Minutes = Annotated[Int, Field(ge=0, le=24 * 60)]
UniqueIds = Annotated[list[Id], Field(max_length=500, json_schema_extra={"uniqueItems": True}), AfterValidator(_unique)]
# Responses write instants as ``2027-03-01T09:00:00+00:00`` (``isoformat``; pydantic would say "Z").
IsoDateTime = Annotated[
    datetime,
    PlainSerializer(lambda v: v.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class Strict(BaseModel):
    """Request models refuse unknown fields so a typo is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


def parse_wall(value: str) -> time:
    return time.fromisoformat(value)


# ------------------------------------------------------------------ errors

class ErrorDetail(BaseModel):
    code: str = Field(examples=["validation_failed"])
    message: str
    fields: dict[str, str] = Field(default_factory=dict, description="Field path (dotted) -> message.")
    alternatives: list["SlotOut"] | None = Field(
        default=None, description="Nearest free slots, on a 409 for a time that is not free."
    )


class ErrorResponse(BaseModel):
    error: ErrorDetail


# ------------------------------------------------------------------ public

class PublicBusiness(BaseModel):
    name: str
    slug: str
    description: str
    address: str
    phone: str
    email: str
    timezone: str = Field(description="IANA zone; availability dates are calendar dates here.")
    currency: str


class PublicSettings(BaseModel):
    requires_approval: bool
    buffer_time_minutes: int
    is_active: bool


class PublicBusinessResponse(BaseModel):
    business: PublicBusiness
    settings: PublicSettings


class ServiceOut(BaseModel):
    id: int
    name: str
    description: str
    duration_minutes: int
    capacity: int
    price: str = Field(examples=["50.00"])


class PublicServicesResponse(RootModel[list[ServiceOut]]):
    pass


class AvailabilityQuery(Strict):
    service_id: Id
    start_date: Day
    end_date: Day
    tz: Zone | None = Field(default=None, description="Express times in this IANA zone (default: the business's).")

    @model_validator(mode="after")
    def _range(self) -> "AvailabilityQuery":
        if self.end_date < self.start_date:
            raise PydanticCustomError(
                "date_order", "end_date must not be before start_date.", {"field": "end_date"}
            )
        if (self.end_date - self.start_date).days + 1 > MAX_RANGE_DAYS:
            raise PydanticCustomError(
                "range_too_long", "Ask for at most {n} days at a time.", {"field": "end_date", "n": MAX_RANGE_DAYS}
            )
        return self


class SlotOut(BaseModel):
    start_time: str = Field(examples=["09:00"], description="HH:MM in the business zone, or in `tz` when given.")
    end_time: str = Field(examples=["10:00"])
    available_spots: int
    staff_id: int
    start: IsoDateTime = Field(description="ISO-8601 with offset; pass it back as `start` to book.")
    end: IsoDateTime


class AvailabilityResponse(RootModel[dict[date, list[SlotOut]]]):
    """Every date of the range (business zone), each with its free slots in order (maybe none)."""


class BookIn(Strict):
    service_id: Id
    start: Instant = Field(description="A slot's `start` as returned by availability.")
    staff_id: Id | None = None
    seats: Int = Field(default=1, ge=1, le=1000)
    client_name: Annotated[Line, Field(min_length=1, max_length=255)]
    client_email: Annotated[Line, Field(max_length=255)] | None = None
    client_phone: Annotated[Line, Field(max_length=40)] | None = None
    notes: Annotated[Paragraph, Field(max_length=2000)] = ""
    client_timezone: Zone | None = Field(default=None, description="Default: the business's zone.")


    @field_validator("client_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        try:
            return normalise_email(value)
        except InvalidContact as exc:
            raise PydanticCustomError("email", str(exc)) from None

    @field_validator("client_phone")
    @classmethod
    def _phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        # A number without "+" is read as dialled in the business's country (context "phone_region").
        try:
            return normalise_phone(value, (info.context or {}).get("phone_region"))
        except InvalidContact as exc:
            raise PydanticCustomError("phone", str(exc)) from None

    @model_validator(mode="after")
    def _contact(self) -> "BookIn":
        if not self.client_email and not self.client_phone:
            raise PydanticCustomError(
                "contact_required", "Give an e-mail address or a phone number.", {"field": "client_email"}
            )
        return self


class BookResponse(BaseModel):
    reference: str = Field(examples=["FK-7Q4M2X"])
    status: BookingStatus
    service_id: int
    staff_id: int
    start: IsoDateTime
    end: IsoDateTime
    seats: int
    client_timezone: str
    expires_at: IsoDateTime | None = Field(description="When a pending request lapses unless approved.")


# ------------------------------------------------------------------ owner: settings, link

class SettingsOut(BaseModel):
    requires_approval: bool
    buffer_time_minutes: int
    booking_expiry_hours: int
    is_active: bool
    auto_approve_returning_clients: bool
    max_advance_booking_days: int
    min_advance_booking_hours: int
    clients_can_reschedule: bool = Field(description="Clients may move their booking with its manage link.")
    client_reschedule_notice_hours: int = Field(description="Until how many hours before the start (0 = until it starts).")
    clients_can_cancel: bool = Field(description="Clients may cancel their confirmed booking with its manage link (a request can always be withdrawn).")
    client_cancel_notice_hours: int = Field(description="Until how many hours before the start (0 = until it starts).")


class SettingsUpdate(Strict):
    """Any subset of the settings; fields left out keep their value."""

    requires_approval: bool | None = None
    buffer_time_minutes: Minutes | None = None
    booking_expiry_hours: Annotated[Int, Field(ge=1, le=24 * 30)] | None = None
    is_active: bool | None = None
    auto_approve_returning_clients: bool | None = None
    max_advance_booking_days: Annotated[Int, Field(ge=1, le=730)] | None = None
    min_advance_booking_hours: Annotated[Int, Field(ge=0, le=24 * 90)] | None = None
    clients_can_reschedule: bool | None = None
    client_reschedule_notice_hours: Annotated[Int, Field(ge=0, le=24 * 30)] | None = None
    clients_can_cancel: bool | None = None
    client_cancel_notice_hours: Annotated[Int, Field(ge=0, le=24 * 30)] | None = None


class LinkOut(BaseModel):
    url: str = Field(examples=["http://127.0.0.1:5000/book/swim-school-pro"])
    slug: str
    is_active: bool


# ------------------------------------------------------------------ owner: services

class _ServiceFields(Strict):
    name: Annotated[Line, Field(min_length=1, max_length=120)] | None = None
    description: Annotated[Paragraph, Field(max_length=5000)] | None = None
    duration_minutes: Annotated[Int, Field(ge=5, le=24 * 60)] | None = None
    price: Annotated[
        Decimal, BeforeValidator(_price_text), Field(ge=0, le=Decimal("99999999.99"), decimal_places=2),
        WithJsonSchema({"type": "string", "pattern": _PRICE, "examples": ["25.00"]}, mode="validation"),
    ] | None = None
    capacity: Annotated[Int, Field(ge=1, le=1000)] | None = None
    buffer_before_minutes: Minutes | None = Field(default=None, description="null = no before-buffer.")
    buffer_after_minutes: Minutes | None = Field(default=None, description="null = the business's buffer_time_minutes.")
    slot_interval_minutes: Annotated[Int, Field(ge=5, le=24 * 60)] | None = Field(
        default=None, description="null = the duration."
    )
    is_bookable: bool | None = None
    location_kind: LocationKind | None = None
    staff_ids: UniqueIds | None = Field(default=None, description="Eligible staff (each id once); default all active.")


class ServiceCreate(_ServiceFields):
    name: Annotated[Line, Field(min_length=1, max_length=120)]
    duration_minutes: Annotated[Int, Field(ge=5, le=24 * 60)]



class ServiceUpdate(_ServiceFields):
    """Any subset of the fields; ``null`` for a buffer or interval resets it to the default."""

    is_active: bool | None = None


class OwnerServiceOut(ServiceOut):
    buffer_before_minutes: int | None
    buffer_after_minutes: int | None
    slot_interval_minutes: int | None
    is_bookable: bool
    is_active: bool
    location_kind: LocationKind
    staff_ids: list[int]


class OwnerServicesResponse(RootModel[list[OwnerServiceOut]]):
    pass


# ------------------------------------------------------------------ owner: hours and overrides

class WeeklyInterval(Strict):
    weekday: Int = Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday")
    start: WallTime
    end: WallTime


class HoursIn(Strict):
    """The complete weekly hours (replaces all); a weekday left out is a day off."""

    hours: list[WeeklyInterval] = Field(max_length=100)


class HoursOut(BaseModel):
    staff_id: int
    timezone: str
    hours: list[WeeklyInterval]


class WallInterval(Strict):
    start: WallTime
    end: WallTime


class OverrideIn(Strict):
    date: Day
    intervals: list[WallInterval] = Field(max_length=20, description="Empty = unavailable all day.")


class OverrideOut(BaseModel):
    id: int
    date: date
    intervals: list[WallInterval]
    unavailable: bool


class OverridesResponse(RootModel[list[OverrideOut]]):
    pass


# ------------------------------------------------------------------ owner: bookings and requests

class BookingOut(BaseModel):
    id: int
    reference: str
    status: BookingStatus
    service_id: int
    service_name: str
    staff_id: int
    staff_name: str
    start: IsoDateTime
    end: IsoDateTime
    seats: int
    client_name: str
    client_email: str | None
    client_phone: str | None
    client_timezone: str
    notes: str
    expires_at: IsoDateTime | None
    approved_at: IsoDateTime | None
    rejection_reason: str | None
    cancellation_reason: str | None
    created_at: IsoDateTime


class BookingsResponse(RootModel[list[BookingOut]]):
    pass


class _DateRange(Strict):
    start_date: Day | None = None
    end_date: Day | None = None
    staff_id: Id | None = None

    @model_validator(mode="after")
    def _order(self):
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise PydanticCustomError("date_order", "end_date must not be before start_date.", {"field": "end_date"})
        return self


class RequestsQuery(_DateRange):
    status: BookingStatus = Field(
        default=BookingStatus.PENDING, description="Default `pending` (only requests not yet expired)."
    )


class BookingsQuery(_DateRange):
    status: BookingStatus | None = None
    when: Literal["upcoming", "past"] | None = None
    limit: Int = Field(default=200, ge=1, le=500)
    offset: Int = Field(default=0, ge=0, le=1_000_000)


class RejectIn(Strict):
    reason: Annotated[Paragraph, Field(min_length=1, max_length=2000)]


class RescheduleIn(Strict):
    start: Instant = Field(description="The new start, ISO-8601 with an offset: a free slot's `start` for the booking's service.")
    staff_id: Id | None = Field(default=None, description="Move to this staff member (default: the booking's own).")



ErrorDetail.model_rebuild()
