"""Work schedules per office, unit or employee group, with validity dates, and the ONE place that
says what an employee's day looks like: :func:`effective_day`. Pure (no I/O).

A schedules document (JSON, as stored under the agency-config kind ``schedules`` and as
``PUT /admin/config/schedules`` takes it)::

    {"schedules": [{"id": "guru", "name": "Guru (6 hari)", "applies_to": {"groups": ["guru"]},
                    "valid_from": "2026-01-01", "valid_to": null, "weekdays": [0, 1, 2, 3, 4, 5],
                    "hours": {"default": {"start": "07:00", "end": "13:30"},
                              "4": {"start": "07:00", "end": "11:30"}},
                    "checkin_window": ["06:00", "09:00"], "checkout_window": ["11:00", "18:00"],
                    "flexible": {"start_window": ["07:00", "08:30"]},
                    "variants": [{"id": "...", "name": "...", "valid_from": "...", "valid_to": "...",
                                  "hours": {...}}],
                    "seasonal": true}],
     "seasons": [{"id": "ramadan-2026", "name": "Ramadan 1447 H", "valid_from": "2026-02-19",
                  "valid_to": "2026-03-20", "hours": {...}}],
     "source": "Perpres 21/2023"}

Hours per weekday: ``"default"`` for every working weekday, ``"0"`` (Monday) .. ``"6"`` (Sunday)
for one. A day's ``break_minutes`` defaults to 60, and 90 on Friday (the Friday prayer).

**The national default** (Perpres 21/2023: 37.5 hours a week, breaks excluded) is
Monday-Thursday 07:30-16:00 and Friday 07:30-16:30. Checked: Monday-Thursday 8 h 30 min gross
- 60 min break = 7 h 30 min, four times = 30 h; Friday 9 h gross - 90 min = 7 h 30 min; 30 h +
7 h 30 min = **37.5 h** net (:func:`weekly_net_minutes` of :data:`NATIONAL_HOURS` is 2,250).

**Ramadan** (32.5 hours a week): Monday-Thursday 08:00-15:00 with a 30 min break, Friday
08:00-15:30 with 60 min. Checked: 7 h - 30 min = 6 h 30 min, four times = 26 h; Friday 7 h 30 min
- 60 min = 6 h 30 min; 26 h + 6 h 30 min = **32.5 h** (:data:`RAMADAN_HOURS`, 1,950 minutes).
The default document seeds the Ramadan ranges of 2026 (1447 H) and 2027 (1448 H) as ``seasons``:
from the first of Ramadan (the government's isbat: 19 February 2026; 8 February 2027) to the day
before Idul Fitri as the ``holidays`` package (0.108) dates it (21 March 2026; 10 March 2027,
"perkiraan"): a test checks them against the package. Seasons apply to every schedule of the
document whose ``seasonal`` is true (the default) and that has no own variant on the date.

**Which schedule applies** on a local date: among the schedules valid then (``valid_from`` ..
``valid_to``, both inclusive, either open), one naming the employee's group, else one naming their
unit, else one naming their office, else an agency-wide one (``applies_to`` empty); the first
listed wins a tie. With none, the office's own ``rules`` (:class:`OfficeRules`) and the agency
calendar's weekdays apply, exactly as before schedules existed (and no season applies to them).

**Flexible start** (core hours): ``flexible.start_window`` e.g. 07:00-08:30: the check-in may come
at any time in it; lateness counts past its end (the latest start); the day's required time is the
weekday's end - start (its net hours plus its break), and leaving counts as early when the
check-out comes before the check-in time + that required time (:meth:`EffectiveDay.checkout_rules`).
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from chalicelib.common.errors import InvalidInput, JsonObject, problem
from chalicelib.policy.calendar import WEEKEND, WORKING_DAY, DayStatus
from chalicelib.policy.time_rules import OfficeRules, parse_hhmm

NOT_A_SCHEDULE_DAY = "not_a_schedule_day"
SCOPES = ("groups", "units", "office_ids")  # precedence: group > unit > office > agency-wide
SOURCE_OF = {"groups": "group", "units": "unit", "office_ids": "office"}
AGENCY, OFFICE_RULES = "agency", "office_rules"
MAX_SCHEDULES, MAX_VARIANTS, MAX_NAMES = 200, 40, 500
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
FRIDAY = 4
# Absence detection runs once a day at this local time (common/resources.py ABSENCE_LOCAL_TIME; a
# test keeps them equal): a check-in window closing later would never be judged.
ABSENCE_RUN = "10:30"
# The BPS two-digit province codes (38 provinces, the six of Papua since 2022-2023).
PROVINCES = frozenset({*(str(c) for c in range(11, 20)), "21", *(str(c) for c in range(31, 37)),
                       "51", "52", "53", *(str(c) for c in range(61, 66)), *(str(c) for c in range(71, 77)),
                       "81", "82", *(str(c) for c in range(91, 97))})


def default_break(weekday: int) -> int:
    return 90 if weekday == FRIDAY else 60


@dataclass(frozen=True)
class DayHours:
    """One weekday's work: ``start``..``end`` local time, ``break_minutes`` of it unpaid."""

    start: str
    end: str
    break_minutes: int

    @property
    def gross_minutes(self) -> int:
        return _minutes(self.end) - _minutes(self.start)

    @property
    def net_minutes(self) -> int:
        return self.gross_minutes - self.break_minutes

    def to_dict(self) -> JsonObject:
        return {"start": self.start, "end": self.end, "break_minutes": self.break_minutes}


