"""Forms of the Team page."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from app.dashboard.forms import MultiCheckboxField
from app.text import SingleLine
from app.timezones import TimezoneField

_EMAIL = [Optional(), SingleLine(), Email("Please enter a valid e-mail address."), Length(max=255)]


class StaffMemberForm(FlaskForm):
    """A staff member's name, e-mail, zone and services (the Team page's add and edit forms)."""

    display_name = StringField("Name", validators=[DataRequired("Please enter a name."), SingleLine(), Length(max=120)])
    email = EmailField("E-mail", validators=_EMAIL, description="Where their invitation to log in goes. Optional.")
    timezone = TimezoneField("Time zone", blank_label="Same as the business")
    service_ids = MultiCheckboxField("Services they offer", coerce=int)

    def __init__(self, *args, services=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.service_ids.choices = [SelectChoice(s.id, s.name + ("" if s.is_active else " (inactive)")) for s in services]


class NewStaffForm(StaffMemberForm):
    invite = BooleanField("E-mail them an invitation to log in")

    def validate_invite(self, field):
        if field.data and not (self.email.data or "").strip():
            self.email.errors = [*self.email.errors, "Enter the address to send the invitation to."]
            raise ValidationError("An invitation needs an e-mail address.")


class InviteForm(FlaskForm):
    # Not "email": the details form on the same page has that field (and its id).
    send_to = EmailField("Send the invitation to", validators=_EMAIL)


class ReassignForm(FlaskForm):
    """Give one booking to another staff member at the same time."""

    to_staff = SelectField("Give to", coerce=int, validate_choice=True)

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.to_staff.choices = [SelectChoice(s.id, s.display_name) for s in staff]

