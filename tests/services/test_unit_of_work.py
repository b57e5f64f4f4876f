"""One unit of work for every write: commit on success, roll back and re-raise on any error, no
nesting."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.models import StaffMember
from app.services.locks import unit_of_work


def staff_names(business_id):
    _db.session.rollback()
    return sorted(_db.session.scalars(select(StaffMember.display_name).where(StaffMember.business_id == business_id)))


def test_commits_what_the_block_wrote(db, business):
    with unit_of_work([business.staff[0].id]):
        _db.session.add(StaffMember(business_id=business.id, display_name="Sam"))
    assert staff_names(business.id) == ["Owner 1", "Sam"]


@pytest.mark.parametrize("error", [ValueError("bad input"), KeyboardInterrupt()])
def test_any_error_rolls_back_and_propagates(db, business, error):
    with pytest.raises(type(error)):
        with unit_of_work():
            _db.session.add(StaffMember(business_id=business.id, display_name="Sam"))
            _db.session.flush()
            raise error
    assert staff_names(business.id) == ["Owner 1"]


def test_units_of_work_do_not_nest(db, business):
    with pytest.raises(RuntimeError, match="inside another unit of work"):
        with unit_of_work():
            _db.session.add(StaffMember(business_id=business.id, display_name="Sam"))
            with unit_of_work():
                pass
    assert staff_names(business.id) == ["Owner 1"]
    with unit_of_work():  # the failed one left nothing behind
        assert _db.session.scalar(select(func.count(StaffMember.id))) == 1
