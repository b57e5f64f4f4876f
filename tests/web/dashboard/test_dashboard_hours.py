"""Hours: weekly intervals per staff member, date overrides, adding staff."""
from __future__ import annotations

import re
from datetime import date, time

import pytest

from app.models import DateOverride, StaffMember
from tests.web.dashboard.support import field_error, flashes, text

EMPTY_WEEK = {f"day_{i}": "" for i in range(7)}


def hours_of(db, staff_id):
    db.session.expire_all()
    staff = db.session.get(StaffMember, staff_id)
    return [(h.weekday, h.start_time, h.end_time) for h in staff.weekly_hours]


def test_hours_page_shows_the_default_week(client, logged_in):
    staff = logged_in.business.staff[0]
    body = text(client.get("/dashboard/hours"))
    for i in range(5):
        assert f'<input id="day-{i}-start-1" name="day_{i}_start" type="time" value="09:00" step="300">' in body
        assert f'<input id="day-{i}-end-1" name="day_{i}_end" type="time" value="17:00" step="300">' in body
    assert '<input id="day-5-start-1" name="day_5_start" type="time" value="" step="300">' in body  # the spare pair only
    assert f'<option value="{staff.id}" selected>Owner 1</option>' in body
    assert "Times in Europe/London." in body


def test_save_weekly_hours(client, logged_in, db):
    staff = logged_in.business.staff[0]
    data = {**EMPTY_WEEK, "day_0": "09:00-12:00, 13:00-17:00", "day_2": "8:30 - 11:00", "day_5": "10:00-14:00"}
    response = client.post(f"/dashboard/hours/{staff.id}", data=data)
    assert (response.status_code, response.headers["Location"]) == (303, f"/dashboard/hours?staff={staff.id}")
    assert hours_of(db, staff.id) == [
        (0, time(9), time(12)), (0, time(13), time(17)), (2, time(8, 30), time(11)), (5, time(10), time(14)),
    ]
    page = client.get(response.headers["Location"])
    assert flashes(page) == ["Weekly hours saved for Owner 1."]
    assert re.findall(r'name="day_0_(?:start|end)" type="time" value="([^"]*)"', text(page)) == ["09:00", "12:00", "13:00", "17:00", "", ""]


@pytest.mark.parametrize(
    "day, value, message",
    [
        ("day_0", "17:00-09:00", "09:00 must be after 17:00."),
        ("day_1", "09:00-09:00", "09:00 must be after 09:00."),
        ("day_2", "09:00-13:00, 12:00-17:00", "09:00-13:00 overlaps 12:00-17:00."),
        ("day_3", "nine to five", "“nine to five” is not like 09:00-17:00."),
        ("day_4", "09:00-25:00", "“09:00-25:00” is not a time of day (00:00 to 23:59)."),
    ],
)
def test_weekly_hours_validation(client, logged_in, db, day, value, message):
    staff = logged_in.business.staff[0]
    before = hours_of(db, staff.id)
    response = client.post(f"/dashboard/hours/{staff.id}", data={**EMPTY_WEEK, day: value})
    assert response.status_code == 422
    assert field_error(response, day) == message
    assert f'aria-describedby="{day}-error"' in text(response)
    assert hours_of(db, staff.id) == before


def test_every_bad_day_gets_its_message(client, logged_in):
    staff = logged_in.business.staff[0]
    response = client.post(f"/dashboard/hours/{staff.id}", data={**EMPTY_WEEK, "day_0": "x", "day_6": "12:00-11:00"})
    assert (field_error(response, "day_0"), field_error(response, "day_6")) == ("“x” is not like 09:00-17:00.", "11:00 must be after 12:00.")


def test_overrides_add_list_and_delete(client, logged_in, db):
    staff = logged_in.business.staff[0]
    url = f"/dashboard/hours/{staff.id}/overrides"
    assert client.post(url, data={"date": "2030-12-24", "intervals": "10:00-13:00"}).status_code == 303
    assert client.post(url, data={"date": "2030-12-25", "unavailable": "y", "intervals": "ignored"}).status_code == 303
    rows = db.session.scalars(db.select(DateOverride).order_by(DateOverride.date)).all()
    assert [(o.date, o.intervals) for o in rows] == [(date(2030, 12, 24), [["10:00", "13:00"]]), (date(2030, 12, 25), [])]
    body = text(client.get(f"/dashboard/hours?staff={staff.id}"))
    assert "Tue 24 Dec 2030</td>" in body and '<td data-label="Hours">10:00-13:00</td>' in body and '<td data-label="Hours">Unavailable</td>' in body
    response = client.post(f"/dashboard/hours/{staff.id}/overrides/{rows[0].id}/delete")
    assert response.status_code == 303
    assert [o.date for o in db.session.scalars(db.select(DateOverride))] == [date(2030, 12, 25)]


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"date": "", "intervals": "10:00-12:00"}, "date", "Choose a date."),
        ({"date": "2030-02-30", "intervals": "10:00-12:00"}, "date", "Not a valid date value."),
        ({"date": "2030-01-01", "intervals": ""}, "intervals", "Enter the hours, or tick Unavailable."),
        ({"date": "2030-01-01", "intervals": "12:00-10:00"}, "intervals", "10:00 must be after 12:00."),
        ({"date": "2030-01-01", "intervals": "10:00-12:00, 11:00-13:00"}, "intervals", "10:00-12:00 overlaps 11:00-13:00."),
    ],
)
def test_override_validation(client, logged_in, db, data, field, message):
    staff = logged_in.business.staff[0]
    response = client.post(f"/dashboard/hours/{staff.id}/overrides", data=data)
    assert response.status_code == 422
    assert field_error(response, field) == message
    assert db.session.scalar(db.select(db.func.count(DateOverride.id))) == 0


def test_add_staff(client, logged_in, db):
    response = client.post("/dashboard/staff", data={"display_name": "Ben Swimmer", "staff_timezone": "Europe/Paris"})
    ben = db.session.scalar(db.select(StaffMember).where(StaffMember.display_name == "Ben Swimmer"))
    assert (response.status_code, response.headers["Location"]) == (303, f"/dashboard/hours?staff={ben.id}")
    assert (ben.business_id, ben.timezone, ben.is_active, ben.user_id, hours_of(db, ben.id)) == (logged_in.business.id, "Europe/Paris", True, None, [])
    page = text(client.get(response.headers["Location"]))
    assert "Times in Europe/Paris." in page and f'<option value="{ben.id}" selected>Ben Swimmer</option>' in page
    client.post("/dashboard/staff", data={"display_name": "Cleo", "staff_timezone": ""})
    assert db.session.scalar(db.select(StaffMember.timezone).where(StaffMember.display_name == "Cleo")) is None


@pytest.mark.parametrize(
    "data, field, message",
    [({"display_name": "", "staff_timezone": ""}, "display_name", "Please enter a name."),
     ({"display_name": "A", "staff_timezone": "Mars/Base"}, "staff_timezone", "Choose a time zone from the list.")],
)
def test_add_staff_validation(client, logged_in, db, data, field, message):
    response = client.post("/dashboard/staff", data=data)
    assert response.status_code == 422
    assert field_error(response, field) == message
    assert db.session.scalar(db.select(db.func.count(StaffMember.id))) == 1


def test_bad_staff_parameter_is_404(client, logged_in):
    assert client.get("/dashboard/hours?staff=abc").status_code == 404
    assert client.get("/dashboard/hours?staff=999999").status_code == 404
