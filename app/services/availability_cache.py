"""Cached availability for clients' reads: never a freed or taken slot served late.

An entry is one staff member's free slots of one service on one local date (business zone), keyed
on everything that can change them::

    <prefix>:<business id>.<business created_at µs>.<business version>:<service id>:<staff id>.<staff version>:<date>

The versions (:mod:`app.services.availability_versions`) go up in the same transaction as every
change that can change availability, so a change is never served late: once it commits, every
reader loads the new versions, reads other keys and computes them. ``created_at`` tells a business
from an earlier one that had the same id (a database restored or recreated beside a Redis that
kept its keys); ``<prefix>`` carries a digest of the code that computes and stores entries (the
engine, its loading, this module), so a deploy that changes it starts with fresh keys.

Time still moves with no change at all:

* Entries are computed with the minimum notice counted from the computing instant and no maximum
  advance; every read filters ``now + notice <= start <= now + advance`` with its own ``now``. As
  time passes slots only ever leave by notice, so this is exact. An entry computed at a later
  instant than the read's ``now`` (another process's clock, a test's) is not used.
* A pending request holds its time until its ``expires_at`` and then stops, with no event: an
  entry's ``valid_until`` is the earliest ``expires_at`` of the pending holds that could reach its
  date (None: no limit). From that instant the entry is computed again.

The read path: the business, its settings, services and their staff, as an immutable snapshot
(:class:`~app.services.availability_service.BusinessConfig`, plain values, no ORM objects) that
this process keeps per slug and uses only while one cheap query (:func:`current`: the business's
id, ``created_at`` and version, and its staff members' versions) says it is current; otherwise
(first read in this process, or the business's version moved) from
:func:`app.services.availability_service.load_business_for_availability` (one joined query),
snapshotted again. Pages that render the business load it that way and read its snapshot from
the same memo. Then one cache lookup for every (staff member, date) of the request (Redis: one
MGET); then one computation for whatever was missing or stale (hours and overrides in one query,
every staff member's holds over the missing dates in one more), stored back (Redis: one pipeline
of SETs with a TTL). The snapshots stay in each process even with Redis: they are checked against
the database on every read anyway, a miss costs the one joined query a cold read makes, and
keeping them local keeps the warm read at one query and one MGET.

Where: Redis when ``REDIS_URL`` is set (shared by every process; a Redis error never fails a
read: it is computed instead, the outage logged once, and Redis left alone for a few seconds),
else a bounded LRU in this process (exact all the same: the versions come from the database).
``AVAILABILITY_CACHE=off`` computes every read.

Clients' reads come here through :func:`app.services.availability_service.available_slots` (the
public availability API, the month and times page, the details page's check). The booking path
(create, approve, reschedule) never reads the cache: it computes under its lock with
:func:`app.services.availability_service.slots_per_staff`.
"""
from __future__ import annotations

import hashlib
import json
import logging
import sys
import threading
import time as clock
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import bindparam, select

from app import metrics
from app.domain import availability as engine
from app.extensions import db
from app.models import Business, Service, StaffMember, utcnow
from app.services import availability_service, availability_versions

log = logging.getLogger(__name__)

# Redis keeps an entry this long after it was written (an old version's entries just age out).
TTL_SECONDS = 2 * 24 * 3600
# The in-process store keeps at most this many entries, least recently used out first.
LOCAL_MAX_ENTRIES = 10_000
# This process remembers the availability snapshots of at most this many businesses.
SNAPSHOT_MAX_ENTRIES = 1_000
# A Redis that does not answer costs a read at most this long, and is left alone for
# REDIS_RETRY_SECONDS before it is tried again.
REDIS_TIMEOUT_SECONDS = 0.5
REDIS_RETRY_SECONDS = 5.0
# "No maximum advance" when computing entries: reads filter by the business's (at most 730 days).
UNBOUNDED_ADVANCE_DAYS = 36_600
# A hold can change the slots of a date only if it lies within this reach of the date: a slot
# lasts at most a day (it fits in one working day of its staff member), buffers are at most
# MAX_BUFFER_MINUTES (a day) each side, and a staff member's zone is at most ~26 h from the
# business's.
HOLD_REACH = timedelta(days=4)
_OFF = {"off", "0", "false", "no"}
_EPOCH = datetime(1970, 1, 1, tzinfo=engine.UTC)
_MICROSECOND = timedelta(microseconds=1)
_SECOND = timedelta(seconds=1)


