"""The booking page theme (app.domain.colors.page_theme): whole themes for a few colours, and WCAG
AA contrast for every pair the page uses across a sweep of colours."""
from __future__ import annotations

import itertools

import pytest

from app.domain.colors import (
    DARK,
    WHITE,
    PageTheme,
    contrast_ratio,
    mix,
    page_theme,
    parse_hex,
    readable_on,
    text_on,
)


@pytest.mark.parametrize(
    "brand, theme",
    [
        # A blue already readable on white: kept for buttons and links, a shade darker on its pale tint.
        ("#1f5fbf", PageTheme(primary="#1f5fbf", on_primary=WHITE, primary_hover="#1a51a2", on_primary_hover=WHITE,
                              accent="#1f5fbf", accent_hover="#1a51a2", tint="#e4ecf7", tint_hover="#cedcf1",
                              on_tint="#1f5dbc", border="#1f5fbf")),
        # Yellow: black text on the buttons; darkened (same hue) for text and borders on white.
        ("#FFD000", PageTheme(primary="#ffd000", on_primary=DARK, primary_hover="#d9b100", on_primary_hover=DARK,
                              accent="#8f7400", accent_hover="#7a6300", tint="#fff9e0", tint_hover="#fff5c7",
                              on_tint="#876d00", border="#b29100")),
        # Black: hover goes lighter, not darker.
        ("#000000", PageTheme(primary="#000000", on_primary=WHITE, primary_hover="#333333", on_primary_hover=WHITE,
                              accent="#000000", accent_hover="#333333", tint="#e0e0e0", tint_hover="#c7c7c7",
                              on_tint="#000000", border="#000000")),
    ],
)
def test_whole_theme(brand, theme):
    assert page_theme(brand) == theme


@pytest.mark.parametrize("brand", [None, "", "red", "#12345", "#1234567", "#gggggg", "0a7ea4", "#0a7ea4;x"])
def test_no_theme_for_no_or_a_malformed_colour(brand):
    assert page_theme(brand) is None


SWEEP = ["#" + "".join(c) for c in itertools.product(("00", "33", "77", "99", "cc", "ff"), repeat=3)]


@pytest.mark.parametrize("brand", SWEEP + ["#e91e63", "#7fffd4", "#0a7ea4", "#ffffff", "#808080"])
def test_every_pair_reaches_wcag_aa(brand):
    theme = page_theme(brand)
    assert theme.primary == brand
    assert contrast_ratio(theme.on_primary, theme.primary) >= 4.5
    assert contrast_ratio(theme.on_primary_hover, theme.primary_hover) >= 4.5
    assert contrast_ratio(theme.accent, WHITE) >= 4.5
    assert contrast_ratio(theme.accent_hover, WHITE) >= 4.5
    assert contrast_ratio(theme.on_tint, theme.tint) >= 4.5
    assert contrast_ratio(theme.on_tint, theme.tint_hover) >= 4.5
    assert contrast_ratio(theme.border, WHITE) >= 3.0
    assert theme.primary_hover != theme.primary


def test_css_variables_are_only_colours():
    variables = page_theme("#ffd000").css_variables()
    assert variables["--pico-primary"] == "#8f7400"  # links: the readable shade
    assert variables["--pico-primary-background"] == "#ffd000"  # buttons: the colour itself
    assert variables["--pico-primary-inverse"] == DARK
    assert variables["--brand-tint"] == "#fff9e0"
    for name, value in variables.items():
        assert name.startswith("--") and parse_hex(value[:7]) == value[:7] and len(value) in (7, 9), (name, value)


@pytest.mark.parametrize(
    "color, background, expected",
    [
        ("#1f5fbf", WHITE, "#1f5fbf"),  # already 6.1:1
        ("#ffd000", WHITE, "#8f7400"),
        ("#ffffff", WHITE, "#767676"),  # grey: no hue to keep
        ("#ff0000", WHITE, "#ee0000"),
    ],
)
def test_readable_on_keeps_the_colour_or_darkens_it_just_enough(color, background, expected):
    result = readable_on(color, background)
    assert result == expected
    assert contrast_ratio(result, background) >= 4.5


def test_readable_on_refuses_a_dark_background():
    with pytest.raises(ValueError):
        readable_on("#333333", "#222222")  # fails, and no darker shade can do better


@pytest.mark.parametrize("background, expected", [("#ffffff", DARK), ("#1f5fbf", WHITE), ("#767676", WHITE), ("#777777", DARK)])
def test_text_on(background, expected):
    assert text_on(background) == expected


def test_mix_and_parse_hex():
    assert mix("#000000", "#ffffff", 0.5) == "#808080"
    assert mix("#ff0000", "#0000ff", 1.0) == "#ff0000"
    assert parse_hex(" #A0B1C2 ") == "#a0b1c2"
    assert parse_hex("#a0b1c") is None
