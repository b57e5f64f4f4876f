"""Availability versions: counters that go up in the same transaction as every change that can
change a staff member's free slots, so cached availability (:mod:`app.services.availability_cache`)
is keyed on them and never needs guessing which keys a change touched.

* ``staff_member.availability_version``: any change to a booking's hold (status, times, buffers,
  seats, service, staff member, expiry) bumps the version of the staff member(s) it touches
  (both, when a booking moves to another staff member). The booking's unit of work already holds
  those staff rows (``SELECT ... FOR UPDATE`` on PostgreSQL, the write lock on SQLite), so this
  adds no contention.
* ``business.availability_version``: any change to the business itself (its zone), its booking
  settings, services (their staff included), staff members, weekly hours or date overrides. A
  booking never bumps it: that would make every booking of a business wait on one row.

The mechanism is a session listener, not a call each service must remember: ``after_flush`` looks
at what the flush wrote (``session.new``/``dirty``/``deleted`` and attribute history are still the
pre-flush view there) and runs ``UPDATE ... SET availability_version = availability_version + 1``
in the flush's transaction, so a version cannot go up without its change, or the change commit
without its version. Running it after the flush's own writes keeps the business row last in
every transaction's lock order (hours changes lock the staff row first, then the business row).

Writes that bypass the unit of work of the ORM, such as ``session.execute(update(Booking)...)``
or a bulk ``insert(Booking)``, are caught by a ``do_orm_execute`` listener that bumps every
business's version (it cannot tell which rows the statement touches). Raw SQL text and writes
from outside the app (psql, another program) are not seen: bump the versions yourself there.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from app.models import Booking, BookingSettings, Business, DateOverride, Service, StaffMember, WeeklyHours

# What the availability engine reads from a booking: a change to any of these changes what the
# booking holds. Notes, names, the calendar sequence and the like do not.
BOOKING_HOLD_ATTRIBUTES = frozenset(
    {
        "staff_id", "staff", "start_at", "end_at", "buffer_before_minutes", "buffer_after_minutes",
        "service_id", "service", "seats", "status", "expires_at",
    }
)
# Attributes whose change bumps nothing: the counters themselves.
_IGNORED = frozenset({"availability_version"})
# Tables a bulk statement may not write without every business's version going up.
WATCHED_TABLES = frozenset(
    {"booking", "business", "booking_settings", "service", "service_staff", "staff_member", "weekly_hours", "date_override"}
)
_PENDING_BUMPS = "flowkey_availability_versions_pending"
_PENDING_EXPIRY = "flowkey_availability_versions_bumped"
_UNCOMMITTED = "flowkey_availability_versions_uncommitted"


def bump_staff(session: Session, staff_ids: Iterable[int]) -> None:
    """``availability_version + 1`` for ``staff_ids`` in ``session``'s transaction (one UPDATE)."""
    ids = sorted({i for i in staff_ids if i is not None})
    if ids:
        table = StaffMember.__table__
        session.connection().execute(
            update(table).where(table.c.id.in_(ids)).values(availability_version=table.c.availability_version + 1)
        )
        _remember(session, StaffMember, ids)


def bump_businesses(session: Session, business_ids: Iterable[int] | None) -> None:
    """``availability_version + 1`` for ``business_ids`` (every business when None) in
    ``session``'s transaction (one UPDATE)."""
    table = Business.__table__
    statement = update(table).values(availability_version=table.c.availability_version + 1)
    if business_ids is not None:
        ids = sorted({i for i in business_ids if i is not None})
        if not ids:
            return
        statement = statement.where(table.c.id.in_(ids))
    session.connection().execute(statement)
    _remember(session, Business, None if business_ids is None else ids)


def _remember(session: Session, cls: type, ids: list[int] | None) -> None:
    """Note the loaded objects whose ``availability_version`` is now stale in this session (they
    are expired once the flush is over: expiring during it would disturb the flush), and that the
    transaction holds version bumps not yet committed."""
    session.info.setdefault(_PENDING_EXPIRY, []).append((cls, ids))
    session.info[_UNCOMMITTED] = True


def uncommitted(session: Session) -> bool:
    """True while ``session`` has availability changes it has not committed: bumped versions in
    its open transaction, or changed objects not flushed yet. Availability computed now would show
    what other sessions cannot see, and the bumped versions may still be rolled back: it must not
    be cached."""
    return bool(session.info.get(_UNCOMMITTED) or session.new or session.dirty or session.deleted)


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:  # committed or rolled back: nothing of it is pending any more
        session.info.pop(_UNCOMMITTED, None)


