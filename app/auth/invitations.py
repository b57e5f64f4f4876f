"""The staff invitation link: ``/invitation/<token>`` shows the business and a form to choose a
name and password; posting it (CSRF-checked) creates the staff member's login and logs them in.
A GET changes nothing, so mail scanners that open every link do not spend it.
"""
from __future__ import annotations

from flask import flash, redirect, session, url_for
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app.auth import bp
from app.domain.passwords import MIN_LENGTH as MIN_PASSWORD_LENGTH
from app.domain.passwords import password_problem
from app.services import team
from app.services.errors import ValidationFailed
from app.text import SingleLine
from app.web import render


class AcceptInvitationForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired("Please enter your name."), SingleLine(), Length(max=120)])
    password = PasswordField(
        "Choose a password",
        description=f"At least {MIN_PASSWORD_LENGTH} characters and hard to guess: a few unrelated words work well.",
        validators=[DataRequired("Please choose a password.")],
    )

    def __init__(self, *args, email: str = "", business_name: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self._email, self._business_name = email, business_name

    def validate_password(self, field):
        problem = password_problem(field.data or "", email=self._email, names=(self.name.data or "", self._business_name))
        if problem:
            raise ValidationError(problem)


def _invalid(exc):
    return render("auth/invitation_invalid.html", status=exc.status_code, message=exc.message)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation_accept(token: str):
    try:
        invitation = team.invitation_for_token(token)
    except team.InvitationInvalid as exc:
        return _invalid(exc)
    business_name = invitation.business.name
    form = AcceptInvitationForm(email=invitation.email, business_name=business_name)
    if not form.is_submitted():
        form.name.data = invitation.staff.display_name
    if form.validate_on_submit():
        try:
            user = team.accept_invitation(token, password=form.password.data, name=form.name.data)
        except (team.InvitationInvalid, team.AccountExists) as exc:
            return _invalid(exc)
        except ValidationFailed as exc:
            for name, message in exc.fields.items():
                getattr(form, name, form.password).errors.append(message)
        else:
            if current_user.is_authenticated:  # someone else's session in this browser: replace it
                session.clear()
            login_user(user)
            session.permanent = True
            flash(f"Welcome to {business_name}! These are your bookings; set your hours under Hours.", "success")
            return redirect(url_for("dashboard.index"), code=303)
    status = 422 if form.errors else 200
    return render("auth/invitation.html", status=status, form=form, invitation=invitation, token=token)
