"""The Jobs page (list, filter, Retry, "Resend all failed" with its polled status fragment), the
failed-jobs badge, the "Sent e-mail" page with its .eml viewer, and the reminder offsets setting."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.jobs import run_job
from app.models import BookingSettings
from app.models.outbox import JobStatus, OutboxJob, SentMessage
from app.services import business_service, job_admin, outbox
from app.timezones import format_local
from tests.web.dashboard.support import HX, at, field_error, flashes, monday, text


@pytest.fixture
def config_overrides(tmp_path):
    return {"MAIL_OUTBOX_DIR": str(tmp_path / "outbox"), "SMTP_URL": None}


def job_ids(response) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="job-(\d+)"', text(response))]


def jobs_of(db, business_id) -> list[OutboxJob]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxJob).where(OutboxJob.business_id == business_id).order_by(OutboxJob.id)))


def key_id(db, booking, suffix: str) -> int:
    """The id of ``booking``'s job whose key ends with ``suffix`` (e.g. ``confirmed:s0``)."""
    db.session.rollback()
    return db.session.scalar(select(OutboxJob.id).where(OutboxJob.idempotency_key == f"email:booking:{booking.id}:{suffix}"))


def fail(job_id: int, error: str = "SmtpError: 550 mailbox unavailable") -> None:
    assert outbox.claim(job_id) is not None
    assert outbox.fail(job_id, error, permanent=True) == JobStatus.FAILED


def status_of(db, job_id) -> JobStatus:
    db.session.rollback()
    return db.session.get(OutboxJob, job_id, populate_existing=True).status


@pytest.fixture
def other_business(factory, lesson):
    """Another owner's business with a booking (so it has jobs of its own)."""
    other = factory.owner(email="other@example.com", business_name="Other Pool").business
    service = factory.service(other, name="Other lesson", duration_minutes=60, buffer_before_minutes=0, buffer_after_minutes=0)
    factory.booking(other, service, at(monday(), "10:00"))
    return other


# ------------------------------------------------------------------ jobs list

