"""The integration registry: one fake provider per kind, looked up without knowing the provider."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.integrations import registry
from app.integrations.errors import PermanentError, UnknownProvider
from app.integrations.registry import (
    BusyInterval,
    CalendarClient,
    CalendarEvent,
    CalendarEventRef,
    CrmBooking,
    CrmClient,
    CrmContact,
    Meeting,
    MeetingRequest,
    MessagingClient,
    OutgoingMessage,
    SentMessage,
    VideoClient,
    client_for,
    providers,
    register,
)

NOON = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def isolated_registry(monkeypatch):
    """Each test registers into a copy, so fakes never leak into other tests."""
    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))


class FakeCalendar:
    def __init__(self, credentials, config):
        self.token, self.base_url = credentials["token"], config["FAKE_CALENDAR_URL"]
        self.events: dict[str, CalendarEvent] = {}

    def busy_intervals(self, start, end):
        return [BusyInterval(e.start, e.end) for e in self.events.values() if e.start < end and start < e.end]

    def create_event(self, event):
        self.events[event.uid] = event
        return CalendarEventRef(event.uid, f"evt-{event.uid}")

    def update_event(self, ref, event):
        self.events[ref.uid] = event
        return ref

    def delete_event(self, ref):
        self.events.pop(ref.uid, None)


class FakeVideo:
    def create_meeting(self, request):
        return Meeting(meeting_id=request.uid, join_url=f"https://video.example/j/{request.uid}")

    def delete_meeting(self, meeting_id):
        pass


class FakeMessaging:
    def send_message(self, message):
        return SentMessage(message_id=f"SM-{message.idempotency_key}", status="queued")


class FakeCrm:
    def list_clients(self):
        yield CrmContact("Ada", "ada@example.com", external_id="1")

    def upsert_client(self, contact):
        return contact.external_id or "2"

    def push_booking(self, booking):
        return booking.external_id or f"b-{booking.reference}"


def register_fakes():
    register("calendar", "fakecal")(FakeCalendar)
    register("video", "fakevideo")(lambda credentials, config: FakeVideo())
    register("messaging", "fakesms")(lambda credentials, config: FakeMessaging())
    register("crm", "fakecrm")(lambda credentials, config: FakeCrm())


def test_client_for_returns_the_registered_client_of_each_kind():
    register_fakes()
    calendar = client_for("calendar", "fakecal", {"token": "t"}, {"FAKE_CALENDAR_URL": "http://127.0.0.1:1"})
    assert isinstance(calendar, FakeCalendar) and (calendar.token, calendar.base_url) == ("t", "http://127.0.0.1:1")
    assert isinstance(client_for("video", "fakevideo", {}, {}), FakeVideo)
    assert isinstance(client_for("messaging", "fakesms", {}, {}), FakeMessaging)
    assert isinstance(client_for("crm", "fakecrm", {}, {}), FakeCrm)
    assert "fakecal" in providers("calendar") and "fakecal" not in providers("video")


def test_the_clients_are_used_through_the_protocols_plain_values():
    register_fakes()
    calendar = client_for("calendar", "fakecal", {"token": "t"}, {"FAKE_CALENDAR_URL": "http://x"})
    event = CalendarEvent(uid="bk-1@flowkey", start=NOON, end=NOON + timedelta(minutes=45), summary="Private lesson", time_zone="Europe/London")
    ref = calendar.create_event(event)
    assert calendar.busy_intervals(NOON - timedelta(hours=1), NOON + timedelta(hours=1)) == [BusyInterval(NOON, NOON + timedelta(minutes=45))]
    assert calendar.busy_intervals(NOON + timedelta(minutes=45), NOON + timedelta(hours=2)) == []  # half-open
    calendar.delete_event(ref)
    assert calendar.busy_intervals(NOON, NOON + timedelta(hours=1)) == []

    meeting = client_for("video", "fakevideo", {}, {}).create_meeting(MeetingRequest("bk-1", "Lesson", NOON, NOON + timedelta(hours=1)))
    assert meeting.join_url == "https://video.example/j/bk-1"
    sent = client_for("messaging", "fakesms", {}, {}).send_message(OutgoingMessage("+447700900123", "See you at 12:00", idempotency_key="k1"))
    assert sent == SentMessage("SM-k1", "queued")
    crm = client_for("crm", "fakecrm", {}, {})
    assert [c.name for c in crm.list_clients()] == ["Ada"]
    assert crm.push_booking(CrmBooking("ABC123", "1", "Private lesson", NOON, NOON + timedelta(hours=1), "confirmed")) == "b-ABC123"


@pytest.mark.parametrize(
    "fake, protocol",
    [(FakeCalendar({"token": "t"}, {"FAKE_CALENDAR_URL": "x"}), CalendarClient), (FakeVideo(), VideoClient), (FakeMessaging(), MessagingClient), (FakeCrm(), CrmClient)],
)
def test_fakes_satisfy_their_protocol_and_only_theirs(fake, protocol):
    assert isinstance(fake, protocol)
    others = {CalendarClient, VideoClient, MessagingClient, CrmClient} - {protocol}
    assert not any(isinstance(fake, other) for other in others)


def test_an_unknown_provider_raises_a_clear_permanent_lookup_error():
    register_fakes()
    with pytest.raises(UnknownProvider, match="no calendar client for provider 'nope' \\(registered: .*fakecal") as info:
        client_for("calendar", "nope", {}, {})
    assert isinstance(info.value, LookupError) and isinstance(info.value, PermanentError) and info.value.permanent
    with pytest.raises(LookupError):
        client_for("video", "fakecal", {}, {})  # registered, but for another kind


def test_a_factory_must_return_a_client_of_its_kind():
    register("video", "broken")(lambda credentials, config: FakeMessaging())
    with pytest.raises(TypeError, match="not a VideoClient"):
        client_for("video", "broken", {}, {})


def test_register_refuses_unknown_kinds_and_duplicates():
    with pytest.raises(ValueError, match="unknown integration kind"):
        register("fax", "acme")
    register("messaging", "dup")(lambda credentials, config: FakeMessaging())
    with pytest.raises(ValueError, match="already registered"):
        register("messaging", "dup")(FakeMessaging)
