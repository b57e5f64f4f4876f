"""E-mails in the business's language and colours: every template in en/fr/de/es (subject, a
known phrase, the localised date, the named zone, both parts), the English fallback, the brand
colour in the HTML part only, and one French e-mail end to end through the real SMTP server."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.i18n import LANGUAGES, email_language
from app.jobs import run_job
from app.domain.booking_events import created_event
from app.domain.colors import Theme, contrast_ratio, email_theme
from app.services import booking_emails, emails
from tests.jobs.conftest import MONDAY, at
from tests.jobs.mail_support import parse

CLIENT_TIMES = "05:00–06:00 (America/New_York)"  # 10:00 London (BST) in the client's zone
OWNER_TIMES = "10:00–11:00 (Europe/London)"  # owner e-mails: the business's zone

#: Per language: the date of the booking (Monday 7 June 2027), the client's times, and per
#: template the whole subject and a phrase of the body only a translated template contains.
EXPECTED = {
    "en": {
        "date": "Monday 7 June 2027",
        "client_times": CLIENT_TIMES,
        "request_received": ("Request received: Private lesson on Monday 7 June 2027", "We have your request"),
        "confirmed": ("Confirmed: Private lesson on Monday 7 June 2027", "Your booking is confirmed"),
        "rejected": ("Not confirmed: Private lesson on Monday 7 June 2027", "could not confirm your request"),
        "cancelled": ("Cancelled: Private lesson on Monday 7 June 2027", "Your booking is cancelled"),
        "expired": ("Request expired: Private lesson on Monday 7 June 2027", "You are welcome to book again."),
        "rescheduled": ("New time: Private lesson on Monday 7 June 2027", "has moved to the time below"),
        "reminder": ("Reminder: Private lesson on Monday 7 June 2027", "this is a reminder of your booking"),
        "owner_new_request": ("New booking request: Ada Lovelace for Private lesson on Monday 7 June 2027", "Ada Lovelace asked to book Private lesson."),
        "owner_confirmed": ("New booking: Ada Lovelace for Private lesson on Monday 7 June 2027", "Ada Lovelace booked Private lesson."),
        "owner_cancelled": ("Booking cancelled: Ada Lovelace for Private lesson on Monday 7 June 2027", "The time is free again."),
        "owner_expired": ("Request expired unanswered: Ada Lovelace for Private lesson on Monday 7 June 2027", "was not answered in time and has expired"),
        "owner_rescheduled": ("Booking moved: Ada Lovelace for Private lesson on Monday 7 June 2027", "Ada Lovelace moved their booking of Private lesson to the time below."),
    },
    "fr": {
        "date": "lundi 7 juin 2027",
        "client_times": CLIENT_TIMES,
        "request_received": ("Demande reçue : Private lesson le lundi 7 juin 2027", "Nous avons bien reçu votre demande"),
        "confirmed": ("Réservation confirmée : Private lesson le lundi 7 juin 2027", "Votre réservation est confirmée"),
        "rejected": ("Demande non confirmée : Private lesson le lundi 7 juin 2027", "n’a pas pu confirmer votre demande"),
        "cancelled": ("Réservation annulée : Private lesson le lundi 7 juin 2027", "Votre réservation est annulée"),
        "expired": ("Demande expirée : Private lesson le lundi 7 juin 2027", "N’hésitez pas à réserver de nouveau."),
        "rescheduled": ("Nouvel horaire : Private lesson le lundi 7 juin 2027", "a été déplacée à l’horaire ci-dessous"),
        "reminder": ("Rappel : Private lesson le lundi 7 juin 2027", "ceci est un rappel de votre réservation"),
        "owner_new_request": ("Nouvelle demande de réservation : Ada Lovelace pour Private lesson le lundi 7 juin 2027", "Ada Lovelace souhaite réserver Private lesson."),
        "owner_confirmed": ("Nouvelle réservation : Ada Lovelace pour Private lesson le lundi 7 juin 2027", "Ada Lovelace a réservé Private lesson."),
        "owner_cancelled": ("Réservation annulée : Ada Lovelace pour Private lesson le lundi 7 juin 2027", "Le créneau est de nouveau libre."),
        "owner_expired": ("Demande expirée sans réponse : Ada Lovelace pour Private lesson le lundi 7 juin 2027", "n’a pas reçu de réponse à temps"),
        "owner_rescheduled": ("Réservation déplacée : Ada Lovelace pour Private lesson le lundi 7 juin 2027", "Ada Lovelace a déplacé sa réservation de Private lesson"),
    },
    "de": {
        "date": "Montag, 7. Juni 2027",
        "client_times": CLIENT_TIMES,
        "request_received": ("Anfrage erhalten: Private lesson am Montag, 7. Juni 2027", "Wir haben Ihre Anfrage erhalten"),
        "confirmed": ("Buchung bestätigt: Private lesson am Montag, 7. Juni 2027", "Ihre Buchung ist bestätigt"),
        "rejected": ("Anfrage nicht bestätigt: Private lesson am Montag, 7. Juni 2027", "leider konnte Swim School Pro Ihre Anfrage nicht bestätigen"),
        "cancelled": ("Buchung storniert: Private lesson am Montag, 7. Juni 2027", "Ihre Buchung wurde storniert"),
        "expired": ("Anfrage abgelaufen: Private lesson am Montag, 7. Juni 2027", "Sie können gern erneut buchen."),
        "rescheduled": ("Neuer Termin: Private lesson am Montag, 7. Juni 2027", "Ihr Termin wurde verschoben"),
        "reminder": ("Erinnerung: Private lesson am Montag, 7. Juni 2027", "wir möchten Sie an Ihre Buchung bei Swim School Pro erinnern"),
        "owner_new_request": ("Neue Buchungsanfrage: Ada Lovelace für Private lesson am Montag, 7. Juni 2027", "Ada Lovelace möchte Private lesson buchen."),
        "owner_confirmed": ("Neue Buchung: Ada Lovelace für Private lesson am Montag, 7. Juni 2027", "Ada Lovelace hat Private lesson gebucht."),
        "owner_cancelled": ("Buchung storniert: Ada Lovelace für Private lesson am Montag, 7. Juni 2027", "Der Termin ist wieder frei."),
        "owner_expired": ("Anfrage unbeantwortet abgelaufen: Ada Lovelace für Private lesson am Montag, 7. Juni 2027", "wurde nicht rechtzeitig beantwortet"),
        "owner_rescheduled": ("Buchung verschoben: Ada Lovelace für Private lesson am Montag, 7. Juni 2027", "Ada Lovelace hat die Buchung von Private lesson auf den unten genannten Termin verschoben."),
    },
    "es": {
        "date": "lunes, 7 de junio de 2027",
        "client_times": "5:00–6:00 (America/New_York)",  # CLDR's Spanish short time: no leading zero
        "request_received": ("Solicitud recibida: Private lesson el lunes, 7 de junio de 2027", "Hemos recibido su solicitud"),
        "confirmed": ("Reserva confirmada: Private lesson el lunes, 7 de junio de 2027", "Su reserva está confirmada"),
        "rejected": ("Solicitud no confirmada: Private lesson el lunes, 7 de junio de 2027", "no ha podido confirmar su solicitud"),
        "cancelled": ("Reserva cancelada: Private lesson el lunes, 7 de junio de 2027", "Su reserva ha sido cancelada"),
        "expired": ("Solicitud caducada: Private lesson el lunes, 7 de junio de 2027", "Puede volver a reservar cuando quiera."),
        "rescheduled": ("Nuevo horario: Private lesson el lunes, 7 de junio de 2027", "se ha cambiado al horario indicado abajo"),
        "reminder": ("Recordatorio: Private lesson el lunes, 7 de junio de 2027", "le recordamos su reserva con Swim School Pro"),
        "owner_new_request": ("Nueva solicitud de reserva: Ada Lovelace para Private lesson el lunes, 7 de junio de 2027", "Ada Lovelace quiere reservar Private lesson."),
        "owner_confirmed": ("Nueva reserva: Ada Lovelace para Private lesson el lunes, 7 de junio de 2027", "Ada Lovelace ha reservado Private lesson."),
        "owner_cancelled": ("Reserva cancelada: Ada Lovelace para Private lesson el lunes, 7 de junio de 2027", "El horario vuelve a estar libre."),
        "owner_expired": ("Solicitud caducada sin respuesta: Ada Lovelace para Private lesson el lunes, 7 de junio de 2027", "no se respondió a tiempo y ha caducado"),
        "owner_rescheduled": ("Reserva cambiada: Ada Lovelace para Private lesson el lunes, 7 de junio de 2027", "Ada Lovelace ha cambiado su reserva de Private lesson al horario indicado abajo."),
    },
}
TEMPLATES = sorted(emails.TEMPLATES)


def test_every_template_has_an_expectation_in_every_language():
    for expected in EXPECTED.values():
        assert sorted(set(expected) - {"date", "client_times"}) == TEMPLATES


@pytest.fixture
def speaking(make_booking, shop, db):
    """``speaking(language, brand_color=None)``: a confirmed booking (with reasons) of a business
    writing in ``language``."""
    business, _ = shop

    def _make(language: str, brand_color: str | None = None):
        business.language, business.brand_color = language, brand_color
        booking = make_booking()
        booking.cancellation_reason, booking.rejection_reason = "Pool closed", "Fully booked"
        db.session.commit()
        return booking

    return _make


def visible_text(html: str) -> str:
    """The HTML part's text (tags dropped, entities of the test data unescaped)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'").replace("&amp;", "&")


