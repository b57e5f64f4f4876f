"""The client's details form on the public booking page."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.services.clients import InvalidContact, normalise_email, normalise_phone
from app.text import SingleLine, paragraph_filter

NAME_MAX = 255
NOTES_MAX = 2000


class BookingDetailsForm(FlaskForm):
    """Name, e-mail, phone and notes. After ``validate()``, ``email.data``/``phone.data`` hold the
    normalised values (lower-cased address, E.164 number) or ``None``."""

    name = StringField(
        "Your name",
        validators=[DataRequired("Please enter your name."), SingleLine(), Length(max=NAME_MAX, message=f"Keep your name under {NAME_MAX} characters.")],
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField("E-mail", validators=[Optional(), SingleLine()], render_kw={"autocomplete": "email", "inputmode": "email"})
    phone = TelField("Phone", validators=[Optional(), SingleLine()], render_kw={"autocomplete": "tel", "inputmode": "tel"})
    notes = TextAreaField(
        "Notes for the business (optional)",
        validators=[Length(max=NOTES_MAX, message=f"Notes can be at most {NOTES_MAX} characters.")],
        filters=[paragraph_filter],
        render_kw={"rows": 3},
    )
    # Filled with a uuid4 when the form is first rendered, so a double-click sends the same key.
    idempotency_key = HiddenField(validators=[SingleLine(), Length(max=255)])

    def validate_email(self, field):
        try:
            field.data = normalise_email(field.data)
        except InvalidContact as exc:
            raise ValidationError(str(exc)) from exc

    def validate_phone(self, field):
        try:
            field.data = normalise_phone(field.data)
        except InvalidContact as exc:
            raise ValidationError(str(exc)) from exc

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not self.email.data and not self.phone.data:
            message = "Please give an e-mail address or a phone number so we can reach you."
            self.email.errors = [*self.email.errors, message]
            ok = False
        return ok
