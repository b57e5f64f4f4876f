"""Text people type: one rule for every form, API model and service that stores it.

A one-line value (a name, a business, service or staff name, a phone number, an e-mail address,
an address) must not contain control characters: C0 (U+0000-U+001F, which includes NUL, tab, CR
and LF), DEL (U+007F), C1 (U+0080-U+009F) or the Unicode line and paragraph separators
(U+2028, U+2029). Such a value ends up in e-mail headers, where a line break is refused by the
``email`` package (RFC 5322 section 2.2: header bodies are one logical line), and PostgreSQL
cannot store NUL at all. A multi-line value (notes, descriptions, reasons) keeps its line breaks
(normalised to LF) and tabs and loses every other control character. Lone surrogates (which no
UTF-8 database can store) are refused in both.

:func:`check_line` and :func:`clean_paragraph` are the pure rule; :class:`SingleLine` and
:func:`paragraph_filter` apply it to WTForms fields; :mod:`app.api.schemas` wraps the same
functions as pydantic types, and the services call :func:`check_line` for callers that bypass both
(CLI, demo).
"""
from __future__ import annotations

import re

from wtforms.validators import StopValidation

LINE_MESSAGE = "Remove line breaks, tabs and other control characters."
SURROGATE_MESSAGE = "Contains characters that are not allowed."

# C0, DEL, C1, and the two Unicode separators that str.splitlines() and mail readers treat as breaks.
_NOT_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# What a paragraph drops: the same minus LF and tab (CR is normalised to LF first).
_NOT_IN_PARAGRAPH = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadText(ValueError):
    """A value that cannot be stored as given; ``str(exc)`` is the message for the person typing."""


def check_line(value: str) -> str:
    """``value`` unchanged when it is a valid one-line value; raises :class:`BadText` otherwise."""
    if _SURROGATE.search(value):
        raise BadText(SURROGATE_MESSAGE)
    if _NOT_IN_LINE.search(value):
        raise BadText(LINE_MESSAGE)
    return value


def clean_paragraph(value: str) -> str:
    """``value`` with CRLF and lone CR turned into LF, U+2028/U+2029 into LF, and every other
    control character except LF and tab removed. Raises :class:`BadText` for lone surrogates."""
    if _SURROGATE.search(value):
        raise BadText(SURROGATE_MESSAGE)
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return _NOT_IN_PARAGRAPH.sub("", value)


def one_line(value: str) -> str:
    """Every run of whitespace and control characters in ``value`` as one space, stripped: the
    shape a value must have to sit in an e-mail header, whatever was stored."""
    return " ".join(_NOT_IN_LINE.sub(" ", value).split())


class SingleLine:
    """WTForms validator: the field's data is a one-line value (see :func:`check_line`); stops
    the chain with the message otherwise, so later validators never see the bad value."""

    def __call__(self, form, field) -> None:
        if isinstance(field.data, str):
            try:
                check_line(field.data)
            except BadText as exc:
                raise StopValidation(str(exc)) from None


def paragraph_filter(value):
    """WTForms filter for a multi-line field: :func:`clean_paragraph`, leaving a value with lone
    surrogates for the form to refuse (a filter cannot report an error)."""
    if not isinstance(value, str):
        return value
    try:
        return clean_paragraph(value)
    except BadText:
        return value
