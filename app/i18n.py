"""Languages Flowkey speaks: e-mails and the public booking pages, and dates, times and prices
formatted for them.

E-mails are rendered inside ``flask_babel.force_locale(email_locale(business.language))``, so a
job with no request renders in the business's language. The public booking pages (``/book/...``,
error pages included) take the visitor's language (:func:`select_locale`): an explicit choice
(``?lang=xx``, remembered in the :data:`LANG_COOKIE` cookie by :func:`remember_choice`), else the
best of their ``Accept-Language`` we support, else the business's ``language``. Every other page
(dashboard, log-in, API) stays English. Catalogs live in ``app/translations/`` (``.po`` and
compiled ``.mo`` both committed; the pybabel commands are at the top of ``babel.cfg``).

A page's Babel locale may be regional (``en_US``) while its catalog is the language's (``en``):
the region picks the clock (``9:00 AM`` or ``09:00``), the date order and the week's first day.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale, localedata
from babel.dates import format_date as babel_format_date
from babel.dates import format_skeleton
from babel.dates import format_time as babel_format_time
from babel.dates import get_day_names
from babel.numbers import format_currency
from flask import Flask, has_request_context, request, url_for
import flask_babel
from flask_babel import format_date, format_time, get_locale
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError


@dataclass(frozen=True)
class Language:
    code: str  # the catalog / Babel locale, e.g. "fr"
    name: str  # in the language itself, as the settings page lists it
    date_format: str = "full"  # Babel pattern or CLDR length for "Monday 7 June 2027"
    time_format: str = "short"  # for "09:00"
    short_date_skeleton: str = "MMMEd"  # CLDR skeleton for an end on another day ("Tue 8 Jun")
    short_date_format: str | None = None  # a pattern instead of the skeleton


DEFAULT_LANGUAGE = "en"

#: Supported languages. English keeps Flowkey's day-month order and 24-hour clock
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

#: The cookie that remembers a visitor's choice of language on the public pages (a code of
#: :data:`LANGUAGES`), for a year.
LANG_COOKIE = "flowkey_lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


def email_language(code: str | None) -> Language:
    """The :class:`Language` for a business's ``language`` code; English for an unknown one."""
    return LANGUAGES.get((code or "").strip().lower(), LANGUAGES[DEFAULT_LANGUAGE])


# ------------------------------------------------------------------ choosing a page's locale

def is_public_request() -> bool:
    """True for the public booking pages (and errors under ``/book/``): the pages in the
    visitor's language."""
    return request.blueprint == "public" or request.path.startswith("/book/")


def _supported(code: str | None) -> str | None:
    code = (code or "").strip().lower()
    return code if code in LANGUAGES else None


def _first_supported(accept_language: list[str]) -> str | None:
    for tag in accept_language:
        language = _supported(tag.replace("_", "-").split("-")[0])
        if language:
            return language
    return None


def _regional(language: str, tag: str) -> str | None:
    """``"en_US"`` for ``("en", "en-US")`` when Babel knows that locale, else None."""
    parts = tag.replace("_", "-").split("-")
    if len(parts) < 2 or parts[0].lower() != language:
        return None
    region = parts[-1].upper()
    name = f"{language}_{region}"
    # Locale.parse would map an unknown region to a likely one (en_ZZ -> en_US): ask for CLDR data.
    return name if len(region) == 2 and region.isalpha() and localedata.exists(name) else None


def negotiate(accept_language: list[str], chosen: str | None, business_language: str | None) -> str:
    """The Babel locale of a public page: ``chosen`` (a code the visitor picked) if supported,
    else the first supported language in ``accept_language`` (tags in the visitor's order of
    preference, e.g. ``["en-US", "en", "fr"]``), else ``business_language``, else English. The
    region of the first ``accept_language`` tag in that language is kept (``"en_US"``), so it
    picks the clock and the date order.

    >>> negotiate(["nl-NL", "en-US"], None, "fr")
    'en_US'
    >>> negotiate(["de-AT"], "fr", "en")
    'fr'
    """
    language = _supported(chosen) or _first_supported(accept_language) or _supported(business_language) or DEFAULT_LANGUAGE
    for tag in accept_language:
        regional = _regional(language, tag)
        if regional:
            return regional
    return language


def _business_language() -> str | None:
    slug = (request.view_args or {}).get("slug")
    if not slug:
        return None
    from app.extensions import db
    from app.models import Business

    try:
        # The view has usually loaded the business already: no second query for its language.
        for obj in list(db.session.identity_map.values()):
            if isinstance(obj, Business) and obj.slug == slug:
                return obj.language
        return db.session.execute(db.select(Business.language).where(Business.slug == slug)).scalar()
    except SQLAlchemyError:  # e.g. rendering the 500 page while the database is away
        db.session.rollback()
        return None


def chosen_language() -> str | None:
    """The visitor's explicit choice: ``?lang=xx``, else the :data:`LANG_COOKIE` cookie."""
    return _supported(request.args.get("lang")) or _supported(request.cookies.get(LANG_COOKIE))


