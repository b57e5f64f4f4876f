"""Sign-up, business profile, booking settings, services and working hours.

Every function takes the current user's business and only touches rows that belong to it.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo
from decimal import Decimal

import phonenumbers
from babel.numbers import get_territory_currencies
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    Business,
    BookingSettings,
    BusinessSlugHistory,
    DateOverride,
    Membership,
    Role,
    Service,
    StaffMember,
    User,
    WeeklyHours,
    utcnow,
)
from app.models.business import VIDEO_PROVIDERS, LocationKind, PhoneCaller
from app.services.errors import NotFound, ValidationFailed
from app.services.locks import unit_of_work
from app.text import BadText, check_line, clean_paragraph

DEFAULT_HOURS = [(weekday, time(9), time(17)) for weekday in range(5)]  # Mon-Fri 09:00-17:00
RESERVED_SLUGS = {"admin", "api", "static", "login", "logout", "signup", "dashboard", "book"}


def require_single_line(**fields: str | None) -> None:
    """Refuse control characters (line breaks, tabs, NUL, C1; see :func:`app.text.check_line`) in
    one-line values from any caller (forms and the API check first; the CLI and the demo do not).
    Raises :class:`ValidationFailed` naming each bad field."""
    errors = {}
    for name, value in fields.items():
        if isinstance(value, str):
            try:
                check_line(value)
            except BadText as exc:
                errors[name] = str(exc)
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors)


def _paragraph(name: str, value: str | None) -> str | None:
    try:
        return clean_paragraph(value) if isinstance(value, str) else value
    except BadText as exc:
        raise ValidationFailed("Please correct the highlighted fields.", {name: str(exc)}) from None


def slugify(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:80] or "business"


def unique_slug(name: str) -> str:
    base = slugify(name)
    if base in RESERVED_SLUGS:
        base = f"{base}-business"
    taken = set(db.session.scalars(select(Business.slug).where(Business.slug.like(f"{base}%"))))
    taken |= set(db.session.scalars(select(BusinessSlugHistory.slug).where(BusinessSlugHistory.slug.like(f"{base}%"))))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def sign_up(*, email: str, password: str, name: str, business_name: str, timezone: str, currency: str = "USD") -> User:
    """Create an owner, their business (unique slug), default settings, the owner as first staff
    member with Mon-Fri 09:00-17:00, and commit. Raises :class:`ValidationFailed` if the e-mail is
    taken, or when a one-line value holds control characters."""
    require_single_line(email=email, name=name, business_name=business_name, timezone=timezone, currency=currency)
    user = User(email=email.strip().lower(), name=name.strip())
    user.set_password(password)  # slow on purpose: hash before taking the write lock
    with unit_of_work():
        # The demo and scripts that call this have no wizard to ask for a public address.
        create_owner(user, business_name=business_name, timezone=timezone, currency=currency, public_email=user.email)
    return user


def create_owner(user: User, *, business_name: str, timezone: str, currency: str | None, public_email: str = "") -> Business:
    """Add ``user`` (new, e-mail lower-cased, password set) with their business, as
    :func:`sign_up` describes, to the CURRENT transaction (no commit). ``currency`` None or ""
    means the currency of the zone's country (:func:`currency_for_zone`); ``public_email`` is
    the contact address the booking page shows (none by default). Raises
    :class:`ValidationFailed` if the e-mail is taken."""
    if find_user_by_email(user.email):
        raise ValidationFailed("That e-mail already has an account.", {"email": "That e-mail already has an account; log in instead."})
    # The web sign-up passes no public e-mail: the booking page shows only contact details the
    # owner enters for it (the set-up wizard asks), never the address they log in with.
    business = Business(
        name=business_name.strip(), slug=unique_slug(business_name), timezone=timezone,
        currency=currency or currency_for_zone(timezone), email=public_email,
    )
    business.settings = BookingSettings()
    db.session.add_all([user, business])
    db.session.add(Membership(user=user, business=business, role=Role.OWNER))
    staff = StaffMember(business=business, user=user, display_name=user.name or user.email)
    for weekday, start, end in DEFAULT_HOURS:
        staff.weekly_hours.append(WeeklyHours(weekday=weekday, start_time=start, end_time=end))
    db.session.add(staff)
    return business


def country_for_zone(zone: str | None) -> str | None:
    """The country (ISO 3166 alpha-2) of an IANA zone: tzdata's zone.tab (the file the zone
    picker lists; ``America/Chicago`` -> ``US``), an old name followed to its zone, else CLDR's
    zone territories; None for ``UTC`` and other zones of no country, or one phone numbers cannot
    be read for."""
    from app.phones import country_for_timezone
    from app.timezones import canonical_zone

    country = _zone_countries().get(canonical_zone(zone) or zone or "")
    if country in phonenumbers.SUPPORTED_REGIONS:
        return country
    return country_for_timezone(zone)


@functools.cache
def _zone_countries() -> dict[str, str]:
    from app.timezones import _tzdata_text  # where zoneinfo reads zones from, as the picker does

    countries = {}
    for line in (_tzdata_text("zone.tab") or "").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3 and not line.startswith("#"):
            countries[parts[2]] = parts[0]
    return countries


def currency_for_country(country: str | None) -> str | None:
    """The currency a country uses today (ISO 4217), from CLDR via Babel's
    ``get_territory_currencies`` (legal tender only): ``US`` -> ``USD``; None when unknown."""
    if not country:
        return None
    try:
        currencies = get_territory_currencies(country, tender=True)
    except Exception:  # Babel raises for a territory it has no data for
        return None
    return currencies[0] if currencies else None


def currency_for_zone(zone: str | None, default: str = "USD") -> str:
    """The currency of the zone's country (:func:`country_for_zone`, :func:`currency_for_country`),
    else ``default``."""
    return currency_for_country(country_for_zone(zone)) or default


def update_settings(business: Business, **fields) -> BookingSettings:
    """Set the given :class:`BookingSettings` fields (already validated) and commit."""
    for key in fields:
        if not hasattr(BookingSettings, key) or key in {"id", "business_id", "created_at", "updated_at"}:
            raise ValidationFailed(f"Unknown setting {key}.", {key: "Unknown setting."})
    with unit_of_work():
        settings = business.settings
        for key, value in fields.items():
            setattr(settings, key, value)
    return settings


def get_service(business: Business, service_id: int) -> Service:
    service = db.session.get(Service, service_id)
    if service is None or service.business_id != business.id:
        raise NotFound("No such service.")
    return service


def get_staff(business: Business, staff_id: int) -> StaffMember:
    staff = db.session.get(StaffMember, staff_id)
    if staff is None or staff.business_id != business.id:
        raise NotFound("No such staff member.")
    return staff


def save_service(business: Business, service: Service | None, *, staff_ids: list[int] | None = None, **fields) -> Service:
    """Create (``service=None``) or update a service with validated ``fields`` and eligible staff
    (ids of this business's staff; default: all active staff). Commits.

    Where it happens: ``location_kind`` with ``location_detail`` (one line), ``phone_caller``
    (phone services; default :attr:`PhoneCaller.BUSINESS`) and ``video_provider`` (video
    services; a key of :data:`VIDEO_PROVIDERS` or None); the fields that do not apply to the
    service's kind are cleared. Raises :class:`ValidationFailed` for control characters in a
    one-line value or an unknown video provider."""
    require_single_line(name=fields.get("name"), location_detail=fields.get("location_detail"))
    if fields.get("video_provider") is not None and fields["video_provider"] not in VIDEO_PROVIDERS:
        raise ValidationFailed("Unknown video service.", {"video_provider": "Choose one of the video services listed."})
    if "description" in fields:
        fields["description"] = _paragraph("description", fields["description"])
    if "price" in fields and fields["price"] is not None:
        fields["price"] = Decimal(str(fields["price"]))
    with unit_of_work():
        if service is None:
            if staff_ids is None:
                staff_ids = [s.id for s in business.staff if s.is_active]
            service = Service(business_id=business.id, **fields)
            db.session.add(service)
        else:
            for key, value in fields.items():
                setattr(service, key, value)
        if staff_ids is not None:
            with db.session.no_autoflush:
                service.staff = [get_staff(business, i) for i in staff_ids]
        _fit_location(service)
    return service


def _fit_location(service: Service) -> None:
    """Clear the location fields that do not apply to the service's kind (a phone service says
    who calls, by default the business)."""
    kind = service.location_kind or LocationKind.IN_PERSON
    if kind == LocationKind.PHONE:
        service.phone_caller = service.phone_caller or PhoneCaller.BUSINESS
    else:
        service.phone_caller = None
    if kind != LocationKind.VIDEO:
        service.video_provider = None
    if service.location_detail is None:
        service.location_detail = ""


def _check_intervals(intervals: list[tuple[time, time]], field: str) -> None:
    ordered = sorted(intervals)
    for start, end in ordered:
        if end <= start:
            raise ValidationFailed("An interval ends before it starts.", {field: f"{end:%H:%M} must be after {start:%H:%M}."})
    for (s1, e1), (s2, e2) in zip(ordered, ordered[1:]):
        if s2 < e1:
            raise ValidationFailed(
                "Intervals overlap.", {field: f"{s1:%H:%M}-{e1:%H:%M} overlaps {s2:%H:%M}-{e2:%H:%M}."}
            )


def set_weekly_hours(staff: StaffMember, hours: dict[int, list[tuple[time, time]]]) -> None:
    """Replace a staff member's weekly hours: ``{weekday: [(start, end), ...]}`` (0 = Monday).

    Raises :class:`ValidationFailed` naming the day when an interval ends before it starts or two
    overlap. Commits.
    """
    for weekday, intervals in hours.items():
        if not 0 <= weekday <= 6:
            raise ValidationFailed("Weekday must be 0-6.", {"weekday": "Weekday must be 0 (Monday) to 6 (Sunday)."})
        _check_intervals(intervals, f"day_{weekday}")
    # Lock the staff member (and reload its hours) so two concurrent replacements cannot merge.
    with unit_of_work([staff.id]):
        db.session.refresh(staff)
        staff.weekly_hours.clear()
        db.session.flush()
        for weekday in sorted(hours):
            for start, end in sorted(hours[weekday]):
                staff.weekly_hours.append(WeeklyHours(weekday=weekday, start_time=start, end_time=end))


#: The longest date range one override form may cover (a year of holidays at most).
MAX_OVERRIDE_DAYS = 366


def staff_today(staff: StaffMember, now: datetime | None = None) -> date:
    """Today's date in the staff member's zone (their own, else the business's)."""
    return (now or utcnow()).astimezone(ZoneInfo(staff.effective_timezone)).date()


def set_override(staff: StaffMember, day: date, intervals: list[tuple[time, time]], *, now: datetime | None = None) -> DateOverride:
    """Replace the hours of one date (empty list = unavailable all day). Commits. Raises
    :class:`ValidationFailed` for overlapping or reversed intervals (field ``intervals``) or a
    date before today in the staff member's zone (field ``date``)."""
    return set_overrides(staff, day, day, intervals, now=now)[0]


def set_overrides(
    staff: StaffMember, first: date, last: date, intervals: list[tuple[time, time]], *, now: datetime | None = None
) -> list[DateOverride]:
    """Give every date from ``first`` to ``last`` (inclusive) the same hours, replacing each
    date's override (empty ``intervals`` = unavailable, e.g. a holiday): one override per date,
    all in one transaction, returned in date order.

    Raises :class:`ValidationFailed` (nothing saved) for overlapping or reversed intervals
    (field ``intervals``), ``first`` before today in the staff member's zone (field ``date``:
    an override of a past day changes nothing anyone can book), ``last`` before ``first`` or a
    range longer than :data:`MAX_OVERRIDE_DAYS` days (field ``date_to``)."""
    _check_intervals(intervals, "intervals")
    if first < staff_today(staff, now):
        raise ValidationFailed("That date has passed.", {"date": "Pick today or a later date."})
    if last < first:
        raise ValidationFailed("The range ends before it starts.", {"date_to": "Pick the same date as “From” or a later one."})
    days = (last - first).days + 1
    if days > MAX_OVERRIDE_DAYS:
        raise ValidationFailed("That range is too long.", {"date_to": f"A range covers at most {MAX_OVERRIDE_DAYS} days."})
    stored = [[f"{s:%H:%M}", f"{e:%H:%M}"] for s, e in sorted(intervals)]
    with unit_of_work([staff.id]):  # two concurrent saves of one date: no duplicate-key error
        existing = {
            o.date: o for o in db.session.scalars(
                select(DateOverride).where(DateOverride.staff_id == staff.id, DateOverride.date >= first, DateOverride.date <= last)
            )
        }
        overrides = []
        for n in range(days):
            day = first + timedelta(days=n)
            override = existing.get(day)
            if override is None:
                override = DateOverride(staff=staff, date=day)
                db.session.add(override)
            override.intervals = list(stored)
            overrides.append(override)
    return overrides


def delete_override(staff: StaffMember, override_id: int) -> None:
    with unit_of_work([staff.id]):
        override = db.session.get(DateOverride, override_id)
        if override is None or override.staff_id != staff.id:
            raise NotFound("No such date override.")
        db.session.delete(override)


PROFILE_FIELDS = {"name", "description", "address", "phone", "email", "timezone", "currency", "language", "brand_color", "country"}


def update_profile(business: Business, **fields) -> Business:
    """Set the business's profile fields (already validated: name, description, address, phone,
    email, IANA timezone, currency, e-mail language code, brand_color "#rrggbb" or None, country
    ISO 3166 alpha-2 or None for automatic) and commit. The slug changes only with
    :func:`change_slug`. Raises :class:`ValidationFailed` for a country phone numbers cannot be
    read for."""
    unknown = set(fields) - PROFILE_FIELDS
    if unknown:
        raise ValidationFailed("Unknown profile field.", {key: "Unknown field." for key in unknown})
    require_single_line(**{key: value for key, value in fields.items() if key != "description"})
    if "description" in fields:
        fields["description"] = _paragraph("description", fields["description"])
    if "country" in fields:
        fields["country"] = _country(fields["country"])
    with unit_of_work():
        for key, value in fields.items():
            setattr(business, key, value)
    return business


def _country(value: str | None) -> str | None:
    """An ISO 3166 alpha-2 code phone numbers can be read for (upper-cased), None for none.
    Raises :class:`ValidationFailed` (field ``country``)."""
    code = (value or "").strip().upper() or None
    if code is not None and code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationFailed("Please correct the highlighted fields.", {"country": "Choose a country from the list."})
    return code


SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")


def current_slug(old_slug: str) -> str | None:
    """The current slug of the business that used ``old_slug`` before (see :func:`change_slug`),
    or None."""
    return db.session.scalar(
        select(Business.slug).join(BusinessSlugHistory, BusinessSlugHistory.business_id == Business.id)
        .where(BusinessSlugHistory.slug == old_slug)
    )


def change_slug(business: Business, new_slug: str) -> Business:
    """Give the business the booking link ``/book/<new_slug>`` and commit.

    ``new_slug`` is lower-cased and must be 1-100 characters of a-z, 0-9 and inner hyphens,
    not a reserved word, and not the slug, current or former, of another business. The old slug
    goes into the business's slug history, so its links answer 301 to the new one and no other
    business can take it; taking back a slug of its own history removes it from there. The
    same slug again changes nothing. Raises :class:`ValidationFailed` (field ``slug``).
    """
    new = (new_slug or "").strip().lower()
    if not SLUG_PATTERN.match(new):
        raise ValidationFailed(
            "Please correct the link.", {"slug": "Use 1 to 100 lower-case letters, digits and hyphens (not first or last)."}
        )
    if new in RESERVED_SLUGS:
        raise ValidationFailed("Please correct the link.", {"slug": "That word is reserved; choose another."})
    if new == business.slug:
        return business
    taken = {"slug": "Another business has (or had) that link; choose another."}
    try:
        with unit_of_work():
            if db.session.scalar(select(Business.id).where(Business.slug == new, Business.id != business.id)) is not None:
                raise ValidationFailed("That link is taken.", taken)
            former = db.session.scalar(select(BusinessSlugHistory).where(BusinessSlugHistory.slug == new))
            if former is not None and former.business_id != business.id:
                raise ValidationFailed("That link is taken.", taken)
            if former is not None:
                db.session.delete(former)
                db.session.flush()
            db.session.add(BusinessSlugHistory(business_id=business.id, slug=business.slug))
            business.slug = new
    except IntegrityError:
        # A concurrent change took it between the check and the commit (both slugs are unique).
        raise ValidationFailed("That link is taken.", taken) from None
    return business


def add_staff(business: Business, display_name: str, timezone: str | None = None) -> StaffMember:
    """Add an active staff member (no login, no hours yet; ``timezone=None`` = the business's).
    Commits and returns the new row. Raises :class:`ValidationFailed` for control characters in
    the name."""
    require_single_line(display_name=display_name, timezone=timezone)
    with unit_of_work():
        staff = StaffMember(business=business, display_name=display_name.strip(), timezone=timezone or None)
        db.session.add(staff)
    return staff