def _minutes(hhmm: str) -> int:
    t = parse_hhmm(hhmm)
    return t.hour * 60 + t.minute


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _week(mon_thu: tuple[str, str, int], fri: tuple[str, str, int]) -> dict[int, DayHours]:
    return {wd: DayHours(*(fri if wd == FRIDAY else mon_thu)) for wd in range(5)}


NATIONAL_HOURS = _week(("07:30", "16:00", 60), ("07:30", "16:30", 90))
RAMADAN_HOURS = _week(("08:00", "15:00", 30), ("08:00", "15:30", 60))


def weekly_net_minutes(hours: Mapping[int, DayHours]) -> int:
    return sum(h.net_minutes for h in hours.values())


@dataclass(frozen=True)
class Variant:
    """Other hours (and windows) for a date range, both ends inclusive: Ramadan, say."""

    id: str
    name: str
    valid_from: date
    valid_to: date
    hours: Mapping[int, DayHours]  # replaces the schedule's hours of the weekdays it names
    checkin_window: tuple[str, str] | None = None
    checkout_window: tuple[str, str] | None = None

    def covers(self, d: date) -> bool:
        return self.valid_from <= d <= self.valid_to


@dataclass(frozen=True)
class Schedule:
    id: str
    name: str
    weekdays: tuple[int, ...]
    hours: Mapping[int, DayHours]  # one per working weekday
    checkin_window: tuple[str, str] = ("06:00", "10:00")
    checkout_window: tuple[str, str] = ("15:00", "20:00")
    groups: frozenset[str] = frozenset()
    units: frozenset[str] = frozenset()
    office_ids: frozenset[str] = frozenset()
    valid_from: date | None = None
    valid_to: date | None = None
    flexible_start: tuple[str, str] | None = None
    variants: tuple[Variant, ...] = ()
    seasonal: bool = True

    def valid_on(self, d: date) -> bool:
        return (self.valid_from is None or self.valid_from <= d) and (self.valid_to is None or d <= self.valid_to)

    @property
    def agency_wide(self) -> bool:
        return not (self.groups or self.units or self.office_ids)


@dataclass(frozen=True)
class Schedules:
    """A parsed schedules document."""

    schedules: tuple[Schedule, ...] = ()
    seasons: tuple[Variant, ...] = ()
    source: str = "agency"


@dataclass(frozen=True)
class Person:
    """What of an employee decides their schedule."""

    unit: str | None = None
    group: str | None = None
    office_id: str | None = None


