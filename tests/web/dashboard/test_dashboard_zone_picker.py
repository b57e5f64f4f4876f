"""The zone pickers of sign-up, the business profile and a new staff member: the same grouped list
of canonical zones as the booking page; a posted alias (an old page, a script) still accepted and
stored as its canonical zone; a business stored with an alias shown with its canonical zone."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from app.models import Business, StaffMember
from app.timezones import format_offset
from tests.web.dashboard.support import HX, field_error, text
from tests.web.dashboard.test_dashboard_auth import SIGNUP, confirm_path
from tests.web.zone_support import REGION_GROUPS, expected_picker, zone_picker

PROFILE = {"name": "Swim School Pro", "currency": "GBP", "country": "GB"}


def business_zone(db) -> str:
    db.session.expire_all()
    return db.session.scalar(db.select(Business.timezone))


def test_signup_offers_the_grouped_list_with_london_selected(client):
    groups, selected = zone_picker(text(client.get("/signup")), "timezone")
    assert groups == expected_picker(datetime.now(timezone.utc))
    assert [label for label, _ in groups] == REGION_GROUPS
    offset = format_offset(datetime.now(ZoneInfo("America/New_York")).utcoffset())
    assert ("America/New_York", f"({offset}) New York") in dict(groups)["America"]
    assert selected == ["Europe/London"]


@pytest.mark.parametrize(
    "posted, stored",
    [("Asia/Kolkata", "Asia/Kolkata"), ("Asia/Calcutta", "Asia/Kolkata"), ("US/Pacific", "America/Los_Angeles"), ("UTC", "UTC")],
)
def test_signup_accepts_a_listed_zone_or_an_old_alias(client, db, posted, stored):
    response = client.post("/signup", data={**SIGNUP, "timezone": posted})
    assert (response.status_code, response.headers["Location"]) == (303, "/signup/sent")
    assert client.post(confirm_path(db)).status_code == 303
    assert business_zone(db) == stored


def test_signup_refuses_an_unknown_zone_and_keeps_the_list(client, db):
    response = client.post("/signup", data={**SIGNUP, "timezone": "Etc/GMT+5"})
    assert response.status_code == 422
    assert field_error(response, "timezone") == "Choose a time zone from the list."
    groups, selected = zone_picker(text(response), "timezone")
    assert [label for label, _ in groups] == REGION_GROUPS and selected == []


def test_settings_shows_a_stored_alias_as_its_canonical_zone(client, logged_in, db):
    logged_in.business.timezone = "Asia/Calcutta"  # saved before the list was canonical
    db.session.commit()
    groups, selected = zone_picker(text(client.get("/dashboard/settings")), "timezone")
    assert groups == expected_picker(datetime.now(timezone.utc))
    assert selected == ["Asia/Kolkata"]
    # Saving the profile unchanged stores the canonical name.
    response = client.post("/dashboard/settings/profile", data={**PROFILE, "timezone": selected[0]})
    assert response.status_code == 303
    assert business_zone(db) == "Asia/Kolkata"


@pytest.mark.parametrize("posted, stored", [("Europe/Kyiv", "Europe/Kyiv"), ("Europe/Kiev", "Europe/Kyiv"), ("America/Buenos_Aires", "America/Argentina/Buenos_Aires")])
def test_settings_accepts_a_listed_zone_or_an_old_alias(client, logged_in, db, posted, stored):
    response = client.post("/dashboard/settings/profile", data={**PROFILE, "timezone": posted})
    assert response.status_code == 303
    assert business_zone(db) == stored


def test_settings_refuses_an_unknown_zone_in_page_and_fragment(client, logged_in, db):
    for headers in ({}, HX):
        response = client.post("/dashboard/settings/profile", data={**PROFILE, "timezone": "Mars/Olympus"}, headers=headers)
        assert response.status_code == 422
        assert field_error(response, "timezone") == "Choose a time zone from the list."
    assert business_zone(db) == "Europe/London"


def test_a_new_staff_member_picks_from_the_same_list_after_same_as_the_business(client, logged_in, db):
    groups, selected = zone_picker(text(client.get("/dashboard/hours")), "staff_timezone")
    assert groups == [("", [("", "Same as the business")]), *expected_picker(datetime.now(timezone.utc))]
    assert selected == []  # the first option, "Same as the business", shows
    client.post("/dashboard/staff", data={"display_name": "Ben", "staff_timezone": "Asia/Saigon"})
    assert db.session.scalar(db.select(StaffMember.timezone).where(StaffMember.display_name == "Ben")) == "Asia/Ho_Chi_Minh"