def select_locale() -> str:
    """Flask-Babel's locale selector: on the public pages the visitor's locale (:func:`negotiate`),
    elsewhere English (e-mails render under ``force_locale``)."""
    if not has_request_context() or not is_public_request():
        return DEFAULT_LANGUAGE
    accept = [tag for tag, _quality in request.accept_languages]  # werkzeug sorts by quality
    chosen = chosen_language()
    # The business's language only matters when the visitor's own say nothing we speak.
    business = _business_language() if chosen is None and _first_supported(accept) is None else None
    return negotiate(accept, chosen, business)


def remember_choice(response):
    """After a public page: a valid ``?lang=xx`` is stored in :data:`LANG_COOKIE`; and since the
    page's language depends on the cookie and ``Accept-Language``, say so in ``Vary``."""
    if not is_public_request():
        return response
    lang = _supported(request.args.get("lang"))
    if lang and request.cookies.get(LANG_COOKIE) != lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=LANG_COOKIE_MAX_AGE, samesite="Lax", httponly=True,
                            secure=request.is_secure)
    response.vary.update(("Accept-Language", "Cookie"))
    return response


# ------------------------------------------------------------------ formatting on pages

#: Babel patterns per kind of date, per language (English by its date order, below).
_DATE_PATTERNS: dict[str, dict[str, str]] = {
    "en": {"full": "EEEE d MMMM y", "day": "EEEE d MMMM", "short": "EEE d MMM", "long": "d MMMM y"},  # Flowkey's
    "en-month-first": {"full": "EEEE, MMMM d, y", "day": "EEEE, MMMM d", "short": "EEE, MMM d", "long": "MMMM d, y"},
    "fr": {"full": "EEEE d MMMM y", "day": "EEEE d MMMM", "short": "EEE d MMM", "long": "d MMMM y"},
    "de": {"full": "EEEE, d. MMMM y", "day": "EEEE, d. MMMM", "short": "EEE, d. MMM", "long": "d. MMMM y"},
    "es": {"full": "EEEE, d 'de' MMMM 'de' y", "day": "EEEE, d 'de' MMMM", "short": "EEE, d MMM", "long": "d 'de' MMMM 'de' y"},
}


def page_locale() -> Locale:
    """The current Babel locale (the page's; English outside a request)."""
    return get_locale() or Locale.parse(DEFAULT_LANGUAGE)


def _date_patterns(locale: Locale) -> dict[str, str]:
    if locale.language == "en":
        month_first = locale.territory is not None and locale.date_formats["long"].pattern.startswith("MMMM")
        return _DATE_PATTERNS["en-month-first" if month_first else "en"]
    return _DATE_PATTERNS.get(locale.language, _DATE_PATTERNS["en"])


def time_pattern(locale: Locale) -> str:
    """``HH:mm`` or ``h:mm a``: the locale's own short time; Flowkey's 24-hour clock for plain
    ``en`` (no region: CLDR's would be the US's)."""
    if locale.language == "en" and locale.territory is None:
        return "HH:mm"
    return locale.time_formats["short"].pattern


def date_text(value: date | datetime, kind: str = "full", tz: str | None = None) -> str:
    """``value`` (a date, or an aware instant shown in zone ``tz``) in the page's locale.
    ``kind``: ``full`` ("Monday 7 June 2027", "lundi 7 juin 2027"), ``day`` ("Monday 7 June"),
    ``short`` ("Mon 7 Jun"), ``long`` ("7 June 2027"), ``month`` ("June 2027"), ``month_name``
    ("June"), ``weekday`` ("Monday"), ``time`` ("09:00", "9:00 AM"), ``day_time`` ("Monday 7
    June, 09:00")."""
    locale = page_locale()
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(tz)) if tz else value
    if kind == "time":
        return babel_format_time(value, time_pattern(locale), locale=locale)
    if kind == "day_time":
        return f"{date_text(value, 'day')}, {date_text(value, 'time')}"
    day = value.date() if isinstance(value, datetime) else value
    if kind == "month":
        return format_skeleton("yMMMM", day, locale=locale)
    if kind == "month_name":
        return babel_format_date(day, "LLLL", locale=locale)
    if kind == "weekday":
        return babel_format_date(day, "EEEE", locale=locale)
    return babel_format_date(day, _date_patterns(locale)[kind], locale=locale)


def first_weekday() -> int:
    """The page locale's first day of the week, 0 = Monday .. 6 = Sunday (``calendar``'s
    numbering): Sunday for ``en_US``, Monday for ``en_GB``, ``fr``, ``de``, ``es``."""
    return page_locale().first_week_day


def month_weeks(year: int, month: int) -> list[list[date]]:
    """The weeks of a month as ``calendar.Calendar.monthdatescalendar`` gives them, starting on
    the page locale's first day of the week."""
    return calendar.Calendar(firstweekday=first_weekday()).monthdatescalendar(year, month)