@dataclass(frozen=True)
class Place:
    """What of an office decides its staff's day: its id, time zone, own rules and province."""

    office_id: str
    rules: Mapping[str, Any]  # the stored OfficeRules dict (its timezone is the office's)
    province: str | None = None


@dataclass(frozen=True)
class EffectiveDay:
    """An employee's day at an office on a local date: working or not and why, the times that
    apply (as :class:`OfficeRules`, so ``policy.decision`` judges them unchanged) and which
    schedule and variant gave them."""

    local_date: date
    working: bool
    reason: str  # working_day | weekend | not_a_schedule_day | national_holiday | cuti_bersama | ...
    rules: OfficeRules
    schedule_id: str  # "office_rules": the office's own rules, no schedule applied
    source: str  # group | unit | office | agency | office_rules
    variant_id: str | None = None
    holiday_name: str | None = None
    flexible_start: tuple[str, str] | None = None
    required_minutes: int | None = None  # end - start of the day (breaks included)
    net_minutes: int | None = None

    @property
    def day_status(self) -> DayStatus:
        return DayStatus(self.working, self.reason, self.holiday_name)

    def reason_data(self) -> JsonObject:
        """The schedule applied, as a decision's ``info`` reason."""
        r: JsonObject = {"code": "schedule", "effect": "info", "schedule_id": self.schedule_id,
                         "source": self.source, "variant_id": self.variant_id,
                         "local_date": self.local_date.isoformat(), "working": self.working,
                         "day": self.reason}
        if self.working:
            r |= {"work_start": self.rules.work_start, "work_end": self.rules.end_on(self.local_date).strftime("%H:%M"),
                  "net_minutes": self.net_minutes}
        if self.flexible_start:
            r["flexible_start"] = list(self.flexible_start)
        return r

    def checkout_rules(self, checkin_local: time | None) -> OfficeRules:
        """The rules a check-out is judged by: fixed hours as they are; a flexible day ends
        ``required_minutes`` after the day's check-in (after the latest start without one),
        never past the check-out window's end."""
        if not self.flexible_start or self.required_minutes is None:
            return self.rules
        begun = checkin_local or parse_hhmm(self.flexible_start[1])
        start = max(begun.hour * 60 + begun.minute, _minutes(self.flexible_start[0]))
        end = min(start + self.required_minutes, _minutes(self.rules.checkout_window[1]))
        return replace(self.rules, work_end=_hhmm(end), work_end_by_weekday={})


@lru_cache(maxsize=256)
def _office_rules(rules_json: str) -> OfficeRules:
    return OfficeRules.from_dict(json.loads(rules_json))


@lru_cache(maxsize=4096)
def _rules(tz: str, checkin: tuple[str, str], start: str, end: str, checkout: tuple[str, str]) -> OfficeRules:
    """Built (and validated) once per distinct day of times: the recap asks for a year of days."""
    return OfficeRules(timezone=tz, checkin_window=checkin, work_start=start, work_end=end, checkout_window=checkout)


def _pick(doc: Schedules, person: Person, d: date) -> tuple[Schedule, str] | None:
    valid = [s for s in doc.schedules if s.valid_on(d)]
    keys = {"groups": person.group, "units": person.unit, "office_ids": person.office_id}
    for scope in SCOPES:
        key = keys[scope]
        if key:
            hit = next((s for s in valid if key in getattr(s, scope)), None)
            if hit:
                return hit, SOURCE_OF[scope]
    hit = next((s for s in valid if s.agency_wide), None)
    return (hit, AGENCY) if hit else None


def _variant(doc: Schedules, s: Schedule, d: date) -> Variant | None:
    own = next((v for v in s.variants if v.covers(d)), None)
    if own or not s.seasonal:
        return own
    return next((v for v in doc.seasons if v.covers(d)), None)


