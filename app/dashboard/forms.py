"""Dashboard forms. Ranges match what the services and the availability engine accept."""
from __future__ import annotations

import re
from datetime import time
from decimal import Decimal

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ColorInput, ListWidget

from app.auth.forms import CURRENCIES
from app.domain.booking_state import BookingStatus
from app.domain.colors import DEFAULT_BRAND
from app.i18n import LANGUAGES
from app.models.business import VIDEO_PROVIDERS, PhoneCaller
from app.models.outbox import JobStatus
from app.phones import country_choices
from app.services import notifications
from app.text import SingleLine, paragraph_filter
from app.timezones import MAX_YEAR, MIN_YEAR, TimezoneField, in_year_window


def _in_years(form, field):
    """A picked date must be in the years the app accepts (date arithmetic overflows near 9999)."""
    if field.data is not None and not in_year_window(field.data):
        raise StopValidation(f"Pick a date between the years {MIN_YEAR} and {MAX_YEAR}.")


def _int(label, lo, hi, required=True, if_posted=False, **kw):
    """An integer field from ``lo`` to ``hi``; ``if_posted``: a form that does not post it at all
    leaves it unvalidated (``data`` None), one that posts it blank is told to fill it in."""
    first = InputRequired(f"Enter a whole number from {lo} to {hi}.") if required else Optional()
    validators = [first, NumberRange(lo, hi, f"Enter a whole number from {lo} to {hi}.")]
    if if_posted:
        validators.insert(0, _skip_unless_posted)
    return IntegerField(label, validators=validators, **kw)


def _skip_unless_posted(form, field):
    if not field.raw_data:
        raise StopValidation()


# ------------------------------------------------------------------ settings and profile

CLIENT_NOTICE_MAX_HOURS = 720  # 30 days: how long before the start online changes may close

class LinkForm(FlaskForm):
    is_active = BooleanField("Booking link is on (clients can book)")


class SlugForm(FlaskForm):
    """The booking link's last part; checked by :func:`app.services.business_service.change_slug`."""

    slug = StringField(
        "Link name", validators=[DataRequired("Please enter a link name."), SingleLine(), Length(max=100)],
        filters=[lambda v: v.strip().lower() if isinstance(v, str) else v],
        description="Lower-case letters, digits and hyphens. Your old link keeps working: it forwards to the new one.",
    )


_OFFSET = re.compile(r"^(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?$", re.I)
MAX_REMINDERS = 5
REMINDER_RANGE = (5, 30 * 1440)  # minutes: 5 min to 30 days before the start


def parse_offsets(text: str | None) -> list[int]:
    """``"24h, 1h"`` -> ``[1440, 60]`` (minutes before the start, largest first, no duplicates);
    also ``2d``, ``90m``, ``1h30m``; blank -> ``[]`` (no reminders). Raises ``ValueError`` with a
    message for the person typing it."""
    minutes = set()
    for part in re.split(r"[,;\n]+", text or ""):
        part = part.strip()
        if not part:
            continue
        match = _OFFSET.match(part)
        if not match or not any(match.groups()):
            raise ValueError(f"“{part}” is not like 24h, 90m or 2d.")
        d, h, m = (int(g or 0) for g in match.groups())
        total = d * 1440 + h * 60 + m
        lo, hi = REMINDER_RANGE
        if not lo <= total <= hi:
            raise ValueError(f"“{part}”: reminders go from 5 minutes to 30 days before.")
        minutes.add(total)
    if len(minutes) > MAX_REMINDERS:
        raise ValueError(f"At most {MAX_REMINDERS} reminders.")
    return sorted(minutes, reverse=True)


def format_offsets(minutes) -> str:
    """``[1440, 60, 90]`` -> ``"24h, 1h, 1h30m"``."""
    parts = []
    for total in minutes or []:
        h, m = divmod(int(total), 60)
        parts.append(f"{h}h{m}m" if h and m else f"{h}h" if h else f"{m}m")
    return ", ".join(parts)


