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
from app.models.business import LocationKind, PhoneCaller
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
    bookings: list["BookingOut"] | None = Field(
        default=None, exclude_if=lambda v: v is None,
        description="On a 409 for deactivating a staff member: their future bookings, to reassign or cancel first.",
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
    location_detail: Annotated[Line, Field(max_length=500)] | None = Field(
        default=None, description="In person: the address (\"\" = the business's); phone: the number clients call "
        "(\"\" = the business's); video: a note for the client.",
    )
    phone_caller: PhoneCaller | None = Field(default=None, description="Phone services: who calls (default business).")
    video_provider: Annotated[str, Field(max_length=40)] | None = Field(
        default=None, description="Video services: zoom, google_meet, teams or other; null = not said.",
    )
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
    location_detail: str
    phone_caller: PhoneCaller | None
    video_provider: str | None
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


# ------------------------------------------------------------------ owner: business profile and team

_CURRENCY = r"^[A-Z]{3}$"


def _email_or_blank(value: str | None) -> str | None:
    """A normalised e-mail address; ``""`` stays ``""`` (no address)."""
    if value is None or value == "":
        return value
    try:
        return normalise_email(value)
    except InvalidContact as exc:
        raise PydanticCustomError("email", str(exc)) from None


def _language(value: str | None) -> str | None:
    from app.i18n import LANGUAGES

    if value is not None and value not in LANGUAGES:
        raise PydanticCustomError("language", "Use one of: {codes}.", {"codes": ", ".join(LANGUAGES)})
    return value


def _country(value: str | None) -> str | None:
    import phonenumbers

    if value is not None and value.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise PydanticCustomError("country", "Use an ISO 3166-1 alpha-2 country code, e.g. GB.")
    return value.upper() if value is not None else None


EmailOrBlank = Annotated[Line, Field(max_length=255), AfterValidator(_email_or_blank)]


class BusinessOut(BaseModel):
    name: str
    slug: str = Field(description="The booking link is /book/<slug>.")
    booking_url: str = Field(examples=["http://127.0.0.1:5000/book/swim-school-pro"])
    timezone: str = Field(description="IANA zone of the business (staff members may have their own).")
    currency: str = Field(examples=["GBP"])
    language: str = Field(description="Language of booking e-mails and the booking page's default.", examples=["en"])
    country: str | None = Field(description="ISO 3166-1 alpha-2 for reading phone numbers; null = guessed from the zone.")
    email: str
    phone: str
    address: str
    description: str


class BusinessUpdate(Strict):
    """Any subset of the profile. ``null`` for ``country`` means "guess it from the time zone"; for
    the other fields it means "leave as is". An empty string clears e-mail, phone, address or
    description. A new ``slug`` keeps the old link forwarding (301); another business's slug,
    current or former, is refused."""

    name: Annotated[Line, Field(min_length=1, max_length=120)] | None = None
    slug: Annotated[Line, Field(min_length=1, max_length=100)] | None = None
    timezone: Annotated[Zone, Field(min_length=1)] | None = None
    currency: Annotated[str, Field(pattern=_CURRENCY, examples=["GBP"])] | None = None
    language: Annotated[str, Field(max_length=8), AfterValidator(_language)] | None = None
    country: Annotated[str, Field(min_length=2, max_length=2), AfterValidator(_country)] | None = None
    email: EmailOrBlank | None = None
    phone: Annotated[Line, Field(max_length=40)] | None = None
    address: Annotated[Line, Field(max_length=255)] | None = None
    description: Annotated[Paragraph, Field(max_length=2000)] | None = None


class InvitationOut(BaseModel):
    email: str
    status: Literal["pending", "expired"] = Field(description="`pending`: the link works until `expires_at`.")
    sent_at: IsoDateTime
    expires_at: IsoDateTime


class StaffOut(BaseModel):
    id: int
    display_name: str
    email: str | None = Field(description="Their login's address once they have one, else the address to invite.")
    timezone: str | None = Field(description="IANA zone of their hours; null = the business's.")
    effective_timezone: str
    is_active: bool = Field(description="Inactive staff members cannot be booked (nor log in).")
    role: Literal["owner", "staff"] | None = Field(description="Their login's role; null = no login.")
    service_ids: list[int] = Field(description="The active services they offer.")
    upcoming_bookings: int = Field(description="Requests and confirmed bookings starting later.")
    invitation: InvitationOut | None = Field(description="An invitation not accepted yet (null: none).")


class StaffListResponse(RootModel[list[StaffOut]]):
    pass


class StaffCreate(Strict):
    display_name: Annotated[Line, Field(min_length=1, max_length=120)]
    email: EmailOrBlank | None = Field(default=None, description="Where an invitation goes; unique in the team.")
    timezone: Zone | None = Field(default=None, description="Default: the business's zone.")
    service_ids: UniqueIds | None = Field(default=None, description="Services they offer (default none).")


class StaffUpdate(Strict):
    """Any subset. ``null`` clears ``email`` and ``timezone`` (the business's zone); for the other
    fields it means "leave as is". ``is_active: false`` deactivates (409 listing their future
    bookings while they have some), ``true`` reactivates."""

    display_name: Annotated[Line, Field(min_length=1, max_length=120)] | None = None
    email: EmailOrBlank | None = None
    timezone: Zone | None = None
    service_ids: UniqueIds | None = Field(default=None, description="Replaces the services they offer.")
    is_active: bool | None = None


class InvitationIn(Strict):
    email: EmailOrBlank | None = Field(default=None, description="Default: the staff member's address (this one replaces it).")



# ------------------------------------------------------------------ set-up wizard (onboarding)

OnboardingStepName = Literal["welcome", "crm", "booking", "channels", "automations", "done"]


class OnboardingStepOut(BaseModel):
    step: OnboardingStepName
    title: str
    status: Literal["pending", "done", "skipped"]
    data: dict[str, object] = Field(description="The step's saved answers (never a secret: keys and tokens are in the vault).")
    updated_at: IsoDateTime | None


class ChecklistItemOut(BaseModel):
    key: Literal["service", "hours", "preview", "share"]
    label: str
    done: bool


class OnboardingOut(BaseModel):
    steps: list[OnboardingStepOut]
    current: OnboardingStepName = Field(description="The step to resume at: the first neither done nor skipped.")
    completed: bool = Field(description="True once the answers were applied to the live settings.")
    bookable: bool = Field(description="True when clients can book something on the booking page now.")
    checklist: list[ChecklistItemOut]


class OnboardingUpdate(Strict):
    step: OnboardingStepName
    data: dict[str, object] | None = Field(
        default=None,
        description=(
            "The step's fields (see the wizard's form). `welcome`: name, timezone, currency, language, country, email, "
            "phone, address. `crm`: company_login, auth (`api_key` | `user`), api_key | user_login + password. "
            "`booking`: template (consultation | appointment | class | blank | none), service_name, duration_minutes, "
            "price, capacity, requires_approval, min_advance_booking_hours, max_advance_booking_days, hours (7 objects "
            "{open, start, end}, Monday first). `channels`: sender_name, reply_to, and per channel (sms, whatsapp, "
            "messenger, instagram) an object of its fields and its secret. `automations`: confirmation, reminders, "
            "no_show_follow_up, review_request (booleans). `done`: {} applies every saved answer."
        ),
    )
    skip: bool = Field(default=False, description="Skip the step instead (crm, channels, automations only).")

    @model_validator(mode="after")
    def _one(self):
        if self.skip and self.data is not None:
            raise PydanticCustomError("skip_or_data", "Send either data or skip, not both.", {"field": "skip"})
        if not self.skip and self.data is None:
            raise PydanticCustomError("data_missing", "Send the step's data, or skip: true.", {"field": "data"})
        return self


class CrmTestIn(Strict):
    company_login: Annotated[Line, Field(max_length=120)] | None = None
    auth: Literal["api_key", "user"] = "api_key"
    api_key: Annotated[str, Field(max_length=500), AfterValidator(_clean)] | None = None
    user_login: Annotated[Line, Field(max_length=120)] | None = None
    password: Annotated[str, Field(max_length=500), AfterValidator(_clean)] | None = None


class CrmTestOut(BaseModel):
    ok: bool
    reason: Literal["ok", "wrong_company", "wrong_key", "wrong_user", "api_disabled", "network_error", "timeout"]
    message: str
