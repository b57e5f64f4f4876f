"""In-app notifications: the bell's unread count, the list with mark-as-read, and the preferences.

Marking answers an HTMX request in place (the item, or the whole list) with
``HX-Trigger: notifications-changed`` so the bell refreshes; a plain form POST redirects back.
"""
from __future__ import annotations

from flask import flash, request, url_for
from flask_login import current_user

from app.dashboard import bp
from app.dashboard.common import actor, back, form_errors_from
from app.dashboard.forms import NotificationPreferencesForm
from app.services import notifications
from app.services.errors import ValidationFailed
from app.web import render, wants_fragment

#: Sent with every response that changes what is read, so the bell's count refreshes.
NOTIFICATIONS_CHANGED = {"HX-Trigger": "notifications-changed"}
PAGE_SIZE = 100


@bp.context_processor
def notification_context():
    if not current_user.is_authenticated:
        return {}
    user = actor()
    return {"unread_notifications": lambda: notifications.unread_count(user)}


# ------------------------------------------------------------------ list and count

def _unread_only() -> bool:
    return (request.values.get("unread") or "") in ("1", "true", "y", "on")


def _list_page(status: int = 200, block: str | None = "list", message: str | None = None, headers: dict | None = None):
    user = actor()
    unread_only = _unread_only()
    return render(
        "dashboard/notifications.html",
        block=block,
        status=status,
        headers=headers,
        items=notifications.list_for(user, unread_only=unread_only, limit=PAGE_SIZE),
        unread_total=notifications.unread_count(user),
        unread_only=unread_only,
        next_url=url_for("dashboard.notifications", unread=1 if unread_only else None),
        message=message,
    )


@bp.get("/notifications", endpoint="notifications")
def notifications_list():
    return _list_page()


@bp.get("/notifications/count")
def notifications_count():
    """The bell's badge (fragment), or a small page saying how many are unread (direct load)."""
    return render(
        "dashboard/notifications_count.html", block="count", headers={"Cache-Control": "no-store"},
        count=notifications.unread_count(actor()),
    )


@bp.post("/notifications/<int:notification_id>/read")
def notification_read(notification_id: int):
    notification = notifications.mark_read(actor(), notification_id)
    if wants_fragment():
        return render(
            "dashboard/_notification.html", n=notification, next_url=url_for("dashboard.notifications"), headers=NOTIFICATIONS_CHANGED
        )
    flash("Notification marked as read.", "success")
    return back("dashboard.notifications")


@bp.post("/notifications/read-all")
def notifications_read_all():
    count = notifications.mark_all_read(actor())
    message = f"Marked {count} notification{'s' if count != 1 else ''} as read."
    if wants_fragment():
        return _list_page(message=message, headers=NOTIFICATIONS_CHANGED)
    flash(message, "success")
    return back("dashboard.notifications")


# ------------------------------------------------------------------ preferences

def _preferences_page(form, status: int = 200, saved: bool = False):
    return render("dashboard/notifications_preferences.html", block="prefs", status=status, form=form, saved=saved)


@bp.get("/notifications/preferences")
def notification_preferences():
    return _preferences_page(NotificationPreferencesForm.initial(notifications.get_preferences(actor())))


@bp.post("/notifications/preferences")
def notification_preferences_save():
    form = NotificationPreferencesForm()
    if form.validate_on_submit():
        try:
            saved = notifications.set_preferences(actor(), form.to_preferences())
        except ValidationFailed as exc:
            form_errors_from(exc.fields, form)
        else:
            if wants_fragment():
                return _preferences_page(NotificationPreferencesForm.initial(saved), saved=True)
            flash("Notification preferences saved.", "success")
            return back("dashboard.notification_preferences")
    return _preferences_page(form, status=422)
