"""The agency's calendar and TL/PSW table as configuration: read through a short per-container
cache (:class:`PolicyCache`, ``HADIR_CONFIG_TTL_S``), set by admins (``/admin/config/...``) with
optimistic concurrency and an audit entry.

``svc.calendar`` and ``svc.lateness`` are :class:`LiveCalendar` / :class:`LiveLateness` unless a
test or the wiring gives a fixed one: each use asks the cache, which reads the store at most once
per TTL and falls back to the defaults (the decrees' cuti bersama 2025-2027, Permentan 68/2012)
when nothing is stored. The kind ``events`` (event days, ``services/events.py``) is read through
the same cache (``svc.policy_cache.get("events")``: an :class:`~chalicelib.policy.events.EventBook`).
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from typing import Any, Callable

from chalicelib.common.errors import HadirError, InvalidInput, JsonObject, problem
from chalicelib.common.logs import logger
from chalicelib.policy.calendar import DayStatus, WorkCalendar
from chalicelib.policy.calendar_config import calendar_from_document, default_document
from chalicelib.policy.events import default_events, events_from_document
from chalicelib.policy.schedule import Schedules, parse_schedules
from chalicelib.policy.schedule import default_document as default_schedules
from chalicelib.policy.time_rules import LatenessTable
from chalicelib.policy.whereabouts import Region, default_region, parse_region
from chalicelib.services import schemas as s
from chalicelib.services.schemas_whereabouts import RegionConfig, RegionPut
from chalicelib.services.ports import AgencyConfigStore
from chalicelib.services.records import Office, StoredConfig

CALENDAR, LATENESS, SCHEDULES, EVENTS = "calendar", "lateness", "schedules", "events"
REGION = "region"  # the agency's boundary watched during working hours (policy/whereabouts.py)
MAX_DOCUMENT_BYTES = 256 * 1024
_BUILDERS: dict[str, Callable[[JsonObject], Any]] = {
    CALENDAR: calendar_from_document, LATENESS: LatenessTable.from_dict, SCHEDULES: parse_schedules,
    EVENTS: events_from_document, REGION: parse_region}
_DEFAULTS: dict[str, Callable[[], JsonObject]] = {
    CALENDAR: default_document, LATENESS: lambda: LatenessTable().to_dict(), SCHEDULES: default_schedules,
    EVENTS: default_events, REGION: default_region}
KINDS = tuple(_BUILDERS)


def _build(kind: str, document: JsonObject) -> Any:
    return _BUILDERS[kind](document)


def default_document_of(kind: str) -> JsonObject:
    return _DEFAULTS[kind]()


def current(svc: Any, kind: str) -> Any:
    """The agency's ``kind`` as built from its stored document (the defaults when none is),
    through the policy cache when the services have one."""
    cache = getattr(svc, "policy_cache", None)
    if cache is not None:
        return cache.get(kind)
    stored = svc.records.agency_config(kind)
    return _build(kind, stored.document if stored else default_document_of(kind))


def schedules(svc: Any) -> Schedules:
    """The agency's current schedules (policy/schedule.py)."""
    return current(svc, SCHEDULES)


class PolicyCache:
    """The built calendar and table of one store, each read at most once per ``ttl_s``."""

    def __init__(self, store: AgencyConfigStore, ttl_s: float, monotonic: Callable[[], float] = time.monotonic):
        self.store, self.ttl_s, self._now = store, ttl_s, monotonic
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Any]] = {}
        self._fetched: dict[str, tuple[float, StoredConfig | None]] = {}  # read, not yet built
        self.reads = 0  # store reads so far (measured by tests and the bench)

    def get(self, kind: str) -> Any:
        now = self._now()
        with self._lock:
            hit = self._entries.get(kind)
            if hit is not None and now - hit[0] < self.ttl_s:
                return hit[1]
        read_at, stored = self._stored(kind, now)
        try:
            value = _build(kind, stored.document if stored else default_document_of(kind))
        except HadirError as e:  # stored under older rules: the defaults, loudly, until an admin fixes it
            logger.error("stored agency config invalid, defaults used", extra={
                "kind": kind, "version": stored.version if stored else None, "code": e.code})
            value = _build(kind, default_document_of(kind))
        with self._lock:
            self._entries[kind] = (read_at, value)
        return value

    def _stored(self, kind: str, now: float) -> tuple[float, StoredConfig | None]:
        """``kind``'s stored document, read with every other kind in one batch when the cache is
        cold (a container's first check-in needs the calendar, schedules and lateness table: one
        round trip, not three); each kind is then built when first asked for, and expires with
        the read: (when it was read, the document)."""
        with self._lock:
            fetched = self._fetched.get(kind)
            if fetched is not None and now - fetched[0] < self.ttl_s:
                return fetched
        self.reads += 1
        found = self.store.agency_configs(KINDS)
        with self._lock:
            self._fetched.update({k: (now, found.get(k)) for k in KINDS})
        return now, found.get(kind)

    def office(self, office_id: str) -> Office | None:
        """The office as read from the store at most ``ttl_s`` ago: offices change as rarely as
        the calendar, and a check-in would otherwise read each of its offices by key."""
        return self._keyed(f"office#{office_id}", lambda: self.store.get_office(office_id))  # type: ignore[attr-defined]

    def offices(self, office_ids: Iterable[str]) -> dict[str, Office]:
        """The offices of ``office_ids`` that exist, by id in the order given, each through
        ``office``: a screen reads its staff's offices by key, not a Scan of every office."""
        found = ((i, self.office(i)) for i in dict.fromkeys(office_ids))
        return {i: o for i, o in found if o is not None}

    def roster(self, unit: str, month: str) -> Any:
        """The unit's published roster of ``month`` as read at most ``ttl_s`` ago: a publish
        reaches the other containers' check-ins and pings within ``HADIR_CONFIG_TTL_S``."""
        return self._keyed(f"roster#{unit}#{month}", lambda: self.store.roster(unit, month))  # type: ignore[attr-defined]

    def _keyed(self, key: str, read: Callable[[], Any]) -> Any:
        now = self._now()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and now - hit[0] < self.ttl_s:
                return hit[1]
        value = read()
        with self._lock:
            self._entries[key] = (now, value)
        return value

    def forget(self, kind: str) -> None:
        with self._lock:
            self._entries.pop(kind, None)
            self._fetched.pop(kind, None)