class OffsetsField(StringField):
    """A text input holding a list of minutes (see :func:`parse_offsets`); ``data`` is the list."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_offsets(self.data)

    def process_formdata(self, valuelist):
        if valuelist:
            self.raw_data = valuelist
            try:
                self.data = parse_offsets(valuelist[0])
            except ValueError as exc:
                self.data = None
                raise ValueError(str(exc)) from exc


class SettingsForm(FlaskForm):
    requires_approval = BooleanField("Requests need my approval")
    auto_approve_returning_clients = BooleanField("Approve returning clients automatically")
    buffer_time_minutes = _int("Buffer after each booking (minutes)", 0, 1440)
    booking_expiry_hours = _int("Requests expire after (hours)", 1, 720)
    max_advance_booking_days = _int("Book at most this many days ahead", 1, 730)
    min_advance_booking_hours = _int("Minimum notice (hours)", 0, 720)
    reminder_offsets_minutes = OffsetsField(
        "Send reminders before the appointment", description="e.g. 24h, 1h (up to 5; blank for none)."
    )
    clients_can_reschedule = BooleanField("Clients can reschedule online")
    client_reschedule_notice_hours = _int(
        "Online rescheduling closes (hours before the start)", 0, CLIENT_NOTICE_MAX_HOURS, if_posted=True
    )
    clients_can_cancel = BooleanField("Clients can cancel online")
    client_cancel_notice_hours = _int("Online cancelling closes (hours before the start)", 0, CLIENT_NOTICE_MAX_HOURS, if_posted=True)

    #: Settings an older form (or a script) may not post at all: then they keep their values.
    CLIENT_CHANGE_FIELDS = ("clients_can_reschedule", "client_reschedule_notice_hours", "clients_can_cancel", "client_cancel_notice_hours")

    FIELDS = (
        "requires_approval",
        "auto_approve_returning_clients",
        "buffer_time_minutes",
        "booking_expiry_hours",
        "max_advance_booking_days",
        "min_advance_booking_hours",
        "reminder_offsets_minutes",
        "clients_can_reschedule",
        "client_reschedule_notice_hours",
        "clients_can_cancel",
        "client_cancel_notice_hours",
    )


HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
#: Suggested brand colours under the colour input (the first is the default): (hex, name).
BRAND_SWATCHES = (
    (DEFAULT_BRAND, "Flowkey default"), ("#0a7ea4", "Teal"), ("#166534", "Green"), ("#7c3aed", "Violet"),
    ("#be123c", "Rose"), ("#b45309", "Amber"), ("#1f2937", "Charcoal"),
)


class ColorField(StringField):
    """``<input type="color">``; shows the default colour when none is set (a colour input
    cannot be empty)."""

    widget = ColorInput()

    def _value(self):
        posted = self.raw_data[0].strip() if self.raw_data else None
        if posted and HEX_COLOR.match(posted):
            return posted.lower()
        return self.object_data or DEFAULT_BRAND  # a colour input cannot show a bad (or no) value


class ProfileForm(FlaskForm):
    name = StringField("Business name", validators=[DataRequired("Please enter a name."), SingleLine(), Length(max=120)])
    description = TextAreaField("Description", validators=[Length(max=2000)], filters=[paragraph_filter])
    address = StringField("Address", validators=[SingleLine(), Length(max=255)])
    phone = StringField("Phone", validators=[SingleLine(), Length(max=40)])
    email = EmailField("Contact e-mail", validators=[Optional(), SingleLine(), Email("Please enter a valid e-mail address."), Length(max=255)])
    timezone = TimezoneField("Time zone")
    currency = SelectField("Currency", choices=[SelectChoice(c) for c in CURRENCIES])
    language = SelectField(
        "E-mail language",
        # Each language by its own name, marked as such for screen readers.
        choices=[SelectChoice(code, lang.name, render_kw={"lang": code}) for code, lang in LANGUAGES.items()],
        validate_choice=False,  # validate_language: a form that does not post it keeps the language
        description=(
            "Clients and you get booking e-mails in this language. The booking page uses it too when a "
            "client's browser asks for none of the four (clients can switch language on the page)."
        ),
    )
    brand_color = ColorField(
        "Brand colour",
        description=(
            "Buttons, links and the header of your booking page and e-mails; made darker where text needs "
            "it to stay readable. The first suggested colour is Flowkey’s default."
        ),
    )
    #: Still accepted from scripts and older pages; the page offers the default as a colour choice.
    default_colors = BooleanField("Use Flowkey’s default colours")
    country = SelectField(
        "Country",
        validate_choice=False,  # validate_country: a form that does not post it keeps the country
        description="Clients may write their phone number as it is dialled here, without the country code.",
    )

    FIELDS = ("name", "description", "address", "phone", "email", "timezone", "currency")

    def validate_country(self, field):
        if field.raw_data and field.data and field.data not in {code for code, _name in country_choices()}:
            raise ValidationError("Choose a country from the list.")

    def country_field(self) -> dict:
        """``{"country": "GB"}`` (None for "from the time zone") when the form posted it, else
        ``{}`` so the business keeps its country."""
        return {"country": self.country.data or None} if self.country.raw_data else {}

    def validate_language(self, field):
        if field.raw_data and field.data not in LANGUAGES:
            raise ValidationError("Choose one of the languages listed.")

    def validate_brand_color(self, field):
        if self.default_colors.data or not field.raw_data:
            return
        if not HEX_COLOR.match((field.data or "").strip()):
            raise ValidationError("Enter a colour as # and six hex digits, e.g. #0a7ea4.")

    def branding(self) -> dict:
        """The posted ``language`` and ``brand_color`` (lower-case ``#rrggbb``, None = default
        colours, also when the default colour itself is picked) for :func:`business_service.update_profile`; a field the form did not post is
        left out, so the business keeps its value."""
        fields = {}
        if self.language.raw_data:
            fields["language"] = self.language.data
        if self.default_colors.data:
            fields["brand_color"] = None
        elif self.brand_color.raw_data:
            color = self.brand_color.data.strip().lower()
            fields["brand_color"] = None if color == DEFAULT_BRAND else color  # the default choice: no colour of one's own
        return fields

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = [SelectChoice("", "Automatic (from your phone number, else your time zone)")] + [SelectChoice(code, name) for code, name in country_choices()]
        if self.currency.data and self.currency.data not in CURRENCIES:
            self.currency.choices = [*self.currency.choices, SelectChoice(self.currency.data)]


# ------------------------------------------------------------------ services

class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _money(form, field):
    if not (field.raw_data and field.raw_data[0].strip()):
        field.errors.clear()  # "Enter a price" says more than "Not a valid decimal value"
        raise StopValidation("Enter a price, e.g. 25.00 (0 for free).")
    if field.errors:
        raise StopValidation()
    value = field.data
    if not value.is_finite() or value < 0 or value >= Decimal("100000000"):
        raise StopValidation("Enter a price from 0 to 99,999,999.99.")
    if value.as_tuple().exponent < -2:
        raise StopValidation("Use at most two decimal places.")


def _enum_value(value) -> str:
    return getattr(value, "value", value)


class ServiceForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Please enter a name."), SingleLine(), Length(max=120)])
    description = TextAreaField("Description", validators=[Length(max=2000)], filters=[paragraph_filter])
    duration_minutes = _int("Duration (minutes)", 5, 1440, default=60)
    price = DecimalField("Price", places=2, validators=[_money])
    capacity = _int("Seats per slot", 1, 500, default=1, description="1 for one-to-one; more for a group class.")
    buffer_before_minutes = _int("Buffer before (minutes)", 0, 1440, required=False, description="Blank: no buffer before.")
    buffer_after_minutes = _int("Buffer after (minutes)", 0, 1440, required=False, description="Blank: the business default.")
    slot_interval_minutes = _int("Start a slot every (minutes)", 5, 1440, required=False, description="Blank: the duration.")
    staff_ids = MultiCheckboxField("Who offers it", coerce=int)
    location_kind = RadioField(
        "Where",
        choices=[SelectChoice("in_person", "In person"), SelectChoice("phone", "By phone"), SelectChoice("video", "By video")],
        default="in_person",
        coerce=_enum_value,
    )
    # One detail per kind; the one of the chosen kind is saved as Service.location_detail.
    location_address = StringField(
        "Address", validators=[SingleLine(), Length(max=500)],
        description="Where clients come. Blank: your business address.",
    )
    phone_caller = RadioField(
        "Who calls",
        choices=[SelectChoice("business", "We call the client (on the number they give)"), SelectChoice("client", "The client calls us")],
        default="business",
        coerce=_enum_value,
    )
    location_phone = StringField(
        "Number clients call", validators=[SingleLine(), Length(max=500)],
        description="Only when the client calls. Blank: your business phone.",
    )
    video_provider = SelectField("Video service", default="")
    location_note = StringField(
        "Note for the client", validators=[SingleLine(), Length(max=500)],
        description="e.g. “The link comes by e-mail the day before.”",
    )
    is_bookable = BooleanField(
        "Bookable online", default=True,
        description="On: clients find it on your booking page. Off: hidden there; you can still book it for a client through the API.",
    )
    is_active = BooleanField(
        "Active", default=True,
        description="Off: retired everywhere, nobody can book it (its existing bookings stay). Turn it on again at any time.",
    )

    FIELDS = (
        "name", "description", "duration_minutes", "price", "capacity", "buffer_before_minutes",
        "buffer_after_minutes", "slot_interval_minutes", "location_kind", "is_bookable", "is_active",
    )
    DETAIL_FIELD = {"in_person": "location_address", "phone": "location_phone", "video": "location_note"}

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.staff_ids.choices = [SelectChoice(s.id, s.display_name + ("" if s.is_active else " (inactive)")) for s in staff]
        self.video_provider.choices = [SelectChoice("", "Not said")] + [SelectChoice(k, v) for k, v in VIDEO_PROVIDERS.items()]
        # A service of another kind stores None for these: the form's defaults stand in.
        if self.phone_caller.data is None:
            self.phone_caller.data = "business"
        if self.video_provider.data is None:
            self.video_provider.data = ""
        obj = kwargs.get("obj")
        if obj is not None and not self.is_submitted():
            # The stored detail belongs to the stored kind's field.
            kind = _enum_value(obj.location_kind)
            getattr(self, self.DETAIL_FIELD.get(kind, "location_address")).data = obj.location_detail or ""
            for name in set(self.DETAIL_FIELD.values()) - {self.DETAIL_FIELD.get(kind)}:
                getattr(self, name).data = ""
            self.phone_caller.data = _enum_value(obj.phone_caller) if obj.phone_caller else "business"
            self.video_provider.data = obj.video_provider or ""

    def location_fields(self) -> dict:
        """``location_detail``, ``phone_caller`` and ``video_provider`` for the chosen kind (the
        other kinds' values are dropped) for :func:`app.services.business_service.save_service`."""
        kind = self.location_kind.data
        return {
            "location_detail": (getattr(self, self.DETAIL_FIELD.get(kind, "location_address")).data or "").strip(),
            "phone_caller": PhoneCaller(self.phone_caller.data or "business") if kind == "phone" else None,
            "video_provider": (self.video_provider.data or None) if kind == "video" else None,
        }

    def validate_staff_ids(self, field):
        if not field.data:
            raise ValidationError("Choose at least one person who offers this service.")


# ------------------------------------------------------------------ hours

_INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")


def parse_intervals(text: str | None) -> list[tuple[time, time]]:
    """``"09:00-12:00, 13:00-17:00"`` -> ``[(09:00, 12:00), (13:00, 17:00)]``; blank -> ``[]``.

    Raises ``ValueError`` with a message for the person typing it.
    """
    result = []
    for part in re.split(r"[,;\n]+", text or ""):
        if not part.strip():
            continue
        match = _INTERVAL.match(part)
        if not match:
            raise ValueError(f"“{part.strip()}” is not like 09:00-17:00.")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise ValueError(f"“{part.strip()}” is not a time of day (00:00 to 23:59).")
        start, end = time(h1, m1), time(h2, m2)
        if end <= start:
            raise ValueError(f"{end:%H:%M} must be after {start:%H:%M}.")
        result.append((start, end))
    return result


def format_intervals(pairs) -> str:
    return ", ".join(f"{a:%H:%M}-{b:%H:%M}" if isinstance(a, time) else f"{a}-{b}" for a, b in pairs)


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: "Copy to all weekdays" copies a day's hours to Monday to Friday.
WORKING_WEEK = range(5)
_WALL = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")


def parse_wall_time(text: str) -> time:
    """``"09:30"`` (what ``<input type="time">`` posts; seconds ignored) -> ``time(9, 30)``.
    Raises ``ValueError`` with a message for the person typing it."""
    match = _WALL.match(text.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"“{text.strip()}” is not a time of day (00:00 to 23:59).")
    return time(int(match.group(1)), int(match.group(2)))


def parse_pairs(starts: list[str], ends: list[str]) -> list[tuple[time, time]]:
    """Start and end times posted side by side (``day_0_start``/``day_0_end``, several of each)
    -> intervals; a pair left blank on both sides is skipped. Raises ``ValueError``."""
    result = []
    for start_text, end_text in zip(starts, ends):
        start_text, end_text = (start_text or "").strip(), (end_text or "").strip()
        if not start_text and not end_text:
            continue
        if not start_text or not end_text:
            raise ValueError("Enter both a start and an end time (or clear both).")
        start, end = parse_wall_time(start_text), parse_wall_time(end_text)
        if end <= start:
            raise ValueError(f"{end:%H:%M} must be after {start:%H:%M}.")
        result.append((start, end))
    return result


class WeeklyHoursForm(FlaskForm):
    """The weekly hours: per weekday (``i`` = 0 for Monday) pairs of ``<input type="time">``
    posted as ``day_<i>_start`` and ``day_<i>_end`` (as many pairs as intervals). A script may
    post ``day_<i>`` as text instead, e.g. ``09:00-12:00, 13:00-17:00``.

    ``copy_from`` (a submit button's value, a weekday) copies that day's hours to Monday to
    Friday before saving."""

    day_0 = StringField("Monday")
    day_1 = StringField("Tuesday")
    day_2 = StringField("Wednesday")
    day_3 = StringField("Thursday")
    day_4 = StringField("Friday")
    day_5 = StringField("Saturday")
    day_6 = StringField("Sunday")

    def days(self):
        return [getattr(self, f"day_{i}") for i in range(7)]

    def pairs(self, formdata=None) -> list[list[tuple[str, str]]]:
        """Per weekday the (start, end) texts to show: as posted, else as stored in ``data``."""
        result = []
        for i, f in enumerate(self.days()):
            if formdata is not None and f"day_{i}_start" in formdata:
                starts, ends = formdata.getlist(f"day_{i}_start"), formdata.getlist(f"day_{i}_end")
                result.append([(a.strip(), b.strip()) for a, b in zip(starts, ends) if a.strip() or b.strip()])
            else:
                try:
                    result.append([(f"{a:%H:%M}", f"{b:%H:%M}") for a, b in parse_intervals(f.data)])
                except ValueError:
                    result.append([])
        return result

    def copy_from(self, formdata) -> int | None:
        value = (formdata or {}).get("copy_from", "")
        return int(value) if value.isdigit() and int(value) < 7 else None

    def parsed(self, formdata=None) -> dict[int, list[tuple[time, time]]] | None:
        """The hours per weekday, or ``None`` after adding a message to each bad day."""
        hours, ok = {}, True
        for i, f in enumerate(self.days()):
            try:
                if formdata is not None and f"day_{i}_start" in formdata:
                    hours[i] = parse_pairs(formdata.getlist(f"day_{i}_start"), formdata.getlist(f"day_{i}_end"))
                else:
                    hours[i] = parse_intervals(f.data)
            except ValueError as exc:
                f.errors = list(f.errors) + [str(exc)]
                ok = False
        if not ok:
            return None
        source = self.copy_from(formdata)
        if source is not None:
            for i in WORKING_WEEK:
                hours[i] = list(hours[source])
        return hours


class OverrideForm(FlaskForm):
    """Different hours on one date or a range of dates (a holiday): one interval as two time
    inputs, or Unavailable. A script may post ``intervals`` as text (``10:00-14:00, ...``)."""

    date = DateField("From", validators=[InputRequired("Choose a date."), _in_years])
    date_to = DateField("Until (optional)", validators=[Optional(), _in_years], description="For a range of days, e.g. a holiday.")
    start = StringField("Starts")
    end = StringField("Ends")
    intervals = StringField("Hours that day")
    unavailable = BooleanField("Unavailable all day")

    def parsed(self) -> list[tuple[time, time]] | None:
        if self.unavailable.data:
            return []
        if self.intervals.raw_data and not self.start.raw_data:
            try:
                pairs = parse_intervals(self.intervals.data)
            except ValueError as exc:
                self.intervals.errors = list(self.intervals.errors) + [str(exc)]
                return None
            if not pairs:
                self.intervals.errors = list(self.intervals.errors) + ["Enter the hours, or tick Unavailable."]
                return None
            return pairs
        try:
            pairs = parse_pairs([self.start.data or ""], [self.end.data or ""])
        except ValueError as exc:
            self.start.errors = list(self.start.errors) + [str(exc)]
            return None
        if not pairs:
            self.start.errors = list(self.start.errors) + ["Enter the hours, or tick Unavailable."]
            return None
        return pairs

    def last_day(self):
        return self.date_to.data or self.date.data


class StaffForm(FlaskForm):
    display_name = StringField("Name", validators=[DataRequired("Please enter a name."), SingleLine(), Length(max=120)])
    staff_timezone = TimezoneField("Time zone", blank_label="Same as the business")


# ------------------------------------------------------------------ bookings

class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[DataRequired("A reason is required."), Length(max=2000)], filters=[paragraph_filter])