def _code_digest() -> str:
    """A digest of the code that decides what an entry holds: the engine, the loading of its
    inputs (with the models' buffer and zone rules) and this module."""
    from app.models import business as business_models

    digest = hashlib.sha256()
    for module in (engine, availability_service, business_models, sys.modules[__name__]):
        try:
            digest.update(Path(module.__file__).read_bytes())
        except (OSError, TypeError):  # no source beside the code: the module's name at least
            digest.update(module.__name__.encode())
    return digest.hexdigest()[:12]


KEY_PREFIX = f"flowkey:availability:{_code_digest()}"


@dataclass(frozen=True)
class Entry:
    """One staff member's free slots of one service on one date, as computed at ``computed_at``
    (UTC) with the minimum notice counted from then and no maximum advance; true until
    ``valid_until`` (UTC; None = until a version changes)."""

    staff_id: int
    slots: tuple[engine.Slot, ...]
    computed_at: datetime
    valid_until: datetime | None

    def usable_at(self, now: datetime) -> bool:
        return self.computed_at <= now and (self.valid_until is None or now < self.valid_until)


def _micros(instant: datetime) -> int:
    return (instant - _EPOCH) // _MICROSECOND


def encode(entry: Entry) -> bytes | None:
    """``entry`` as compact JSON, ``[computed µs, valid-until µs or null, staff id, start s, end s,
    spots, ...]`` (UTC epoch); None if a slot does not start and end on a whole second (then the
    entry is not stored)."""
    flat: list = [_micros(entry.computed_at), None if entry.valid_until is None else _micros(entry.valid_until), entry.staff_id]
    for slot in entry.slots:
        start, start_rest = divmod(slot.start - _EPOCH, _SECOND)
        end, end_rest = divmod(slot.end - _EPOCH, _SECOND)
        if start_rest or end_rest:
            return None
        flat += (start, end, slot.available_spots)
    return json.dumps(flat, separators=(",", ":")).encode()


def decode(raw: bytes) -> Entry | None:
    """The :class:`Entry` :func:`encode` wrote, or None for anything else."""
    try:
        flat = json.loads(raw)
        computed, valid, staff_id = flat[0], flat[1], flat[2]
        stamp = datetime.fromtimestamp
        slots = tuple(
            engine.Slot(stamp(flat[i], engine.UTC), stamp(flat[i + 1], engine.UTC), flat[i + 2], staff_id)
            for i in range(3, len(flat), 3)
        )
        return Entry(
            staff_id, slots, _EPOCH + computed * _MICROSECOND, None if valid is None else _EPOCH + valid * _MICROSECOND
        )
    except (ValueError, TypeError, IndexError, KeyError, OverflowError):
        return None


class LocalStore:
    """Entries in this process's memory: a thread-safe LRU of at most ``max_entries``."""

    def __init__(self, max_entries: int = LOCAL_MAX_ENTRIES):
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[str]) -> list[Entry | None]:
        with self._lock:
            found = []
            for key in keys:
                entry = self._entries.get(key)
                if entry is not None:
                    self._entries.move_to_end(key)
                found.append(entry)
            return found

    def set_many(self, entries: Iterable[tuple[str, Entry]]) -> None:
        with self._lock:
            for key, entry in entries:
                self._entries[key] = entry
                self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class RedisStore:
    """Entries in Redis, shared by every process: one MGET per read, one pipeline of SETs (with
    :data:`TTL_SECONDS`) per computation. Errors make a lookup find nothing and a write do
    nothing; the first of an outage is logged, and Redis is not asked again for
    :data:`REDIS_RETRY_SECONDS`."""

    def __init__(self, url: str):
        self.client = Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS)
        self._retry_at = 0.0
        self._failing = False

    def _usable(self) -> bool:
        return clock.monotonic() >= self._retry_at

    def _failed(self, exc: Exception) -> None:
        if not self._failing:
            log.warning("availability cache: Redis failed (%s); computing availability without it until it answers", exc)
        self._failing = True
        self._retry_at = clock.monotonic() + REDIS_RETRY_SECONDS

    def _answered(self) -> None:
        if self._failing:
            log.info("availability cache: Redis answers again")
        self._failing = False

    def get_many(self, keys: Sequence[str]) -> list[Entry | None]:
        if not keys or not self._usable():
            return [None] * len(keys)
        try:
            values = self.client.mget(keys)
        except RedisError as exc:
            self._failed(exc)
            return [None] * len(keys)
        self._answered()
        return [None if value is None else decode(value) for value in values]

    def set_many(self, entries: Iterable[tuple[str, Entry]]) -> None:
        if not self._usable():
            return
        pipe = self.client.pipeline(transaction=False)
        for key, entry in entries:
            value = encode(entry)
            if value is not None:
                pipe.set(key, value, ex=TTL_SECONDS)
        if not len(pipe):
            return
        try:
            pipe.execute()
        except RedisError as exc:
            self._failed(exc)
            return
        self._answered()


