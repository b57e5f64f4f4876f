"""The booking state machine: every (current, target) pair, legal or not."""
from __future__ import annotations

import itertools

import pytest

from app.domain.booking_state import HOLDING_STATUSES, BookingStatus, IllegalTransition, transition

S = BookingStatus
LEGAL = {
    (S.PENDING, S.CONFIRMED),
    (S.PENDING, S.REJECTED),
    (S.PENDING, S.EXPIRED),
    (S.PENDING, S.CANCELLED),
    (S.CONFIRMED, S.COMPLETED),
    (S.CONFIRMED, S.NO_SHOW),
    (S.CONFIRMED, S.CANCELLED),
}
ALL_PAIRS = list(itertools.product(S, S))


def test_the_table_covers_seven_statuses():
    assert [s.value for s in S] == ["pending", "confirmed", "rejected", "expired", "cancelled", "completed", "no_show"]
    assert len(ALL_PAIRS) == 49


@pytest.mark.parametrize("current,target", sorted(LEGAL), ids=lambda s: s.value)
def test_legal(current, target):
    assert transition(current, target) is target


@pytest.mark.parametrize(
    "current,target", [p for p in ALL_PAIRS if p not in LEGAL], ids=lambda s: s.value
)
def test_illegal(current, target):
    with pytest.raises(IllegalTransition) as info:
        transition(current, target)
    assert (info.value.current, info.value.target) == (current, target)
    assert str(info.value) == f"a {current.label} booking cannot become {target.label}"


def test_terminal_states_go_nowhere():
    terminal = {s for s in S if not any(transition_ok(s, t) for t in S)}
    assert terminal == {S.REJECTED, S.EXPIRED, S.CANCELLED, S.COMPLETED, S.NO_SHOW}


def transition_ok(current, target) -> bool:
    try:
        transition(current, target)
    except IllegalTransition:
        return False
    return True


def test_holding_statuses_and_labels():
    assert HOLDING_STATUSES == {S.PENDING, S.CONFIRMED}
    assert {s: s.label for s in S} == {
        S.PENDING: "awaiting approval",
        S.CONFIRMED: "confirmed",
        S.REJECTED: "rejected",
        S.EXPIRED: "expired",
        S.CANCELLED: "cancelled",
        S.COMPLETED: "completed",
        S.NO_SHOW: "no-show",
    }