STATUS_CHOICES = [SelectChoice("", "Any status")] + [SelectChoice(s.value, s.label.capitalize()) for s in BookingStatus]


class BookingFilterForm(FlaskForm):
    """GET filters for the bookings list (no CSRF: it only reads)."""

    class Meta:
        csrf = False

    when = SelectField("Show", choices=[SelectChoice("upcoming", "Upcoming"), SelectChoice("past", "Past")], default="upcoming")
    q = StringField(
        "Search clients", validators=[Optional(), SingleLine(), Length(max=100, message="Search for at most 100 characters.")],
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        description="Part of a name, e-mail or phone number.",
    )
    status = SelectField("Status", choices=STATUS_CHOICES, default="")
    date_from = DateField("From", validators=[Optional(), _in_years])
    date_to = DateField("To", validators=[Optional(), _in_years])
    staff = SelectField("Staff", default="")

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.staff.choices = [SelectChoice("", "Anyone")] + [SelectChoice(str(s.id), s.display_name) for s in staff]

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("“To” must be on or after “From”.")


class ApiKeyForm(FlaskForm):
    name = StringField("Key name", description="So you remember where it is used, e.g. “Website”.",
                       validators=[DataRequired("Please name the key."), SingleLine(), Length(max=120)])


# ------------------------------------------------------------------ rescheduling

