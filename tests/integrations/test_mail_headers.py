"""MIME assembly never puts a line break in a header: every value is folded to one line first."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app.integrations.mail import Mailer, OutgoingEmail, header_value


class NoTransport:
    name = "none"

    def send(self, message):  # pragma: no cover - never called here
        raise AssertionError


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Eve\r\nBcc: x@evil.example", "Eve Bcc: x@evil.example"),
        ("  a\tb\x00c\x85d\u2028e\u2029f  ", "a b c d e f"),
        ("plain", "plain"),
        ("\r\n", ""),
    ],
)
def test_header_value_is_one_line(raw, expected):
    assert header_value(raw) == expected


def test_to_mime_folds_every_header_value():
    mailer = Mailer("Flowkey <bookings@flowkey.test>", NoTransport())
    email = OutgoingEmail(
        template="owner_confirmed", to=("owner@example.com\r\n",), subject="New booking: Eve\r\nBcc: x@evil.example",
        text="body", html="<p>body</p>", from_name="Swim\nSchool", reply_to="hello@swim.example\r\n",
    )
    message = mailer.to_mime(email, key="k", now=datetime(2027, 1, 1, tzinfo=timezone.utc))
    data = message.as_bytes()
    assert message["Subject"] == "New booking: Eve Bcc: x@evil.example"
    assert message["From"] == "Swim School <bookings@flowkey.test>"
    assert message["Reply-To"] == "hello@swim.example"
    assert message["To"] == "owner@example.com"
    assert message["Bcc"] is None and b"\nBcc:" not in data
