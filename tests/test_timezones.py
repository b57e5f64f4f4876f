"""The zone picker's list (app.timezones): canonical names only, readable labels with the offset
at a given instant, grouped by region, and old alias names mapped to their canonical zone."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app import timezones
from app.timezones import (
    REGIONS, canonical_zone, format_offset, is_timezone, picker_zones, zone_city, zone_groups, zone_option,
)

WINTER = datetime(2027, 1, 15, 12, 0, tzinfo=timezone.utc)  # northern winter, southern summer
SUMMER = datetime(2027, 7, 15, 12, 0, tzinfo=timezone.utc)

# Old names from tzdata's "backward" file: accepted, never offered.
ALIASES = {
    "Asia/Calcutta": "Asia/Kolkata",
    "Europe/Kiev": "Europe/Kyiv",
    "US/Eastern": "America/New_York",
    "US/Pacific": "America/Los_Angeles",
    "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Europe/Belfast": "Europe/London",
    "Australia/ACT": "Australia/Sydney",
}


def labels(options) -> list[str]:
    return [o.label for o in options]


def test_the_picker_offers_no_alias():
    zones = set(picker_zones())
    assert zones.isdisjoint(ALIASES)
    assert [z for z in zones if z.startswith(("US/", "Etc/", "SystemV/", "posix/", "right/"))] == []
    assert [z for z in zones if "/" not in z] == ["UTC"]
    assert set(ALIASES.values()) <= zones


def test_every_option_is_a_zone_zoneinfo_opens_and_validation_accepts():
    for name in picker_zones():
        ZoneInfo(name)
        assert is_timezone(name), name
    assert len(picker_zones()) == len(set(picker_zones())) > 300


def test_aliases_stay_valid_and_map_to_their_canonical_zone():
    for alias, canonical in ALIASES.items():
        assert is_timezone(alias), alias
        assert canonical_zone(alias) == canonical, alias
    assert canonical_zone("Asia/Kolkata") == "Asia/Kolkata"
    assert canonical_zone("UTC") == "UTC"
    # Every name validation accepts has a zone in the list to show it as.
    assert [z for z in timezones.all_timezones() if canonical_zone(z) is None] == []


@pytest.mark.parametrize("name", ["Nowhere/Land", "Etc/GMT+5", "", None, "asia/kolkata"])
def test_names_with_no_canonical_zone(name):
    assert canonical_zone(name) is None


@pytest.mark.parametrize(
    "name, at, label",
    [
        ("Asia/Kolkata", WINTER, "(UTC+05:30) Kolkata"),  # half an hour, all year
        ("Asia/Kolkata", SUMMER, "(UTC+05:30) Kolkata"),
        ("Asia/Kathmandu", WINTER, "(UTC+05:45) Kathmandu"),
        ("America/New_York", WINTER, "(UTC−05:00) New York"),  # daylight saving time
        ("America/New_York", SUMMER, "(UTC−04:00) New York"),
        ("Europe/London", WINTER, "(UTC+00:00) London"),
        ("Europe/London", SUMMER, "(UTC+01:00) London"),
        ("America/St_Johns", WINTER, "(UTC−03:30) St Johns"),  # half an hour, behind UTC
        ("Australia/Lord_Howe", WINTER, "(UTC+11:00) Lord Howe"),  # a half-hour DST shift
        ("Australia/Lord_Howe", SUMMER, "(UTC+10:30) Lord Howe"),
        ("Asia/Ho_Chi_Minh", WINTER, "(UTC+07:00) Ho Chi Minh"),
        ("America/Argentina/Buenos_Aires", WINTER, "(UTC−03:00) Buenos Aires, Argentina"),
        ("America/Indiana/Knox", SUMMER, "(UTC−05:00) Knox, Indiana"),
        ("UTC", SUMMER, "(UTC+00:00) UTC"),
    ],
)
def test_labels_give_the_offset_at_the_instant(name, at, label):
    assert zone_option(name, at).label == label


@pytest.mark.parametrize(
    "offset, text",
    [
        (timedelta(0), "UTC+00:00"),
        (timedelta(hours=5, minutes=30), "UTC+05:30"),
        (timedelta(hours=-3, minutes=-30), "UTC−03:30"),
        (timedelta(hours=14), "UTC+14:00"),
        (timedelta(hours=-9, minutes=-30), "UTC−09:30"),
    ],
)
def test_format_offset(offset, text):
    assert format_offset(offset) == text


@pytest.mark.parametrize(
    "name, city",
    [("America/New_York", "New York"), ("Asia/Ho_Chi_Minh", "Ho Chi Minh"), ("America/North_Dakota/New_Salem", "New Salem, North Dakota"), ("UTC", "UTC")],
)
def test_zone_city(name, city):
    assert zone_city(name) == city


def test_groups_are_the_regions_in_order_each_sorted_by_offset_then_city():
    groups = zone_groups(WINTER)
    assert [region for region, _ in groups] == list(REGIONS)
    assert sum(len(options) for _, options in groups) == len(picker_zones())
    for region, options in groups:
        assert options == sorted(options, key=lambda o: (o.offset, o.city.casefold())), region
        assert {o.region for o in options} == {region}
    by_region = dict(groups)
    assert labels(by_region["Indian"]) == [
        "(UTC+03:00) Antananarivo", "(UTC+03:00) Comoro", "(UTC+03:00) Mayotte", "(UTC+04:00) Mahe",
        "(UTC+04:00) Mauritius", "(UTC+04:00) Reunion", "(UTC+05:00) Kerguelen", "(UTC+05:00) Maldives",
        "(UTC+06:00) Chagos", "(UTC+06:30) Cocos", "(UTC+07:00) Christmas",
    ]
    assert labels(by_region["UTC"]) == ["(UTC+00:00) UTC"]
    svalbard = [o.label for o in by_region["Europe"] if o.name == "Arctic/Longyearbyen"]
    assert svalbard == ["(UTC+01:00) Longyearbyen"]  # the one Arctic zone is listed in Europe
    kolkata = next(o for o in by_region["Asia"] if o.name == "Asia/Kolkata")
    assert kolkata.aliases == ("Asia/Calcutta",)


def test_a_stored_zone_with_no_canonical_name_is_kept_as_an_option(monkeypatch):
    # As with tzdata that has no link for it: the old name stays selectable where it was stored.
    monkeypatch.setattr(timezones, "zone_links", lambda: {})
    assert canonical_zone("Asia/Calcutta") is None
    asia = dict(zone_groups(WINTER, current="Asia/Calcutta"))["Asia"]
    assert [o.label for o in asia if o.name in ("Asia/Calcutta", "Asia/Kolkata")] == ["(UTC+05:30) Calcutta", "(UTC+05:30) Kolkata"]
    assert "Nowhere/Land" not in [o.name for _, options in zone_groups(WINTER, current="Nowhere/Land") for o in options]
