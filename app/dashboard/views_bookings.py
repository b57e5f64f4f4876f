"""The requests queue (approve/reject in place) and the bookings list (filter, cancel, detail).

Actions answer an HTMX request with the booking's row in its new state (409/422 with the message
in the row when they fail) and ``HX-Trigger: bookings-changed``; a plain form POST gets a redirect
with a flash, or the page again with the message.

A staff user sees and acts on their own bookings only (:func:`staff_scope`): another staff
member's booking is a 404, exactly like another business's.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import flash, redirect, request, url_for
from flask_login import current_user

from app.dashboard import bp
from app.dashboard.common import BOOKINGS_CHANGED, actor, back, current_business, current_staff_member, is_owner
from app.dashboard.forms import BookingFilterForm, ReasonForm
from app.domain.booking_events import BookingEvent
from app.domain.booking_state import BookingStatus
from app.models import ActorKind, Booking, utcnow
from app.services import booking_queries, booking_service, client_self_service
from app.services.booking_queries import BookingFilter
from app.services.errors import Conflict, NotFound, SlotUnavailable, ValidationFailed
from app.web import render, wants_fragment

#: Matches no staff member: a staff user without a staff row sees no bookings at all.
NOBODY = 0


def staff_scope() -> int | None:
    """The staff member id the logged-in user's booking views are limited to: None for an owner
    (everyone's), the user's own staff member for a staff user."""
    if is_owner():
        return None
    staff = current_staff_member()
    return staff.id if staff is not None else NOBODY


def scoped_booking(booking_id: int) -> Booking:
    """The business's booking ``booking_id`` when the user may see it; :class:`NotFound` for
    another business's, or for another staff member's when the user is staff."""
    booking = booking_service.get_booking(current_business(), booking_id)
    scope = staff_scope()
    if scope is not None and booking.staff_id != scope:
        raise NotFound("No such booking.")
    return booking


#: A request this close to expiring is marked on its card.
EXPIRES_SOON = timedelta(hours=6)


@bp.context_processor
def bookings_context():
    def expires_soon(booking: Booking) -> bool:
        return booking.expires_at is not None and booking.expires_at - utcnow() < EXPIRES_SOON

    return {"expires_soon": expires_soon}


# ------------------------------------------------------------------ requests queue

def _queue(business):
    return booking_queries.pending_requests(business, staff_id=staff_scope())


@bp.get("/requests")
def requests():
    business = current_business()
    return render("dashboard/requests.html", block="queue", requests=_queue(business), row_errors={})


def _action_response(booking_id: int, row_template: str, message: str, status: int = 200, error: str | None = None, form=None):
    """The row (fragment), or redirect back with a flash (plain POST), or the page with the error."""
    business = current_business()
    booking = booking_service.get_booking(business, booking_id)
    row_state = {"booking": booking, "error": error, "form": form, "message": message if status == 200 else None}
    if wants_fragment():
        return render(row_template, status=status, headers=BOOKINGS_CHANGED, **row_state)
    if status == 200:
        flash(message, "success")
        return back("dashboard.requests" if row_template.endswith("_request_row.html") else "dashboard.bookings")
    # Without JavaScript: the page the form was on, with the message next to the booking.
    if request.form.get("from") == "detail" or row_template.endswith("_booking_row.html"):
        return _detail_page(booking, status, error=error, form=form)
    return render(
        "dashboard/requests.html",
        status=status,
        requests=_queue(business),
        row_errors={booking.id: {"error": error, "form": form}},
    )


@bp.post("/requests/<int:booking_id>/approve")
def request_approve(booking_id: int):
    business = current_business()
    scoped_booking(booking_id)
    row = "dashboard/_request_row.html"
    try:
        booking = booking_service.approve(business, booking_id, actor())
    except (SlotUnavailable, Conflict) as exc:
        return _action_response(booking_id, row, "", 409, error=exc.message)
    return _action_response(booking.id, row, f"Approved: {booking.client_name}'s booking is confirmed.")


def _reasoned_action(booking_id: int, row: str, action, done: str):
    """Run ``action(business, booking_id, actor, reason)`` (reject or cancel) from a ReasonForm
    and answer with the row: 422 without a reason, 409 when the booking's state forbids it.
    ``done`` is the success message, formatted with the booking."""
    business = current_business()
    scoped_booking(booking_id)  # 404 before validating another business's (or staff member's) id
    form = ReasonForm()
    if not form.validate_on_submit():
        return _action_response(booking_id, row, "", 422, form=form)
    try:
        booking = action(business, booking_id, actor(), form.reason.data)
    except ValidationFailed as exc:
        form.reason.errors = [exc.fields.get("reason", exc.message)]
        return _action_response(booking_id, row, "", 422, form=form)
    except Conflict as exc:
        return _action_response(booking_id, row, "", 409, error=exc.message)
    return _action_response(booking.id, row, done.format(b=booking))


@bp.post("/requests/<int:booking_id>/reject")
def request_reject(booking_id: int):
    return _reasoned_action(booking_id, "dashboard/_request_row.html", booking_service.reject, "Rejected {b.client_name}'s request.")


# ------------------------------------------------------------------ bookings

@bp.get("/bookings")
def bookings():
    business = current_business()
    scope = staff_scope()
    args = request.args
    if scope is not None:  # a staff user sees their own bookings: no "Staff" choice to make
        args = args.copy()
        args.pop("staff", None)
    form = BookingFilterForm(args, staff=business.staff if scope is None else ())
    status = 200
    results = []
    if form.validate():
        f = BookingFilter(
            when=form.when.data,
            status=BookingStatus(form.status.data) if form.status.data else None,
            date_from=form.date_from.data,
            date_to=form.date_to.data,
            staff_id=scope if scope is not None else (int(form.staff.data) if form.staff.data else None),
            search=form.q.data or None,
        )
        results = booking_queries.list_bookings(business, f)
    else:
        status = 422
    return render(
        "dashboard/bookings.html", block="results", status=status, form=form, bookings=results, row_errors={},
        show_staff_filter=scope is None,
    )


@dataclass(frozen=True)
class HistoryRow:
    """One line of a booking's history: when (UTC), what happened, who did it."""

    at: datetime
    what: str
    who: str
    moved_from: datetime | None = None  # a reschedule: the old start (UTC)
    moved_to: datetime | None = None


def _who(entry) -> str:
    if entry.actor_kind == ActorKind.CLIENT:
        return "the client"
    if entry.actor_kind == ActorKind.OWNER:
        return (entry.actor.name or entry.actor.email) if entry.actor is not None else "someone of the business"
    return "Flowkey (automatic)"


def history(booking: Booking) -> list[HistoryRow]:
    """The booking's audit rows, oldest first, as the detail page shows them."""
    rows = []
    for e in booking.events:
        if e.from_status and e.from_status != e.to_status:
            what = f"{e.from_status.label} → {e.to_status.label}"
        else:
            what = {BookingEvent.RESCHEDULED: "rescheduled", BookingEvent.LINKS_REVOKED: "client links revoked"}.get(e.event, e.to_status.label)
        if e.note and e.note != what:
            what = f"{what} — {e.note}"
        data = e.data or {}
        moved = e.event == BookingEvent.RESCHEDULED and data.get("from_start") and data.get("to_start")
        rows.append(HistoryRow(
            at=e.created_at, what=what, who=_who(e),
            moved_from=datetime.fromisoformat(data["from_start"]) if moved else None,
            moved_to=datetime.fromisoformat(data["to_start"]) if moved else None,
        ))
    return rows


def detail_context(booking: Booking) -> dict:
    """What the booking's page shows besides the booking: its history, the client's other
    bookings (a staff user sees only their own of those), the manage link while it is on."""
    scope = staff_scope()
    others = booking_queries.client_history(booking)
    return {
        "history": history(booking),
        "client_bookings": [b for b in others if scope is None or b.staff_id == scope],
        "manage_url": client_self_service.manage_url(booking)
        if booking.status in (BookingStatus.PENDING, BookingStatus.CONFIRMED) else None,
    }


def _detail_page(booking, status: int = 200, error: str | None = None, form=None):
    return render(
        "dashboard/booking_detail.html", status=status, booking=booking, error=error, form=form, **detail_context(booking),
    )


@bp.get("/bookings/<int:booking_id>")
def booking_detail(booking_id: int):
    return _detail_page(scoped_booking(booking_id))


@bp.post("/bookings/<int:booking_id>/cancel")
def booking_cancel(booking_id: int):
    return _reasoned_action(
        booking_id, "dashboard/_booking_row.html", booking_service.cancel, "Cancelled {b.client_name}'s booking ({b.reference})."
    )


@bp.post("/bookings/<int:booking_id>/revoke-links")
def booking_revoke_links(booking_id: int):
    """Replace the booking's manage secret: every manage link the client has stops working."""
    scoped_booking(booking_id)
    booking = booking_service.revoke_client_links(current_business(), booking_id, current_user)
    flash(
        f"The client's links to {booking.reference} no longer work. E-mails from now on carry a new one; "
        "you can also send them the link below.",
        "success",
    )
    return redirect(url_for("dashboard.booking_detail", booking_id=booking.id), code=303)
