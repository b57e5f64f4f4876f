"""What each kind of integration can do, and which client serves a given provider.

A service asks for "the calendar client of this connection" without knowing the provider::

    client = client_for("calendar", connection.provider, credentials, current_app.config)
    busy = client.busy_intervals(start_utc, end_utc)

Four kinds, each a small :class:`typing.Protocol` (``runtime_checkable``: ``isinstance`` checks
that the methods exist, not their signatures): :class:`CalendarClient`, :class:`VideoClient`,
:class:`MessagingClient`, :class:`CrmClient`. Their arguments and results are the plain frozen
dataclasses below: integrations never see app models or services. Every datetime is
timezone-aware UTC; intervals are half-open ``[start, end)``. Methods raise the kinds of
:mod:`app.integrations.errors`.

A provider module registers a factory ``(credentials, config) -> client`` per kind it serves::

    @register("calendar", "google_calendar")
    def _calendar(credentials: Mapping[str, Any], config: Mapping[str, Any]) -> GoogleCalendarClient:
        return GoogleCalendarClient(credentials["access_token"], base_url=config["GOOGLE_CALENDAR_URL"])

The provider modules of this package are imported on the first lookup, so a new one needs no
registration anywhere else.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from app.integrations.errors import UnknownProvider

# --- calendars ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BusyInterval:
    """Time the calendar's owner is busy: ``[start, end)``, aware UTC datetimes."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Attendee:
    email: str
    name: str = ""


@dataclass(frozen=True)
class CalendarEvent:
    """The event a booking puts in a calendar.

    ``uid``: the booking's stable calendar UID (the same one as in its e-mail invitations, RFC 5545
    section 3.8.4.7), kept for the booking's whole life; ``sequence`` rises on every change (RFC
    5546). ``start``/``end``: aware UTC; ``time_zone``: the IANA zone to show it in.
    """

    uid: str
    start: datetime
    end: datetime
    summary: str
    time_zone: str = "UTC"
    description: str = ""
    location: str = ""
    attendees: tuple[Attendee, ...] = ()
    sequence: int = 0


@dataclass(frozen=True)
class CalendarEventRef:
    """Where the provider stored an event: its ``uid``, the provider's ``event_id`` (a Google or
    Graph id, a CalDAV href) and ``etag`` when the provider versions events (CalDAV ``If-Match``).
    The caller keeps it to update or delete the event."""

    uid: str
    event_id: str
    etag: str | None = None


@runtime_checkable
class CalendarClient(Protocol):
    """A calendar a connection can read busy time from and write booking events to."""

    def busy_intervals(self, start: datetime, end: datetime) -> list[BusyInterval]:
        """Busy intervals overlapping ``[start, end)`` (aware UTC), in start order."""
        ...

    def create_event(self, event: CalendarEvent) -> CalendarEventRef:
        """Create the event for a booking. Idempotent by ``event.uid``: a retry after a lost
        reply returns the existing event instead of a second one."""
        ...

    def update_event(self, ref: CalendarEventRef, event: CalendarEvent) -> CalendarEventRef:
        """Replace the event at ``ref`` (same UID) with ``event``; returns the new ref (etag)."""
        ...

    def delete_event(self, ref: CalendarEventRef) -> None:
        """Delete the event at ``ref``; an event already gone is not an error."""
        ...


# --- video meetings -------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingRequest:
    """A meeting for a booking: ``uid`` (the booking's UID, the idempotency key), ``topic``,
    ``start``/``end`` aware UTC, ``time_zone`` IANA, for the provider's display."""

    uid: str
    topic: str
    start: datetime
    end: datetime
    time_zone: str = "UTC"


@dataclass(frozen=True)
class Meeting:
    """A created meeting: the provider's ``meeting_id``, the ``join_url`` to give the client, the
    host's ``start_url`` and the ``passcode`` when the provider has them."""

    meeting_id: str
    join_url: str
    start_url: str | None = None
    passcode: str | None = None


@runtime_checkable
class VideoClient(Protocol):
    """A video-meeting provider (Zoom, Google Meet, Teams)."""

    def create_meeting(self, request: MeetingRequest) -> Meeting:
        """Create a meeting; idempotent by ``request.uid`` where the provider allows it."""
        ...

    def delete_meeting(self, meeting_id: str) -> None:
        """Delete the meeting; a meeting already gone is not an error."""
        ...


# --- messaging channels ---------------------------------------------------------------------

#: Normalised delivery states: "queued" (accepted, not yet sent), "sent", "delivered", "failed".
MessageStatus = Literal["queued", "sent", "delivered", "failed"]