def effective_day(document: Schedules | Mapping[str, Any], person: Person, place: Place, calendar: Any,
                  local_date: date) -> EffectiveDay:
    """The ONE answer to "what is this employee's day at this office on ``local_date``"
    (module docstring: precedence, seasons, the office-rules fallback). ``calendar`` is a
    :class:`WorkCalendar` (or anything with its ``day_status(d, province=)``); its holidays
    (regional ones of the office's ``province`` included) are never working days, whatever the
    schedule; its weekend is replaced by the schedule's weekdays."""
    doc = document if isinstance(document, Schedules) else parse_schedules(document)
    status = calendar.day_status(local_date, province=place.province)
    office_rules = _office_rules(json.dumps(place.rules, sort_keys=True, default=str))
    picked = _pick(doc, person, local_date)
    if picked is None:
        return EffectiveDay(local_date, status.working, status.reason, office_rules, OFFICE_RULES,
                            OFFICE_RULES, holiday_name=status.name)
    s, source = picked
    v = _variant(doc, s, local_date)
    wd = local_date.weekday()
    extra_working = status.working and status.name is not None  # the calendar's extra working day
    if not status.working and status.reason != WEEKEND:
        working, reason = False, status.reason
    elif wd in s.weekdays or extra_working:
        working, reason = True, WORKING_DAY
    else:
        working, reason = False, WEEKEND if wd >= 5 else NOT_A_SCHEDULE_DAY
    hours = (v.hours.get(wd) if v else None) or s.hours.get(wd) or next(iter(s.hours.values()))
    checkin = (v.checkin_window if v else None) or s.checkin_window
    checkout = (v.checkout_window if v else None) or s.checkout_window
    work_start = s.flexible_start[1] if s.flexible_start else hours.start
    rules = _rules(office_rules.timezone, checkin, work_start,
                   hours.end if not s.flexible_start else
                   _hhmm(min(_minutes(work_start) + hours.gross_minutes, _minutes(checkout[1]))), checkout)
    return EffectiveDay(local_date, working, reason, rules, s.id, source, v.id if v else None,
                        status.name if not status.working else None, s.flexible_start,
                        hours.gross_minutes, hours.net_minutes)


def effective_day_at(document: Schedules | Mapping[str, Any], person: Person, place: Place, calendar: Any,
                     now_utc: datetime) -> EffectiveDay:
    """:func:`effective_day` on the office's local date at the instant ``now_utc``."""
    return effective_day(document, person, place, calendar,
                         OfficeRules.from_dict(place.rules).local_moment(now_utc)[0])


def working_days(document: Schedules | Mapping[str, Any], person: Person, place: Place, calendar: Any,
                 start: date, end: date) -> tuple[date, ...]:
    """The employee's working days from ``start`` to ``end`` inclusive."""
    doc = document if isinstance(document, Schedules) else parse_schedules(document)
    days = (start + timedelta(n) for n in range((end - start).days + 1))
    return tuple(d for d in days if effective_day(doc, person, place, calendar, d).working)


# --- the document ------------------------------------------------------------------------------
def _hours_doc(hours: Mapping[int, DayHours]) -> JsonObject:
    return {str(wd): h.to_dict() for wd, h in sorted(hours.items())}


def _season(year: int, hijri: int, first: str, last: str) -> JsonObject:
    return {"id": f"ramadan-{year}", "name": f"Ramadan {hijri} H", "valid_from": first, "valid_to": last,
            "hours": _hours_doc(RAMADAN_HOURS), "checkout_window": ["15:00", "20:00"]}


RAMADAN_SEASONS = (_season(2026, 1447, "2026-02-19", "2026-03-20"),
                   _season(2027, 1448, "2027-02-08", "2027-03-09"))


def default_document() -> JsonObject:
    """No schedule (every office keeps its own rules) and the Ramadan seasons 2026-2027, which
    apply to the schedules an agency adds."""
    return {"schedules": [], "seasons": [dict(s) for s in RAMADAN_SEASONS],
            "source": "Perpres 21/2023; Ramadan 1447-1448 H"}


