"""Seed django-appointment (run with the peer's own Python, after ``migrate``) from a plan the
benchmark wrote, through the package's models and their ``save()``, as its own views would.

    python seed.py PLAN.json OUT.json

PLAN: ``{"open_hour": 9, "close_hour": 17, "weekdays": [0, 1, 2, 3, 4], "bookings": [["2026-12-01",
11], ...]}``, where weekdays count from 0 = Monday (Python's ``date.weekday()``) and each booking is
a local date and the hour its 60 minutes start. Creates the Config row (slot step 60 minutes,
buffer 0), one 60-minute service "Consultation", one staff member offering it with those weekly
hours, and one appointment per booking. OUT gets ``{"service_id": ..., "staff_id": ..., "today":
"YYYY-MM-DD"}`` (today in the site's zone).
"""
import datetime as dt
import json
import os
import sys
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peersite.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from appointment.models import (  # noqa: E402
    Appointment, AppointmentRequest, Config, Service, StaffMember, WorkingHours,
)

CLIENTS = 100


def package_weekday(python_weekday: int) -> int:
    """The package numbers weekdays from 0 = Sunday; Python from 0 = Monday."""
    return (python_weekday + 1) % 7


def main(plan_path: str, out_path: str) -> None:
    with open(plan_path) as f:
        plan = json.load(f)
    opens, closes = dt.time(plan["open_hour"]), dt.time(plan["close_hour"])
    User = get_user_model()
    with transaction.atomic():
        # Without slot_duration=60 the package steps every 30 minutes (its default).
        Config(slot_duration=60, lead_time=opens, finish_time=closes, appointment_buffer_time=0,
               website_name="Peer Comparison Clinic").save()
        service = Service(name="Consultation", description="60-minute consultation",
                          duration=dt.timedelta(minutes=60), price=Decimal("50.00"), currency="GBP")
        service.save()
        user = User.objects.create_user(username="alex", email="alex@bench.example", first_name="Alex",
                                        last_name="Smith")
        staff = StaffMember(user=user)
        staff.save()
        staff.services_offered.add(service)
        for weekday in plan["weekdays"]:
            WorkingHours(staff_member=staff, day_of_week=package_weekday(weekday), start_time=opens,
                         end_time=closes).save()
        # "!" is an unusable password: no hashing for accounts nobody logs in to.
        User.objects.bulk_create([
            User(username=f"client{i:03d}", email=f"client{i:03d}@bench.example", first_name=f"Client{i:03d}",
                 last_name="Bench", password="!")
            for i in range(CLIENTS)
        ])
        clients = list(User.objects.filter(username__startswith="client").order_by("username"))
        for k, (day, hour) in enumerate(plan["bookings"]):
            request = AppointmentRequest(date=dt.date.fromisoformat(day), start_time=dt.time(hour),
                                         end_time=dt.time(hour + 1), service=service, staff_member=staff)
            request.save()
            Appointment(client=clients[k % CLIENTS], appointment_request=request, phone="+447700900123",
                        address="Bench Street", want_reminder=False).save()
    with open(out_path, "w") as f:
        json.dump({"service_id": service.pk, "staff_id": staff.pk, "today": timezone.localdate().isoformat()}, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
