"""Languages Flowkey writes e-mails in, and formatting dates and times for them.

Only e-mails are translated for now: pages always render in English (:func:`select_locale`), and
each e-mail is rendered inside ``flask_babel.force_locale(email_locale(business.language))``, so a
job with no request renders in the business's language. Catalogs live in ``app/translations/``
(``.po`` and compiled ``.mo`` both committed; the pybabel commands are at the top of ``babel.cfg``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from flask_babel import format_date, format_time, get_locale


@dataclass(frozen=True)
class Language:
    code: str  # the catalog / Babel locale, e.g. "fr"
    name: str  # in the language itself, as the settings page lists it
    date_format: str = "full"  # Babel pattern or CLDR length for "Monday 7 June 2027"
    time_format: str = "short"  # for "09:00"
    short_date_skeleton: str = "MMMEd"  # CLDR skeleton for an end on another day ("Tue 8 Jun")
    short_date_format: str | None = None  # a pattern instead of the skeleton


DEFAULT_LANGUAGE = "en"

#: Supported e-mail languages. English keeps Flowkey's day-month order and 24-hour clock
#: (CLDR "en" is US style: "Monday, June 7, 2027", "5:00 AM"); the others use CLDR's own.
LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in [
        Language("en", "English", date_format="EEEE d MMMM y", time_format="HH:mm", short_date_format="EEE d MMM"),
        Language("fr", "Français"),
        Language("de", "Deutsch"),
        Language("es", "Español"),
    ]
}


def email_language(code: str | None) -> Language:
    """The :class:`Language` for a business's ``language`` code; English for an unknown one."""
    return LANGUAGES.get((code or "").strip().lower(), LANGUAGES[DEFAULT_LANGUAGE])


def select_locale() -> str:
    """Flask-Babel's locale selector: pages are English (only e-mails are translated, each under
    ``force_locale``)."""
    return DEFAULT_LANGUAGE


def format_when(start: datetime, end: datetime, tz_name: str, language: Language) -> tuple[str, str]:
    """``(date, times)`` of an appointment in zone ``tz_name`` and the current (forced) locale,
    e.g. ``("lundi 7 juin 2027", "05:00–06:00 (America/New_York)")``. ``start``/``end`` are aware;
    an end on another local date shows that date too. The zone is always named."""
    tz = ZoneInfo(tz_name)
    s, e = start.astimezone(tz), end.astimezone(tz)
    date = format_date(s, language.date_format, rebase=False)
    end_text = format_time(e, language.time_format, rebase=False)
    if e.date() != s.date():
        if language.short_date_format:
            day = format_date(e, language.short_date_format, rebase=False)
        else:
            day = format_skeleton(language.short_date_skeleton, e, locale=get_locale())
        end_text = f"{day} {end_text}"
    return date, f"{format_time(s, language.time_format, rebase=False)}–{end_text} ({tz_name})"
