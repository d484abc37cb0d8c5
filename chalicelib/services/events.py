"""Event days (policy/events.py): set, list and remove, by admins; each change is one new version
of the agency-config document ``events`` with its audit entry (``config_changed``, the event in its
details) in the same transaction.

Why a config document: an agency has a handful of events a year, written days ahead and read by
every check-in. Read through the policy cache (``HADIR_CONFIG_TTL_S``) a check-in needs no extra
read at all (one per container per TTL); the container that made a change sees it at once, others
within the TTL. Past events (older than ``KEEP_DAYS``) are pruned on each change: the check-ins
judged against them carry the event in their reasons, and the audit trail keeps every version's
change.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.common.errors import Conflict, HadirError, InvalidInput, NotFound, problem
from chalicelib.common.logs import logger
from chalicelib.geo import Site
from chalicelib.policy.events import Event, EventBook, event_problems
from chalicelib.policy.time_rules import OfficeRules, local_moment
from chalicelib.services import agency_config as config
from chalicelib.services.records import Office
from chalicelib.services.schemas import EventList, EventOut, EventQuery, EventRequest
from chalicelib.wiring import Services

KEEP_DAYS = 90
RETRIES = 3  # another admin's change in between: the change is re-applied to the newer version


def book(svc: Services) -> EventBook:
    """The agency's events as check-in sees them (through the cache)."""
    return config.current(svc, config.EVENTS)


def _stored(svc: Services) -> tuple[int | None, dict[str, Any]]:
    stored = svc.records.agency_config(config.EVENTS)
    return (stored.version, stored.document) if stored else (None, config.default_document_of(config.EVENTS))


def _out(row: dict[str, Any], status: str = "active") -> EventOut:
    return EventOut.model_validate({**row, "status": status})


def _office(svc: Services, office_id: str) -> tuple[Office, date]:
    """The office and its local date now; 404 ``office_not_found``."""
    office = svc.records.get_office(office_id)
    if office is None:
        raise NotFound("No such office", code="office_not_found", details={"office_id": office_id[:64]})
    return office, local_moment(svc.clock.now(), office.timezone)[0]


def _change(svc: Services, actor: str, apply: Any, details: dict[str, Any]) -> None:
    """Apply ``apply(rows) -> rows`` to the stored events and store the next version."""
    for attempt in range(RETRIES):
        version, doc = _stored(svc)
        cutoff = (svc.clock.now().date() - timedelta(days=KEEP_DAYS)).isoformat()
        rows = [r for r in doc.get("events", []) if str(r.get("date", "")) >= cutoff]
        try:
            config._put(svc, config.EVENTS, version, {"events": apply(rows)}, actor, details=details)
            return
        except HadirError as e:
            if e.code != "config_changed" or attempt == RETRIES - 1:
                raise


def put_event(svc: Services, req: EventRequest, actor: str) -> EventOut:
    """Create or replace the event of (office, date); 422 ``invalid_event`` for a past date,
    404 ``office_not_found`` for an office that does not exist."""
    office, today = _office(svc, req.office_id)
    if req.date < today:
        raise InvalidInput("The event's date is in the past", code="invalid_event", details={"problems": [
            problem("date", "in_the_past", date=req.date.isoformat(), office_today=today.isoformat())]})
    row = {"office_id": req.office_id, "date": req.date.isoformat(), "name": req.name.strip(),
           "geofence": req.geofence, "also_office": req.also_office, "created_by": actor,
           "created_at": svc.now_iso()}
    if req.checkin_window is not None:
        row["checkin_window"] = list(req.checkin_window)
    if req.checkin_window is not None:  # the day's rules must hold with the office's hours
        OfficeRules.from_dict({**office.rules, "checkin_window": list(req.checkin_window)})
    event, problems = event_problems(row)
    if event is None:  # the request's own checks passed, so only the window's rules remain
        raise InvalidInput("The event is not valid", code="invalid_event", details={"problems": problems})
    key = (event.office_id, event.date)
    _change(svc, actor, lambda rows: [*[r for r in rows if (r.get("office_id"), r.get("date")) != key], row],
            {"action": "event_set", "office_id": event.office_id, "date": event.date, "name": event.name,
             "also_office": event.also_office})
    logger.info("event set", extra={"office_id": event.office_id, "date": event.date, "actor": actor})
    return _out(row)


def list_events(svc: Services, query: EventQuery) -> EventList:
    version, doc = _stored(svc)
    found = config._build(config.EVENTS, doc)
    rows = [r for r in found.rows()
            if (query.office_id is None or r["office_id"] == query.office_id)
            and (query.start is None or r["date"] >= query.start.isoformat())]
    return EventList(version=version, events=[_out(r) for r in rows])


def delete_event(svc: Services, office_id: str, on: str, actor: str) -> EventOut:
    """Remove a coming (or today's) event; 404 ``event_not_found``; 409 ``event_in_past`` (the
    check-ins of that day were judged against it)."""
    current: Event | None = config._build(config.EVENTS, _stored(svc)[1]).on(office_id, on)
    if current is None:
        raise NotFound("No such event", code="event_not_found",
                       details={"office_id": office_id[:64], "date": on[:10]})
    if date.fromisoformat(current.date) < _office(svc, office_id)[1]:
        raise Conflict("The event's day is over", code="event_in_past", details={"date": current.date})
    key = (office_id, on)
    _change(svc, actor, lambda rows: [r for r in rows if (r.get("office_id"), r.get("date")) != key],
            {"action": "event_removed", "office_id": office_id, "date": on, "name": current.name})
    logger.info("event removed", extra={"office_id": office_id, "date": on, "actor": actor})
    return _out(current.document, status="removed")


def event_sites(found_in: EventBook, offices: list[Office], sites: list[Site], at: datetime,
                kind: str) -> tuple[list[Site], list[Event]]:
    """``sites`` as an event day changes them: each office with an event on its local date of
    ``at`` gets the event's fence as a site (``event:<office>:<date>``, the office's work mode);
    for a check-in the office's own fence is dropped unless the event says ``also_office``
    (a check-out is accepted at both). Personal sites (home, dinas luar) stay as they are."""
    out, found = list(sites), []
    for o in offices:
        event = found_in.on(o.office_id, OfficeRules.from_dict(o.rules).local_moment(at)[0].isoformat())
        if event is None:
            continue
        found.append(event)
        if kind == "in" and not event.also_office:
            out = [s for s in out if not (s.kind == "office" and s.site_id == o.office_id)]
        out.append(Site(site_id=event.site_id, kind="office", work_mode=o.work_mode, geofence=event.geofence,
                        timezone=o.timezone, office_id=o.office_id))
    return out, found


def with_window(rules: OfficeRules, office_id: str, found: list[Event], kind: str) -> OfficeRules:
    """The day's rules (the effective schedule's) with the office's event check-in window, if the
    event sets one and it fits those rules."""
    event = next((e for e in found if e.office_id == office_id and e.checkin_window), None)
    if event is None or kind != "in":
        return rules
    try:
        return replace(rules, checkin_window=tuple(event.checkin_window or ()))
    except InvalidInput:  # the day's hours (a schedule, the office's rules) changed since: theirs, loudly
        logger.error("event window no longer fits the day's rules", extra={
            "office_id": office_id, "date": event.date})
        return rules
