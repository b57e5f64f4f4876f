"""``flask demo``: "Swim School Pro", ready to book, with an owner login.

Idempotent: when the business already exists it only prints the URLs and the login again.
The demo business requires approval, so a booking made through the link lands in the owner's
requests queue and the approve/reject flow can be shown straight away.

Demo data sends nothing: its bookings are made with the subscribers that record e-mails (and the
expiry of requests, which would e-mail on expiry) switched off, so ``flask demo`` with
``SMTP_URL`` set writes no e-mail job for the made-up addresses. The owner's in-app notifications
are kept. What the owner does afterwards (approving a demo request) e-mails as usual.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from app.domain.booking_state import BookingStatus
from app.extensions import db
from app.models import Booking, Business, Membership, Role, Service, StaffMember, User, utcnow
from app.services import (
    availability_service,
    branding,
    booking_emails,
    booking_events,
    booking_service,
    business_service,
    client_self_service,
    reminders,
    request_expiry,
)
from app.services.booking_service import BookingRequest

SLUG = "swim-school-pro"
OWNER_EMAIL = "owner@swimschool.example"
OWNER_PASSWORD = "swim-school-demo"
#: Sam logs in as a staff member: their own bookings, requests and hours, nothing else.
STAFF_EMAIL = "sam@swimschool.example"
STAFF_PASSWORD = "swim-school-staff"
TIMEZONE = "Europe/London"

PROFILE = dict(
    description="Professional swimming lessons",
    address="123 Pool Street, London",
    phone="+44 20 7946 0000",
    email="info@swimschool.example",
    brand_color="#0e7490",  # pool teal: the booking page's buttons and the e-mails' header
)

# Alex (the owner): Mon-Fri 09:00-17:00 with a lunch break; Sam: Tue-Sat 10:00-18:00.
ALEX_HOURS = {day: [(time(9), time(12)), (time(13), time(17))] for day in range(0, 5)}
SAM_HOURS = {day: [(time(10), time(18))] for day in range(1, 6)}

SERVICES = [
    dict(
        name="Private Swimming Lesson",
        description="One-to-one coaching for any level, from first strokes to competition technique.",
        duration_minutes=45,
        price=Decimal("50.00"),
        capacity=1,
        buffer_after_minutes=15,
        slot_interval_minutes=60,
    ),
    dict(
        name="Group Class",
        description="A friendly class of up to six swimmers of a similar level.",
        duration_minutes=60,
        price=Decimal("20.00"),
        capacity=6,
        buffer_after_minutes=0,
    ),
    dict(
        name="Assessment",
        description="A free 30-minute assessment to find the right lessons for you.",
        duration_minutes=30,
        price=Decimal("0.00"),
        capacity=1,
        buffer_after_minutes=0,
    ),
]


@dataclass(frozen=True)
class DemoBooking:
    service: str
    days_ahead: int  # the first free slot on or after this many days from today
    client_name: str
    client_email: str | None
    client_phone: str | None
    approve: bool
    notes: str = ""
    staff: str | None = None  # a staff member's display name; None = whoever is free


BOOKINGS = [
    DemoBooking("Private Swimming Lesson", 1, "Emma Thompson", "emma@example.com", None, True, "Working on breaststroke."),
    # Three swimmers in the same class with Alex: it stays listed with 3 of 6 seats left.
    DemoBooking("Group Class", 2, "Oliver Smith", "oliver@example.com", None, True, staff="Alex"),
    DemoBooking("Group Class", 2, "Amelia Jones", "amelia@example.com", "+44 7911 123456", True, staff="Alex"),
    DemoBooking("Group Class", 2, "Harry Brown", None, "+44 7400 123456", True, staff="Alex"),
    # Three days ahead, well before the 12-hour limit on changes: its manage link can reschedule and cancel.
    DemoBooking("Assessment", 3, "Isla Wilson", "isla@example.com", None, True, staff="Sam"),
    DemoBooking("Private Swimming Lesson", 2, "Noah Taylor", "noah@example.com", None, False, "First lesson, a bit nervous."),
    DemoBooking("Assessment", 4, "Ava Davies", "ava@example.com", "+44 7946 000123", False, staff="Sam"),
]


def add_staff(business: Business, display_name: str, hours: dict, login: tuple[str, str] | None = None) -> StaffMember:
    """A staff member with the given weekly hours (commits); with ``login`` (e-mail, password)
    they also log in, with the staff role. Made directly rather than by an invitation, which
    would e-mail them: demo data sends nothing."""
    staff = StaffMember(business=business, display_name=display_name)
    if login is not None:
        email, password = login
        user = User(email=email, name=display_name)
        user.set_password(password)
        staff.user, staff.email = user, email
        db.session.add(Membership(user=user, business=business, role=Role.STAFF))
    db.session.add(staff)
    db.session.commit()
    business_service.set_weekly_hours(staff, hours)
    return staff


def _book(business: Business, service: Service, plan: DemoBooking, now: datetime, owner: User):
    """Place ``plan`` on the first free slot from ``plan.days_ahead`` days ahead; approve if asked."""
    from app.services.clients import normalise_phone

    today = now.astimezone(ZoneInfo(business.timezone)).date()
    first = today + timedelta(days=plan.days_ahead)
    staff_id = next((s.id for s in business.staff if s.display_name == plan.staff), None) if plan.staff else None
    slots = availability_service.available_slots(business, service, first, first + timedelta(days=14), now, staff_id)
    if not slots:
        return None
    request = BookingRequest(
        service_id=service.id,
        start=slots[0].start,
        staff_id=staff_id,
        client_name=plan.client_name,
        client_email=plan.client_email,
        client_phone=normalise_phone(plan.client_phone) if plan.client_phone else None,
        client_timezone=business.timezone,
        notes=plan.notes,
    )
    booking = booking_service.create_booking(business, request, now=now).booking
    if plan.approve and booking.status == BookingStatus.PENDING:
        booking = booking_service.approve(business, booking.id, owner, now=now)
    return booking


# The booking-event subscribers that record outbox jobs: switched off while the demo is seeded.
SILENCED = (booking_emails.on_booking_event, reminders.on_booking_event, request_expiry.on_booking_event)


@contextmanager
def silenced_subscribers() -> Iterator[None]:
    """Within the block, booking changes of the current app skip :data:`SILENCED`; the
    subscriber list (and its order) is restored on the way out, error or not."""
    registered = booking_events.subscribers()
    saved = list(registered)
    registered[:] = [s for s in saved if s not in SILENCED]
    try:
        yield
    finally:
        registered[:] = saved


def demo_logo() -> bytes:
    """A small PNG logo for the demo, drawn here (no image file to ship): three white waves on a
    teal rounded square, 256 x 256 pixels."""
    import io
    import math

    from PIL import Image, ImageDraw

    scale = 4  # drawn large, then scaled down: smooth edges without an anti-aliasing API
    size = 256 * scale
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=56 * scale, fill=(14, 116, 144, 255))
    radius = 7 * scale  # half the stroke: each wave is a run of overlapping dots, round at both ends
    for row, y in enumerate((92, 136, 180)):
        colour = (255, 255, 255, 255 - row * 50)
        for step in range(0, 177 * scale, 2):
            x = 40 * scale + step
            wave_y = (y + 11 * math.sin(step / (176 * scale) * 2 * math.pi + row * 0.5)) * scale
            draw.ellipse((x - radius, wave_y - radius, x + radius, wave_y + radius), fill=colour)
    out = io.BytesIO()
    image.resize((256, 256), Image.Resampling.LANCZOS).save(out, "PNG")
    return out.getvalue()


def create_demo(now: datetime | None = None) -> tuple[Business, bool]:
    """Create Swim School Pro (owner, staff, hours, services, bookings) unless it exists.

    Returns ``(business, created)``. Bookings are placed on free slots from ``now`` (default:
    the current instant) with the real booking service, so they respect hours and buffers.
    """
    existing = db.session.scalar(select(Business).where(Business.slug == SLUG))
    if existing is not None:
        return existing, False
    now = now or utcnow()
    owner = business_service.sign_up(
        email=OWNER_EMAIL,
        password=OWNER_PASSWORD,
        name="Alex",
        business_name="Swim School Pro",
        timezone=TIMEZONE,
        currency="GBP",
    )
    business = db.session.scalar(select(Business).where(Business.slug == SLUG))
    for key, value in PROFILE.items():
        setattr(business, key, value)
    db.session.commit()
    branding.set_logo(business, demo_logo())
    business_service.update_settings(business, requires_approval=True)

    alex = business.staff[0]
    business_service.set_weekly_hours(alex, ALEX_HOURS)
    add_staff(business, "Sam", SAM_HOURS, login=(STAFF_EMAIL, STAFF_PASSWORD))

    services = {spec["name"]: business_service.save_service(business, None, **spec) for spec in SERVICES}
    with silenced_subscribers():
        for plan in BOOKINGS:
            _book(business, services[plan.service], plan, now, owner)
    return business, True


#: The demo booking whose manage link ``flask demo`` prints (the client's side of self-service).
MANAGE_LINK_CLIENT = "isla@example.com"


def demo_manage_url(business: Business) -> str | None:
    """The manage link of the demo's :data:`MANAGE_LINK_CLIENT` booking, if it is still pending
    or confirmed (None once it changed or was never placed)."""
    booking = db.session.scalar(
        select(Booking).where(Booking.business_id == business.id, Booking.client_email == MANAGE_LINK_CLIENT).order_by(Booking.id)
    )
    if booking is None or booking.status not in (BookingStatus.PENDING, BookingStatus.CONFIRMED):
        return None
    return client_self_service.manage_url(booking)


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Create the demo business "Swim School Pro" (does nothing if it exists)."""
    business, created = create_demo()
    base = current_app.config["BASE_URL"]
    if created:
        click.echo(f"Created the demo business {business.name!r}.")
    else:
        click.echo(f"The demo business {business.name!r} already exists; nothing to do.")
    click.echo(f"  Booking link: {base}/book/{business.slug}")
    click.echo(f"  Dashboard:    {base}/dashboard/")
    click.echo(f"  Owner login:  {OWNER_EMAIL} / {OWNER_PASSWORD}")
    click.echo(f"  Staff login:  {STAFF_EMAIL} / {STAFF_PASSWORD} (Sam: only Sam's bookings and hours)")
    if manage := demo_manage_url(business):
        click.echo(f"  A client's manage link (Isla Wilson's booking): {manage}")
