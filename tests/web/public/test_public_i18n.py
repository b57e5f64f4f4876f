"""The public booking pages in the visitor's language: the choice (``?lang`` and its cookie, then
Accept-Language, then the business's language), French, German and Spanish pages and fragments,
dates, times, prices and the week's first day from the locale (``en_US`` 12-hour and Sunday
first, ``en_GB`` 24-hour and Monday first), ``<html lang>``; the dashboard stays English."""
from __future__ import annotations

import calendar
import re

import pytest

from app.i18n import LANG_COOKIE, negotiate
from app.services import client_self_service
from tests.web.public.support import at, confirmation_link, details_url, form_data, only_booking

HX = {"HX-Request": "true"}
FR = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
US = {"Accept-Language": "en-US,en;q=0.9"}
GB = {"Accept-Language": "en-GB,en;q=0.9"}

# Independent of Babel: what a French, German or Spanish reader expects to see.
FR_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"]
FR_DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
DE_MONTHS = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"]
DE_DAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]
EN_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
NNBSP = "\u202f"  # CLDR puts a narrow no-break space before AM/PM
NBSP = "\u00a0"


def text(response) -> str:
    return response.get_data(as_text=True)


def visible(html: str) -> str:
    """The text without tags, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace(" .", ".").replace(" ,", ",").strip()


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def slot_times(html: str) -> list[str]:
    return re.findall(r'class="slot-time">([^<]+)<', html)


def weekday_titles(html: str) -> list[str]:
    return re.findall(r'<abbr title="([^"]+)">', html)


def month_grid(html: str) -> list[list[int]]:
    """The calendar's rows of day numbers, 0 for a cell outside the month."""
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S).group(1)
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        rows.append([int(m.group(1)) if (m := re.search(r">(\d+)<span", c)) else 0 for c in cells])
    return rows


def times_url(shop, lesson, day) -> str:
    return f"/book/{shop.slug}/{lesson.id}?month={day:%Y-%m}&date={day.isoformat()}"


# ------------------------------------------------------------------ choosing the language (pure)

@pytest.mark.parametrize(
    "accept, chosen, business, expected",
    [
        ([], None, "en", "en"),  # nothing said: the business's language
        ([], None, "es", "es"),
        (["fr-FR", "fr", "en"], None, "en", "fr_FR"),
        (["fr"], None, "de", "fr"),
        (["en-US", "en"], None, "fr", "en_US"),
        (["en-GB"], None, "fr", "en_GB"),
        (["nl-NL", "ja"], None, "es", "es"),  # nothing we speak: the business's language
        (["nl-NL", "de-AT"], None, "en", "de_AT"),  # the first one we speak
        (["de-DE"], "fr", "en", "fr"),  # an explicit choice wins
        (["en-US"], "en", "fr", "en_US"),  # ...and keeps the visitor's region for its own language
        (["fr"], "xx", "de", "fr"),  # an unknown choice is ignored
        (["en-ZZ"], None, "fr", "en"),  # a region Babel does not know: the language alone
        ([], None, "xx", "en"),
    ],
)
def test_negotiate(accept, chosen, business, expected):
    assert negotiate(accept, chosen, business) == expected


# ------------------------------------------------------------------ French pages and fragments

def test_french_month_and_slot_page(client, shop, lesson, day):
    shop.currency = "EUR"
    for headers in (FR, {**FR, **HX}):
        response = client.get(times_url(shop, lesson, day), headers=headers)
        html = text(response)
        assert response.status_code == 200
        assert ("<html" in html) is ("HX-Request" not in headers)
        if "<html" in html:
            assert html_lang(html) == "fr-FR"
            assert 'aria-current="true">Français</a>' in html
            assert "Réservation en ligne" in html
        assert "Choisissez un horaire</h2>" in html
        assert re.findall(r'<span class="chip">(.*?)</span>', html) == ["1 h", f"45,00{NBSP}€"]
        assert re.search(r'<h3 id="month-title">(.*?)</h3>', html).group(1) == f"{FR_MONTHS[day.month - 1].capitalize()} {day.year}"
        assert weekday_titles(html) == FR_DAYS
        assert re.findall(r"<abbr [^>]*>(.*?)</abbr>", html) == ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."]
        assert month_grid(html) == calendar.Calendar(0).monthdayscalendar(day.year, day.month)
        assert re.search(r'<h3 id="day-title">(.*?)</h3>', html).group(1) == f"Mardi {day.day} {FR_MONTHS[day.month - 1]}"
        assert slot_times(html) == ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]
        assert f"{day.day}<span class=\"visually-hidden\"> {FR_MONTHS[day.month - 1]}, mardi, 8 horaires libres</span>" in html
        assert "Horaires affichés dans le fuseau <strong>Europe/London</strong>" in html
        assert "Votre fuseau horaire" in html
        assert "Pick a time" not in html and "Times shown in" not in html