def parse_schedules(doc: Mapping[str, Any]) -> Schedules:
    """The :class:`Schedules` of a document; ``invalid_schedules`` (422) listing every problem."""
    problems: list[JsonObject] = []
    if not isinstance(doc, Mapping):
        raise _invalid([problem("document", "not_an_object")])
    rows = doc.get("schedules", [])
    seasons = doc.get("seasons", [])
    for name, value, cap in (("schedules", rows, MAX_SCHEDULES), ("seasons", seasons, MAX_VARIANTS)):
        if not isinstance(value, list):
            problems.append(problem(name, "not_a_list"))
        elif len(value) > cap:
            problems.append(problem(name, "too_many", max=cap))
    if problems:
        raise _invalid(problems)
    parsed = [_schedule(f"schedules[{i}]", r, problems) for i, r in enumerate(rows)]
    season_list = [_variant_of(f"seasons[{i}]", r, problems) for i, r in enumerate(seasons)]
    ids = [s.id for s in parsed if s]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(problem("schedules", "duplicate_id", id=dup))
    problems += _overlaps("seasons", [v for v in season_list if v])
    for i, sched in enumerate(parsed):
        if sched:
            problems += _fits(f"schedules[{i}]", sched, [v for v in season_list if v])
    if problems:
        raise _invalid(problems)
    return Schedules(tuple(s for s in parsed if s), tuple(v for v in season_list if v),
                     str(doc.get("source", "agency"))[:120])


def _invalid(problems: list[JsonObject]) -> InvalidInput:
    return InvalidInput("The schedules are not valid.", code="invalid_schedules", details={"problems": problems})


def _overlaps(f: str, variants: Sequence[Variant]) -> list[JsonObject]:
    ordered = sorted(variants, key=lambda v: v.valid_from)
    return [problem(f, "overlapping_ranges", first=a.id, second=b.id)
            for a, b in zip(ordered, ordered[1:]) if b.valid_from <= a.valid_to]


def _date(f: str, raw: Any, problems: list[JsonObject], required: bool = False) -> date | None:
    if raw is None and not required:
        return None
    try:
        if isinstance(raw, str) and len(raw) == 10:
            return date.fromisoformat(raw)
    except ValueError:
        pass
    problems.append(problem(f, "not_a_date"))
    return None


def _window(f: str, raw: Any, problems: list[JsonObject]) -> tuple[str, str] | None:
    if raw is None:
        return None
    if not (isinstance(raw, (list, tuple)) and len(raw) == 2 and all(isinstance(x, str) and _HHMM.match(x)
                                                                       for x in raw)):
        problems.append(problem(f, "not_a_hh_mm_pair"))
        return None
    if raw[0] >= raw[1]:
        problems.append(problem(f, "start_not_before_end"))
        return None
    return raw[0], raw[1]


def _day_hours(f: str, wd: int, raw: Any, problems: list[JsonObject]) -> DayHours | None:
    if not isinstance(raw, Mapping):
        problems.append(problem(f, "not_an_object"))
        return None
    start, end, brk = raw.get("start"), raw.get("end"), raw.get("break_minutes", default_break(wd))
    if not all(isinstance(x, str) and _HHMM.match(x) for x in (start, end)):
        problems.append(problem(f, "not_hh_mm"))
        return None
    if start >= end:
        problems.append(problem(f, "start_not_before_end"))
        return None
    h = DayHours(start, end, brk) if isinstance(brk, int) and not isinstance(brk, bool) else None
    if h is None or not 0 <= brk < h.gross_minutes:
        problems.append(problem(f + ".break_minutes", "out_of_range"))
        return None
    return h


