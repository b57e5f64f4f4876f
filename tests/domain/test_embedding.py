"""Origins an owner lists for framing (app.domain.embedding): canonical forms, refusals with a
message per line, and the frame-ancestors source list they make."""
from __future__ import annotations

import pytest

from app.domain.embedding import MAX_ORIGINS, FramingPolicy, InvalidOrigins, normalise_origin, parse_origins


@pytest.mark.parametrize(
    "raw, origin",
    [
        ("https://www.example.com", "https://www.example.com"),
        ("https://www.example.com/", "https://www.example.com"),
        ("HTTPS://Shop.Example.COM", "https://shop.example.com"),
        ("www.example.com", "https://www.example.com"),
        ("https://*.example.com", "https://*.example.com"),
        ("*.example.com", "https://*.example.com"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("https://example.com:443", "https://example.com"),
        ("http://example.com:80", "http://example.com"),
        ("https://example.com:8443", "https://example.com:8443"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
    ],
)
def test_canonical_origins(raw, origin):
    assert normalise_origin(raw) == origin


@pytest.mark.parametrize(
    "raw, message",
    [
        ("https://example.com/booking", "Give only the site, without a page path: e.g. https://www.example.com."),
        ("https://example.com?x=1", "Give only the site, without a page path: e.g. https://www.example.com."),
        ("https://example.com#top", "Give only the site, without a page path: e.g. https://www.example.com."),
        ("ftp://example.com", "Use an address starting with https:// (or http://)."),
        ("javascript://example.com", "Use an address starting with https:// (or http://)."),
        ("https://user:pw@example.com", "Leave out any user name or password."),
        ("https://example.com:99999", "That port is not a number from 1 to 65535."),
        ("https://example.com:0", "That port is not a number from 1 to 65535."),
        ("https://exa_mple.com", "That is not a valid host name."),
        ("https://-example.com", "That is not a valid host name."),
        ("https://*.com", "That is not a valid host name."),
        ("https://a.*.example.com", "That is not a valid host name."),
        ("https://example.com;script-src", "An address cannot contain spaces, quotes, commas or semicolons."),
        ("'self'", "An address cannot contain spaces, quotes, commas or semicolons."),
        ("https://" + "a" * 260 + ".com", "Keep each address under 255 characters."),
    ],
)
def test_refused_origins(raw, message):
    with pytest.raises(ValueError) as exc:
        normalise_origin(raw)
    assert str(exc.value) == message


def test_parse_origins_normalises_and_deduplicates_in_order():
    text = "https://www.example.com\n\nwww.example.com, https://shop.example.com  http://localhost:8000\n"
    assert parse_origins(text) == ("https://www.example.com", "https://shop.example.com", "http://localhost:8000")


def test_parse_origins_names_every_bad_line():
    with pytest.raises(InvalidOrigins) as exc:
        parse_origins("https://ok.example\nhttps://bad.example/page\nftp://x.example")
    assert exc.value.errors == [
        (2, "https://bad.example/page", "Give only the site, without a page path: e.g. https://www.example.com."),
        (3, "ftp://x.example", "Use an address starting with https:// (or http://)."),
    ]


def test_parse_origins_needs_one_and_at_most_the_maximum():
    with pytest.raises(InvalidOrigins) as exc:
        parse_origins(" \n ")
    assert exc.value.errors == [(1, "", "List at least one site, or let any site show your booking page.")]
    many = "\n".join(f"https://s{i}.example" for i in range(MAX_ORIGINS + 1))
    with pytest.raises(InvalidOrigins) as exc:
        parse_origins(many)
    assert exc.value.errors == [(MAX_ORIGINS + 1, f"https://s{MAX_ORIGINS}.example", f"List at most {MAX_ORIGINS} sites.")]


def test_frame_ancestors():
    assert FramingPolicy().frame_ancestors() == "*"
    assert FramingPolicy().frame_ancestors("'self'") == "'self'"
    assert FramingPolicy(("https://a.example", "https://*.b.example")).frame_ancestors() == "'self' https://a.example https://*.b.example"
