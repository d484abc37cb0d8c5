"""Event days: an office's check-in point moved for one local date ("apel pagi", a ceremony such
as 17 August at the regent's office square). Pure (no I/O).

The agency keeps them in one configuration document (kind ``events``), read through the policy
cache like the calendar::

    {"events": [{"office_id": "kantor-denpasar", "date": "2026-08-17", "name": "Upacara HUT RI",
                 "geofence": {"type": "circle", ...}, "checkin_window": ["06:00", "07:30"],
                 "also_office": false, "created_by": "admin", "created_at": "..."}]}

On the event's date (the office's local date) a check-in of the office's staff is judged against
the event's geofence instead of the office's; the office's own fence is accepted too only when
``also_office`` is true. A check-out is accepted at the office and at the event. The event's
``checkin_window`` (optional) replaces the office's check-in window for that date.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from chalicelib.common.errors import InvalidInput, JsonObject, problem
from chalicelib.geo.fences import GeoInputError, Geofence, parse_geofence

MAX_NAME = 120
MAX_EVENTS = 500
SITE_PREFIX = "event:"  # an event's site id: event:<office_id>:<date>


@dataclass(frozen=True)
class Event:
    office_id: str
    date: str  # the office's local date, ISO
    name: str
    geofence: Geofence
    document: JsonObject  # as stored
    checkin_window: tuple[str, str] | None = None
    also_office: bool = False

    @property
    def site_id(self) -> str:
        return f"{SITE_PREFIX}{self.office_id}:{self.date}"

    def reason(self) -> JsonObject:
        """The reason every check-in judged against the event carries."""
        return {"code": "event_day", "effect": "info", "event": self.name, "office_id": self.office_id,
                "date": self.date, "site_id": self.site_id, "also_office": self.also_office}


@dataclass(frozen=True)
class EventBook:
    """The agency's events by (office, date)."""

    by_key: Mapping[tuple[str, str], Event]

    def on(self, office_id: str, local_date: str) -> Event | None:
        return self.by_key.get((office_id, local_date))

    def by_site(self, site_id: str) -> Event | None:
        if not site_id.startswith(SITE_PREFIX):
            return None
        office_id, _, d = site_id[len(SITE_PREFIX):].rpartition(":")
        return self.on(office_id, d)

    def rows(self) -> list[JsonObject]:
        return [self.by_key[k].document for k in sorted(self.by_key, key=lambda k: (k[1], k[0]))]


def _date(raw: Any) -> date | None:
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 10 else None
    except ValueError:
        return None


def _window(raw: Any, field: str, problems: list[JsonObject]) -> tuple[str, str] | None:
    if raw is None:
        return None
    from chalicelib.policy.time_rules import OfficeRules  # the office's own rules for a window
    pair = tuple(raw) if isinstance(raw, (list, tuple)) else (raw,)
    try:
        OfficeRules.from_dict({"timezone": "Asia/Jakarta", "checkin_window": pair})
    except InvalidInput as e:
        problems.extend({**p, "field": field} for p in e.details.get("problems", [problem(field, "invalid")]))
        return None
    return (str(pair[0]), str(pair[1]))


def event_problems(row: Any, field: str = "") -> tuple[Event | None, list[JsonObject]]:
    """One event row validated: the event, or every problem (fields prefixed by ``field``)."""
    problems: list[JsonObject] = []
    if not isinstance(row, Mapping):
        return None, [problem(field or "event", "not_an_object")]
    office_id, name, raw_date = row.get("office_id"), row.get("name"), row.get("date")
    if not isinstance(office_id, str) or not office_id or len(office_id) > 63:
        problems.append(problem(field + "office_id", "missing_or_long", max_length=63))
    if _date(raw_date) is None:
        problems.append(problem(field + "date", "not_a_date"))
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        problems.append(problem(field + "name", "missing_or_long_name", max_length=MAX_NAME))
    also = row.get("also_office", False)
    if not isinstance(also, bool):
        problems.append(problem(field + "also_office", "not_a_boolean"))
    fence: Geofence | None = None
    try:
        fence = parse_geofence(row.get("geofence"))  # type: ignore[arg-type]
    except GeoInputError as e:
        problems.extend({**p, "field": f"{field}geofence.{p.get('field', '')}".rstrip(".")} for p in e.problems)
    window = _window(row.get("checkin_window"), field + "checkin_window", problems)
    if problems or fence is None:
        return None, problems
    return Event(office_id=office_id, date=raw_date, name=name.strip(), geofence=fence,  # type: ignore[arg-type]
                 document=dict(row), checkin_window=window, also_office=also), []


def events_from_document(doc: Mapping[str, Any]) -> EventBook:
    """The :class:`EventBook` of an events document; ``invalid_event`` (422) with every problem."""
    rows = doc.get("events", []) if isinstance(doc, Mapping) else None
    problems: list[JsonObject] = []
    if not isinstance(rows, list):
        raise InvalidInput("The events are not valid.", code="invalid_event",
                           details={"problems": [problem("events", "not_a_list")]})
    if len(rows) > MAX_EVENTS:
        problems.append(problem("events", "too_many", count=len(rows), max=MAX_EVENTS))
    book: dict[tuple[str, str], Event] = {}
    for i, row in enumerate(rows):
        event, found = event_problems(row, f"events[{i}].")
        problems.extend(found)
        if event is not None:
            if (event.office_id, event.date) in book:
                problems.append(problem(f"events[{i}]", "duplicate_event", office_id=event.office_id,
                                        date=event.date))
            book[(event.office_id, event.date)] = event
    if problems:
        raise InvalidInput("The events are not valid.", code="invalid_event", details={"problems": problems})
    return EventBook(book)


def default_events() -> JsonObject:
    return {"events": []}
