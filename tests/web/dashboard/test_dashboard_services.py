"""Services: create, edit, validation, deactivate/activate."""
from __future__ import annotations

from decimal import Decimal

import pytest

from app.models import Service
from app.models.business import LocationKind
from app.services import business_service
from tests.web.dashboard.support import field_error, flashes, text

VALID = {
    "name": "Group class",
    "description": "Up to six swimmers",
    "duration_minutes": "45",
    "price": "12.50",
    "capacity": "6",
    "buffer_before_minutes": "",
    "buffer_after_minutes": "10",
    "slot_interval_minutes": "",
    "location_kind": "in_person",
    "is_bookable": "y",
    "is_active": "y",
}


def row(service):
    return (service.name, service.description, service.duration_minutes, service.price, service.capacity,
            service.buffer_before_minutes, service.buffer_after_minutes, service.slot_interval_minutes,
            service.location_kind, service.is_bookable, service.is_active, [s.display_name for s in service.staff])


def test_create_service(client, logged_in, db):
    staff_id = logged_in.business.staff[0].id
    page = client.get("/dashboard/services/new")
    assert page.status_code == 200
    assert f'value="{staff_id}" checked' in text(page) or f'checked id="staff_ids-0"' in text(page)
    response = client.post("/dashboard/services/new", data={**VALID, "staff_ids": [str(staff_id)]})
    assert (response.status_code, response.headers["Location"]) == (303, "/dashboard/services")
    service = db.session.scalar(db.select(Service))
    assert row(service) == ("Group class", "Up to six swimmers", 45, Decimal("12.50"), 6, None, 10, None,
                            LocationKind.IN_PERSON, True, True, ["Owner 1"])
    listing = client.get("/dashboard/services")
    assert flashes(listing) == ["Saved “Group class”."]
    assert "12.50 USD" in text(listing)


def test_edit_service(client, logged_in, factory, db):
    business = logged_in.business
    ben = business_service.add_staff(business, "Ben")
    service = factory.service(business, name="Lesson", location_kind=LocationKind.VIDEO)
    page = text(client.get(f"/dashboard/services/{service.id}"))
    assert 'value="Lesson"' in page
    assert 'checked id="location_kind-2"' in page or 'id="location_kind-2" name="location_kind" type="radio" value="video" checked' in page or ('value="video" checked' in page)
    data = {**VALID, "name": "Lesson (video)", "slot_interval_minutes": "15", "location_kind": "video", "is_bookable": None,
            "staff_ids": [str(ben.id)]}
    assert client.post(f"/dashboard/services/{service.id}", data=data).status_code == 303
    db.session.expire_all()
    assert row(db.session.get(Service, service.id)) == ("Lesson (video)", "Up to six swimmers", 45, Decimal("12.50"), 6, None, 10, 15,
                                                         LocationKind.VIDEO, False, True, ["Ben"])


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "", "Please enter a name."),
        ("duration_minutes", "4", "Enter a whole number from 5 to 1440."),
        ("duration_minutes", "1441", "Enter a whole number from 5 to 1440."),
        ("price", "-1", "Enter a price from 0 to 99,999,999.99."),
        ("price", "abc", "Not a valid decimal value."),
        ("price", "1.999", "Use at most two decimal places."),
        ("price", "NaN", "Enter a price from 0 to 99,999,999.99."),
        ("price", "", "Enter a price, e.g. 25.00 (0 for free)."),
        ("capacity", "0", "Enter a whole number from 1 to 500."),
        ("capacity", "501", "Enter a whole number from 1 to 500."),
        ("buffer_before_minutes", "1441", "Enter a whole number from 0 to 1440."),
        ("buffer_after_minutes", "-5", "Enter a whole number from 0 to 1440."),
        ("slot_interval_minutes", "4", "Enter a whole number from 5 to 1440."),
        ("location_kind", "moon", "Not a valid choice."),
        ("staff_ids", [], "Choose at least one person who offers this service."),
        ("staff_ids", ["999999"], "'999999' is not a valid choice for this field."),
    ],
)
def test_service_validation(client, logged_in, db, field, value, message):
    data = {**VALID, "staff_ids": [str(logged_in.business.staff[0].id)], field: value}
    response = client.post("/dashboard/services/new", data=data)
    assert response.status_code == 422
    error = field_error(response, field)
    assert error is not None and error.startswith(message.split(" '")[0] if field == "staff_ids" and value == ["999999"] else message), error
    assert db.session.scalar(db.select(db.func.count(Service.id))) == 0


def test_deactivate_and_activate(client, logged_in, factory, db):
    service = factory.service(logged_in.business, name="Lesson")
    response = client.post(f"/dashboard/services/{service.id}/active", data={"active": "0"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Service, service.id).is_active is False
    listing = client.get("/dashboard/services")
    assert flashes(listing) == ["“Lesson” is deactivated: clients can no longer book it."]
    assert "Inactive</span>" in text(listing)
    client.post(f"/dashboard/services/{service.id}/active", data={"active": "1"})
    db.session.expire_all()
    assert db.session.get(Service, service.id).is_active is True