def _hours(f: str, raw: Any, weekdays: Sequence[int], problems: list[JsonObject]) -> dict[int, DayHours]:
    """Per-weekday hours from ``{"default": ..., "4": ...}``; each of ``weekdays`` must have some."""
    if raw is None:
        return {wd: NATIONAL_HOURS.get(wd, NATIONAL_HOURS[0]) for wd in range(7)}
    if not isinstance(raw, Mapping):
        problems.append(problem(f, "not_an_object"))
        return {}
    bad = [k for k in raw if k != "default" and not (isinstance(k, str) and k in "0123456" and len(k) == 1)]
    problems += [problem(f"{f}.{k}", "not_a_weekday") for k in bad]
    out: dict[int, DayHours] = {}
    for wd in range(7):
        body = raw.get(str(wd), raw.get("default"))  # "default": every weekday (an extra working day too)
        if body is not None:
            h = _day_hours(f"{f}.{wd if str(wd) in raw else 'default'}", wd, body, problems)
            if h:
                out[wd] = h
    missing = [wd for wd in weekdays if wd not in out]
    if missing and not problems:
        problems.append(problem(f, "missing_weekdays", weekdays=missing))
    return out


def _str_set(f: str, raw: Any, problems: list[JsonObject]) -> frozenset[str]:
    if raw is None:
        return frozenset()
    if not (isinstance(raw, list) and len(raw) <= MAX_NAMES
            and all(isinstance(x, str) and 0 < len(x) <= 200 for x in raw)):
        problems.append(problem(f, "not_a_list_of_names", max=MAX_NAMES))
        return frozenset()
    return frozenset(raw)


def _variant_of(f: str, raw: Any, problems: list[JsonObject]) -> Variant | None:
    if not isinstance(raw, Mapping):
        problems.append(problem(f, "not_an_object"))
        return None
    n = len(problems)
    vid, name = raw.get("id"), raw.get("name", raw.get("id"))
    if not (isinstance(vid, str) and _ID.match(vid)):
        problems.append(problem(f + ".id", "not_an_id"))
    if not (isinstance(name, str) and 0 < len(name.strip()) <= 120):
        problems.append(problem(f + ".name", "missing_or_long_name"))
    first = _date(f + ".valid_from", raw.get("valid_from"), problems, True)
    last = _date(f + ".valid_to", raw.get("valid_to"), problems, True)
    if first and last and last < first:
        problems.append(problem(f + ".valid_to", "before_valid_from"))
    hours = _hours(f + ".hours", raw.get("hours", {}), [], problems)
    checkin = _window(f + ".checkin_window", raw.get("checkin_window"), problems)
    checkout = _window(f + ".checkout_window", raw.get("checkout_window"), problems)
    if len(problems) > n or not (first and last):
        return None
    return Variant(vid, name.strip(), first, last, hours, checkin, checkout)


def _schedule(f: str, raw: Any, problems: list[JsonObject]) -> Schedule | None:
    if not isinstance(raw, Mapping):
        problems.append(problem(f, "not_an_object"))
        return None
    n = len(problems)
    sid, name = raw.get("id"), raw.get("name", raw.get("id"))
    if not (isinstance(sid, str) and _ID.match(sid)):
        problems.append(problem(f + ".id", "not_an_id"))
    if not (isinstance(name, str) and 0 < len(name.strip()) <= 120):
        problems.append(problem(f + ".name", "missing_or_long_name"))
    applies = raw.get("applies_to") or {}
    if not isinstance(applies, Mapping) or set(applies) - set(SCOPES):
        problems.append(problem(f + ".applies_to", "unknown_scope", allowed=list(SCOPES)))
        applies = {}
    scopes = {k: _str_set(f"{f}.applies_to.{k}", applies.get(k), problems) for k in SCOPES}
    first, last = _date(f + ".valid_from", raw.get("valid_from"), problems), _date(f + ".valid_to", raw.get("valid_to"), problems)
    if first and last and last < first:
        problems.append(problem(f + ".valid_to", "before_valid_from"))
    weekdays = raw.get("weekdays", [0, 1, 2, 3, 4])
    if not (isinstance(weekdays, list) and weekdays and all(isinstance(w, int) and not isinstance(w, bool)
                                                            and 0 <= w <= 6 for w in weekdays)):
        problems.append(problem(f + ".weekdays", "not_weekdays"))
        weekdays = []
    hours = _hours(f + ".hours", raw.get("hours"), sorted(set(weekdays)), problems)
    checkin = _window(f + ".checkin_window", raw.get("checkin_window", ["06:00", "10:00"]), problems)
    checkout = _window(f + ".checkout_window", raw.get("checkout_window", ["15:00", "20:00"]), problems)
    flexible = _flexible(f + ".flexible", raw.get("flexible"), problems)
    variants_raw = raw.get("variants", [])
    if not isinstance(variants_raw, list) or len(variants_raw) > MAX_VARIANTS:
        problems.append(problem(f + ".variants", "not_a_list", max=MAX_VARIANTS))
        variants_raw = []
    variants = [_variant_of(f"{f}.variants[{i}]", v, problems) for i, v in enumerate(variants_raw)]
    problems += _overlaps(f + ".variants", [v for v in variants if v])
    seasonal = raw.get("seasonal", True)
    if not isinstance(seasonal, bool):
        problems.append(problem(f + ".seasonal", "not_a_boolean"))
    if len(problems) > n:
        return None
    return Schedule(sid, name.strip(), tuple(sorted(set(weekdays))), hours, checkin, checkout,
                    scopes["groups"], scopes["units"], scopes["office_ids"], first, last, flexible,
                    tuple(v for v in variants if v), seasonal)


