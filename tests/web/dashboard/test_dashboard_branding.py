"""The business profile's e-mail language and brand colour: shown, saved, validated (422)."""
from __future__ import annotations

import pytest

from app.models import Business
from tests.web.dashboard.support import field_error, flashes, text

PROFILE = {"name": "Swim School Pro", "timezone": "Europe/London", "currency": "GBP"}


def branding(db) -> tuple[str, str | None]:
    db.session.expire_all()
    business = db.session.scalar(db.select(Business))
    return business.language, business.brand_color


def test_new_businesses_write_english_in_the_default_colours(logged_in, db):
    assert branding(db) == ("en", None)


def test_settings_page_offers_languages_by_their_own_names_and_a_colour(client, logged_in):
    body = text(client.get("/dashboard/settings"))
    assert '<label for="language">E-mail language</label>' in body
    assert (
        '<option lang="en" selected value="en">English</option><option lang="fr" value="fr">Français</option>'
        '<option lang="de" value="de">Deutsch</option><option lang="es" value="es">Español</option>'
    ) in body
    assert '<label for="brand_color">Brand colour</label>' in body
    # One control: the colour input, whose first suggestion is the default.
    assert 'id="brand_color" list="brand-swatches" name="brand_color" type="color" value="#1f5fbf"' in body
    assert '<option value="#1f5fbf">Flowkey default</option>' in body and "default_colors" not in body


def test_save_language_and_colour(client, logged_in, db):
    response = client.post("/dashboard/settings/profile", data={**PROFILE, "language": "fr", "brand_color": "#0A7EA4"})
    assert (response.status_code, response.headers["Location"]) == (303, "/dashboard/settings")
    assert branding(db) == ("fr", "#0a7ea4")
    page = client.get("/dashboard/settings")
    assert flashes(page) == ["Business profile saved."]
    body = text(page)
    assert '<option lang="fr" selected value="fr">Français</option>' in body
    assert 'type="color" value="#0a7ea4"' in body
    assert "Now: your colour <code>#0a7ea4</code>." in body
    # The dashboard itself stays English.
    assert "Booking link &amp; settings" in body and "Save profile" in body


def test_default_colours_clear_the_brand_colour(client, logged_in, db):
    client.post("/dashboard/settings/profile", data={**PROFILE, "language": "de", "brand_color": "#14365d"})
    assert branding(db) == ("de", "#14365d")
    response = client.post(
        "/dashboard/settings/profile", data={**PROFILE, "language": "de", "brand_color": "#14365d", "default_colors": "y"}
    )
    assert response.status_code == 303
    assert branding(db) == ("de", None)


def test_a_form_without_the_fields_keeps_them(client, logged_in, db):
    client.post("/dashboard/settings/profile", data={**PROFILE, "language": "es", "brand_color": "#14365d"})
    response = client.post("/dashboard/settings/profile", data={**PROFILE, "name": "Renamed"})
    assert response.status_code == 303
    assert branding(db) == ("es", "#14365d")


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("language", "xx", "Choose one of the languages listed."),
        ("language", "", "Choose one of the languages listed."),
        ("language", "english", "Choose one of the languages listed."),
        ("brand_color", "red", "Enter a colour as # and six hex digits, e.g. #0a7ea4."),
        ("brand_color", "#12345", "Enter a colour as # and six hex digits, e.g. #0a7ea4."),
        ("brand_color", "#gggggg", "Enter a colour as # and six hex digits, e.g. #0a7ea4."),
        ("brand_color", "0a7ea4", "Enter a colour as # and six hex digits, e.g. #0a7ea4."),
        ("brand_color", "", "Enter a colour as # and six hex digits, e.g. #0a7ea4."),
        ("brand_color", "#0a7ea4; x", "Enter a colour as # and six hex digits, e.g. #0a7ea4."),
    ],
)
def test_bad_language_or_colour_is_422_with_a_message(client, logged_in, db, field, value, message):
    data = {**PROFILE, "language": "fr", "brand_color": "#0a7ea4", field: value}
    response = client.post("/dashboard/settings/profile", data=data)
    assert response.status_code == 422
    assert field_error(response, field) == message
    assert f'aria-describedby="{field}-error" aria-invalid="true" id="{field}"' in text(response)
    assert branding(db) == ("en", None)
    if field == "brand_color":  # a colour input cannot show a bad value: it shows the default
        assert 'type="color" value="#1f5fbf"' in text(response)
