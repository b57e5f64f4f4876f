"""The client's details form on the public booking page."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.phones import format_phone
from app.services.clients import InvalidContact, normalise_email, normalise_phone
from app.text import SingleLine, paragraph_filter

NAME_MAX = 255
NOTES_MAX = 2000


class PhoneField(TelField):
    """A phone number input that shows a stored or normalised number in international form
    (``+442079460999`` as ``+44 20 7946 0999``) and anything else as typed."""

    def _value(self):
        return format_phone(self.data) if self.data else ""


class BookingDetailsForm(FlaskForm):
    """Name, e-mail, phone and notes. After ``validate()``, ``email.data``/``phone.data`` hold the
    normalised values (lower-cased address, E.164 number) or ``None``; a number without ``+`` is
    read as dialled in ``region`` (ISO 3166 alpha-2, set by the view; None = with a country code).
    Every problem is reported in one pass, "give an e-mail or a phone" included."""

    region: str | None = None

    name = StringField(
        _l("Your name"),
        validators=[
            DataRequired(_l("Please enter your name.")), SingleLine(),
            Length(max=NAME_MAX, message=_l("Keep your name under %(max)d characters.", max=NAME_MAX)),
        ],
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(_l("E-mail"), validators=[Optional(), SingleLine()], render_kw={"autocomplete": "email", "inputmode": "email"})
    phone = PhoneField(_l("Phone"), validators=[Optional(), SingleLine()], render_kw={"autocomplete": "tel", "inputmode": "tel"})
    notes = TextAreaField(
        _l("Notes for the business (optional)"),
        validators=[Length(max=NOTES_MAX, message=_l("Notes can be at most %(max)d characters.", max=NOTES_MAX))],
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
            field.data = normalise_phone(field.data, self.region)
        except InvalidContact as exc:
            raise ValidationError(str(exc)) from exc

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not (self.email.errors or self.phone.errors or self.email.data or self.phone.data):
            message = _("Please give an e-mail address or a phone number so we can reach you.")
            self.email.errors = [*self.email.errors, message]
            ok = False
        return ok