def _flexible(f: str, raw: Any, problems: list[JsonObject]) -> tuple[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or raw.get("start_window") is None:
        problems.append(problem(f + ".start_window", "required"))
        return None
    return _window(f + ".start_window", raw.get("start_window"), problems)


def _fits(f: str, s: Schedule, seasons: Sequence[Variant]) -> list[JsonObject]:
    """Every day's times (its own variants' and, if seasonal, the seasons') must make valid
    :class:`OfficeRules`: work starting inside the check-in window, ending by the check-out
    window's end."""
    out: list[JsonObject] = []
    sets = [("hours", s.hours, None, None)] + [
        (f"variants.{v.id}", v.hours, v.checkin_window, v.checkout_window) for v in s.variants] + [
        (f"seasons.{v.id}", v.hours, v.checkin_window, v.checkout_window) for v in seasons if s.seasonal]
    for label, hours, checkin, checkout in sets:
        checkin, checkout = checkin or s.checkin_window, checkout or s.checkout_window
        if checkin[1] > ABSENCE_RUN:
            out.append(problem(f"{f}.{label}.checkin_window", "closes_after_absence_run", absence_run=ABSENCE_RUN))
        for wd, h in hours.items():
            start = s.flexible_start[0] if s.flexible_start else h.start
            if start < checkin[0]:
                out.append(problem(f"{f}.{label}.{wd}", "before_checkin_window", checkin_window_start=checkin[0]))
            if h.end > checkout[1]:
                out.append(problem(f"{f}.{label}.{wd}", "after_checkout_window_end", checkout_window_end=checkout[1]))
    return out


def document_of(s: Schedules) -> JsonObject:
    """Back to a document (for tests and the API's echo)."""
    def variant(v: Variant) -> JsonObject:
        d: JsonObject = {"id": v.id, "name": v.name, "valid_from": v.valid_from.isoformat(),
                         "valid_to": v.valid_to.isoformat(), "hours": _hours_doc(v.hours)}
        d |= {k: list(w) for k, w in (("checkin_window", v.checkin_window),
                                      ("checkout_window", v.checkout_window)) if w}
        return d

    return {"source": s.source, "seasons": [variant(v) for v in s.seasons], "schedules": [{
        "id": x.id, "name": x.name, "weekdays": list(x.weekdays), "hours": _hours_doc(x.hours),
        "applies_to": {k: sorted(getattr(x, k)) for k in SCOPES},
        "valid_from": x.valid_from.isoformat() if x.valid_from else None,
        "valid_to": x.valid_to.isoformat() if x.valid_to else None,
        "checkin_window": list(x.checkin_window), "checkout_window": list(x.checkout_window),
        "flexible": {"start_window": list(x.flexible_start)} if x.flexible_start else None,
        "variants": [variant(v) for v in x.variants], "seasonal": x.seasonal} for x in s.schedules]}

