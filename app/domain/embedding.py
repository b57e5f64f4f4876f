"""The sites an owner lets show their booking pages in a frame, as CSP ``frame-ancestors`` sources.

An owner lists origins (``https://shop.example``, ``https://*.shop.example``, a bare host, which
means its ``https://`` origin, or ``http://localhost:8000`` while building a site); each is
checked and written back in one canonical form, so nothing an owner types can add another
directive or source to the policy (Content Security Policy Level 3, "frame-ancestors" and the
``host-source`` grammar: https://www.w3.org/TR/CSP3/#grammardef-host-source).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_ORIGINS = 20
MAX_ORIGIN_LENGTH = 255
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class InvalidOrigins(ValueError):
    """Some lines are not origins. ``errors`` lists ``(line number from 1, the line, message)``."""

    def __init__(self, errors: list[tuple[int, str, str]]):
        super().__init__("; ".join(f"line {n}: {message}" for n, _, message in errors))
        self.errors = errors


@dataclass(frozen=True)
class FramingPolicy:
    """Who may frame the booking pages: any site (``origins`` empty) or only these origins."""

    origins: tuple[str, ...] = field(default_factory=tuple)

    def frame_ancestors(self, anywhere: str = "*") -> str:
        """The ``frame-ancestors`` source list: ``anywhere`` (the instance's default) when no
        origin is listed, else ``'self'`` (Flowkey's own previews) and the origins."""
        if not self.origins:
            return anywhere
        return " ".join(("'self'", *self.origins))


def normalise_origin(raw: str) -> str:
    """One origin in canonical form: ``scheme://host[:port]``, lower case, punycode, no default
    port, no trailing slash. ``https://*.example.com`` (any subdomain) is kept; a bare host gets
    ``https://``. Raises ValueError with a message for an owner for anything else (a path, a
    query, a user name, another scheme, a malformed host or port)."""
    text = raw.strip()
    if not text:
        raise ValueError("Enter a web address such as https://www.example.com.")
    if len(text) > MAX_ORIGIN_LENGTH:
        raise ValueError(f"Keep each address under {MAX_ORIGIN_LENGTH} characters.")
    if any(c.isspace() or c in "'\";,<>\\" or ord(c) < 32 for c in text):
        raise ValueError("An address cannot contain spaces, quotes, commas or semicolons.")
    if "://" not in text:
        text = "https://" + text
    wildcard = False
    scheme, rest = text.split("://", 1)
    if rest.startswith("*."):
        wildcard, rest = True, rest[2:]
    try:
        parts = urlsplit(f"{scheme}://{rest}")
        port = parts.port
    except ValueError:
        raise ValueError("That port is not a number from 1 to 65535.") from None
    if parts.scheme.lower() not in ("https", "http"):
        raise ValueError("Use an address starting with https:// (or http://).")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError("Leave out any user name or password.")
    if parts.path not in ("", "/") or parts.query or parts.fragment or text.endswith(("?", "#")):
        raise ValueError("Give only the site, without a page path: e.g. https://www.example.com.")
    host = parts.hostname or ""
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError("That is not a valid host name.") from None
    labels = host.split(".")
    if not host or not all(_LABEL.match(label) for label in labels) or (wildcard and len(labels) < 2):
        raise ValueError("That is not a valid host name.")
    if port == 0:
        raise ValueError("That port is not a number from 1 to 65535.")
    scheme = parts.scheme.lower()
    default_port = {"https": 443, "http": 80}[scheme]
    netloc = ("*." if wildcard else "") + host + (f":{port}" if port is not None and port != default_port else "")
    return f"{scheme}://{netloc}"


def parse_origins(text: str) -> tuple[str, ...]:
    """The origins listed in ``text`` (one a line; commas and spaces also separate), normalised,
    without duplicates, in their first order. Raises :class:`InvalidOrigins` naming each bad
    line, or for none at all or more than :data:`MAX_ORIGINS`."""
    lines = [line.strip() for line in (text or "").splitlines()]
    origins: list[str] = []
    errors: list[tuple[int, str, str]] = []
    for number, line in enumerate(lines, start=1):
        for item in re.split(r"[,\s]+", line):
            if not item:
                continue
            try:
                origin = normalise_origin(item)
            except ValueError as exc:
                errors.append((number, item, str(exc)))
            else:
                if origin not in origins:
                    origins.append(origin)
    if errors:
        raise InvalidOrigins(errors)
    if not origins:
        raise InvalidOrigins([(1, "", "List at least one site, or let any site show your booking page.")])
    if len(origins) > MAX_ORIGINS:
        raise InvalidOrigins([(MAX_ORIGINS + 1, origins[MAX_ORIGINS], f"List at most {MAX_ORIGINS} sites.")])
    return tuple(origins)
