"""Time zones as people pick and read them, and the years the app accepts.

Used by the forms' zone pickers (:class:`TimezoneField`, :func:`zone_groups`), the public booking
flow, the API schemas and the ``local`` and ``zone_label`` template filters.
"""
from __future__ import annotations

import functools
import importlib.resources
import os
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.validators import ValidationError

# Dates and instants outside these years are refused: date arithmetic near year 1 or 9999
# overflows, and no booking is that far away.
MIN_YEAR, MAX_YEAR = 2000, 2999

_ZONES: list[str] | None = None


def in_year_window(value: date | datetime) -> bool:
    """True when ``value`` (a date, or an instant: its UTC year when aware) falls in
    ``MIN_YEAR..MAX_YEAR``. Every parsed date and instant goes through this before any arithmetic."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return MIN_YEAR <= value.year <= MAX_YEAR


def all_timezones() -> list[str]:
    """Sorted IANA zone names (``Area/City``, aliases included) and ``UTC``: every name accepted
    as a zone (:func:`is_timezone`). The pickers list fewer: :func:`picker_zones`."""
    global _ZONES
    if _ZONES is None:
        _ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/"))) + ["UTC"]
    return _ZONES


def is_timezone(name: str | None) -> bool:
    """True when ``name`` is one of :func:`all_timezones`."""
    return bool(name) and name in _all_timezones_set()


@functools.cache
def _all_timezones_set() -> frozenset[str]:
    return frozenset(all_timezones()) | {"UTC"}


def format_local(instant: datetime, tz: str, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """An aware instant as wall-clock time in the IANA zone ``tz`` (the ``local`` filter)."""
    return instant.astimezone(ZoneInfo(tz)).strftime(fmt)


def zone_label(zone: str | None) -> str:
    """An IANA zone name as people read it: ``America/New_York`` -> ``America/New York``."""
    return (zone or "").replace("_", " ")



# ------------------------------------------------------------------ the zone picker
#
# The picker lists tzdata's zone.tab (one zone per country or region of a country, canonical
# names only: Asia/Kolkata, never its old alias Asia/Calcutta), read from the same directories
# zoneinfo reads its zones from (``zoneinfo.TZPATH``, then the ``tzdata`` package), so every
# listed name opens. zone1970.tab would be shorter but merges countries that share rules since
# 1970 (Amsterdam and Oslo under Brussels and Berlin), which people do not look for. Aliases
# (tzdata's "L" link lines in tzdata.zi, e.g. the ``backward`` file's Asia/Calcutta, US/Eastern)
# are still accepted everywhere (:func:`is_timezone`) and shown as their canonical zone
# (:func:`canonical_zone`).

#: Option groups, in the order the picker shows them (Arctic/Longyearbyen is listed in Europe).
REGIONS = ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific", "UTC")
_REGION_OF_AREA = {"Arctic": "Europe"}


@dataclass(frozen=True)
class ZoneOption:
    """One entry of the zone picker. ``offset`` is the zone's UTC offset at the instant the list
    was made for (so it follows daylight saving time)."""

    name: str  # IANA name, the value stored and posted: "America/Argentina/Buenos_Aires"
    city: str  # as people read it: "Buenos Aires, Argentina"
    region: str  # one of REGIONS
    offset: timedelta
    aliases: tuple[str, ...] = ()  # old names of the same zone: ("America/Buenos_Aires",)

    @property
    def label(self) -> str:
        """``"(UTC−05:00) New York"``."""
        return f"({format_offset(self.offset)}) {self.city}"


def _tzdata_text(filename: str) -> str | None:
    """A tzdata file (zone.tab, tzdata.zi) from where zoneinfo finds zones: the first
    ``zoneinfo.TZPATH`` directory that has it, else the ``tzdata`` package; None if neither."""
    for directory in zoneinfo.TZPATH:
        try:
            with open(os.path.join(directory, filename), encoding="utf-8") as handle:
                return handle.read()
        except OSError:
            continue
    try:
        return importlib.resources.files("tzdata.zoneinfo").joinpath(filename).read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):
        return None


def _opens(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@functools.cache
def picker_zones() -> tuple[str, ...]:
    """The canonical zones the picker offers: every zone of tzdata's zone.tab that zoneinfo can
    open, and ``UTC``. Falls back to :func:`all_timezones` when no zone.tab is found."""
    text = _tzdata_text("zone.tab")
    if text is None:
        return tuple(all_timezones())
    names = {line.split("\t")[2] for line in text.splitlines() if line and not line.startswith("#") and line.count("\t") >= 2}
    return tuple(sorted(name for name in names if _opens(name))) + ("UTC",)


@functools.cache
def _picker_set() -> frozenset[str]:
    return frozenset(picker_zones())


@functools.cache
def zone_links() -> dict[str, str]:
    """``{alias: target}`` from tzdata.zi's link lines (``L Asia/Kolkata Asia/Calcutta``);
    empty when the file is missing."""
    text = _tzdata_text("tzdata.zi") or ""
    links = {}
    for line in text.splitlines():
        if line.startswith("L "):
            parts = line.split()
            if len(parts) == 3:
                links[parts[2]] = parts[1]
    return links


@functools.cache
def _aliases() -> dict[str, tuple[str, ...]]:
    """``{picker zone: (its aliases, sorted)}`` for :attr:`ZoneOption.aliases`."""
    found: dict[str, list[str]] = {}
    for alias in zone_links():
        target = canonical_zone(alias)
        if target and target != alias and "/" in alias and not alias.startswith(("Etc/", "SystemV/")):
            found.setdefault(target, []).append(alias)
    return {name: tuple(sorted(names)) for name, names in found.items()}


def canonical_zone(name: str | None) -> str | None:
    """The picker zone that ``name`` stands for: itself when the picker lists it, else the zone
    its tzdata link points to (``Asia/Calcutta`` -> ``Asia/Kolkata``, ``US/Eastern`` ->
    ``America/New_York``); None when there is none (an unknown name, or a zone the picker does
    not list, such as ``Etc/GMT+5``)."""
    listed = _picker_set()
    links = zone_links()
    seen = set()
    while name and name not in listed and name in links and name not in seen:
        seen.add(name)
        name = links[name]
    return name if name in listed else None


def zone_city(name: str) -> str:
    """A zone's place as people read it: ``Asia/Ho_Chi_Minh`` -> ``Ho Chi Minh``,
    ``America/Indiana/Knox`` -> ``Knox, Indiana``, ``UTC`` -> ``UTC``."""
    parts = name.replace("_", " ").split("/")
    if len(parts) >= 3:
        return f"{parts[-1]}, {parts[-2]}"
    return parts[-1]


def zone_region(name: str) -> str:
    """The picker group of a zone: its area (``Europe``), Arctic in Europe, anything else
    (``UTC``, ``Etc/GMT+5``) in ``UTC``."""
    area = name.split("/")[0] if "/" in name else "UTC"
    area = _REGION_OF_AREA.get(area, area)
    return area if area in REGIONS else "UTC"


def format_offset(offset: timedelta) -> str:
    """``UTC+05:30``, ``UTC−05:00`` (a real minus sign), ``UTC+00:00``; seconds are dropped."""
    minutes = int(offset.total_seconds() // 60)
    sign = "−" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


@functools.cache
def _zone(name: str) -> ZoneInfo:
    # zoneinfo keeps only a few zones strongly referenced; the picker touches ~420 of them on
    # every page, which would otherwise re-read their files each time.
    return ZoneInfo(name)


def zone_option(name: str, at: datetime) -> ZoneOption:
    """The :class:`ZoneOption` of any zone zoneinfo can open, with its offset at the aware
    instant ``at``. Raises ``zoneinfo.ZoneInfoNotFoundError`` for an unknown name."""
    return ZoneOption(
        name=name, city=zone_city(name), region=zone_region(name),
        offset=at.astimezone(_zone(name)).utcoffset() or timedelta(0),
        aliases=_aliases().get(name, ()),
    )


# Offsets change only at daylight-saving transitions, which tzdata places on quarter hours of UTC,
# so the list made for the start of a quarter hour holds for all of it.
_QUARTER_HOUR = 15 * 60


def zone_groups(at: datetime, current: str | None = None) -> list[tuple[str, list[ZoneOption]]]:
    """The picker's options at the aware instant ``at``: ``[(region, [ZoneOption, ...]), ...]``
    in :data:`REGIONS` order, each region sorted by UTC offset, then by city. ``current``, a zone
    the picker does not list and has no canonical name for (old data such as a tzdata zone that
    later became a link), is added to its region so that it can stay selected. The result is
    shared between calls (do not modify it)."""
    extra = current if current and canonical_zone(current) is None and is_timezone(current) else None
    quarter = int(at.timestamp()) // _QUARTER_HOUR * _QUARTER_HOUR
    return _zone_groups_at(quarter, extra)


@functools.lru_cache(maxsize=8)
def _zone_groups_at(quarter: int, extra: str | None) -> list[tuple[str, list[ZoneOption]]]:
    at = datetime.fromtimestamp(quarter, timezone.utc)
    names = list(picker_zones())
    if extra:
        names.append(extra)
    by_region: dict[str, list[ZoneOption]] = {region: [] for region in REGIONS}
    for name in names:
        option = zone_option(name, at)
        by_region[option.region].append(option)
    return [
        (region, sorted(options, key=lambda o: (o.offset, o.city.casefold())))
        for region, options in by_region.items() if options
    ]


def zone_options_html(at: datetime, selected: str | None, region_labels) -> Markup:
    """The picker's ``<optgroup>``/``<option>`` markup for :func:`zone_groups` at ``at``, with
    ``selected`` selected and each region labelled by ``region_labels[region]`` (translated by the
    caller's locale). Each option carries its aliases in ``data-aliases`` for the filter box.

    The public month page shows this list on every request; rendering ~420 options through Jinja
    cost a quarter of the page, so the markup is built once per quarter hour and set of labels."""
    extra = selected if selected and canonical_zone(selected) is None and is_timezone(selected) else None
    quarter = int(at.timestamp()) // _QUARTER_HOUR * _QUARTER_HOUR
    labels = tuple((region, str(region_labels[region])) for region in REGIONS)
    html = _zone_options_markup(quarter, extra, labels)
    if selected:
        value = f'<option value="{escape(selected)}"'
        html = html.replace(value, f"{value} selected", 1)
    return Markup(html)


@functools.lru_cache(maxsize=32)
def _zone_options_markup(quarter: int, extra: str | None, labels: tuple[tuple[str, str], ...]) -> str:
    names = dict(labels)
    parts = []
    for region, options in _zone_groups_at(quarter, extra):
        parts.append(f'<optgroup label="{escape(names[region])}">')
        for o in options:
            aliases = f' data-aliases="{escape(" ".join(o.aliases))}"' if o.aliases else ""
            parts.append(f'<option value="{escape(o.name)}"{aliases}>{escape(o.label)}</option>')
        parts.append("</optgroup>\n")
    return "".join(parts)


def selected_zone(name: str | None) -> str | None:
    """The picker value to select for a stored zone: its canonical zone, else the name itself."""
    return canonical_zone(name) or name


# ------------------------------------------------------------------ the form field

#: Region names as the picker's option groups show them.
REGION_LABELS = {
    "Africa": _l("Africa"), "America": _l("America"), "Antarctica": _l("Antarctica"), "Asia": _l("Asia"),
    "Atlantic": _l("Atlantic"), "Australia": _l("Australia"), "Europe": _l("Europe"), "Indian": _l("Indian Ocean"),
    "Pacific": _l("Pacific"), "UTC": _l("UTC"),
}


def zone_choices(at: datetime, current: str | None = None, blank_label: str | None = None) -> list[SelectChoice]:
    """:func:`zone_groups` as WTForms choices (one optgroup per region; each option carries its
    aliases in ``data-aliases`` for the filter box and the browser-zone match), after an
    ungrouped ``("", blank_label)`` option when ``blank_label`` is given."""
    choices = [SelectChoice("", blank_label)] if blank_label is not None else []
    for region, options in zone_groups(at, current):
        label = str(REGION_LABELS[region])
        choices += [
            SelectChoice(o.name, o.label, optgroup=label, render_kw={"data-aliases": " ".join(o.aliases)} if o.aliases else {})
            for o in options
        ]
    return choices


class TimezoneField(SelectField):
    """The grouped zone picker of the sign-up and settings forms (``select[data-zone-filter]``,
    which ``static/app.js`` gives a filter box). Its choices are :func:`picker_zones`, labelled
    with their offset now; it accepts every name :func:`is_timezone` accepts, so an alias posted
    by an old page or a script still validates, and its ``data`` is the canonical name
    (``Asia/Calcutta`` in, ``Asia/Kolkata`` out). With ``blank_label``, ``""`` ("none") is
    accepted too and offered first."""

    def __init__(self, label=None, validators=None, blank_label: str | None = None, **kwargs):
        kwargs["render_kw"] = {"data-zone-filter": "", **(kwargs.get("render_kw") or {})}
        super().__init__(label, validators, validate_choice=False, **kwargs)
        self.blank_label = blank_label

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        if self.data:
            self.data = selected_zone(self.data)
        self.choices = zone_choices(datetime.now(timezone.utc), self.data, self.blank_label)

    def pre_validate(self, form):
        if self.process_errors or (self.blank_label is not None and not self.data):
            return
        if not is_timezone(self.data):
            raise ValidationError(_l("Choose a time zone from the list."))
