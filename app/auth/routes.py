"""Sign up, log in, log out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, url_for
from flask_login import current_user, login_user, logout_user

from app.auth import bp
from app.auth.forms import LoginForm, SignupForm
from app.extensions import limiter
from app.services import business_service
from app.services.errors import ValidationFailed
from app.web import render


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (``/...``), else ``None`` (no open redirects)."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _after_login():
    return redirect(safe_next(request.args.get("next")) or url_for("dashboard.index"))


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = business_service.sign_up(
                email=form.email.data,
                password=form.password.data,
                name=form.name.data,
                business_name=form.business_name.data,
                timezone=form.timezone.data,
                currency=form.currency.data,
            )
        except ValidationFailed as exc:
            for name, message in exc.fields.items():
                getattr(form, name).errors.append(message)
        else:
            login_user(user)
            flash("Welcome to Flowkey! Your booking link is ready.", "success")
            return redirect(url_for("dashboard.index"), code=303)
    status = 422 if form.errors else 200
    return render("auth/signup.html", status=status, form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return _after_login()
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = business_service.find_user_by_email(form.email.data)
        if user is not None and user.check_password(form.password.data):
            login_user(user)
            return _after_login()
        error = "The e-mail or password is incorrect."
    status = 422 if (form.errors or error) else 200
    return render("auth/login.html", status=status, form=form, error=error)


@bp.route("/logout", methods=["POST"])
def logout():
    # CSRFProtect checks the token before we get here.
    logout_user()
    flash("You have logged out.", "success")
    return redirect(url_for("auth.login"), code=303)
