"""Brand colours that stay readable: WCAG 2.1 contrast for the e-mail theme.

Relative luminance and contrast ratio follow WCAG 2.1, "relative luminance" and "contrast ratio"
definitions (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio); 4.5:1 is level AA for normal text.
"""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BRAND = "#1f5fbf"  # the header band and buttons when the business set no colour
DEFAULT_LINK = "#1f5fbf"
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