def weekday_headings() -> list[tuple[str, str]]:
    """``(abbreviated, full)`` day names in the page's locale, in calendar order from
    :func:`first_weekday`: ``[("Mon", "Monday"), ...]``."""
    first = first_weekday()
    short, wide = get_day_names("abbreviated", locale=page_locale()), get_day_names("wide", locale=page_locale())
    return [(short[(first + i) % 7], wide[(first + i) % 7]) for i in range(7)]


def format_price(amount: Decimal | None, currency: str) -> str:
    """A service's price in ``currency`` (ISO 4217) for the page's locale ("£45.00", "25,00 €"),
    or "Free" for none or zero."""
    if amount is None or Decimal(amount) == 0:
        return _("Free")
    return format_currency(Decimal(amount), currency, locale=page_locale())


def format_duration(minutes: int) -> str:
    """"1 h 30 min", "45 min", "2 h" in the page's language."""
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=rest)
    return _("%(hours)d h", hours=hours) if hours else _("%(minutes)d min", minutes=rest)


def status_label(status) -> str:
    """A booking status (:class:`~app.domain.booking_state.BookingStatus` or its value) as a
    client reads it, in the page's language."""
    value = getattr(status, "value", status)
    labels = {
        "pending": _("awaiting approval"),
        "confirmed": _("confirmed"),
        "rejected": _("rejected"),
        "expired": _("expired"),
        "cancelled": _("cancelled"),
        "completed": _("completed"),
        "no_show": _("no-show"),
    }
    return labels.get(value, value)


def html_lang() -> str:
    """The page's language as a BCP 47 tag for ``<html lang>``: ``"fr"``, ``"en-US"``."""
    locale = page_locale()
    return f"{locale.language}-{locale.territory}" if locale.territory else locale.language


def language_links() -> list[tuple[str, str, bool]]:
    """``(code, name, current)`` for the language switcher, in :data:`LANGUAGES` order."""
    current = page_locale().language
    return [(code, lang.name, code == current) for code, lang in LANGUAGES.items()]


def lang_url(code: str) -> str:
    """This page's URL (path and query) with ``lang=code``: a switcher link."""
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if not k.startswith("_")}  # not url_for's own
    args["lang"] = [code]
    return url_for(request.endpoint, **{**args, **(request.view_args or {})})


def service_where(service, business) -> str:
    """Where ``service`` happens, as a sentence in the page's language ("In person at 1 Pool
    Lane", "By phone: we call you on the number you give", "By video on Zoom · ..."): the booking
    page, the confirmation, the manage pages and the e-mails all say it the same way."""
    kind = service.location_kind.value if service.location_kind else "in_person"
    if kind == "phone":
        if service.phone_caller is not None and service.phone_caller.value == "client":
            number = service.location_detail or business.phone
            return _("By phone: you call us on %(phone)s", phone=number) if number else _("By phone: you call us")
        return _("By phone: we call you on the number you give")
    if kind == "video":
        provider = service.video_provider_name
        text = _("By video on %(provider)s", provider=provider) if provider else _("By video")
        return f"{text} · {service.location_detail}" if service.location_detail else text
    address = service.location_detail or business.address
    return _("In person at %(address)s", address=address) if address else _("In person")


def register(app: Flask) -> None:
    """The template helpers and filters above, and :func:`remember_choice` after each request."""
    app.jinja_env.filters["date_text"] = date_text
    app.jinja_env.globals["service_where"] = service_where  # pages and e-mails alike
    app.jinja_env.filters["ucfirst"] = lambda text: text[:1].upper() + text[1:] if text else text
    # Flask-Babel caches the locale on ``g``, which lives as long as the app context: forget it at
    # each request's start, so that a request inside a longer-lived context (tests, a CLI command
    # making requests) chooses its own.
    app.before_request(flask_babel.refresh)
    app.after_request(remember_choice)

    @app.context_processor
    def i18n_helpers():
        return {
            "html_lang": html_lang, "weekday_headings": weekday_headings, "language_links": language_links,
            "status_label": status_label, "lang_url": lang_url,
        }


# ------------------------------------------------------------------ e-mails

def format_when(start: datetime, end: datetime, tz_name: str, language: Language) -> tuple[str, str]:
    """``(date, times)`` of an appointment in zone ``tz_name`` and the current (forced) locale,
    e.g. ``("lundi 7 juin 2027", "05:00–06:00 (America/New_York)")``. ``start``/``end`` are aware;
    an end on another local date shows that date too. The zone is always named."""
    tz = ZoneInfo(tz_name)
    s, e = start.astimezone(tz), end.astimezone(tz)
    day_text = format_date(s, language.date_format, rebase=False)
    end_text = format_time(e, language.time_format, rebase=False)
    if e.date() != s.date():
        if language.short_date_format:
            day = format_date(e, language.short_date_format, rebase=False)
        else:
            day = format_skeleton(language.short_date_skeleton, e, locale=get_locale())
        end_text = f"{day} {end_text}"
    return day_text, f"{format_time(s, language.time_format, rebase=False)}–{end_text} ({tz_name})"
