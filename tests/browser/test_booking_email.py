"""The booking link flow in a real browser, now checking the e-mails arrive.

The app sends through a real SMTP server (aiosmtpd on a free port) and the in-process outbox runner
delivers, as in a single-process install without Redis. A client books on the demo business (JS
on): their "request received" e-mail arrives; the owner approves: the "confirmed" e-mail arrives
with an iMIP ``text/calendar; method=REQUEST`` part whose UID is the booking's.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlalchemy import select

from tests.browser.test_booking_flow import (
    DESKTOP,
    GRACE,
    MOBILE,
    SERVICE,
    Shots,
    approve_as_owner,
    book_as_client,
    watch,
)
from tests.jobs.mail_support import Parsed, event_of, parse


@pytest.fixture
def config_overrides(smtp_server, tmp_path):
    return {
        "WTF_CSRF_ENABLED": True,
        "SMTP_URL": smtp_server.url,
        "SMTP_TIMEOUT": 5,
        "MAIL_FROM": "Flowkey <bookings@flowkey.test>",
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),  # only used if SMTP were unset: must stay empty
    }


def mails_to(smtp_server, address: str, template: str) -> list[Parsed]:
    with smtp_server.lock:
        received = list(smtp_server.messages)
    return [p for p in map(parse, received) if p.rcpt_tos == [address] and p.template == template]


def wait_for_mail(smtp_server, address: str, template: str, timeout: float = 10.0) -> Parsed:
    """The one ``template`` e-mail to ``address`` (fails if none arrives in time)."""
    deadline = time.monotonic() + timeout
    while not (found := mails_to(smtp_server, address, template)):
        assert time.monotonic() < deadline, f"no {template!r} e-mail to {address} within {timeout}s"
        time.sleep(0.05)
    return found[0]


def eventually(check: Callable[[], None], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_booking_emails_arrive(live_server, demo, db, smtp_server, outbox_runner, new_context, tmp_path):
    from app.models import Booking
    from app.models.outbox import JobStatus, OutboxJob

    address = GRACE.email.lower()  # the app stores e-mail addresses normalised
    page = new_context(viewport=MOBILE, timezone_id="America/New_York", is_mobile=True, has_touch=True).new_page()
    problems = watch(page)
    reference, _start = book_as_client(page, live_server, demo.slug, GRACE, Shots(page, tmp_path), js=True)

    received = wait_for_mail(smtp_server, address, "request_received")
    assert received.subject.startswith(f"Request received: {SERVICE} on ")
    assert str(received.message["From"]) == f"{demo.business_name} <bookings@flowkey.test>"
    assert received.structure == ["multipart/alternative", "  text/plain", "  text/html"]
    for body in (received.text, received.html):
        assert reference in body
        assert demo.business_name in body
        assert "(America/New_York)" in body  # times in the client's zone, named

    owner_page = new_context(viewport=DESKTOP).new_page()
    problems += watch(owner_page)
    approve_as_owner(owner_page, live_server, demo, GRACE, reference, Shots(owner_page, tmp_path / "owner"), js=True)

    confirmed = wait_for_mail(smtp_server, address, "confirmed")
    db.session.remove()  # a fresh session: the server and runner threads wrote these rows
    booking = db.session.scalar(select(Booking).where(Booking.reference == reference))
    assert confirmed.subject.startswith(f"Confirmed: {SERVICE} on ")
    assert reference in confirmed.text and reference in confirmed.html
    assert confirmed.calendar_method_param == confirmed.attachment_method_param == "REQUEST"
    assert str(confirmed.calendar["METHOD"]) == "REQUEST"
    event = event_of(confirmed.calendar)
    assert (str(event["UID"]), event["SEQUENCE"], event.decoded("DTSTART")) == (booking.uid, booking.sequence, booking.start_at)
    assert str(event["ATTENDEE"]) == f"mailto:{address}"

    # Each of the client's e-mails exactly once, and every job about this booking finished.
    def all_done() -> None:
        db.session.rollback()
        jobs = db.session.scalars(select(OutboxJob).where(OutboxJob.booking_id == booking.id, OutboxJob.kind == "booking_email"))
        # Reminders wait for their time; everything else about this booking has been sent.
        sent = {job.idempotency_key: job.status for job in jobs if ":reminder:" not in job.idempotency_key}
        assert sent and set(sent.values()) == {JobStatus.DONE}, sent

    eventually(all_done)
    assert [len(mails_to(smtp_server, address, t)) for t in ("request_received", "confirmed")] == [1, 1]
    assert problems == []