def enabled() -> bool:
    """False when the app's ``AVAILABILITY_CACHE`` setting is "off"."""
    return str(current_app.config.get("AVAILABILITY_CACHE", "on")).strip().lower() not in _OFF


def store() -> LocalStore | RedisStore:
    """The current app's store: Redis at ``REDIS_URL`` when set, else in this process. Made on
    first use (in each worker, after any fork) and again if ``REDIS_URL`` changes."""
    url = current_app.config.get("REDIS_URL") or None
    current = current_app.extensions.get("availability_cache")
    if current is None or current[0] != url:
        current = (url, RedisStore(url) if url else LocalStore())
        current_app.extensions["availability_cache"] = current
    return current[1]


def _daterange(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def offerable_dates(
    timezone: str, start_date: date, end_date: date, earliest: datetime, latest: datetime
) -> list[tuple[date, bool]]:
    """``(date, whole)`` for the dates of ``start_date..end_date`` (in ``timezone``) that may hold
    a slot starting in ``[earliest, latest]``, ``whole`` True when every slot of the date does.
    A day's bounds are widened by a day each way, so a zone whose midnight is skipped or repeated
    cannot mislead; the other dates have no slot a read could offer."""
    tz = ZoneInfo(timezone)
    one = timedelta(days=1)
    dates = []
    for d in _daterange(start_date, end_date):
        low, high = datetime.combine(d, time.min, tz) - one, datetime.combine(d + one, time.min, tz) + one
        if low <= latest and high > earliest:
            dates.append((d, earliest <= low and high <= latest))
    return dates


def _runs(dates: Sequence[date]) -> Iterator[tuple[date, date]]:
    """``(first, last)`` of each run of consecutive dates in sorted ``dates``."""
    run_start = previous = dates[0]
    for d in dates[1:]:
        if d != previous + timedelta(days=1):
            yield run_start, previous
            run_start = d
        previous = d
    yield run_start, previous


def _valid_until(pending: Sequence[availability_service.PendingHold], day: date, tz: ZoneInfo) -> datetime | None:
    """The earliest expiry of the pending holds that could reach ``day``'s slots, or None."""
    reach_from = datetime.combine(day, time.min, tz) - HOLD_REACH
    reach_to = datetime.combine(day + timedelta(days=1), time.min, tz) + HOLD_REACH
    return min((p.expires_at for p in pending if p.start < reach_to and p.end > reach_from), default=None)


def compute_entries(
    business: availability_service.BusinessConfig,
    service: availability_service.ServiceConfig,
    missing: dict[int, list[date]],
    staff: Sequence[availability_service.StaffConfig],
    now: datetime,
) -> dict[tuple[int, date], Entry]:
    """Entries for ``missing`` (``{staff id: [dates]}``, staff from ``staff``) as of ``now``: two
    queries (hours and overrides, then every staff member's holds over the span of all the
    dates), then the engine once per staff member and run of consecutive dates."""
    every_date = sorted({d for dates in missing.values() for d in dates})
    start, end = availability_service.range_bounds(business, every_date[0], every_date[-1])
    schedules, pending = availability_service.load_schedules_and_pending(
        [s for s in staff if s.id in missing], start, end, now
    )
    window = engine.BookingWindow(business.window.min_notice_minutes, UNBOUNDED_ADVANCE_DAYS)
    tz = ZoneInfo(business.timezone)
    entries: dict[tuple[int, date], Entry] = {}
    for schedule in schedules:
        staff_id = schedule.staff_id
        holds = [p for p in pending if p.staff_id == staff_id]
        for first, last in _runs(sorted(set(missing[staff_id]))):
            slots = engine.compute_slots(service.spec, [schedule], window, now, first, last, business.timezone)[staff_id]
            by_day = engine.group_by_local_date(slots, business.timezone)
            for day in _daterange(first, last):
                entries[(staff_id, day)] = Entry(staff_id, tuple(by_day.get(day, ())), now, _valid_until(holds, day, tz))
    return entries


class SnapshotMemo:
    """:class:`~app.services.availability_service.BusinessConfig` snapshots in this process's
    memory, by slug: a thread-safe LRU of at most ``max_entries``. A snapshot is only used after
    the database has confirmed its ``(id, created_at, availability_version)``."""

    def __init__(self, max_entries: int = SNAPSHOT_MAX_ENTRIES):
        self.max_entries = max_entries
        self._snapshots: OrderedDict[str, availability_service.BusinessConfig] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, slug: str) -> availability_service.BusinessConfig | None:
        with self._lock:
            config = self._snapshots.get(slug)
            if config is not None:
                self._snapshots.move_to_end(slug)
            return config

    def put(self, slug: str, config: availability_service.BusinessConfig) -> None:
        with self._lock:
            self._snapshots[slug] = config
            self._snapshots.move_to_end(slug)
            while len(self._snapshots) > self.max_entries:
                self._snapshots.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._snapshots.clear()