def _values(obj, key: str, load: bool) -> set:
    """Every value ``obj.key`` has had since the last flush (current and replaced), without None;
    for a relationship, the related objects' ids. ``load``: read an unloaded column from the
    database (before the flush, while the row is still there); an unloaded relationship is never
    loaded (it was not changed, and its foreign key column says the same)."""
    attr = inspect(obj).attrs[key]
    relationship = key in inspect(type(obj)).relationships
    history = attr.load_history() if load and not relationship else attr.history
    values = {*history.added, *history.unchanged, *history.deleted}
    if relationship:
        values = {inspect(v).identity[0] if inspect(v).identity else v.id for v in values if v is not None}
    return {v for v in values if v is not None}


def _changed(obj) -> set[str]:
    """Names of ``obj``'s attributes changed since the last flush (collections included)."""
    return {attr.key for attr in inspect(obj).attrs if attr.history.has_changes()} - _IGNORED


def _collect(objects: Iterable[tuple[object, str]], load: bool) -> tuple[set[int], set[int], set[int]]:
    """``(staff ids, business ids, staff ids whose business to bump)`` for ``(object, how)``
    pairs, ``how`` being "new", "dirty" or "deleted"."""
    staff: set[int] = set()
    businesses: set[int] = set()
    businesses_of_staff: set[int] = set()
    for obj, how in objects:
        if isinstance(obj, Booking):
            if how != "dirty" or _changed(obj) & BOOKING_HOLD_ATTRIBUTES:
                staff |= _values(obj, "staff_id", load) | _values(obj, "staff", load)
        elif isinstance(obj, Business):
            if how == "dirty" and _changed(obj):
                businesses.add(obj.id)
        elif isinstance(obj, (BookingSettings, Service, StaffMember)):
            if how != "dirty" or _changed(obj):
                businesses |= _values(obj, "business_id", load) | _values(obj, "business", load)
        elif isinstance(obj, (WeeklyHours, DateOverride)):
            if how != "dirty" or _changed(obj):
                businesses_of_staff |= _values(obj, "staff_id", load) | _values(obj, "staff", load)
    return staff, businesses, businesses_of_staff


def _before_flush(session: Session, _flush_context, _instances) -> None:
    # Changed and deleted rows are read now, while every row is still there to load a value
    # from; new rows after the flush, once their ids and foreign keys are set.
    session.info[_PENDING_BUMPS] = _collect(
        [(obj, "dirty") for obj in session.dirty] + [(obj, "deleted") for obj in session.deleted], load=True
    )


def _after_flush(session: Session, _flush_context) -> None:
    staff, businesses, businesses_of_staff = _collect([(obj, "new") for obj in session.new], load=False)
    before = session.info.pop(_PENDING_BUMPS, (set(), set(), set()))
    staff |= before[0]
    businesses |= before[1]
    businesses_of_staff |= before[2]
    if businesses_of_staff:
        table = StaffMember.__table__
        businesses |= set(
            session.connection().execute(select(table.c.business_id).where(table.c.id.in_(sorted(businesses_of_staff)))).scalars()
        )
    bump_staff(session, staff)
    if businesses:
        bump_businesses(session, businesses)


def _after_flush_postexec(session: Session, _flush_context) -> None:
    for cls, ids in session.info.pop(_PENDING_EXPIRY, []):
        _expire_versions(session, cls, ids)


def _expire_versions(session: Session, cls: type, ids: list[int] | None) -> None:
    """Expire ``availability_version`` of the loaded ``cls`` objects with ``ids`` (all when None),
    so reading it again in this transaction loads the bumped value."""
    if ids is None:
        objects = [o for o in session.identity_map.values() if isinstance(o, cls)]
    else:
        mapper = inspect(cls)
        objects = [session.identity_map.get(mapper.identity_key_from_primary_key([i])) for i in ids]
    for obj in objects:
        if obj is not None and obj not in session.deleted:
            session.expire(obj, ["availability_version"])


def _on_execute(state) -> None:
    """A bulk INSERT/UPDATE/DELETE through ``session.execute`` on a table availability reads:
    bump every business (nothing tells which rows it touched)."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in WATCHED_TABLES:
        bump_businesses(state.session, None)
        _after_flush_postexec(state.session, None)


def install() -> None:
    """Listen on every SQLAlchemy session (idempotent: safe to call for every app made)."""
    for name, listener in (
        ("before_flush", _before_flush),
        ("after_flush", _after_flush),
        ("after_flush_postexec", _after_flush_postexec),
        ("do_orm_execute", _on_execute),
        ("after_transaction_end", _after_transaction_end),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