def test_jobs_page_lists_the_business_jobs_newest_first(client, logged_in, book, db, other_business):
    business = logged_in.business
    booking = book(business, "10:00")
    mine = jobs_of(db, business.id)
    assert [(j.kind, j.idempotency_key.split(":", 3)[-1]) for j in mine] == [
        ("booking_email", "confirmed:s0"),
        ("booking_email", "owner_confirmed:s0"),
        ("booking_email", "reminder:s0:1440m"),
        ("booking_email", "reminder:s0:60m"),
    ]
    response = client.get("/dashboard/jobs")
    assert response.status_code == 200
    body = text(response)
    assert "<html" in body and "<h1>Jobs</h1>" in body
    assert job_ids(response) == [j.id for j in reversed(mine)]  # other business's jobs absent
    reminder = mine[2]
    row = re.search(rf'<tr id="job-{reminder.id}".*?</tr>', body, re.S).group(0)
    cells = [re.sub(r"<[^>]+>", " ", c).split() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[:6] == [
        ["E-mail", "to", "client:", "reminder", f"#{reminder.id}", "·", "notifications"],
        [booking.reference],
        ["pending"],
        ["0", "/", "5"],
        ["—"],
        format_local(at(monday(), "10:00") - timedelta(hours=24), "Europe/London").split(),
    ]
    assert f'href="/dashboard/bookings/{booking.id}">{booking.reference}</a>' in row
    assert "Next run (Europe/London)" in body


def test_jobs_list_fragment_for_htmx(client, logged_in, book, db):
    booking = book(logged_in.business, "10:00")
    response = client.get("/dashboard/jobs", headers=HX)
    body = text(response)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<section id="jobs"')
    assert len(job_ids(response)) == 4
    assert "HX-Request" in response.headers["Vary"]


def test_filter_by_status_and_a_bad_status_is_422(client, logged_in, book, db):
    booking = book(logged_in.business, "10:00")
    failed = key_id(db, booking, "owner_confirmed:s0")
    fail(failed)
    assert job_ids(client.get("/dashboard/jobs?status=failed")) == [failed]
    assert len(job_ids(client.get("/dashboard/jobs?status=pending"))) == 3
    assert "No jobs with this status." in text(client.get("/dashboard/jobs?status=done"))
    bad = client.get("/dashboard/jobs?status=exploded")
    assert bad.status_code == 422
    assert "Status: Not a valid choice." in html.unescape(text(bad))


def test_last_error_is_shown_without_secrets(client, logged_in, book, db):
    booking = book(logged_in.business, "10:00")
    job_id = key_id(db, booking, "confirmed:s0")
    assert outbox.claim(job_id) is not None
    # As if a handler had stored it verbatim (fail() redacts too; the page must not rely on that).
    db.session.execute(
        OutboxJob.__table__.update().where(OutboxJob.id == job_id).values(
            status="failed", last_error="cannot send via smtp://mailer:hunter22@mail.test:587 (test-secret)"
        )
    )
    db.session.commit()
    body = text(client.get("/dashboard/jobs"))
    assert "cannot send via smtp://***@mail.test:587 (***)" in body
    assert "hunter22" not in body and "test-secret" not in body


# ------------------------------------------------------------------ retry

def test_retry_in_place_with_htmx(client, logged_in, book, db):
    booking = book(logged_in.business, "10:00")
    job_id = key_id(db, booking, "confirmed:s0")
    fail(job_id)
    response = client.post(f"/dashboard/jobs/{job_id}/retry", headers=HX)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "jobs-changed"
    body = text(response)
    assert "<html" not in body and body.lstrip().startswith(f'<tr id="job-{job_id}"')
    assert '<span class="status status-pending job-pending">pending</span>' in body
    assert "Queued to run again." in body and ">Retry</button>" not in body
    assert status_of(db, job_id) == JobStatus.PENDING

    again = client.post(f"/dashboard/jobs/{job_id}/retry", headers=HX)
    assert again.status_code == 409
    assert "Only failed jobs can be retried; this one is already queued or done." in text(again)


def test_retry_without_javascript_redirects_with_a_message(client, logged_in, book, db):
    booking = book(logged_in.business, "10:00")
    job_id = key_id(db, booking, "confirmed:s0")
    fail(job_id)
    page = text(client.get("/dashboard/jobs?status=failed"))
    assert f'action="/dashboard/jobs/{job_id}/retry"' in page and 'name="csrf_token"' in page
    response = client.post(f"/dashboard/jobs/{job_id}/retry", data={"next": "/dashboard/jobs?status=failed"})
    assert (response.status_code, response.headers["Location"]) == (303, "/dashboard/jobs?status=failed")
    assert flashes(client.get("/dashboard/jobs")) == [f"E-mail to client: confirmed (#{job_id}): Queued to run again."]
    assert status_of(db, job_id) == JobStatus.PENDING
    # An off-site "next" is ignored.
    fail(job_id)
    response = client.post(f"/dashboard/jobs/{job_id}/retry", data={"next": "https://evil.test/"})
    assert response.headers["Location"] == "/dashboard/jobs"


def test_another_business_job_is_404(client, logged_in, other_business, db):
    theirs = jobs_of(db, other_business.id)[0].id
    fail(theirs)
    assert client.post(f"/dashboard/jobs/{theirs}/retry", headers=HX).status_code == 404
    assert client.post(f"/dashboard/jobs/{theirs}/retry").status_code == 404
    assert client.get(f"/dashboard/jobs/{theirs}/status", headers=HX).status_code == 404
    assert client.get(f"/dashboard/jobs?watch={theirs}").status_code == 404
    assert status_of(db, theirs) == JobStatus.FAILED


# ------------------------------------------------------------------ failed-jobs badge

def test_failed_jobs_badge_in_the_nav_and_its_fragment(client, logged_in, book, db, other_business):
    booking = book(logged_in.business, "10:00")
    fail(jobs_of(db, other_business.id)[0].id)  # not ours: not counted
    nav = text(client.get("/dashboard/"))
    # The count is on the "Advanced" menu, which holds Jobs.
    assert '<summary>Advanced<span class="count-badge" aria-live="polite" hx-get="/dashboard/jobs/failed-count" hx-trigger="load, jobs-changed from:body, every 60s" hx-swap="innerHTML"></span></summary>' in nav
    assert '<a href="/dashboard/jobs">Jobs</a>' in nav
    assert '<a href="/dashboard/sent-email">Sent e-mail</a>' in nav
    assert text(client.get("/dashboard/jobs/failed-count", headers=HX)) == ""

    fail(key_id(db, booking, "confirmed:s0"))
    fail(key_id(db, booking, "owner_confirmed:s0"))
    badge = '<span class="badge">2<span class="visually-hidden"> failed</span></span>'
    response = client.get("/dashboard/jobs/failed-count", headers=HX)
    assert (response.status_code, text(response)) == (200, badge)
    assert response.headers["Cache-Control"] == "no-store"
    assert badge in text(client.get("/dashboard/"))
    assert 'aria-current="page">Jobs' in text(client.get("/dashboard/jobs"))


# ------------------------------------------------------------------ resend all failed + progress polling

def test_resend_all_failed_with_htmx_polls_until_done(client, logged_in, book, db):
    booking = book(logged_in.business, "10:00")
    failed = [key_id(db, booking, "confirmed:s0"), key_id(db, booking, "owner_confirmed:s0")]
    for job_id in failed:
        fail(job_id)
    assert "Resend all failed (2)" in text(client.get("/dashboard/jobs"))

    response = client.post("/dashboard/jobs/retry-failed", headers=HX)
    assert response.status_code == 202
    [bulk] = [j for j in jobs_of(db, logged_in.business.id) if j.kind == "retry_failed"]
    status_url = f"/dashboard/jobs/{bulk.id}/status"
    body = text(response)
    assert f'hx-get="{status_url}" hx-trigger="every 1s" hx-swap="outerHTML"' in body
    assert '<progress id="job-status-{0}-bar" value="0" max="100"'.format(bulk.id) in body
    assert '<p role="status" class="job-status-message">Waiting to start… 0 %</p>' in body

    polled = client.get(status_url, headers=HX)
    assert polled.status_code == 200 and 'hx-trigger="every 1s"' in text(polled)
    assert "HX-Trigger" not in polled.headers

    assert run_job(bulk.id) == "done"
    final = client.get(status_url, headers=HX)
    assert final.status_code == 286  # htmx stops polling
    assert final.headers["HX-Trigger"] == "jobs-changed, jobs-retried"
    body = " ".join(text(final).split())
    assert "hx-trigger" not in body and "<html" not in body
    assert '<p role="status" class="job-status-message">Finished. 100 % · Queued 2 failed jobs to run again.</p>' in body
    assert "<div><dt>total</dt><dd>2</dd></div> <div><dt>retried</dt><dd>2</dd></div>" in body
    assert [status_of(db, j) for j in failed] == [JobStatus.PENDING] * 2


def test_a_running_job_shows_its_progress_and_keeps_polling(client, logged_in, db):
    job = job_admin.start_retry_failed(logged_in.business.id)
    job_id = job.id
    assert outbox.claim(job_id) is not None
    outbox.set_progress(job_id, 33, "Retried 1 of 3")
    response = client.get(f"/dashboard/jobs/{job_id}/status", headers=HX)
    assert response.status_code == 200
    body = text(response)
    assert f'hx-get="/dashboard/jobs/{job_id}/status" hx-trigger="every 1s" hx-swap="outerHTML" aria-busy="true"' in body
    assert f'<progress id="job-status-{job_id}-bar" value="33" max="100"' in body
    assert '<p role="status" class="job-status-message">Running… 33 % · Retried 1 of 3</p>' in body


def test_resend_all_failed_without_javascript(client, logged_in, book, db):
    booking = book(logged_in.business, "10:00")
    fail(key_id(db, booking, "confirmed:s0"))
    response = client.post("/dashboard/jobs/retry-failed")
    [bulk] = [j for j in jobs_of(db, logged_in.business.id) if j.kind == "retry_failed"]
    assert (response.status_code, response.headers["Location"]) == (303, f"/dashboard/jobs?watch={bulk.id}")
    page = client.get(response.headers["Location"])
    body = text(page)
    assert flashes(page) == ["Resending all failed jobs in the background."]
    assert f'id="job-status-{bulk.id}"' in body and "Refresh to see progress" in body
    # The status URL is a full page too (a no-JS "refresh").
    full = client.get(f"/dashboard/jobs/{bulk.id}/status")
    assert full.status_code == 200 and "<html" in text(full) and f"<h1>Job #{bulk.id}</h1>" in text(full)


def test_a_failed_job_status_stops_polling_and_shows_the_error(client, logged_in, book, db):
    booking = book(logged_in.business, "10:00")
    job_id = key_id(db, booking, "confirmed:s0")
    fail(job_id, "SmtpError: 550 no such user")
    response = client.get(f"/dashboard/jobs/{job_id}/status", headers=HX)
    assert response.status_code == 286
    body = text(response)
    assert "hx-trigger" not in body
    assert '<p class="form-error" role="alert">SmtpError: 550 no such user</p>' in body
    assert "Failed." in body


def test_job_fragments_vary_on_hx_request(client, logged_in, book, db):
    booking = book(logged_in.business, "10:00")
    retried, resent = key_id(db, booking, "confirmed:s0"), key_id(db, booking, "owner_confirmed:s0")
    fail(retried)
    fail(resent)
    badge = client.get("/dashboard/jobs/failed-count", headers=HX)
    row = client.post(f"/dashboard/jobs/{retried}/retry", headers=HX)
    started = client.post("/dashboard/jobs/retry-failed", headers=HX)
    [bulk] = [j for j in jobs_of(db, logged_in.business.id) if j.kind == "retry_failed"]
    polled = client.get(f"/dashboard/jobs/{bulk.id}/status", headers=HX)
    assert run_job(bulk.id) == "done"
    finished = client.get(f"/dashboard/jobs/{bulk.id}/status", headers=HX)
    responses = (badge, row, started, polled, finished)
    assert [r.status_code for r in responses] == [200, 200, 202, 200, 286]
    assert all("HX-Request" in r.headers["Vary"] for r in responses)
    assert all(r.headers["Cache-Control"] == "no-store" for r in (badge, started, polled, finished))
    assert (row.headers["HX-Trigger"], finished.headers["HX-Trigger"]) == ("jobs-changed", "jobs-changed, jobs-retried")


# ------------------------------------------------------------------ sent e-mail

def deliver_confirmation(db, booking) -> SentMessage:
    key = f"email:booking:{booking.id}:confirmed:s0"
    assert run_job(key_id(db, booking, "confirmed:s0")) == "done"
    db.session.rollback()
    return db.session.scalar(select(SentMessage).where(SentMessage.idempotency_key == key))


def test_sent_email_page_lists_messages_and_links_file_copies(client, logged_in, book, db, other_business, tmp_path):
    booking = book(logged_in.business, "10:00", client_email="ada@example.com")
    sent = deliver_confirmation(db, booking)
    assert (sent.transport, sent.business_id) == ("file", logged_in.business.id)
    for job in jobs_of(db, other_business.id)[:1]:
        run_job(job.id)  # another business's e-mail: not listed
    body = text(client.get("/dashboard/sent-email"))
    assert "No mail server is configured (<code>SMTP_URL</code>)" in body
    assert str(tmp_path) not in body  # no server paths shown
    rows = re.findall(r'<tr id="sent-(\d+)">', body)
    assert rows == [str(sent.id)]
    row = re.search(rf'<tr id="sent-{sent.id}">.*?</tr>', body, re.S).group(0)
    assert f"<td>{format_local(sent.sent_at, 'Europe/London')}</td>" in row
    assert "<td>ada@example.com</td>" in row
    assert f'<a href="/dashboard/sent-email/{sent.id}">{html.escape(sent.subject)}</a>' in row
    assert "<td>file</td>" in row
    assert sent.subject == f"Confirmed: Private lesson on {monday():%A} {monday().day} {monday():%B %Y}"
    assert booking.id == sent.booking_id


def test_sent_email_view_renders_text_and_sandboxed_html(client, logged_in, book, db):
    booking = book(logged_in.business, "10:00", client_email="ada@example.com")
    sent = deliver_confirmation(db, booking)
    response = client.get(f"/dashboard/sent-email/{sent.id}")
    assert response.status_code == 200
    body = text(response)
    assert "<dt>To</dt><dd>ada@example.com</dd>" in body
    assert "<dt>Attachments</dt><dd>invite.ics (text/calendar)</dd>" in body
    srcdoc = re.search(r'<iframe [^>]*\bsandbox srcdoc="([^"]*)"', body).group(1)
    assert "<" not in srcdoc and "&lt;" in srcdoc  # escaped: the HTML only renders inside the sandbox
    assert "Private lesson" in html.unescape(srcdoc)
    text_part = re.search(r'<pre class="email-text"[^>]*>(.*?)</pre>', body, re.S).group(1)
    assert "Private lesson" in text_part and "Swim School Pro" in html.unescape(text_part)


def test_sent_email_view_is_scoped_and_never_follows_a_path(client, logged_in, book, db, other_business, tmp_path):
    booking = book(logged_in.business, "10:00")
    sent = deliver_confirmation(db, booking)
    secret = tmp_path / "secret.eml"
    secret.write_text("Subject: private\n\nnot yours")
    business_id = logged_in.business.id
    crafted = [
        SentMessage(idempotency_key="up", recipient="x@example.com", business_id=business_id, transport="file", transport_message_id="../secret.eml"),
        SentMessage(idempotency_key="abs", recipient="x@example.com", business_id=business_id, transport="file", transport_message_id=str(secret)),
        SentMessage(idempotency_key="dot", recipient="x@example.com", business_id=business_id, transport="file", transport_message_id=".."),
        SentMessage(idempotency_key="smtp", recipient="x@example.com", business_id=business_id, transport="smtp", transport_message_id="<abc@x>"),
        SentMessage(idempotency_key="theirs", recipient="x@example.com", business_id=other_business.id, transport="file", transport_message_id=sent.transport_message_id),
    ]
    db.session.add_all(crafted)
    db.session.commit()
    for message in crafted:
        response = client.get(f"/dashboard/sent-email/{message.id}")
        assert response.status_code == 404, message.idempotency_key
        assert "not yours" not in text(response)
    # SMTP-sent messages have no link; a deleted copy is a 404 too.
    assert f'href="/dashboard/sent-email/{crafted[3].id}"' not in text(client.get("/dashboard/sent-email"))
    (tmp_path / "outbox" / sent.transport_message_id).unlink()
    assert client.get(f"/dashboard/sent-email/{sent.id}").status_code == 404


# ------------------------------------------------------------------ reminder offsets setting

SETTINGS = {
    "buffer_time_minutes": "0",
    "booking_expiry_hours": "24",
    "max_advance_booking_days": "30",
    "min_advance_booking_hours": "2",
}


def offsets(db):
    db.session.expire_all()
    return db.session.scalar(select(BookingSettings.reminder_offsets_minutes))


def test_reminder_offsets_setting(client, logged_in, db):
    assert offsets(db) == [1440, 60]
    page = text(client.get("/dashboard/settings"))
    assert '<label for="reminder_offsets_minutes">Send reminders before the appointment</label>' in page
    assert 'name="reminder_offsets_minutes" type="text" value="24h, 1h"' in page

    response = client.post("/dashboard/settings", data={**SETTINGS, "reminder_offsets_minutes": "30m, 2d, 1h30m, 2d"})
    assert response.status_code == 303
    assert offsets(db) == [2880, 90, 30]
    assert 'value="48h, 1h30m, 30m"' in text(client.get("/dashboard/settings"))

    client.post("/dashboard/settings", data={**SETTINGS, "reminder_offsets_minutes": ""})
    assert offsets(db) == []
    client.post("/dashboard/settings", data={**SETTINGS, "reminder_offsets_minutes": "24h"})
    client.post("/dashboard/settings", data=SETTINGS)  # field not posted: kept
    assert offsets(db) == [1440]


@pytest.mark.parametrize(
    "value, message",
    [
        ("soon", "“soon” is not like 24h, 90m or 2d."),
        ("24h, tomorrow", "“tomorrow” is not like 24h, 90m or 2d."),
        ("1m", "“1m”: reminders go from 5 minutes to 30 days before."),
        ("31d", "“31d”: reminders go from 5 minutes to 30 days before."),
        ("1h, 2h, 3h, 4h, 5h, 6h", "At most 5 reminders."),
    ],
)
def test_bad_reminder_offsets_are_422(client, logged_in, db, value, message):
    response = client.post("/dashboard/settings", data={**SETTINGS, "reminder_offsets_minutes": value})
    assert response.status_code == 422
    assert field_error(response, "reminder_offsets_minutes") == message
    assert 'aria-invalid="true"' in text(response)
    assert f'value="{html.escape(value)}"' in text(response)  # what they typed, to correct
    assert offsets(db) == [1440, 60]


def test_reminder_offsets_apply_to_new_bookings(client, logged_in, book, db):
    business_service.update_settings(logged_in.business, reminder_offsets_minutes=[120])
    booking = book(logged_in.business, "10:00")
    reminders = [j for j in jobs_of(db, logged_in.business.id) if ":reminder:" in j.idempotency_key]
    assert [(j.idempotency_key, j.run_at) for j in reminders] == [
        (f"email:booking:{booking.id}:reminder:s0:120m", at(monday(), "08:00"))
    ]