def snapshots() -> SnapshotMemo:
    """The current app's snapshot memo (made on first use, in each worker after any fork)."""
    memo = current_app.extensions.get("availability_snapshots")
    if memo is None:
        memo = current_app.extensions["availability_snapshots"] = SnapshotMemo()
    return memo


def _same_version(config: availability_service.BusinessConfig | None, business_id: int, created_at: datetime, version: int) -> bool:
    return config is not None and (config.id, config.created_at, config.availability_version) == (business_id, created_at, version)


def _snapshot(business: Business) -> availability_service.BusinessConfig:
    """The snapshot of a loaded ``business`` (no uncommitted changes), from the memo when it holds
    this version, else built and remembered."""
    memo = snapshots()
    config = memo.get(business.slug)
    if not _same_version(config, business.id, business.created_at, business.availability_version):
        config = availability_service.config_of(business)
        memo.put(business.slug, config)
    return config


def _staff_versions(business: Business) -> dict[int, int]:
    return {member.id: member.availability_version for service in business.services for member in service.staff}


@dataclass(frozen=True)
class Current:
    """A business as a client's read sees it: its ``config`` snapshot and its staff members'
    ``staff_versions`` (``{staff id: availability_version}``) as just read from the database;
    ``cached`` False when the read must be computed (the cache off, or the session holding
    uncommitted changes)."""

    config: availability_service.BusinessConfig
    staff_versions: Mapping[int, int]
    cached: bool = True


_business_table, _staff_table = Business.__table__, StaffMember.__table__
# The warm read's one query: the business's identity and version, and its staff members' versions.
_VERSIONS = (
    select(
        _business_table.c.id,
        _business_table.c.created_at,
        _business_table.c.availability_version,
        _staff_table.c.id.label("staff_id"),
        _staff_table.c.availability_version.label("staff_version"),
    )
    .select_from(_business_table.outerjoin(_staff_table, _staff_table.c.business_id == _business_table.c.id))
    .where(_business_table.c.slug == bindparam("slug"))
)


def current(slug: str) -> Current | None:
    """The business with booking link ``slug`` for a client's availability read (None if there is
    none): one query when this process holds the snapshot of its current version (its identity
    and versions, no ORM objects built), else one joined query for the whole business
    (:func:`~app.services.availability_service.load_business_for_availability`), snapshotted for
    the next reads; both when the version moved since."""
    session = db.session()
    if not enabled() or availability_versions.uncommitted(session):
        business = availability_service.load_business_for_availability(slug)
        if business is None:
            return None
        return Current(availability_service.config_of(business), _staff_versions(business), cached=False)
    config = snapshots().get(slug)
    if config is not None:
        rows = session.connection().execute(_VERSIONS, {"slug": slug}).all()
        if not rows:
            return None
        business_id, created_at, version = rows[0][:3]
        if _same_version(config, business_id, created_at, version):
            return Current(config, {row.staff_id: row.staff_version for row in rows if row.staff_id is not None})
    business = availability_service.load_business_for_availability(slug)
    if business is None:
        return None
    return Current(_snapshot(business), _staff_versions(business))


