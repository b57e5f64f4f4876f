"""Booking e-mails end to end: recorded in the outbox, run by run_job, delivered to a real SMTP
server, then taken apart: recipients, subject, both parts, the iMIP calendar part and invite.ics."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.jobs import run_job
from app.models.outbox import JobStatus, OutboxJob, SentMessage
from app.domain.booking_events import created_event
from app.services import booking_emails, booking_service, reminders
from tests.jobs.conftest import NOW
from tests.jobs.mail_support import event_of, parse

UTC = timezone.utc

MIME_WITH_INVITE = [
    "multipart/mixed",
    "  multipart/alternative",
    "    text/plain",
    "    text/html",
    "    text/calendar",
    "  text/calendar",
]
MIME_WITHOUT_INVITE = ["multipart/alternative", "  text/plain", "  text/html"]


def record(booking, event, **kwargs) -> dict[str, int]:
    jobs = booking_emails.record_booking_emails(booking, event, **kwargs)
    _db.session.commit()
    return {job.payload["template"]: job.id for job in jobs}


def run_all(job_ids) -> list[str]:
    return [run_job(job_id) for job_id in job_ids]


def by_template(smtp_server):
    return {p.template: p for p in map(parse, smtp_server.messages)}


def test_confirmed_booking_sends_an_invitation_to_the_client_and_a_note_to_the_owner(make_booking, smtp_server, db):
    booking = make_booking()
    jobs = record(booking, created_event(booking.status))
    assert sorted(jobs) == ["confirmed", "owner_confirmed"]
    assert run_all(jobs.values()) == ["done", "done"]

    mails = by_template(smtp_server)
    client, owner = mails["confirmed"], mails["owner_confirmed"]
    assert client.rcpt_tos == ["ada@example.com"]
    assert client.subject == "Confirmed: Private lesson on Monday 7 June 2027"
    assert client.message["From"] == "Swim School Pro <bookings@flowkey.test>"
    assert client.message["Reply-To"] == "hello@swimschool.test"
    assert client.structure == MIME_WITH_INVITE
    # 10:00 in London (BST) is 05:00 in New York (EDT): the client's zone, named.
    for body in (client.text, client.html):
        assert "05:00–06:00 (America/New_York)" in body
        assert booking.reference in body
        assert "1 Pool Lane, London" in body and "+44 20 7946 0000" in body
        assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in body
        assert "https://outlook.live.com/calendar/0/deeplink/compose?" in body
    assert "Monday 7 June 2027" in client.text

    assert client.calendar_method_param == client.attachment_method_param == "REQUEST"
    assert client.calendar.to_ical() == client.attachment.to_ical()
    cal = client.calendar
    assert str(cal["METHOD"]) == "REQUEST"
    event = event_of(cal)
    assert str(event["UID"]) == booking.uid
    assert event["SEQUENCE"] == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event.decoded("DTSTART") == datetime(2027, 6, 7, 9, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2027, 6, 7, 10, 0, tzinfo=UTC)
    assert b"DTSTART:20270607T090000Z" in cal.to_ical()
    assert "DTSTAMP" in event
    assert str(event["ORGANIZER"]) == "mailto:hello@swimschool.test"
    assert str(event["ORGANIZER"].params["CN"]) == "Swim School Pro"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:ada@example.com"
    assert {k: str(attendee.params[k]) for k in ("RSVP", "PARTSTAT", "CN")} == {
        "RSVP": "TRUE", "PARTSTAT": "NEEDS-ACTION", "CN": "Ada Lovelace"
    }
    assert "VTIMEZONE" not in cal.to_ical().decode()  # UTC times only, no TZID

    assert owner.rcpt_tos == ["hello@swimschool.test"]
    assert owner.subject == "New booking: Ada Lovelace for Private lesson on Monday 7 June 2027"
    assert owner.structure == MIME_WITHOUT_INVITE
    assert owner.message["Reply-To"] == "ada@example.com"
    assert "10:00–11:00 (Europe/London)" in owner.text
    assert f"http://localhost/dashboard/bookings/{booking.id}" in owner.text

    sent = db.session.scalars(select(SentMessage).order_by(SentMessage.id)).all()
    assert sorted((s.recipient, s.transport, s.booking_id) for s in sent) == [
        ("ada@example.com", "smtp", booking.id), ("hello@swimschool.test", "smtp", booking.id)
    ]
    assert {s.transport_message_id for s in sent} == {p.message["Message-ID"] for p in mails.values()}


def test_cancellation_updates_the_same_event_with_a_higher_sequence(make_booking, smtp_server, shop, db):
    business, _ = shop
    booking = make_booking()
    confirmed = record(booking, created_event(booking.status))["confirmed"]
    booking = booking_service.cancel(business, booking.id, None, "Pool closed for repairs")
    cancelled = record(booking, "cancelled")
    assert run_all([confirmed, *cancelled.values()]) == ["done", "done", "done"]

    mails = by_template(smtp_server)
    # The confirmation was recorded at SEQUENCE 0 but runs after the cancellation committed:
    # it is stale, so it is skipped rather than put the event back in the client's calendar.
    assert set(mails) == {"cancelled", "owner_cancelled"}
    cancel = mails["cancelled"]
    assert cancel.structure == MIME_WITH_INVITE
    assert cancel.calendar_method_param == cancel.attachment_method_param == str(cancel.calendar["METHOD"]) == "CANCEL"
    event = event_of(cancel.calendar)
    assert (str(event["UID"]), event["SEQUENCE"], str(event["STATUS"])) == (booking.uid, 1, "CANCELLED")
    assert "Pool closed for repairs" in cancel.text and "Pool closed for repairs" in cancel.html
    assert mails["owner_cancelled"].rcpt_tos == ["hello@swimschool.test"]


def test_uid_stable_and_sequence_increasing_across_confirm_reschedule_cancel(make_booking, smtp_server, shop, db):
    """Each job runs before the next change, as it would in production."""
    business, _ = shop
    booking = make_booking()
    run_all([record(booking, created_event(booking.status))["confirmed"]])
    booking.sequence += 1  # what a reschedule does (the reschedule service is a later issue)
    booking.start_at += timedelta(hours=2)
    booking.end_at += timedelta(hours=2)
    db.session.commit()
    run_all(record(booking, "rescheduled", by_owner=True).values())
    booking = booking_service.cancel(business, booking.id, None, "Changed my mind")
    run_all(record(booking, "cancelled", by_owner=True).values())

    mails = [parse(m) for m in smtp_server.messages]
    assert [m.template for m in mails] == ["confirmed", "rescheduled", "cancelled"]  # by_owner: no owner e-mail
    events = [event_of(m.calendar) for m in mails]
    assert {str(e["UID"]) for e in events} == {booking.uid}
    assert [e["SEQUENCE"] for e in events] == [0, 1, 2]
    assert [m.calendar_method_param for m in mails] == [str(m.calendar["METHOD"]) for m in mails] == ["REQUEST", "REQUEST", "CANCEL"]
    assert events[1].decoded("DTSTART") == datetime(2027, 6, 7, 11, 0, tzinfo=UTC)
    assert "07:00–08:00 (America/New_York)" in mails[1].text


@pytest.fixture
def approval_shop(shop, db):
    business, service = shop
    business.settings.requires_approval = True
    db.session.commit()
    return shop


def test_request_flow_emails_without_invitations_until_confirmed(approval_shop, make_booking, smtp_server, db):
    business, _ = approval_shop
    booking = make_booking()
    jobs = record(booking, created_event(booking.status))
    assert sorted(jobs) == ["owner_new_request", "request_received"]
    run_all(jobs.values())
    mails = by_template(smtp_server)
    received, new_request = mails["request_received"], mails["owner_new_request"]
    assert received.structure == new_request.structure == MIME_WITHOUT_INVITE
    assert received.subject == "Request received: Private lesson on Monday 7 June 2027"
    assert "confirm it soon" in received.text
    assert new_request.subject == "New booking request: Ada Lovelace for Private lesson on Monday 7 June 2027"
    assert "http://localhost/dashboard/requests" in new_request.text
    assert 'href="http://localhost/dashboard/requests"' in new_request.html

    booking = booking_service.approve(business, booking.id, None, now=NOW)
    run_all(record(booking, "approved").values())
    assert parse(smtp_server.messages[-1]).template == "confirmed"
    assert parse(smtp_server.messages[-1]).calendar_method_param == "REQUEST"


def test_rejection_tells_the_client_the_reason(approval_shop, make_booking, smtp_server):
    business, _ = approval_shop
    booking = make_booking()
    booking = booking_service.reject(business, booking.id, None, "Fully booked that week")
    run_all(record(booking, "rejected").values())
    [rejected] = [parse(m) for m in smtp_server.messages]
    assert (rejected.template, rejected.rcpt_tos, rejected.structure) == ("rejected", ["ada@example.com"], MIME_WITHOUT_INVITE)
    assert "Fully booked that week" in rejected.text and "Fully booked that week" in rejected.html


def test_cancelling_an_unconfirmed_request_sends_no_cancel_invitation(approval_shop, make_booking, smtp_server, db):
    business, _ = approval_shop
    booking = booking_service.cancel(business, make_booking().id, None, "no longer needed")
    run_all([record(booking, "cancelled", by_owner=True)["cancelled"]])
    [mail] = [parse(m) for m in smtp_server.messages]
    assert (mail.template, mail.structure) == ("cancelled", MIME_WITHOUT_INVITE)


def test_expiry_tells_client_and_owner(approval_shop, make_booking, smtp_server):
    booking = make_booking()
    booking_service.expire_pending(now=booking.expires_at)
    run_all(record(booking, "expired").values())
    mails = by_template(smtp_server)
    assert sorted(mails) == ["expired", "owner_expired"]
    assert mails["expired"].rcpt_tos == ["ada@example.com"]


def test_owner_emails_go_to_owner_logins_when_the_business_has_no_email(make_booking, shop, smtp_server, db):
    business, _ = shop
    business.email = ""
    db.session.commit()
    booking = make_booking()
    run_all(record(booking, created_event(booking.status)).values())
    mails = by_template(smtp_server)
    assert mails["owner_confirmed"].rcpt_tos == ["owner@example.com"]
    # The invitation's organizer falls back to MAIL_FROM's address.
    assert str(event_of(mails["confirmed"].calendar)["ORGANIZER"]) == "mailto:bookings@flowkey.test"


def test_reminders_are_timed_before_the_start_and_skipped_once_cancelled(make_booking, shop, smtp_server, db):
    business, _ = shop
    booking = make_booking()
    jobs = reminders.record_reminders(booking, now=NOW)
    db.session.commit()
    assert sorted((j.run_at, j.idempotency_key) for j in jobs) == [
        (datetime(2027, 6, 6, 9, 0, tzinfo=UTC), f"email:booking:{booking.id}:reminder:s0:1440m"),
        (datetime(2027, 6, 7, 8, 0, tzinfo=UTC), f"email:booking:{booking.id}:reminder:s0:60m"),
    ]
    first, second = sorted(jobs, key=lambda j: j.run_at)
    first_id, second_id, second_run_at = first.id, second.id, second.run_at
    assert run_job(first_id, now=first.run_at) == "done"
    [reminder] = [parse(m) for m in smtp_server.messages]
    assert reminder.subject == "Reminder: Private lesson on Monday 7 June 2027"
    assert reminder.structure == MIME_WITHOUT_INVITE

    booking_service.cancel(business, booking.id, None, "ill")
    assert run_job(second_id, now=second_run_at) == "skipped"  # retired by the cancellation
    assert len(smtp_server.messages) == 1
    assert db.session.scalar(select(SentMessage.id).where(SentMessage.idempotency_key.like("%:60m"))) is None


def test_phone_only_client_gets_no_email_but_the_owner_does(make_booking, smtp_server):
    booking = make_booking(client_email=None, client_phone="+447700900123")
    assert run_all(record(booking, created_event(booking.status)).values()) == ["done", "done"]
    assert [parse(m).template for m in smtp_server.messages] == ["owner_confirmed"]


@pytest.fixture
def no_smtp(config_overrides):
    config_overrides["SMTP_URL"] = None
    return config_overrides


def test_without_smtp_url_emails_are_written_to_the_outbox_folder(no_smtp, make_booking, db, smtp_server, tmp_path):
    booking = make_booking()
    assert run_all(record(booking, created_event(booking.status)).values()) == ["done", "done"]
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2 and smtp_server.messages == []
    sent = db.session.scalars(select(SentMessage)).all()
    assert sorted(s.transport_message_id for s in sent) == [f.name for f in files]
    assert {s.transport for s in sent} == {"file"}


def test_record_is_idempotent_per_change(make_booking, db):
    booking = make_booking()
    first = record(booking, created_event(booking.status))
    again = record(booking, created_event(booking.status))
    assert first == again
    assert db.session.scalar(select(OutboxJob.status).where(OutboxJob.id == first["confirmed"])) == JobStatus.PENDING


def test_unknown_event_or_template(make_booking):
    booking = make_booking()
    with pytest.raises(ValueError):
        booking_emails.record_booking_emails(booking, "exploded")
    with pytest.raises(ValueError):
        booking_emails.record_booking_email(booking, "nope")
