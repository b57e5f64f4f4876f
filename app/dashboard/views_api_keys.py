"""Owner API keys: list, create (the key is shown once), revoke."""
from __future__ import annotations

from flask import flash, redirect, url_for

from app.dashboard import bp
from app.dashboard.common import actor, current_business
from app.dashboard.forms import ApiKeyForm
from app.services import api_keys
from app.web import render


def _page(status: int = 200, form=None, new_key=None, token=None):
    return render(
        "dashboard/api_keys.html",
        status=status,
        keys=api_keys.list_keys(current_business()),
        form=form or ApiKeyForm(formdata=None),
        new_key=new_key,
        token=token,
    )


@bp.get("/api-keys", endpoint="api_keys")
def api_keys_list():
    return _page()


@bp.post("/api-keys")
def api_keys_create():
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return _page(422, form=form)
    key, token = api_keys.create_key(current_business(), actor(), form.name.data)
    # Rendered, not redirected: the plaintext must not travel through the (signed, not encrypted)
    # session cookie as a flash message, and it is never shown again.
    response = _page(201, new_key=key, token=token)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api-keys/<int:key_id>/revoke")
def api_keys_revoke(key_id: int):
    key = api_keys.revoke_key(current_business(), key_id)
    flash(f"Revoked the key {key.prefix}… ({key.name}). Programs using it can no longer connect.", "success")
    return redirect(url_for("dashboard.api_keys"), code=303)