def test_french_form_errors_and_confirmation(client, db, shop, lesson, day):
    url = details_url(shop, lesson, at(day, "09:00"))
    date = f"mardi {day.day} {FR_MONTHS[day.month - 1]} {day.year}"
    page = text(client.get(url, headers=FR))
    assert "Vos coordonnées</h2>" in page
    assert f"{date}</time><br>" in page and "09:00 – 10:00" in page
    assert re.findall(r'<label for="\w+">(.*?)</label>', page) == ["Votre nom", "E-mail", "Téléphone", "Remarques pour l’établissement (facultatif)"]
    assert "Confirmer la réservation" in page
    assert "E-mail ou téléphone : au moins l’un des deux, pour que l’on puisse vous joindre." in page

    for headers in (FR, {**FR, **HX}):
        response = client.post(url, data=form_data(name="", email="", phone=""), headers=headers)
        html = text(response)
        assert response.status_code == 422
        assert ("<html" in html) is ("HX-Request" not in headers)
        assert "Veuillez vérifier vos coordonnées</h3>" in html
        assert '<small id="name-error" class="field-error">Veuillez indiquer votre nom.</small>' in html
        assert ('<small id="email-error" class="field-error">Indiquez une adresse e-mail ou un numéro de téléphone '
                "pour que l’on puisse vous joindre.</small>") in html

    response = client.post(url, data=form_data(), headers=FR)
    assert response.status_code == 303
    reference, _token = confirmation_link(response.headers["Location"])
    for headers in (FR, {**FR, **HX}):
        html = text(client.get(response.headers["Location"], headers=headers))
        assert "C’est réservé</h2>" in html
        facts = visible(html[html.index('<p class="status-line">'):html.index("</dl>")])
        assert facts == (
            f"Statut : confirmée Référence {reference} Prestation Private lesson Avec Owner 1 "
            f"Quand {date}, 09:00 – 10:00 (Europe/London) Où Sur place, 1 Pool Lane, London E1 6AN"
        )
        assert "Ajouter à Google Agenda" in html and "Réserver autre chose" in html
        assert "Gérer la réservation</a>: déplacez ou annulez en ligne." in html
    assert only_booking(db).reference == reference


def test_french_manage_page_and_its_fragment(client, factory, shop, lesson, day):
    booking = factory.booking(shop, lesson, at(day, "10:00"), client_name="Ada", client_email="ada@example.com")
    url = client_self_service.manage_path(booking)
    for headers in (FR, {**FR, **HX}):
        html = text(client.get(url, headers=headers))
        assert "Votre réservation</h2>" in html
        assert "Modifications</h3>" in html
        assert f"mardi {day.day} {FR_MONTHS[day.month - 1]} {day.year}</time>, 10:00 – 11:00" in html
        assert "Vous pouvez déplacer ou annuler en ligne jusqu’à 12 heures avant votre rendez-vous." in visible(html)
        assert ">Choisir un nouvel horaire</a>" in html and ">Annuler la réservation</a>" in html


def test_refusals_from_the_services_come_in_the_page_language(client, factory, shop, lesson, day):
    shop.settings.clients_can_cancel = False
    factory.db.session.commit()
    booking = factory.booking(shop, lesson, at(day, "10:00"), client_name="Ada", client_email="ada@example.com")
    response = client.get(client_self_service.manage_path(booking) + "/cancel", headers=FR)
    assert response.status_code == 409
    assert "Cette réservation ne peut pas être annulée en ligne. Veuillez contacter l’établissement." in text(response)


def test_german_prices_durations_and_dates(client, shop, lesson, day):
    shop.currency = "EUR"
    html = text(client.get(times_url(shop, lesson, day), headers={"Accept-Language": "de-DE"}))
    assert html_lang(html) == "de-DE"
    assert re.findall(r'<span class="chip">(.*?)</span>', html) == ["1 Std.", f"45,00{NBSP}€"]
    assert re.search(r'<h3 id="day-title">(.*?)</h3>', html).group(1) == f"Dienstag, {day.day}. {DE_MONTHS[day.month - 1]}"
    assert weekday_titles(html) == DE_DAYS


# ------------------------------------------------------------------ regional English

