"""Helpers for the Team and staff-role tests: a staff member with a login of their own."""
from __future__ import annotations

from datetime import time

from app.services import business_service, team

PASSWORD = "violet tapestry monsoon"
WEEKDAYS = {d: [(time(9), time(17))] for d in range(5)}


def staff_with_login(business, owner, name: str, email: str, service_ids=()):
    """A staff member ``name`` (Mon-Fri 09:00-17:00, offering ``service_ids``) who accepted an
    invitation at ``email`` with :data:`PASSWORD`. Returns ``(staff, user)``."""
    staff = team.create_staff(business, display_name=name, email=email, service_ids=list(service_ids))
    business_service.set_weekly_hours(staff, WEEKDAYS)
    invitation = team.invite(business, staff.id, owner)
    user = team.accept_invitation(team.invitation_token(invitation), password=PASSWORD)
    return staff, user


def log_in(client, email: str, password: str = PASSWORD):
    client.post("/logout")
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response
