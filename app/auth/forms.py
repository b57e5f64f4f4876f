"""Sign-up and log-in forms."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, ValidationError

from app.domain.passwords import MIN_LENGTH as MIN_PASSWORD_LENGTH
from app.domain.passwords import password_problem
from app.text import SingleLine
from app.timezones import TimezoneField

CURRENCIES = ["USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "JPY", "INR", "SGD", "HKD", "ZAR", "BRL", "MXN"]


class SignupForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired("Please enter your name."), SingleLine(), Length(max=120)])
    email = EmailField("E-mail", validators=[DataRequired("Please enter your e-mail."), SingleLine(), Email("Please enter a valid e-mail address."), Length(max=255)])
    password = PasswordField(
        "Password",
        description=f"At least {MIN_PASSWORD_LENGTH} characters and hard to guess: a few unrelated words work well.",
        validators=[DataRequired("Please choose a password.")],
    )
    business_name = StringField("Business name", validators=[DataRequired("Please enter your business's name."), SingleLine(), Length(max=120)])
    timezone = TimezoneField("Time zone", default="Europe/London")
    currency = SelectField(
        "Currency",
        choices=[SelectChoice("", "Automatic (your time zone’s country)")] + [SelectChoice(c) for c in CURRENCIES],
        default="",
        description="You can change it in the set-up that follows.",
    )

    def validate_password(self, field):
        problem = password_problem(field.data or "", email=self.email.data or "", names=(self.name.data or "", self.business_name.data or ""))
        if problem:
            raise ValidationError(problem)


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired("Please enter your e-mail."), SingleLine()])
    password = PasswordField("Password", validators=[DataRequired("Please enter your password.")])


class ConfirmSignupForm(FlaskForm):
    """The "Create my account" button of a sign-up link (only its CSRF token)."""
