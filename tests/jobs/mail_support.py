"""Helpers to take apart what arrived at the fake SMTP server."""
from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

from icalendar import Calendar

from tests.fakes.smtp_server import Received


@dataclass
class Parsed:
    rcpt_tos: list[str]
    message: EmailMessage
    subject: str
    template: str
    text: str
    html: str
    structure: list[str]  # content types, depth-first, indented by nesting
    calendar_method_param: str | None  # method= of the inline text/calendar part
    attachment_method_param: str | None
    calendar: Calendar | None  # the inline part parsed
    attachment: Calendar | None  # invite.ics parsed


def _structure(part, depth=0) -> list[str]:
    lines = ["  " * depth + part.get_content_type()]
    if part.is_multipart():
        for sub in part.iter_parts():
            lines += _structure(sub, depth + 1)
    return lines


def parse(received: Received) -> Parsed:
    msg = received.message
    text = html = None
    inline = attachment = None
    inline_method = attachment_method = None
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype, disposition = part.get_content_type(), part.get_content_disposition()
        if ctype == "text/plain" and disposition is None:
            text = part.get_content()
        elif ctype == "text/html":
            html = part.get_content()
        elif ctype == "text/calendar" and disposition == "attachment":
            attachment = Calendar.from_ical(part.get_payload(decode=True))
            attachment_method = part.get_param("method")
        elif ctype == "text/calendar":
            inline = Calendar.from_ical(part.get_content())
            inline_method = part.get_param("method")
    return Parsed(
        rcpt_tos=received.rcpt_tos,
        message=msg,
        subject=str(msg["Subject"]).strip(),  # Python folds long headers as "Subject:\n value"
        template=msg["X-Flowkey-Template"],
        text=text,
        html=html,
        structure=_structure(msg),
        calendar_method_param=inline_method,
        attachment_method_param=attachment_method,
        calendar=inline,
        attachment=attachment,
    )


def event_of(cal: Calendar):
    [event] = cal.walk("VEVENT")
    return event
