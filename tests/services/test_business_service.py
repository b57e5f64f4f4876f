"""business_service: sign-up, slugs, weekly hours and date overrides."""
from __future__ import annotations

from datetime import date, datetime, time, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.models import BookingSettings, DateOverride, Membership, Role, StaffMember, User, WeeklyHours
from app.services import business_service
from app.services.errors import ValidationFailed


def sign_up(email, business_name="Swim School Pro", tz="Europe/London"):
    return business_service.sign_up(email=email, password="correct horse battery", name="Ann Owner", business_name=business_name, timezone=tz)


def hours_of(db, staff):
    rows = db.session.scalars(select(WeeklyHours).where(WeeklyHours.staff_id == staff.id).order_by(WeeklyHours.weekday, WeeklyHours.start_time))
    return [(h.weekday, h.start_time, h.end_time) for h in rows]


def t(text):
    return time.fromisoformat(text)


def test_sign_up_creates_everything(db):
    user = sign_up(" Ann@Example.COM ")
    business = user.business
    assert (user.email, user.name, user.check_password("correct horse battery")) == ("ann@example.com", "Ann Owner", True)
    assert (business.name, business.slug, business.timezone, business.email) == ("Swim School Pro", "swim-school-pro", "Europe/London", "ann@example.com")
    assert [(m.user_id, m.role) for m in db.session.scalars(select(Membership))] == [(user.id, Role.OWNER)]
    s = business.settings
    assert (
        s.requires_approval, s.buffer_time_minutes, s.booking_expiry_hours, s.is_active,
        s.auto_approve_returning_clients, s.max_advance_booking_days, s.min_advance_booking_hours,
    ) == (False, 15, 24, True, False, 30, 2)
    staff = db.session.scalars(select(StaffMember)).all()
    assert [(st.display_name, st.user_id, st.timezone, st.effective_timezone, st.is_active) for st in staff] == [
        ("Ann Owner", user.id, None, "Europe/London", True)
    ]
    assert hours_of(db, staff[0]) == [(d, t("09:00"), t("17:00")) for d in range(5)]


def test_slugs_are_unique(db):
    slugs = [sign_up(f"o{i}@example.com").business.slug for i in range(3)]
    assert slugs == ["swim-school-pro", "swim-school-pro-2", "swim-school-pro-3"]
    assert sign_up("o9@example.com", business_name="Swim School").business.slug == "swim-school"
    assert sign_up("o10@example.com", business_name="Café Crème!").business.slug == "cafe-creme"
    assert sign_up("o11@example.com", business_name="Admin").business.slug == "admin-business"
    assert sign_up("o12@example.com", business_name="!!!").business.slug == "business"


def test_email_taken_case_insensitively(db):
    sign_up("ann@example.com")
    with pytest.raises(ValidationFailed) as info:
        sign_up("ANN@example.com", business_name="Another")
    assert list(info.value.fields) == ["email"]
    assert len(db.session.scalars(select(User)).all()) == 1


@pytest.fixture
def staff(owner):
    return owner.business.staff[0]


def test_set_weekly_hours_replaces_all(db, staff):
    business_service.set_weekly_hours(staff, {0: [(t("13:00"), t("17:00")), (t("09:00"), t("12:00"))], 5: [(t("10:00"), t("14:00"))]})
    assert hours_of(db, staff) == [(0, t("09:00"), t("12:00")), (0, t("13:00"), t("17:00")), (5, t("10:00"), t("14:00"))]
    business_service.set_weekly_hours(staff, {})
    assert hours_of(db, staff) == []


@pytest.mark.parametrize(
    "hours,fields",
    [
        ({1: [(t("10:00"), t("09:00"))]}, {"day_1": "09:00 must be after 10:00."}),
        ({2: [(t("10:00"), t("10:00"))]}, {"day_2": "10:00 must be after 10:00."}),
        ({3: [(t("09:00"), t("12:00")), (t("11:30"), t("14:00"))]}, {"day_3": "09:00-12:00 overlaps 11:30-14:00."}),
        ({7: [(t("09:00"), t("12:00"))]}, {"weekday": "Weekday must be 0 (Monday) to 6 (Sunday)."}),
    ],
)
def test_set_weekly_hours_validation_keeps_old_hours(db, staff, hours, fields):
    before = hours_of(db, staff)
    with pytest.raises(ValidationFailed) as info:
        business_service.set_weekly_hours(staff, hours)
    assert info.value.fields == fields
    assert hours_of(db, staff) == before


def test_touching_intervals_are_not_an_overlap(db, staff):
    business_service.set_weekly_hours(staff, {0: [(t("09:00"), t("12:00")), (t("12:00"), t("14:00"))]})
    assert hours_of(db, staff) == [(0, t("09:00"), t("12:00")), (0, t("12:00"), t("14:00"))]


def test_set_override_creates_replaces_and_validates(db, staff):
    day, now = date(2027, 6, 7), datetime(2027, 6, 1, tzinfo=timezone.utc)
    first = business_service.set_override(staff, day, [(t("14:00"), t("16:00")), (t("09:00"), t("10:00"))], now=now)
    assert first.intervals == [["09:00", "10:00"], ["14:00", "16:00"]]
    second = business_service.set_override(staff, day, [], now=now)
    assert second.id == first.id
    assert (second.intervals, second.is_unavailable) == ([], True)
    with pytest.raises(ValidationFailed) as info:
        business_service.set_override(staff, day, [(t("09:00"), t("11:00")), (t("10:00"), t("12:00"))], now=now)
    assert info.value.fields == {"intervals": "09:00-11:00 overlaps 10:00-12:00."}
    rows = db.session.execute(select(DateOverride.date, DateOverride.intervals)).all()
    assert [tuple(r) for r in rows] == [(day, [])]
    business_service.delete_override(staff, first.id)
    assert db.session.scalars(select(DateOverride)).all() == []


def test_update_settings_rejects_unknown_fields(db, owner):
    business_service.update_settings(owner.business, requires_approval=True, min_advance_booking_hours=0)
    with pytest.raises(ValidationFailed):
        business_service.update_settings(owner.business, business_id=99)
    s = db.session.scalars(select(BookingSettings)).one()
    assert (s.requires_approval, s.min_advance_booking_hours, s.business_id) == (True, 0, owner.business.id)


def test_database_refuses_the_same_email_in_another_case(db):
    """The unique index is on lower(email): a second user differing only in case cannot exist,
    while two different addresses can."""
    sign_up("ann@example.com")
    sign_up("bob@example.com", business_name="Bob's")
    db.session.add(User(email="ANN@example.com", name="Impostor", password_hash="x"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert sorted(db.session.scalars(select(User.email))) == ["ann@example.com", "bob@example.com"]