@dataclass(frozen=True)
class OutgoingMessage:
    """A text to one address in the channel's own form (E.164 ``+447700900123``,
    ``whatsapp:+44...``, a Messenger PSID). ``idempotency_key``: the same for every attempt of
    one message, so a retry is not sent twice where the provider supports it."""

    to: str
    text: str
    idempotency_key: str | None = None


@dataclass(frozen=True)
class SentMessage:
    """The provider's ``message_id`` (a Twilio SID, a Meta ``mid``) and its ``status``."""

    message_id: str
    status: MessageStatus


@runtime_checkable
class MessagingClient(Protocol):
    """A messaging channel (SMS, WhatsApp, Messenger, Instagram)."""

    def send_message(self, message: OutgoingMessage) -> SentMessage:
        """Send ``message``; returns once the provider accepted it (not when delivered)."""
        ...


# --- CRM ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrmContact:
    """A client (customer) of the business as a CRM stores it; ``external_id`` is the CRM's id,
    None for one not yet in the CRM."""

    name: str
    email: str | None = None
    phone: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class CrmBooking:
    """A booking pushed to a CRM: ``reference`` (Flowkey's, stable), ``contact_id`` (the CRM's
    client id), ``service``, ``start``/``end`` aware UTC, ``status`` (Flowkey's booking state),
    ``external_id`` when the CRM already has it."""

    reference: str
    contact_id: str
    service: str
    start: datetime
    end: datetime
    status: str
    external_id: str | None = None


@runtime_checkable
class CrmClient(Protocol):
    """A CRM or booking system to import clients from and push bookings to (SimplyBook.me)."""

    def list_clients(self) -> Iterable[CrmContact]:
        """Every client in the CRM (pages fetched as the caller iterates)."""
        ...

    def upsert_client(self, contact: CrmContact) -> str:
        """Create the client, or update it when ``contact.external_id`` is set; returns its CRM id."""
        ...

    def push_booking(self, booking: CrmBooking) -> str:
        """Create or update the booking in the CRM; returns its CRM id."""
        ...


# --- the registry ---------------------------------------------------------------------------

Kind = Literal["calendar", "video", "messaging", "crm"]
PROTOCOLS: dict[str, type] = {"calendar": CalendarClient, "video": VideoClient, "messaging": MessagingClient, "crm": CrmClient}

#: ``factory(credentials, config) -> client``: credentials are the connection's decrypted secrets
#: and settings (never logged), config the app's (base URLs, timeouts).
Factory = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]
F = TypeVar("F", bound=Factory)

_FACTORIES: dict[tuple[str, str], Factory] = {}
_loaded = False


def register(kind: Kind, provider: str) -> Callable[[F], F]:
    """Decorator: ``factory`` builds the ``kind`` client of ``provider``. Raises ``ValueError``
    for an unknown kind or a provider already registered for that kind with another factory."""
    if kind not in PROTOCOLS:
        raise ValueError(f"unknown integration kind {kind!r} (one of {', '.join(PROTOCOLS)})")

    def decorator(factory: F) -> F:
        existing = _FACTORIES.get((kind, provider))
        if existing is not None and existing is not factory:
            raise ValueError(f"{kind} provider {provider!r} is already registered")
        _FACTORIES[(kind, provider)] = factory
        return factory

    return decorator


def providers(kind: Kind) -> list[str]:
    """The providers registered for ``kind``, sorted (what a settings page can offer)."""
    _load_provider_modules()
    return sorted(p for k, p in _FACTORIES if k == kind)


def client_for(kind: Kind, provider: str, credentials: Mapping[str, Any], config: Mapping[str, Any]) -> Any:
    """The ``kind`` client for a connection to ``provider``, built from its ``credentials`` and
    the app ``config``. Raises :class:`~app.integrations.errors.UnknownProvider` (a
    PermanentError and a LookupError) when no such client is registered, ``TypeError`` when the
    factory returns something without the kind's methods, and whatever the factory raises
    (``AuthenticationRequired`` for credentials it cannot use)."""
    _load_provider_modules()
    factory = _FACTORIES.get((kind, provider))
    if factory is None:
        known = ", ".join(providers(kind)) or "none"
        raise UnknownProvider(f"no {kind} client for provider {provider!r} (registered: {known})", provider=provider)
    client = factory(credentials, config)
    protocol = PROTOCOLS[kind]
    if not isinstance(client, protocol):
        raise TypeError(f"the {kind} factory of {provider!r} returned {type(client).__name__}, not a {protocol.__name__}")
    return client


def _load_provider_modules() -> None:
    """Import every module of this package once, so their ``@register`` lines run."""
    global _loaded
    if _loaded:
        return
    import app.integrations as package

    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{module.name}")
    _loaded = True