def test_en_us_shows_a_12_hour_clock_and_a_sunday_first_week(client, shop, lesson, day):
    for headers in (US, {**US, **HX}):
        html = text(client.get(times_url(shop, lesson, day), headers=headers))
        if "<html" in html:
            assert html_lang(html) == "en-US"
        assert slot_times(html) == [f"{h}:00{NNBSP}{'AM' if h in (9, 10, 11) else 'PM'}" for h in (9, 10, 11, 12, 1, 2, 3, 4)]
        assert weekday_titles(html) == EN_DAYS[6:] + EN_DAYS[:6]
        assert month_grid(html) == calendar.Calendar(6).monthdayscalendar(day.year, day.month)
        assert re.search(r'<h3 id="day-title">(.*?)</h3>', html).group(1) == f"Tuesday, {day:%B} {day.day}"
    details = text(client.get(details_url(shop, lesson, at(day, "09:00")), headers=US))
    assert f"Tuesday, {day:%B} {day.day}, {day.year}</time><br>" in details
    assert f"9:00{NNBSP}AM – 10:00{NNBSP}AM" in details


def test_en_gb_shows_a_24_hour_clock_and_a_monday_first_week(client, shop, lesson, day):
    html = text(client.get(times_url(shop, lesson, day), headers=GB))
    assert html_lang(html) == "en-GB"
    assert slot_times(html) == ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]
    assert weekday_titles(html) == EN_DAYS
    assert month_grid(html) == calendar.Calendar(0).monthdayscalendar(day.year, day.month)
    assert re.search(r'<h3 id="day-title">(.*?)</h3>', html).group(1) == f"Tuesday {day.day} {day:%B}"
    assert re.findall(r'<span class="chip">(.*?)</span>', html) == ["1 h", "£45.00"]


# ------------------------------------------------------------------ the choice, its cookie, the fallback

def test_the_switchers_choice_is_remembered_and_wins_over_accept_language(client, shop, lesson, day):
    url = times_url(shop, lesson, day)
    page = text(client.get(url, headers=FR))
    links = dict(re.findall(r'<a href="([^"]+)" lang="(\w+)" hreflang="\w+" data-lang="\w+"', page))
    assert sorted(links.values()) == ["de", "en", "es", "fr"]
    german = next(href for href, lang in links.items() if lang == "de")
    assert german.replace("&amp;", "&") == f"{url}&lang=de"

    response = client.get(german.replace("&amp;", "&"), headers=FR)
    assert response.status_code == 200 and html_lang(text(response)) == "de"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{LANG_COOKIE}=de;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert {"Accept-Language", "Cookie", "HX-Request"} <= {v.strip() for v in response.headers["Vary"].split(",")}

    # No ?lang from now on: the cookie keeps the pages (and their fragments) in German.
    again = client.get(url, headers=FR)
    assert html_lang(text(again)) == "de" and "Set-Cookie" not in again.headers
    assert "Termin wählen</h2>" in text(again)
    assert "Termin wählen</h2>" in text(client.get(url, headers={**FR, **HX}))


def test_an_unsupported_language_falls_back_to_the_business_language(client, db, shop, lesson):
    shop.language = "es"
    db.session.commit()
    for headers in ({"Accept-Language": "nl-NL,ja;q=0.5"}, {}):
        html = text(client.get(f"/book/{shop.slug}", headers=headers))
        assert html_lang(html) == "es"
        assert "Elija un servicio</h2>" in html and "Reservas en línea" in html
    assert html_lang(text(client.get(f"/book/{shop.slug}?lang=xx"))) == "es"


def test_english_stays_the_default(client, shop, lesson):
    html = text(client.get(f"/book/{shop.slug}"))
    assert html_lang(html) == "en"
    assert "Choose a service</h2>" in html
    assert re.findall(r'<a href="[^"]+" lang="(\w+)"[^>]*aria-current="true">(\w+)</a>', html) == [("en", "English")]


def test_public_error_pages_are_translated_and_the_dashboard_is_not(client, shop, login):
    response = client.get(f"/book/{shop.slug}/999999", headers=FR)
    assert response.status_code == 404
    html = text(response)
    assert html_lang(html) == "fr-FR"
    assert "<h1>Page introuvable</h1>" in html and "Cette page est introuvable." in html

    login()
    for path in ("/dashboard/", "/login"):
        html = text(client.get(path, headers=FR, follow_redirects=True))
        assert html_lang(html) == "en"
    assert "Page not found" in text(client.get("/dashboard/nowhere", headers=FR))
