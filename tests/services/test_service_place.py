"""Where a service happens, said the same way everywhere: the calendar's LOCATION
(``Service.place``), and the sentence on the pages and in the e-mails (``service_where``)."""
from __future__ import annotations

import pytest
from icalendar import Calendar

from app.models.business import LocationKind, PhoneCaller
from app.services import booking_service, business_service, emails
from app.services.calendar_files import base_event, new_calendar
from tests.services.support import MONDAY, NOW, at, request_for

CASES = [
    # service fields, the calendar's LOCATION, the e-mail's "Where"
    ({"location_kind": LocationKind.IN_PERSON}, "1 Pool Lane", "In person at 1 Pool Lane"),
    ({"location_kind": LocationKind.IN_PERSON, "location_detail": "Lido, Park Road"}, "Lido, Park Road", "In person at Lido, Park Road"),
    ({"location_kind": LocationKind.PHONE, "phone_caller": PhoneCaller.BUSINESS}, "", "By phone: we call you on the number you give"),
    ({"location_kind": LocationKind.PHONE, "phone_caller": PhoneCaller.CLIENT}, "+442079460000", "By phone: you call us on +442079460000"),
    ({"location_kind": LocationKind.PHONE, "phone_caller": PhoneCaller.CLIENT, "location_detail": "020 7946 0999"},
     "020 7946 0999", "By phone: you call us on 020 7946 0999"),
    ({"location_kind": LocationKind.VIDEO, "video_provider": "zoom", "location_detail": "Link the day before"},
     "Zoom · Link the day before", "By video on Zoom · Link the day before"),
    ({"location_kind": LocationKind.VIDEO}, "", "By video"),
]


@pytest.mark.parametrize("fields, place, where", CASES)
def test_calendar_location_and_email_say_where_the_service_happens(db, business, factory, fields, place, where):
    business_service.update_profile(business, address="1 Pool Lane", phone="+442079460000")
    service = factory.service(business, name="Lesson", **fields)
    booking = booking_service.create_booking(business, request_for(service, at(MONDAY, "10:00")), now=NOW).booking

    assert service.place(business) == place
    calendar = new_calendar("PUBLISH")
    calendar.add_component(base_event(booking, business, now=NOW))
    event = Calendar.from_ical(calendar.to_ical()).walk("VEVENT")[0]
    assert str(event.get("LOCATION", "")) == place

    email = emails.build_booking_email(booking, "confirmed", now=NOW)
    assert f"Where: {where}" in " ".join(email.text.split())
    assert f">{where}</td>" in email.html
