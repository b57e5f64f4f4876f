"""E-mails whose headers would carry a line break: the header is made one line (stored names from
before the input checks still deliver), and a message that can never be built fails at once
(one attempt, a clear error on the Jobs page) instead of five retries over an hour and a half."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.integrations.mail import Mailer
from app.jobs import run_job
from app.models.outbox import JobStatus, OutboxJob, SentMessage
from app.services import booking_emails, job_admin
from tests.jobs.mail_support import parse


def row(db, job_id) -> OutboxJob:
    db.session.rollback()
    return db.session.get(OutboxJob, job_id, populate_existing=True)


def test_names_stored_with_line_breaks_still_deliver_on_one_header_line(make_booking, shop, smtp_server, db):
    business, _service = shop
    booking = make_booking()
    # Rows written before the checks existed (or by hand): bypass every validator.
    business.name = "Swim\r\nBcc: x@evil.example"
    booking.client_name = "Eve\r\nBcc: x@evil.example"
    db.session.commit()
    job = booking_emails.record_booking_email(booking, "owner_confirmed")
    client_job = booking_emails.record_booking_email(booking, "confirmed")
    db.session.commit()
    job_id, client_job_id = job.id, client_job.id

    assert run_job(job_id) == "done"
    assert run_job(client_job_id) == "done"
    owner_mail, client_mail = (parse(m) for m in smtp_server.messages)
    assert "Eve Bcc: x@evil.example" in owner_mail.subject
    assert "\n" not in owner_mail.subject and "\r" not in owner_mail.subject
    assert client_mail.message["From"].startswith('"Swim Bcc: x@evil.example"')
    for mail in (owner_mail, client_mail):
        assert mail.message["Bcc"] is None
        assert "x@evil.example" not in mail.rcpt_tos and len(mail.rcpt_tos) == 1


def test_a_message_that_cannot_be_built_fails_permanently_after_one_attempt(make_booking, smtp_server, db, monkeypatch):
    booking = make_booking()
    job_id = booking_emails.record_booking_email(booking, "owner_confirmed").id
    db.session.commit()

    def unbuildable(self, email, *, key, now):
        raise ValueError("Header values may not contain linefeed or carriage return characters")

    monkeypatch.setattr(Mailer, "to_mime", unbuildable)
    assert run_job(job_id) == "failed"
    job = row(db, job_id)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    assert job.last_error.startswith("UnbuildableEmail: The e-mail cannot be built, so it was not sent: ValueError: Header values")
    assert job_admin.failed_count() == 1
    assert smtp_server.messages == []
    assert db.session.scalar(select(func.count(SentMessage.id))) == 0


def test_a_message_that_fails_to_serialise_is_also_permanent(make_booking, smtp_server, db, monkeypatch):
    booking = make_booking()
    job_id = booking_emails.record_booking_email(booking, "owner_confirmed").id
    db.session.commit()
    original = Mailer.to_mime

    def broken_header(self, email, *, key, now):
        message = original(self, email, key=key, now=now)
        raise_on_serialise = lambda *a, **k: (_ for _ in ()).throw(ValueError("cannot serialise"))  # noqa: E731
        monkeypatch.setattr(message, "as_bytes", raise_on_serialise)
        return message

    monkeypatch.setattr(Mailer, "to_mime", broken_header)
    assert run_job(job_id) == "failed"
    assert row(db, job_id).attempts == 1
    assert smtp_server.messages == []


def test_the_jobs_page_shows_why(make_booking, smtp_server, db, monkeypatch, client):
    booking = make_booking()
    job_id = booking_emails.record_booking_email(booking, "owner_confirmed").id
    db.session.commit()
    monkeypatch.setattr(Mailer, "to_mime", lambda self, email, *, key, now: (_ for _ in ()).throw(ValueError("bad header")))
    assert run_job(job_id) == "failed"
    client.post("/login", data={"email": "owner@example.com", "password": "correct horse battery"})
    page = client.get("/dashboard/jobs?status=failed").get_data(as_text=True)
    assert "UnbuildableEmail: The e-mail cannot be built, so it was not sent: ValueError: bad header" in page
