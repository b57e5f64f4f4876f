"""Background jobs and sent e-mail: the Jobs page (filter, Retry, "Resend all failed" with a
polled progress fragment), the failed-jobs badge in the nav, and the "Sent e-mail" page with a
viewer for the ``.eml`` copies the file transport writes.

The list is paginated (``?page=``, 50 a page); a reminder retired because its booking moved or
was cancelled shows as "not needed", not "done"; "Resend all failed" is offered only while
something failed.

HTMX actions answer with a fragment and ``HX-Trigger: jobs-changed`` (the nav badge reloads on
it); without JavaScript the same forms POST and redirect (303) with a flash message.
"""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user

from app.dashboard import bp
from app.dashboard.common import back, current_business
from app.dashboard.forms import JobFilterForm
from app.models.outbox import JobStatus, OutboxJob
from app.redaction import redact
from app.services import job_admin, sent_mail
from app.services.errors import Conflict
from app.web import render, wants_fragment

#: Sent when a job changed state (the failed-jobs badge reloads on it).
JOBS_CHANGED = "jobs-changed"
#: Sent when "Resend all failed" finished (the jobs list reloads on it).
JOBS_RETRIED = "jobs-retried"
FINISHED = (JobStatus.DONE, JobStatus.FAILED)
#: htmx stops polling when a polled request answers 286 (https://htmx.org/docs/#polling).
STOP_POLLING = 286
#: Counters and progress change from one request to the next: never serve them from a cache.
NO_STORE = {"Cache-Control": "no-store"}

_KIND_LABELS = {
    "expire_booking": "Expire request",
    job_admin.RETRY_FAILED_KIND: "Resend all failed",
    "cleanup_outbox": "Clean up old jobs",
}


def job_label(job: OutboxJob) -> str:
    """A person's name for a job: ``E-mail to client: confirmed``, ``Expire request``, ..."""
    if job.kind == "booking_email":
        template = (job.payload or {}).get("template", "")
        if template.startswith("owner_"):
            return "E-mail to you: " + template.removeprefix("owner_").replace("_", " ")
        return "E-mail to client: " + template.replace("_", " ")
    return _KIND_LABELS.get(job.kind, job.kind.replace("_", " ").capitalize())


@bp.app_template_filter("redact_secrets")
def redact_secrets(text: str | None) -> str:
    return redact(text)


@bp.context_processor
def jobs_context():
    business = current_user.business if current_user.is_authenticated else None
    return {
        "failed_jobs_total": (lambda: job_admin.failed_count(business.id)) if business else (lambda: 0),
        "job_label": job_label,
        "superseded_reason": job_admin.superseded_reason,
    }


# ------------------------------------------------------------------ jobs list

#: Jobs shown a page.
PER_PAGE = 50


def _page_number() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) < 100_000 else 1


def _jobs_page(status: int = 200, watched: OutboxJob | None = None):
    business = current_business()
    form = JobFilterForm(request.args)
    jobs, page = [], None
    if form.validate():
        page = job_admin.jobs_page(
            business.id, status=JobStatus(form.status.data) if form.status.data else None, page=_page_number(), per_page=PER_PAGE,
        )
        jobs = page.jobs
    else:
        status = 422
    if watched is None and request.args.get("watch", "").isdigit():
        watched = job_admin.get_job(business.id, int(request.args["watch"]))
    return render(
        "dashboard/jobs.html",
        block="jobs",
        status=status,
        form=form,
        jobs=jobs,
        page=page,
        page_url=lambda n: url_for("dashboard.jobs", **{**request.args.to_dict(), "page": n}),
        watched=watched,
        failed_total=job_admin.failed_count(business.id),
        row_messages={},
    )


@bp.get("/jobs")
def jobs():
    return _jobs_page()


@bp.get("/jobs/failed-count")
def jobs_failed_count():
    """The nav badge: reloaded on load and on ``jobs-changed`` events."""
    return render(
        "partials/_failed_jobs_badge.html", headers=NO_STORE, count=job_admin.failed_count(current_business().id), inner=True
    )


@bp.post("/jobs/<int:job_id>/retry")
def job_retry(job_id: int):
    business = current_business()
    try:
        job = job_admin.retry_for_business(business.id, job_id)
    except Conflict as exc:
        job, message, error, status = job_admin.get_job(business.id, job_id), None, exc.message, 409
    else:
        message, error, status = "Queued to run again.", None, 200
    if wants_fragment():
        return render(
            "dashboard/_job_row.html", status=status, headers={"HX-Trigger": JOBS_CHANGED}, job=job, message=message, error=error
        )
    flash(f"{job_label(job)} (#{job.id}): {message or error}", "success" if status == 200 else "error")
    return back("dashboard.jobs")


@bp.post("/jobs/retry-failed")
def jobs_retry_failed():
    """Start ONE background job that retries every failed job; answer with its status fragment
    (HTMX: it then polls itself) or redirect to the Jobs page watching it."""
    business = current_business()
    job = job_admin.start_retry_failed(business.id)
    if wants_fragment():
        return render(
            "partials/_job_status.html", status=202, headers=NO_STORE,
            job=job, status_url=url_for("dashboard.job_status", job_id=job.id), title="Resend all failed",
        )
    flash("Resending all failed jobs in the background.", "success")
    return redirect(url_for("dashboard.jobs", watch=job.id), code=303)


@bp.get("/jobs/<int:job_id>/status")
def job_status(job_id: int):
    """One job's progress: the polled fragment (286 once finished, so htmx stops polling) or,
    without HTMX, a page with the same fragment and a refresh link."""
    job = job_admin.get_job(current_business().id, job_id)
    context = {"job": job, "status_url": url_for("dashboard.job_status", job_id=job.id), "title": job_label(job)}
    if wants_fragment():
        if job.status in FINISHED:
            headers = {**NO_STORE, "HX-Trigger": f"{JOBS_CHANGED}, {JOBS_RETRIED}"}
            return render("partials/_job_status.html", status=STOP_POLLING, headers=headers, **context)
        return render("partials/_job_status.html", headers=NO_STORE, **context)
    return render("dashboard/jobs_status.html", headers=NO_STORE, **context)


# ------------------------------------------------------------------ sent e-mail

@bp.get("/sent-email")
def sent_email():
    business = current_business()
    return render(
        "dashboard/sent_email.html",
        messages=sent_mail.sent_messages(business.id, limit=200),
        file_transport=sent_mail.writes_files(),
    )


@bp.get("/sent-email/<int:message_id>")
def sent_email_view(message_id: int):
    stored = sent_mail.read_stored_email(current_business().id, message_id)
    return render("dashboard/sent_email_view.html", stored=stored)