@pytest.mark.parametrize("language", sorted(EXPECTED))
@pytest.mark.parametrize("template", TEMPLATES)
def test_each_template_in_each_language(speaking, language, template):
    booking = speaking(language)
    expected = EXPECTED[language]
    subject, phrase = expected[template]
    email = emails.build_booking_email(booking, template)

    assert email.subject == subject
    assert email.text and email.html  # both parts
    owner = template.startswith("owner_")
    times = OWNER_TIMES if owner else expected["client_times"]
    html = visible_text(email.html)
    for body in (email.text, html):
        assert phrase in body
        assert expected["date"] in body  # the localised date
        assert times in body  # the zone named
        assert booking.reference in body
    assert f'<html lang="{language}">' in email.html
    assert f"<title>{subject}</title>" in email.html.replace("&#39;", "'")
    if language != "en":  # nothing left in English around the user's own data
        for english in ("All times are in", "Reference", "Add it to your calendar", "Questions?", "See it in your dashboard", "Manage booking", "Need to"):
            assert english not in email.text


def test_reasons_and_contact_lines_are_translated(speaking):
    booking = speaking("fr")
    rejected = emails.build_booking_email(booking, "rejected")
    assert "Motif : Fully booked" in rejected.text
    assert "<strong>Motif :</strong> Fully booked" in rejected.html
    assert (
        "Des questions ? Contactez Swim School Pro au +44 20 7946 0000 ou à l’adresse "
        '<a href="mailto:hello@swimschool.test" style="color:#1f5fbf;">hello@swimschool.test</a>, '
        f"en rappelant la référence {booking.reference}."
    ) in rejected.html
    assert "Téléphone : +44 20 7946 0000\nE-mail : hello@swimschool.test" in rejected.text
    owner = emails.build_booking_email(booking, "owner_new_request")
    assert "Client : Ada Lovelace, ada@example.com" in owner.text
    assert "Acceptez-la ou refusez-la (vous devrez vous connecter) : http://localhost/dashboard/requests" in owner.text


