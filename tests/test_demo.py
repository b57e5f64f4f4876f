"""``flask demo`` creates Swim School Pro once, ready to book and to log in to."""
from __future__ import annotations

from collections import Counter
from decimal import Decimal

from sqlalchemy import func, select

from app.demo import OWNER_EMAIL, OWNER_PASSWORD, STAFF_EMAIL, STAFF_PASSWORD
from app.domain.booking_state import BookingStatus
from app.models import Booking, Business, Role, Service, StaffMember, User


def test_demo_is_created_once(runner, db):
    first = runner.invoke(args=["demo"])
    second = runner.invoke(args=["demo"])

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert "Created the demo business 'Swim School Pro'." in first.output
    assert "already exists; nothing to do" in second.output
    for output in (first.output, second.output):
        assert "http://localhost/book/swim-school-pro" in output
        assert "http://localhost/dashboard/" in output
        assert f"{OWNER_EMAIL} / {OWNER_PASSWORD}" in output

    businesses = db.session.scalars(select(Business)).all()
    assert [(b.name, b.slug, b.timezone, b.currency, b.description, b.address, b.phone, b.email) for b in businesses] == [
        (
            "Swim School Pro",
            "swim-school-pro",
            "Europe/London",
            "GBP",
            "Professional swimming lessons",
            "123 Pool Street, London",
            "+44 20 7946 0000",
            "info@swimschool.example",
        )
    ]
    business = businesses[0]
    assert business.settings.requires_approval is True
    assert db.session.scalars(select(User.email).order_by(User.id)).all() == [OWNER_EMAIL, STAFF_EMAIL]

    services = db.session.scalars(select(Service).order_by(Service.id)).all()
    assert [
        (s.name, s.duration_minutes, s.price, s.capacity, s.buffer_after_minutes, s.interval_minutes, [m.display_name for m in s.staff])
        for s in services
    ] == [
        ("Private Swimming Lesson", 45, Decimal("50.00"), 1, 15, 60, ["Alex", "Sam"]),
        ("Group Class", 60, Decimal("20.00"), 6, 0, 60, ["Alex", "Sam"]),
        ("Assessment", 30, Decimal("0.00"), 1, 0, 30, ["Alex", "Sam"]),
    ]

    staff = db.session.scalars(select(StaffMember).order_by(StaffMember.id)).all()
    hours = {
        s.display_name: sorted({(h.start_time.strftime("%H:%M"), h.end_time.strftime("%H:%M"), h.weekday) for h in s.weekly_hours})
        for s in staff
    }
    assert hours == {
        "Alex": sorted({(a, b, d) for d in range(5) for a, b in (("09:00", "12:00"), ("13:00", "17:00"))}),
        "Sam": sorted({("10:00", "18:00", d) for d in range(1, 6)}),
    }
    assert (staff[0].user.email, staff[1].user.email, staff[1].user.membership.role) == (OWNER_EMAIL, STAFF_EMAIL, Role.STAFF)

    bookings = db.session.scalars(select(Booking)).all()
    assert Counter(b.status for b in bookings) == {BookingStatus.CONFIRMED: 5, BookingStatus.PENDING: 2}
    group = [b for b in bookings if b.service.name == "Group Class"]
    assert len({(b.staff_id, b.start_at) for b in group}) == 1  # three swimmers share one class
    assert all(b.expires_at is not None for b in bookings if b.status == BookingStatus.PENDING)


def test_demo_owner_can_log_in(runner, client):
    runner.invoke(args=["demo"])

    response = client.post("/login", data={"email": OWNER_EMAIL, "password": OWNER_PASSWORD})

    assert response.status_code == 302
    assert "/dashboard" in response.headers["Location"]
    assert client.get("/dashboard/").status_code == 200


def test_demo_staff_member_sees_only_their_own_bookings(runner, client, db):
    runner.invoke(args=["demo"])
    sams = set(db.session.scalars(select(Booking.client_name).join(StaffMember).where(StaffMember.display_name == "Sam")))
    others = set(db.session.scalars(select(Booking.client_name).join(StaffMember).where(StaffMember.display_name != "Sam")))
    assert sams and others

    response = client.post("/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD})
    assert response.status_code == 302

    page = client.get("/dashboard/bookings").get_data(as_text=True)  # the demo books only ahead
    assert all(name in page for name in sams) and not any(name in page for name in others)
    assert client.get("/dashboard/settings").status_code == 403


def test_demo_with_smtp_configured_sends_nothing(runner, app, db):
    """Seeding made-up clients (emma@example.com, ...) must not e-mail them, even with a real
    SMTP server configured: the demo records no e-mail, reminder or expiry job at all."""
    from datetime import timedelta

    from app.jobs import run_job
    from app.models import utcnow
    from app.models.outbox import OutboxJob
    from app.services import booking_events
    from tests.fakes.smtp_server import FakeSmtpServer

    smtp = FakeSmtpServer().start()
    subscribers_before = list(booking_events.subscribers(app))
    try:
        app.config.update(SMTP_URL=smtp.url, SMTP_TIMEOUT=5)
        result = runner.invoke(args=["demo"])
        assert result.exit_code == 0, result.output
        assert db.session.scalar(select(func.count(Booking.id))) == 7

        assert db.session.scalars(select(OutboxJob.kind)).all() == []
        month_later = utcnow() + timedelta(days=31)
        for job_id in db.session.scalars(select(OutboxJob.id)).all():
            run_job(job_id, now=month_later)
        assert smtp.messages == []
        assert booking_events.subscribers(app) == subscribers_before  # switched back on
    finally:
        smtp.stop()


def test_demo_prints_a_client_manage_link_that_works(runner, client):
    import re

    output = runner.invoke(args=["demo"]).output
    match = re.search(r"A client's manage link \(Isla Wilson's booking\): http://localhost(/book/swim-school-pro/manage/\S+)", output)
    assert match, output
    page = client.get(match.group(1))
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Assessment" in body and "Sam" in body
    assert "You can reschedule or cancel online until 12 hours before your appointment." in body
    assert client.get(match.group(1) + "/reschedule").status_code == 200
    again = runner.invoke(args=["demo"]).output
    assert match.group(0) in again  # printed again on a second run