class LiveCalendar:
    """Behaves as the agency's current :class:`WorkCalendar`."""

    def __init__(self, cache: PolicyCache):
        self.cache = cache

    def current(self) -> WorkCalendar:
        return self.cache.get(CALENDAR)

    def day_status(self, d: Any, province: str | None = None) -> DayStatus:
        return self.current().day_status(d, province)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.current(), name)


class LiveLateness:
    """Behaves as the agency's current :class:`LatenessTable`."""

    def __init__(self, cache: PolicyCache):
        self.cache = cache

    def current(self) -> LatenessTable:
        return self.cache.get(LATENESS)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.current(), name)


# --- use cases ---------------------------------------------------------------------------------
def _meta(kind: str, stored: StoredConfig | None) -> JsonObject:
    return {"kind": kind, "version": stored.version if stored else None, "stored": stored is not None,
            "updated_at": stored.updated_at if stored else None,
            "updated_by": stored.updated_by if stored else None,
            "document": stored.document if stored else default_document_of(kind)}


def get_calendar(svc: Any) -> s.CalendarConfig:
    return s.CalendarConfig.model_validate(_meta(CALENDAR, svc.records.agency_config(CALENDAR)))


def get_lateness(svc: Any) -> s.LatenessConfig:
    return s.LatenessConfig.model_validate(_meta(LATENESS, svc.records.agency_config(LATENESS)))


INVALID_CODE = {CALENDAR: "invalid_calendar", LATENESS: "invalid_lateness_table", SCHEDULES: "invalid_schedules",
                EVENTS: "invalid_event", REGION: "invalid_region"}


def _put(svc: Any, kind: str, version: int | None, document: JsonObject, actor: str,
         details: JsonObject | None = None) -> JsonObject:
    size = len(json.dumps(document, separators=(",", ":")).encode())
    if size > MAX_DOCUMENT_BYTES:  # a DynamoDB item holds 400 KB, the audit entry beside it
        code = INVALID_CODE[kind]
        raise InvalidInput("The document is too large.", code=code, details={"problems": [
            problem("document", "too_large", bytes=size, max_bytes=MAX_DOCUMENT_BYTES)]})
    _build(kind, document)  # invalid_calendar / _lateness_table / _schedules (422) before anything is written
    stored = svc.records.put_agency_config(kind, document, version, actor, svc.now_iso(), details=details)
    cache = getattr(svc, "policy_cache", None)
    if cache is not None:
        cache.forget(kind)  # this container sees it at once; others within HADIR_CONFIG_TTL_S
    return _meta(kind, stored)


def put_calendar(svc: Any, body: s.CalendarPut, actor: str) -> s.CalendarConfig:
    doc = body.document.model_dump(mode="json", exclude_none=True)
    return s.CalendarConfig.model_validate(_put(svc, CALENDAR, body.version, doc, actor))


def put_lateness(svc: Any, body: s.LatenessPut, actor: str) -> s.LatenessConfig:
    doc = body.document.model_dump(mode="json")
    return s.LatenessConfig.model_validate(_put(svc, LATENESS, body.version, doc, actor))


def get_schedules(svc: Any) -> s.SchedulesConfig:
    return s.SchedulesConfig.model_validate(_meta(SCHEDULES, svc.records.agency_config(SCHEDULES)))


def put_schedules(svc: Any, body: s.SchedulesPut, actor: str) -> s.SchedulesConfig:
    doc = body.document.model_dump(mode="json", by_alias=True, exclude_none=True)
    return s.SchedulesConfig.model_validate(_put(svc, SCHEDULES, body.version, doc, actor))


def region(svc: Any) -> Region | None:
    """The agency's region (None: none watched)."""
    return current(svc, REGION)


def get_region(svc: Any) -> RegionConfig:
    return RegionConfig.model_validate(_meta(REGION, svc.records.agency_config(REGION)))


def put_region(svc: Any, body: RegionPut, actor: str) -> RegionConfig:
    doc = body.document.model_dump(mode="json")
    return RegionConfig.model_validate(_put(svc, REGION, body.version, doc, actor))
