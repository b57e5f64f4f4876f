"""Brand colours that stay readable: WCAG 2.1 contrast for the e-mail and booking page themes.

Relative luminance and contrast ratio follow WCAG 2.1, "relative luminance" and "contrast ratio"
definitions (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio); 4.5:1 is level AA for normal text.
"""
from __future__ import annotations

import colorsys
from dataclasses import dataclass

DEFAULT_BRAND = "#1f5fbf"  # the header band and buttons when the business set no colour
DEFAULT_LINK = "#1f5fbf"
DEFAULT_PAGE_PRIMARY = "#0172ad"  # the booking page's own blue (Pico's) when the business set no colour
WHITE = "#ffffff"
DARK = "#000000"  # text on light brand colours: black reaches 4.5:1 on any colour white does not
PAGE_BACKGROUND = "#f4f5f7"  # links sit on it (footer) or on white (card): check the darker one
MIN_CONTRAST = 4.5  # WCAG 2.1 AA, normal text


@dataclass(frozen=True)
class Theme:
    brand: str  # "#rrggbb" background of the header band and buttons
    on_brand: str  # text colour on ``brand``
    link: str  # link colour on the white card and the grey page


def _luminance(hex_color: str) -> float:
    """WCAG 2.1 relative luminance of ``#rrggbb``."""
    channels = [int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio of two ``#rrggbb`` colours, 1.0 to 21.0."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def email_theme(brand_color: str | None) -> Theme:
    """The HTML e-mail colours for a business colour (``#rrggbb``; None or malformed = default).

    White text on the colour only when it reaches 4.5:1, else black; links take the colour only
    when it reaches 4.5:1 on the page background, else the default link blue."""
    brand = (brand_color or "").lower()
    if len(brand) != 7 or not brand.startswith("#") or any(c not in "0123456789abcdef" for c in brand[1:]):
        brand = DEFAULT_BRAND
    on_brand = WHITE if contrast_ratio(brand, WHITE) >= MIN_CONTRAST else DARK
    link = brand if contrast_ratio(brand, PAGE_BACKGROUND) >= MIN_CONTRAST else DEFAULT_LINK
    return Theme(brand=brand, on_brand=on_brand, link=link)


# ------------------------------------------------------------------ booking page theme

NON_TEXT_CONTRAST = 3.0  # WCAG 2.1 AA for the boundary of a control (1.4.11)
TINT_SHARE = 0.12  # the pale background of free days: 12 % brand colour, 88 % white
TINT_HOVER_SHARE = 0.22


@dataclass(frozen=True)
class PageTheme:
    """The booking page's colours for one brand colour, each ``#rrggbb``.

    ``primary`` is the brand colour itself, the background of buttons, the chosen day and done
    steps, with ``on_primary`` (white or black) on it; ``accent`` is the brand colour darkened
    (hue and saturation kept) until it reads as text on white (links, slot labels); ``tint`` is a
    pale brand background (``tint_hover`` a little darker) with ``on_tint`` text on both; ``border`` outlines buttons (``accent`` when the
    brand colour is too light to stand out on white)."""

    primary: str
    on_primary: str
    primary_hover: str
    on_primary_hover: str
    accent: str
    accent_hover: str
    tint: str
    tint_hover: str
    on_tint: str
    border: str

    def css_variables(self) -> dict[str, str]:
        """``{custom property: value}``: Pico's primary colour variables plus ``--brand-*`` for
        the page's own rules. Every value is a ``#rrggbb`` (or ``#rrggbbaa``) this module made,
        safe to write into a style sheet."""
        return {
            "--pico-primary": self.accent,
            "--pico-primary-background": self.primary,
            "--pico-primary-border": self.border,
            "--pico-primary-underline": self.accent + "80",
            "--pico-primary-hover": self.accent_hover,
            "--pico-primary-hover-background": self.primary_hover,
            "--pico-primary-hover-border": self.border if self.border != self.primary else self.primary_hover,
            "--pico-primary-hover-underline": self.accent_hover,
            "--pico-primary-focus": self.accent + "80",
            "--pico-primary-inverse": self.on_primary,
            "--pico-text-selection-color": self.accent + "40",
            "--brand-on-primary-hover": self.on_primary_hover,
            "--brand-tint": self.tint,
            "--brand-tint-hover": self.tint_hover,
            "--brand-on-tint": self.on_tint,
        }


def parse_hex(color: str | None) -> str | None:
    """``color`` as lower-case ``#rrggbb``, or None when it is not ``#`` and six hex digits."""
    value = (color or "").strip().lower()
    if len(value) != 7 or value[0] != "#" or any(c not in "0123456789abcdef" for c in value[1:]):
        return None
    return value


def _rgb(hex_color: str) -> tuple[float, float, float]:
    return tuple(int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def _hex(r: float, g: float, b: float) -> str:
    return "#" + "".join(f"{round(max(0.0, min(1.0, c)) * 255):02x}" for c in (r, g, b))


def mix(a: str, b: str, share_of_a: float) -> str:
    """The colour ``share_of_a`` (0.0 to 1.0) of ``a`` and the rest of ``b``, mixed per sRGB channel."""
    return _hex(*(x * share_of_a + y * (1 - share_of_a) for x, y in zip(_rgb(a), _rgb(b))))


def text_on(background: str) -> str:
    """White when it reaches 4.5:1 on ``background``, else black (which then always does: the
    better of the two is at least the square root of 21, 4.58:1)."""
    return WHITE if contrast_ratio(WHITE, background) >= MIN_CONTRAST else DARK


def readable_on(color: str, background: str, minimum: float = MIN_CONTRAST) -> str:
    """``color`` itself when it reaches ``minimum`` contrast on the light ``background``, else the
    lightest colour of the same hue and saturation (HLS) that does. ``background`` must be light
    enough for black to reach ``minimum`` on it (white and pale tints are; ValueError otherwise)."""
    if contrast_ratio(color, background) >= minimum:
        return color
    if contrast_ratio(DARK, background) < minimum:
        raise ValueError(f"no darker colour reaches {minimum}:1 on {background}")
    hue, lightness, saturation = colorsys.rgb_to_hls(*_rgb(color))
    low, high = 0.0, lightness  # low always reaches the contrast (black does), high never does
    for _ in range(30):
        middle = (low + high) / 2
        if contrast_ratio(_hex(*colorsys.hls_to_rgb(hue, middle, saturation)), background) >= minimum:
            low = middle
        else:
            high = middle
    result = _hex(*colorsys.hls_to_rgb(hue, low, saturation))
    while contrast_ratio(result, background) < minimum:  # rounding to 8 bits may have lost a little
        low = max(0.0, low - 1 / 255)
        result = _hex(*colorsys.hls_to_rgb(hue, low, saturation))
    return result


def _hover(color: str) -> str:
    """A visibly different shade for hover, in the direction that keeps ``text_on(color)``
    readable: 15 % darker under white text, 20 % lighter under black text (the other way for
    colours too near black or white to move further)."""
    darker, lighter = mix(DARK, color, 0.15), mix(WHITE, color, 0.2)
    first, second = (darker, lighter) if text_on(color) == WHITE else (lighter, darker)
    return first if contrast_ratio(first, color) >= 1.1 else second


def page_theme(brand_color: str | None) -> PageTheme | None:
    """The booking page colours for ``brand_color`` (``#rrggbb``, any case), or None when there is
    none or it is malformed (the page keeps its default colours).

    Contrast (WCAG 2.1 AA): ``on_primary`` on ``primary`` and on ``primary_hover``, ``accent``
    and ``accent_hover`` on white, and ``on_tint`` on ``tint`` and ``tint_hover`` all reach 4.5:1; ``border`` reaches
    3:1 on white."""
    primary = parse_hex(brand_color)
    if primary is None:
        return None
    accent = readable_on(primary, WHITE)
    tint = mix(primary, WHITE, TINT_SHARE)
    tint_hover = mix(primary, WHITE, TINT_HOVER_SHARE)
    hover = _hover(primary)
    return PageTheme(
        primary=primary,
        on_primary=text_on(primary),
        primary_hover=hover,
        on_primary_hover=text_on(hover),
        accent=accent,
        accent_hover=readable_on(_hover(accent), WHITE),
        tint=tint,
        tint_hover=tint_hover,
        on_tint=readable_on(accent, tint_hover),  # the darker of the two backgrounds
        border=primary if contrast_ratio(primary, WHITE) >= NON_TEXT_CONTRAST else readable_on(primary, WHITE, NON_TEXT_CONTRAST),
    )
