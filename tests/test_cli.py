"""``flask`` commands other than ``demo`` (see test_demo.py) and ``api-keys`` (tests/web)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.domain.booking_state import BookingStatus
from app.models import BookingAuditEntry


def _weekday(days_from_today: int) -> date:
    """The Monday-Friday date nearest ``days_from_today`` days away, moving away from today."""
    step = timedelta(days=-1 if days_from_today < 0 else 1)
    day = datetime.now(timezone.utc).date() + timedelta(days=days_from_today)
    while day.weekday() > 4:
        day += step
    return day


def test_expire_pending_expires_only_past_due_requests(runner, factory, db):
    owner = factory.owner(requires_approval=True)
    business = owner.business
    service = factory.service(business)
    london = ZoneInfo("Europe/London")
    day = _weekday(-2)
    # Requested the night before, for 10:00 that day: the hold lapsed at 10:00.
    stale = factory.booking(
        business, service, datetime.combine(day, time(10), london), now=datetime.combine(day, time(0), timezone.utc)
    )
    fresh = factory.booking(business, service, datetime.combine(_weekday(7), time(10), london))
    assert (stale.status, fresh.status) == (BookingStatus.PENDING, BookingStatus.PENDING)

    result = runner.invoke(args=["bookings", "expire-pending"])

    assert result.exit_code == 0, result.output
    assert result.output == "Expired 1 pending request(s).\n"
    db.session.expire_all()
    assert (stale.status, fresh.status) == (BookingStatus.EXPIRED, BookingStatus.PENDING)
    events = db.session.scalars(select(BookingAuditEntry).where(BookingAuditEntry.booking_id == stale.id).order_by(BookingAuditEntry.id)).all()
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, BookingStatus.PENDING),
        (BookingStatus.PENDING, BookingStatus.EXPIRED),
    ]

    again = runner.invoke(args=["bookings", "expire-pending"])
    assert again.output == "Expired 0 pending request(s).\n"


def test_worker_refuses_to_start_without_redis_url(monkeypatch, capsys):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("worker", Path(__file__).resolve().parent.parent / "worker.py")
    worker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(worker)
    monkeypatch.delenv("REDIS_URL", raising=False)

    assert worker.main([]) == 2
    assert "REDIS_URL is not set" in capsys.readouterr().err