def test_plain_text_details_align_on_the_longest_translated_label(speaking):
    booking = speaking("es")
    text = emails.build_booking_email(booking, "confirmed").text
    assert (
        "Qué:        Private lesson con Owner 1\n"
        "Cuándo:     lunes, 7 de junio de 2027, 5:00–6:00 (America/New_York)\n"
        "Dónde:      En persona, 1 Pool Lane, London\n"
        f"Referencia: {booking.reference}\n"
    ) in text
    assert "Su reserva está confirmada\n==========================\n\n" in text


@pytest.mark.parametrize(
    "language, end",
    [
        ("en", "23:30–Tue 8 Jun 00:30 (Europe/London)"),
        ("fr", "23:30–mar. 8 juin 00:30 (Europe/London)"),
        ("de", "23:30–Di., 8. Juni 00:30 (Europe/London)"),
        ("es", "23:30–mar, 8 jun 0:30 (Europe/London)"),
    ],
)
def test_an_end_on_the_next_day_shows_that_day_localised(make_booking, shop, db, language, end):
    business, _ = shop
    business.language = language
    booking = make_booking()
    booking.start_at, booking.end_at = at(MONDAY, "23:30"), at(MONDAY, "23:30") + timedelta(hours=1)  # no slot that late
    db.session.commit()
    email = emails.build_booking_email(booking, "owner_confirmed")
    assert end in email.text


@pytest.mark.parametrize("language", ["xx", "", "fr_CA"])
def test_unknown_language_falls_back_to_english(speaking, language):
    booking = speaking("en")
    booking.business.language = language
    email = emails.build_booking_email(booking, "confirmed")
    assert email.subject == "Confirmed: Private lesson on Monday 7 June 2027"
    assert "Your booking is confirmed" in email.text
    assert '<html lang="en">' in email.html


def test_email_language():
    assert [email_language(code).code for code in ("fr", " DE ", "es", "en", "xx", "", None)] == ["fr", "de", "es", "en", "en", "en", "en"]
    assert [lang.name for lang in LANGUAGES.values()] == ["English", "Français", "Deutsch", "Español"]