def client_slots_per_staff(
    current: Current,
    service: availability_service.ServiceConfig,
    start_date: date,
    end_date: date,
    now: datetime | None = None,
    staff_id: int | None = None,
) -> dict[int, list[engine.Slot]]:
    """:func:`slots_per_staff` for a business read with :func:`current` and one of its services."""
    now = now or utcnow()
    if not current.cached or not enabled():
        return availability_service.config_slots_per_staff(current.config, service, start_date, end_date, now, staff_id)
    return _cached_slots(current.config, service, current.staff_versions, start_date, end_date, now, staff_id)


def client_slots(
    current: Current,
    service: availability_service.ServiceConfig,
    start_date: date,
    end_date: date,
    now: datetime | None = None,
) -> list[engine.Slot]:
    """Merged free slots (one per start time, sorted), as
    :func:`app.services.availability_service.available_slots` gives them, for a business read
    with :func:`current` and one of its services."""
    return engine.merge_slots(client_slots_per_staff(current, service, start_date, end_date, now))


def slots_per_staff(
    business: Business,
    service: Service,
    start_date: date,
    end_date: date,
    now: datetime | None = None,
    staff_id: int | None = None,
) -> dict[int, list[engine.Slot]]:
    """Exactly what :func:`app.services.availability_service.slots_per_staff` returns for a
    client (``{staff_id: [Slot, ...]}`` for local dates ``start_date..end_date`` of the business
    zone, the business's notice and advance, pending requests holding; ``staff_id``'s only when
    given), from the cache where it has a current entry.

    ``business`` must be freshly loaded
    (:func:`~app.services.availability_service.load_business_for_availability`): its versions and
    its staff members' are what the cache is checked against. Computes without the cache when it
    is off, or while the session holds availability changes it has not committed.
    """
    now = now or utcnow()
    if not enabled() or availability_versions.uncommitted(db.session()):
        return availability_service.slots_per_staff(business, service, start_date, end_date, now, staff_id)
    config = _snapshot(business)
    versions = {member.id: member.availability_version for member in service.staff}
    return _cached_slots(config, config.service(service.id), versions, start_date, end_date, now, staff_id)


def _cached_slots(
    config: availability_service.BusinessConfig,
    service: availability_service.ServiceConfig,
    versions: Mapping[int, int],
    start_date: date,
    end_date: date,
    now: datetime,
    staff_id: int | None,
) -> dict[int, list[engine.Slot]]:
    staff = [s for s in service.staff if s.is_active and (staff_id is None or s.id == staff_id)]
    if any(s.id not in versions for s in staff):  # a staff member added since the versions were read
        return availability_service.config_slots_per_staff(config, service, start_date, end_date, now, staff_id)
    window = config.window
    earliest = now + timedelta(minutes=window.min_notice_minutes)
    latest = now + timedelta(days=window.max_advance_days)
    offerable = offerable_dates(config.timezone, start_date, end_date, earliest, latest)
    dates = [d for d, _whole in offerable]

    prefix = f"{KEY_PREFIX}:{config.id}.{_micros(config.created_at)}.{config.availability_version}:{service.id}"
    wanted = [(s, d) for s in staff for d in dates]
    keys = [f"{prefix}:{s.id}.{versions[s.id]}:{d.isoformat()}" for s, d in wanted]
    cache = store()
    entries: dict[tuple[int, date], Entry] = {}
    missing: dict[int, list[date]] = {}
    for (s, d), entry in zip(wanted, cache.get_many(keys) if keys else []):
        if entry is not None and entry.staff_id == s.id and entry.usable_at(now):
            entries[(s.id, d)] = entry
        else:
            missing.setdefault(s.id, []).append(d)
    hits = len(entries)
    if missing:
        computed = compute_entries(config, service, missing, staff, now)
        entries.update(computed)
        key_of = dict(zip(((s.id, d) for s, d in wanted), keys))
        cache.set_many((key_of[k], entry) for k, entry in computed.items())
    metrics.record_availability_cache(hits, len(wanted) - hits)

    result: dict[int, list[engine.Slot]] = {}
    for s in staff:
        offered = result[s.id] = []
        for d, whole in offerable:
            slots = entries[(s.id, d)].slots
            offered += slots if whole else [slot for slot in slots if earliest <= slot.start <= latest]
    return result

