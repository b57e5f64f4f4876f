"""Revision a3c4d5e6f7b8 on a database with data: each existing business gets the country of its
phone number when that is written with its country code, else its time zone's, else none; the
slug history table starts empty; the downgrade removes both. On an empty SQLite file and an
empty PostgreSQL database, with the real ``flask`` command as a deploy runs it."""
from __future__ import annotations

import pytest
from sqlalchemy import MetaData, create_engine, inspect, select

from app.config import _database_url
from tests.scratch_postgres import PG_URL, scratch_database
from tests.test_migration_client_self_service import flask, insert

BEFORE, THIS = "f2b3c4d5e6a7", "a3c4d5e6f7b8"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL not set"))])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with scratch_database("flowkey_mig_country") as url:
        yield url


BUSINESSES = [
    # (slug, phone, time zone) -> country
    (("paris-in-london", "+33 1 42 68 53 00", "Europe/London"), "FR"),  # the phone's country wins
    (("london", "020 7946 0000", "Europe/London"), "GB"),  # no country code: the zone's
    (("new-york", "", "America/New_York"), "US"),
    (("old-zone-name", "", "US/Pacific"), "US"),  # a link to America/Los_Angeles
    (("bad-phone", "+44 12", "Asia/Kolkata"), "IN"),  # not a valid number: the zone's
    (("nowhere", "", "UTC"), None),
]


def test_upgrade_backfills_the_country_and_downgrade_removes_it(empty_database):
    url = empty_database
    flask("db", "upgrade", BEFORE, url=url)
    engine = create_engine(_database_url(url))
    try:
        metadata = MetaData()
        metadata.reflect(engine, only=["business"])
        with engine.begin() as conn:
            ids = {insert(conn, metadata, "business", slug=slug, phone=phone, timezone=zone): slug for (slug, phone, zone), _ in BUSINESSES}

        flask("db", "upgrade", THIS, url=url)
        after = MetaData()
        after.reflect(engine, only=["business", "business_slug_history"])
        business = after.tables["business"]
        with engine.connect() as conn:
            got = {ids[row.id]: row.country for row in conn.execute(select(business.c.id, business.c.country))}
            history = conn.execute(select(after.tables["business_slug_history"])).all()
        assert got == {slug: country for (slug, _phone, _zone), country in BUSINESSES}
        assert history == []

        flask("db", "downgrade", BEFORE, url=url)
        insp = inspect(engine)
        assert "country" not in {c["name"] for c in insp.get_columns("business")}
        assert "business_slug_history" not in insp.get_table_names()
    finally:
        engine.dispose()