def test_language_is_forced_per_email_not_leaked(speaking, app):
    """One app context renders a French then an English-business e-mail: each its own language."""
    booking = speaking("fr")
    assert emails.build_booking_email(booking, "confirmed").subject.startswith("Réservation confirmée")
    booking.business.language = "en"
    assert emails.build_booking_email(booking, "confirmed").subject.startswith("Confirmed:")
    from flask_babel import get_locale

    assert str(get_locale()) == "en"


@pytest.mark.parametrize("template", TEMPLATES)
def test_brand_colour_in_the_html_only(speaking, template):
    booking = speaking("de", brand_color="#0a7ea4")
    email = emails.build_booking_email(booking, template)
    # The header band: the colour behind the business's name, white text (4.63:1).
    assert (
        '<td bgcolor="#0a7ea4" style="background:#0a7ea4;color:#ffffff;padding:16px 24px;'
        'border-radius:8px 8px 0 0;font-size:18px;font-weight:bold;line-height:1.3;">Swim School Pro</td>'
    ) in email.html
    assert "1 Pool Lane, London" in email.html and "+44 20 7946 0000" in email.html
    assert "#0a7ea4" not in email.text.lower()
    assert "<" not in email.text and "style=" not in email.text  # the plain part stays plain


def test_buttons_use_the_brand_colour_with_readable_text(speaking):
    booking = speaking("en", brand_color="#ffd500")  # yellow: white text would be 1.4:1
    html = emails.build_booking_email(booking, "owner_new_request").html
    assert (
        '<a href="http://localhost/dashboard/requests" style="display:inline-block;background:#ffd500;'
        'color:#000000;padding:10px 16px;border-radius:6px;text-decoration:none;font-weight:bold;">Review the request</a>'
    ) in html
    assert 'bgcolor="#ffd500" style="background:#ffd500;color:#000000;' in html


def test_no_brand_colour_uses_the_default_theme(speaking):
    booking = speaking("en")
    html = emails.build_booking_email(booking, "confirmed").html
    assert 'bgcolor="#1f5fbf" style="background:#1f5fbf;color:#ffffff;' in html


@pytest.mark.parametrize(
    "brand, theme",
    [
        (None, Theme("#1f5fbf", "#ffffff", "#1f5fbf")),
        ("#0a7ea4", Theme("#0a7ea4", "#ffffff", "#1f5fbf")),  # 4.63:1 on white; 4.3:1 on the grey page: default links
        ("#0A7EA4", Theme("#0a7ea4", "#ffffff", "#1f5fbf")),
        ("#ffd500", Theme("#ffd500", "#000000", "#1f5fbf")),
        ("#808080", Theme("#808080", "#000000", "#1f5fbf")),  # 3.95:1 with white
        ("#767676", Theme("#767676", "#ffffff", "#1f5fbf")),  # 4.54:1 with white
        ("#14365d", Theme("#14365d", "#ffffff", "#14365d")),  # dark enough for links too
        ("#ffffff", Theme("#ffffff", "#000000", "#1f5fbf")),
        ("red", Theme("#1f5fbf", "#ffffff", "#1f5fbf")),
        ("#12345", Theme("#1f5fbf", "#ffffff", "#1f5fbf")),
    ],
)
def test_email_theme(brand, theme):
    assert email_theme(brand) == theme
    assert contrast_ratio(theme.brand, theme.on_brand) >= 4.5
    assert contrast_ratio(theme.link, "#f4f5f7") >= 4.5


def test_contrast_ratio_matches_wcag():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_a_french_email_through_the_smtp_server(speaking, smtp_server):
    booking = speaking("fr", brand_color="#0a7ea4")
    [job] = [j for j in booking_emails.record_booking_emails(booking, created_event(booking.status)) if j.payload["template"] == "confirmed"]
    from app.extensions import db

    db.session.commit()
    assert run_job(job.id) == "done"
    [mail] = [parse(m) for m in smtp_server.messages]
    assert mail.subject == "Réservation confirmée : Private lesson le lundi 7 juin 2027"
    assert str(mail.message["From"]) == "Swim School Pro <bookings@flowkey.test>"
    assert mail.structure[:4] == ["multipart/mixed", "  multipart/alternative", "    text/plain", "    text/html"]
    assert "Bonjour Ada Lovelace, votre réservation auprès de Swim School Pro est confirmée." in mail.text
    assert "Quand:      lundi 7 juin 2027, 05:00–06:00 (America/New_York)" in mail.text
    assert "lundi 7 juin 2027<br>05:00–06:00 (America/New_York)" in mail.html
    assert 'bgcolor="#0a7ea4"' in mail.html and "#0a7ea4" not in mail.text
    assert mail.calendar_method_param == "REQUEST"
