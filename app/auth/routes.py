"""Sign up, log in, log out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user

from app.auth import bp
from app.auth.forms import ConfirmSignupForm, LoginForm, SignupForm
from app.extensions import limiter
from app.services import accounts, sent_mail
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


def _log_in(user) -> None:
    login_user(user)
    # A permanent session lasts PERMANENT_SESSION_LIFETIME after the last request (renewed on
    # each one), rather than "until the browser closes", which browsers restoring tabs ignore.
    session.permanent = True


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGNUP_RATE_LIMIT"], methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            accounts.request_sign_up(
                accounts.SignupDetails(
                    email=form.email.data,
                    password=form.password.data,
                    name=form.name.data,
                    business_name=form.business_name.data,
                    timezone=form.timezone.data,
                    currency=form.currency.data,
                )
            )
        except ValidationFailed as exc:
            for name, message in exc.fields.items():
                getattr(form, name).errors.append(message)
        else:
            # The same answer whether or not the address has an account (no enumeration).
            return redirect(url_for("auth.signup_sent"), code=303)
    status = 422 if form.errors else 200
    return render("auth/signup.html", status=status, form=form)


@bp.route("/signup/sent")
def signup_sent():
    # Without a mail server the message is a file on the server: a self-hosting owner is their
    # own administrator, so say where (it reveals nothing about whether the address exists).
    saved_in = str(sent_mail.mail_outbox_dir()) if sent_mail.writes_files() else None
    return render("auth/signup_sent.html", hours=accounts.SIGNUP_LINK_HOURS, saved_in=saved_in)


@bp.route("/signup/confirm/<token>", methods=["GET", "POST"])
def signup_confirm(token: str):
    """GET shows what will be created and a button; POST (CSRF-checked) creates it. A GET that
    created the account would be spent by mail scanners that open every link first."""
    form = ConfirmSignupForm()
    try:
        if request.method == "POST":  # CSRFProtect has checked the form's token
            user = accounts.complete_sign_up(token)
            _log_in(user)
            # Nothing is bookable yet (no service): the set-up wizard gets the owner there.
            flash("Welcome to Flowkey! A few questions set up your booking page.", "success")
            return redirect(url_for("dashboard.onboarding"), code=303)
        pending = accounts.pending_sign_up(token)
    except (accounts.SignupLinkInvalid, ValidationFailed) as exc:
        return render("auth/signup_link_invalid.html", status=exc.status_code, message=exc.message)
    return render("auth/signup_confirm.html", form=form, pending=pending, token=token)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return _after_login()
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            _log_in(user)
            return _after_login()
        error = "The e-mail or password is incorrect."
    status = 422 if (form.errors or error) else 200
    return render("auth/login.html", status=status, form=form, error=error)


@bp.route("/logout", methods=["POST"])
def logout():
    # CSRFProtect checks the token before we get here. Replacing the session token ends this
    # session everywhere, including any copy of the cookie taken before.
    if current_user.is_authenticated:
        accounts.end_sessions(current_user._get_current_object())
    logout_user()
    flash("You have logged out.", "success")
    return redirect(url_for("auth.login"), code=303)