class DayForm(FlaskForm):
    """The reschedule page's GET date picker (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    date = DateField("Day", validators=[Optional(), _in_years], description="Free times are shown in the business's time zone.")


class MoveForm(FlaskForm):
    """The reschedule confirmation: the new start (ISO-8601 with its offset, checked by the
    view), the staff member whose slot it is, and an optional message for the client's e-mail.
    Without CSRF data (the GET confirmation step) it is only read, never validated."""

    start = StringField("New start", validators=[DataRequired("Pick one of the free times."), SingleLine()])
    staff_id = IntegerField("Staff member", validators=[InputRequired("Pick one of the free times."), NumberRange(1, 2**31 - 1)])
    message = TextAreaField(
        "Message to the client (optional)", validators=[Length(max=2000, message="Keep the message under 2000 characters.")],
        filters=[paragraph_filter], description="Added to the e-mail that tells them the new time.",
    )


# ------------------------------------------------------------------ notification preferences

class StrictBooleanField(BooleanField):
    """A checkbox: absent is False, its own value is True, anything else is an error (not True)."""

    TRUE_VALUES = ("y", "on", "true", "1")

    def _value(self):
        return "y"  # re-rendered after an error, the box submits a valid value again

    def pre_validate(self, form):
        if self.raw_data and self.raw_data[0] not in self.TRUE_VALUES:
            raise ValidationError("Tick the box or leave it clear.")


class NotificationPreferencesForm(FlaskForm):
    """One checkbox per event type and channel: ``<type>__email`` (only for events that send the
    owner an e-mail) and ``<type>__in_app``."""

    @classmethod
    def field_name(cls, type_, channel: str) -> str:
        return f"{type_.value}__{channel}"

    def rows(self):
        """(kind, email field or None, in-app field) per event type, in page order."""
        return [
            (kind, getattr(self, self.field_name(kind.type, "email"), None), getattr(self, self.field_name(kind.type, "in_app")))
            for kind in notifications.EVENT_KINDS
        ]

    def to_preferences(self) -> dict:
        prefs = {}
        for kind, email, in_app in self.rows():
            prefs[kind.type] = {"in_app": bool(in_app.data), **({"email": bool(email.data)} if email is not None else {})}
        return prefs

    @classmethod
    def initial(cls, prefs) -> "NotificationPreferencesForm":
        data = {}
        for type_, channels in prefs.items():
            data[cls.field_name(type_, "email")] = channels.email
            data[cls.field_name(type_, "in_app")] = channels.in_app
        return cls(formdata=None, data=data)


for _kind in notifications.EVENT_KINDS:
    if _kind.email_template:
        setattr(NotificationPreferencesForm, NotificationPreferencesForm.field_name(_kind.type, "email"), StrictBooleanField(f"E-mail: {_kind.label}"))
    setattr(NotificationPreferencesForm, NotificationPreferencesForm.field_name(_kind.type, "in_app"), StrictBooleanField(f"In the dashboard: {_kind.label}"))


# ------------------------------------------------------------------ jobs

class JobFilterForm(FlaskForm):
    """GET filter for the jobs list (no CSRF: it only reads)."""

    class Meta:
        csrf = False

    status = SelectField(
        "Status",
        choices=[SelectChoice("", "Any status")] + [SelectChoice(s.value, s.value.capitalize()) for s in JobStatus],
        default="",
        validate_choice=True,
    )


# ------------------------------------------------------------------ branding and embedding

class LogoForm(FlaskForm):
    """The logo upload (multipart). The file is checked by :func:`app.services.branding.clean_logo`."""

    logo = FileField("Image file", description="PNG, JPEG or WebP, up to 1 MB. Shown at most 512 pixels wide or tall.")


class RemoveLogoForm(FlaskForm):
    pass


class EmbedSitesForm(FlaskForm):
    """Who may show the booking page in a frame: any site, or only the listed ones (one a line)."""

    where = RadioField(
        "Which websites may show your booking page",
        choices=[SelectChoice("any", "Any website"), SelectChoice("listed", "Only the websites listed below")],
        default="any",
        validators=[InputRequired("Choose one.")],
    )
    origins = TextAreaField(
        "Your websites",
        description="One address a line, e.g. https://www.example.com. https://*.example.com allows every subdomain.",
        validators=[Length(max=6000, message="That list is too long.")],
        render_kw={"rows": 4, "autocomplete": "off", "spellcheck": "false"},
    )


class EmbedOptionsForm(FlaskForm):
    """The popup button's label, shown in the snippet and the preview (a GET form)."""

    class Meta:
        csrf = False

    label = StringField("Button text", default="Book now", validators=[Optional(), SingleLine(), Length(max=60, message="Keep the button text under 60 characters.")])
