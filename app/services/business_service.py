"""Sign-up, business profile, booking settings, services and working hours.

Every function takes the current user's business and only touches rows that belong to it.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, time
from decimal import Decimal

import phonenumbers
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
)
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
        create_owner(user, business_name=business_name, timezone=timezone, currency=currency)
    return user


def create_owner(user: User, *, business_name: str, timezone: str, currency: str) -> Business:
    """Add ``user`` (new, e-mail lower-cased, password set) with their business, as
    :func:`sign_up` describes, to the CURRENT transaction (no commit). Raises
    :class:`ValidationFailed` if the e-mail is taken."""
    if find_user_by_email(user.email):
        raise ValidationFailed("That e-mail already has an account.", {"email": "That e-mail already has an account; log in instead."})
    business = Business(name=business_name.strip(), slug=unique_slug(business_name), timezone=timezone, currency=currency, email=user.email)
    business.settings = BookingSettings()
    db.session.add_all([user, business])
    db.session.add(Membership(user=user, business=business, role=Role.OWNER))
    staff = StaffMember(business=business, user=user, display_name=user.name or user.email)
    for weekday, start, end in DEFAULT_HOURS:
        staff.weekly_hours.append(WeeklyHours(weekday=weekday, start_time=start, end_time=end))
    db.session.add(staff)
    return business


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
    (ids of this business's staff; default: all active staff). Commits."""
    require_single_line(name=fields.get("name"))
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
    return service


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


def set_override(staff: StaffMember, day: date, intervals: list[tuple[time, time]]) -> DateOverride:
    """Replace the hours of one date (empty list = unavailable all day). Commits."""
    _check_intervals(intervals, "intervals")
    with unit_of_work([staff.id]):  # two concurrent saves of one date: no duplicate-key error
        override = db.session.scalar(select(DateOverride).where(DateOverride.staff_id == staff.id, DateOverride.date == day))
        if override is None:
            override = DateOverride(staff=staff, date=day)
            db.session.add(override)
        override.intervals = [[f"{s:%H:%M}", f"{e:%H:%M}"] for s, e in sorted(intervals)]
    return override


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
