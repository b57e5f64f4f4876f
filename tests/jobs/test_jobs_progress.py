"""Progress a person watches: ``outbox.set_progress``, the ``retry_failed``
job ("resend all failed") reporting progress per job, job results, attributing jobs to a business,
and errors shown without secrets."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app.jobs import run_job
from app.models.outbox import JobStatus, OutboxJob
from app.redaction import redact
from app.services import job_admin, outbox
from app.services.errors import Conflict, NotFound

UTC = timezone.utc


def row(db, job_id) -> OutboxJob:
    db.session.rollback()
    return db.session.get(OutboxJob, job_id, populate_existing=True)


def failed_job(db, key: str, business_id: int | None) -> int:
    job = outbox.record("noop", {}, key=key, business_id=business_id)
    db.session.commit()
    job_id = job.id
    assert outbox.claim(job_id) is not None
    assert outbox.fail(job_id, "550 mailbox unavailable", permanent=True) == JobStatus.FAILED
    return job_id


@pytest.fixture
def two_businesses(factory):
    return factory.owner().business.id, factory.owner().business.id


def test_set_progress_clamps_keeps_and_commits(db):
    job = outbox.record("noop", {}, key="k")
    db.session.commit()
    job_id = job.id
    assert outbox.set_progress(job_id, 40, "Halfway-ish")
    assert (row(db, job_id).progress, row(db, job_id).progress_message) == (40, "Halfway-ish")
    assert outbox.set_progress(job_id, 250)
    assert (row(db, job_id).progress, row(db, job_id).progress_message) == (100, "Halfway-ish")
    assert outbox.set_progress(job_id, -5, "x" * 300, result={"n": 1})
    j = row(db, job_id)
    assert (j.progress, len(j.progress_message), j.result) == (0, 255, {"n": 1})
    assert not outbox.set_progress(job_id + 1000, 10)


def test_a_dict_returned_by_a_handler_is_kept_as_the_result(db, monkeypatch):
    from app.jobs.registry import HANDLERS

    monkeypatch.setitem(HANDLERS, "summarise", lambda key: {"total": 2, "at": datetime(2030, 1, 1, tzinfo=UTC)})
    job = outbox.record("summarise", {}, key="s")
    db.session.commit()
    assert run_job(job.id) == "done"
    assert row(db, job.id).result == {"total": 2, "at": "2030-01-01 00:00:00+00:00"}


def test_record_attributes_a_job_to_its_bookings_business(make_booking, shop, db):
    business, _ = shop
    booking = make_booking()
    jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.booking_id == booking.id)).all()
    assert jobs and {j.business_id for j in jobs} == {business.id}
    # A caller naming only the booking gets its business too.
    job = outbox.record("noop", {}, key="by-booking", booking_id=booking.id)
    db.session.commit()
    assert row(db, job.id).business_id == business.id
    assert outbox.record("noop", {}, key="system").business_id is None


def test_resend_all_failed_retries_each_failed_job_of_the_business_with_progress(db, two_businesses, monkeypatch):
    mine, theirs = two_businesses
    ids = [failed_job(db, f"mine{i}", mine) for i in range(3)]
    other = failed_job(db, "theirs", theirs)
    assert job_admin.failed_count(mine) == 3 and job_admin.failed_count(theirs) == 1 and job_admin.failed_count() == 4

    reports = []
    real = outbox.set_progress
    monkeypatch.setattr(outbox, "set_progress", lambda job_id, pct, msg=None, **kw: reports.append((pct, msg)) or real(job_id, pct, msg, **kw))

    job = job_admin.start_retry_failed(mine)
    assert job_admin.start_retry_failed(mine).id == job.id  # a double click: one job
    job_id = job.id
    assert (row(db, job_id).kind, row(db, job_id).payload, row(db, job_id).business_id) == ("retry_failed", {"business_id": mine}, mine)
    assert (row(db, job_id).progress, row(db, job_id).progress_message) == (0, None)

    assert run_job(job_id) == "done"
    assert reports == [
        (0, "Retrying 3 failed jobs…"),
        (33, "Retried 1 of 3"),
        (66, "Retried 2 of 3"),
        (100, "Retried 3 of 3"),
        (100, "Queued 3 failed jobs to run again."),
    ]
    done = row(db, job_id)
    assert (done.status, done.progress, done.progress_message, done.result) == (
        JobStatus.DONE, 100, "Queued 3 failed jobs to run again.", {"total": 3, "retried": 3}
    )
    assert [(row(db, i).status, row(db, i).attempts) for i in ids] == [(JobStatus.PENDING, 0)] * 3
    assert row(db, other).status == JobStatus.FAILED  # another business's: untouched
    assert job_admin.failed_count(mine) == 0

    # Finished, so the next click starts a new job; with nothing failed it says so.
    again = job_admin.start_retry_failed(mine)
    assert again.id != job_id
    assert run_job(again.id) == "done"
    assert (row(db, again.id).progress_message, row(db, again.id).result) == ("There were no failed jobs.", {"total": 0, "retried": 0})


def test_get_job_and_retry_are_scoped_to_the_business(db, two_businesses):
    mine, theirs = two_businesses
    job_id = failed_job(db, "theirs", theirs)
    system = outbox.record("noop", {}, key="system")
    db.session.commit()
    for jid in (job_id, system.id, 999999):
        with pytest.raises(NotFound):
            job_admin.get_job(mine, jid)
        with pytest.raises(NotFound):
            job_admin.retry_for_business(mine, jid)
    assert row(db, job_id).status == JobStatus.FAILED
    assert job_admin.retry_for_business(theirs, job_id).status == JobStatus.PENDING
    with pytest.raises(Conflict):
        job_admin.retry_for_business(theirs, job_id)


@pytest.fixture
def config_overrides(smtp_server, tmp_path):
    return {
        "SMTP_URL": "smtp://mailer:s3cr3t-pw@127.0.0.1:2525",
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "SECRET_KEY": "very-secret-signing-key",
    }


def test_errors_are_stored_and_shown_without_secrets(db):
    assert redact("cannot send via smtp://mailer:s3cr3t-pw@127.0.0.1:2525: refused") == (
        "cannot send via smtp://***@127.0.0.1:2525: refused"
    )
    assert redact("auth failed for s3cr3t-pw (key very-secret-signing-key)") == "auth failed for *** (key ***)"
    assert redact("redis://:pw@host/0 down") == "redis://***@host/0 down"
    job = outbox.record("noop", {}, key="k")
    db.session.commit()
    job_id = job.id
    outbox.claim(job_id)
    outbox.fail(job_id, "login with s3cr3t-pw refused by smtp://mailer:s3cr3t-pw@host")
    assert row(db, job_id).last_error == "login with *** refused by smtp://***@host"
