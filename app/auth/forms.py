"""Sign-up and log-in forms."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, ValidationError

from app.timezones import all_timezones

CURRENCIES = ["USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "JPY", "INR", "SGD", "HKD", "ZAR", "BRL", "MXN"]
MIN_PASSWORD_LENGTH = 10


class SignupForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired("Please enter your name."), Length(max=120)])
    email = EmailField("E-mail", validators=[DataRequired("Please enter your e-mail."), Email("Please enter a valid e-mail address."), Length(max=255)])
    password = PasswordField(
        "Password",
        description=f"At least {MIN_PASSWORD_LENGTH} characters, not only digits.",
        validators=[DataRequired("Please choose a password.")],
    )
    business_name = StringField("Business name", validators=[DataRequired("Please enter your business's name."), Length(max=120)])
    timezone = SelectField("Time zone", default="Europe/London")
    currency = SelectField("Currency", choices=[SelectChoice(c) for c in CURRENCIES], default="GBP")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = [SelectChoice(z) for z in all_timezones()]

    def validate_password(self, field):
        password = field.data or ""
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValidationError(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
        if password.isdigit():
            raise ValidationError("Use more than just digits.")
        if self.email.data and password.strip().lower() == self.email.data.strip().lower():
            raise ValidationError("Your password must not be your e-mail address.")


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired("Please enter your e-mail.")])
    password = PasswordField("Password", validators=[DataRequired("Please enter your password.")])
