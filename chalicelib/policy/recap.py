"""The monthly recap: an employee's month of days as counts and the performance-allowance cut.

Pure. Input: the employee's day records of the month (``policy.day.Day`` by local date), the
calendar's working days of the period, the agency's TL/PSW table, and the ids of the approved
requests that excuse a day (any approved excuse, leave or dinas luar). Each working day falls in
exactly one category, so the categories add up to the working days:

=================  ======================================================  =====================
category           the day                                                 cut (percent)
=================  ======================================================  =====================
attended           present or late (by work mode: WFO, WFH, DL, WFA)       TL tier + PSW tier
pending_review     a flagged check-in nobody decided yet                   none: listed pending
excused            an approved excuse (sick, important reason)             none
on_leave           an approved leave (counted by subtype)                  none
official_travel    an approved dinas luar                                  none
absent             absent without notice (detected, or a review rejected)  the absent percent
unrecorded         no day record, or a check-out alone (absence detection  none: listed
                   has not marked it)
=================  ======================================================  =====================

An attended day's TL cut is the tier and percent its check-in stated (the ``late`` reason), else
the table's for its minutes; its PSW cut is the table's tier for the minutes it left early, or
the last PSW tier (no record) when it has a check-in and no check-out. An attended day that an
approved request covers (its ``request_ids``) has no cut: the excuse removes it. The month's cut is
the sum of the days' cuts, capped at 100. Days that are not working days count nothing.

Every figure carries its reasons as data: ``{date, code, percent}`` (plus the tier, minutes or
request id it comes from). The PP 94/2021 counter is the number of unexcused absence days (status
``absent`` on a working day) from 1 January to the end of the period, with their dates; the
thresholds it has reached (:func:`thresholds_reached`) each send the personnel agency one notice
naming the graduated discipline level of the count (:data:`DISCIPLINE_LEVELS`). PP 94/2021's other
dismissal ground, 10 consecutive working days absent without notice (:func:`consecutive_absence`:
weekends and holidays neither break nor extend a run; a run may begin in an earlier month or the
year before), is flagged per employee (``consecutive_absence``, the run's dates) and notified once.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from chalicelib.common.errors import JsonObject
from chalicelib.policy.day import (
    ABSENT,
    ATTENDED,
    EXCUSED,
    OFFICIAL_TRAVEL,
    ON_LEAVE,
    PENDING_REVIEW,
    Day,
)
from chalicelib.policy.time_rules import LatenessTable
from chalicelib.policy.work import REPORT_COUNTS

WORK_MODES = ("WFO", "WFH", "DL", "WFA")  # office, home, assignment (dinas luar), anywhere
UNKNOWN_MODE = "unknown"
ATTENDED_CAT, PENDING_CAT, UNRECORDED_CAT = "attended", "pending_review", "unrecorded"
CATEGORIES = (ATTENDED_CAT, PENDING_CAT, EXCUSED, ON_LEAVE, OFFICIAL_TRAVEL, ABSENT, UNRECORDED_CAT)
WITH_NOTICE = (EXCUSED, ON_LEAVE, OFFICIAL_TRAVEL)
MAX_CUT = 100.0


@dataclass(frozen=True)
class DayCut:
    """One working day's verdict: its category, its cut and the reasons (each ``{date, code,
    percent}`` with what it comes from)."""

    date: str
    category: str
    reasons: tuple[JsonObject, ...] = ()
    work_mode: str | None = None
    tl: str | None = None
    psw: str | None = None
    leave_type: str | None = None

    @property
    def percent(self) -> float:
        return round(sum(float(r["percent"]) for r in self.reasons), 4)


@dataclass(frozen=True)
class EmployeeRecap:
    nip: str
    name: str
    unit: str | None
    working_days: int
    categories: Mapping[str, int]
    present_by_mode: Mapping[str, int]
    tl: Mapping[str, int]
    psw: Mapping[str, int]
    leave_by_type: Mapping[str, int]
    cut_percent: float
    cut_capped: bool
    cut_reasons: tuple[JsonObject, ...]
    pending: tuple[JsonObject, ...]
    unrecorded: tuple[JsonObject, ...]
    absent_year_to_date: int = 0
    absent_dates: tuple[str, ...] = ()  # the year's unexcused absence days, the count's reasons
    consecutive_absence: tuple[str, ...] = ()  # a run of CONSECUTIVE_LIMIT+ reaching into the period
    reports: Mapping[str, int] = field(default_factory=dict)  # policy.work.report_counts: required reports

    @property
    def absent_with_notice(self) -> int:
        return sum(self.categories[c] for c in WITH_NOTICE)

    @property
    def absent_without_notice(self) -> int:
        return self.categories[ABSENT]


def _reason(d: str, code: str, percent: float, **extra: object) -> JsonObject:
    return {"date": d, "code": code, "percent": percent, **{k: v for k, v in extra.items() if v is not None}}


def _late_cut(d: str, day: Day, table: LatenessTable) -> JsonObject | None:
    stated = next((r for r in day.reasons if r.get("code") == "late" and r.get("tier")), None)
    if stated is not None and isinstance(stated.get("percent"), (int, float)):
        return _reason(d, "late", float(stated["percent"]), tier=stated["tier"], minutes=stated.get("minutes"))
    t = table.classify_late(day.late_minutes or 0)
    return _reason(d, "late", t["percent"], tier=t["tier"], minutes=day.late_minutes) if t else None


def _early_cut(d: str, day: Day, table: LatenessTable) -> JsonObject | None:
    if day.last_out is None:
        t = table.missing_record("out")  # None: the agency does not count a missing check-out
        return _reason(d, "no_checkout", t["percent"], tier=t["tier"]) if t else None
    t = table.classify_early_leave(day.early_leave_minutes or 0)
    return _reason(d, "early_leave", t["percent"], tier=t["tier"], minutes=day.early_leave_minutes) if t else None


def _leave_type(day: Day) -> str:
    r = next((r for r in day.reasons if r.get("code") == "request_approved"), {})
    return str(r.get("subtype") or r.get("type") or "unspecified")


def judge_day(d: str, day: Day | None, table: LatenessTable, excusing: frozenset[str] = frozenset()) -> DayCut:
    """The verdict of one working day (see the module's table)."""
    if day is None or day.status not in (*ATTENDED, PENDING_REVIEW, *WITH_NOTICE, ABSENT):
        return DayCut(d, UNRECORDED_CAT, (_reason(d, "not_recorded", 0.0),))
    if day.status in WITH_NOTICE:
        return DayCut(d, day.status, leave_type=_leave_type(day) if day.status == ON_LEAVE else None)
    if day.status == PENDING_REVIEW:
        return DayCut(d, PENDING_CAT, (_reason(d, "pending_review", 0.0),))
    if day.status == ABSENT:
        stated = next((r.get("percent") for r in day.reasons if r.get("code") == "no_checkin"), None)
        pct = float(stated) if isinstance(stated, (int, float)) else table.absent_percent
        code = "review_rejected" if any(r.get("code") == "review_rejected" for r in day.reasons) else "absent"
        return DayCut(d, ABSENT, (_reason(d, code, pct),))
    return _attended(d, day, table, excusing)


def _attended(d: str, day: Day, table: LatenessTable, excusing: frozenset[str]) -> DayCut:
    mode = day.work_mode if day.work_mode in WORK_MODES else UNKNOWN_MODE
    cuts = [c for c in (_late_cut(d, day, table), _early_cut(d, day, table)) if c]
    tl = next((c["tier"] for c in cuts if c["code"] == "late"), None)
    psw = next((c["tier"] for c in cuts if c["code"] != "late"), None)
    excuse = next((rid for rid in day.request_ids if rid in excusing), None)
    if cuts and excuse:
        cuts = [{**c, "percent": 0.0, "excused_by": excuse} for c in cuts]
    total = sum(float(c["percent"]) for c in cuts)
    capped = table.day_percent(float(c["percent"]) for c in cuts)
    if capped < total:  # the agency's daily cap, as a reason of its own so the day still adds up
        cuts.append(_reason(d, "daily_cap", round(capped - total, 4), cap_percent=table.daily_cap_percent))
    return DayCut(d, ATTENDED_CAT, tuple(cuts), work_mode=mode, tl=tl, psw=psw)


@dataclass(frozen=True)
class Person:
    nip: str
    name: str
    unit: str | None = None


@dataclass(frozen=True)
class MonthInput:
    """What the recap of one employee reads: the days by local date (ISO), the period's working
    days, the approved requests that excuse a day, and the year's absent dates so far."""

    person: Person
    days: Mapping[str, Day]
    working_days: tuple[date, ...]
    excusing: frozenset[str] = frozenset()
    year_days: Mapping[str, Day] = field(default_factory=dict)  # may hold days before the year (runs)
    year_working_days: tuple[date, ...] = ()
    run_working_days: tuple[date, ...] = ()  # where a consecutive run is looked for (ends with the period)


def recap_employee(m: MonthInput, table: LatenessTable) -> EmployeeRecap:
    verdicts = [judge_day(d.isoformat(), m.days.get(d.isoformat()), table, m.excusing) for d in m.working_days]
    categories = {c: sum(1 for v in verdicts if v.category == c) for c in CATEGORIES}
    attended = [v for v in verdicts if v.category == ATTENDED_CAT]
    leave: dict[str, int] = {}
    for v in verdicts:
        if v.leave_type:
            leave[v.leave_type] = leave.get(v.leave_type, 0) + 1
    cut_reasons = tuple(r for v in verdicts if v.category in (ATTENDED_CAT, ABSENT) for r in v.reasons)
    total = round(sum(v.percent for v in verdicts), 4)
    absent = unexcused_absence_dates(m.year_days, m.year_working_days)  # PP 94/2021's count: len(absent)
    return EmployeeRecap(
        nip=m.person.nip, name=m.person.name, unit=m.person.unit, working_days=len(verdicts),
        categories=categories,
        present_by_mode={mode: sum(1 for v in attended if v.work_mode == mode) for mode in (*WORK_MODES, UNKNOWN_MODE)},
        tl={t.tier: sum(1 for v in attended if v.tl == t.tier) for t in table.late},
        psw={t.tier: sum(1 for v in attended if v.psw == t.tier) for t in table.early_leave},
        leave_by_type=dict(sorted(leave.items())), cut_percent=float(min(MAX_CUT, total)), cut_capped=total > MAX_CUT,
        cut_reasons=cut_reasons,
        pending=tuple(r for v in verdicts if v.category == PENDING_CAT for r in v.reasons),
        unrecorded=tuple(r for v in verdicts if v.category == UNRECORDED_CAT for r in v.reasons),
        absent_year_to_date=len(absent), absent_dates=absent,
        consecutive_absence=consecutive_absence(m.year_days, m.run_working_days or m.year_working_days,
                                                m.working_days))


def _absent_on(days: Mapping[str, Day]) -> frozenset[date]:
    """The dates (keys: ISO dates) of the days marked absent: a few, where the working days of a
    year are hundreds (each looked up by its date, not turned into a string first)."""
    return frozenset(date.fromisoformat(d) for d, day in days.items() if day.status == ABSENT)


def unexcused_absence_dates(days: Mapping[str, Day], working_days: Iterable[date]) -> tuple[str, ...]:
    """The working days marked absent (without notice), as ISO dates."""
    absent = _absent_on(days)
    return tuple(d.isoformat() for d in working_days if d in absent) if absent else ()


def unexcused_absences(days: Mapping[str, Day], working_days: Iterable[date]) -> int:
    """PP 94/2021's count: working days marked absent (without notice)."""
    return len(unexcused_absence_dates(days, working_days))


CONSECUTIVE_LIMIT = 10  # PP 94/2021: 10 consecutive working days of unexcused absence -> dismissal


def absence_runs(days: Mapping[str, Day], working_days: Iterable[date]) -> list[tuple[str, ...]]:
    """The runs of consecutive working days marked absent (without notice), in order. Only
    working days are in the sequence, so a weekend or holiday neither breaks nor extends a run;
    any other working day (present, excused, on leave, unrecorded) ends it."""
    runs: list[tuple[str, ...]] = []
    current: list[str] = []
    absent = _absent_on(days)
    if not absent:
        return runs
    for d in working_days:
        if d in absent:
            current.append(d.isoformat())
        elif current:
            runs.append(tuple(current))
            current = []
    if current:
        runs.append(tuple(current))
    return runs


def consecutive_absence(days: Mapping[str, Day], working_days: Iterable[date], period: Iterable[date],
                        limit: int = CONSECUTIVE_LIMIT) -> tuple[str, ...]:
    """The longest run (the earliest of equals) of at least ``limit`` consecutive absent working
    days with a day in ``period``, its dates; () when there is none."""
    inside = {d.isoformat() for d in period}
    found = [r for r in absence_runs(days, working_days) if len(r) >= limit and inside.intersection(r)]
    return max(found, key=len) if found else ()


# PP 94/2021, as ../shared/docs/domain.md reads it: unexcused absence days in a year -> the
# graduated discipline level (the personnel agency decides; Hadir only tells it the count).
DISCIPLINE_LEVELS: tuple[tuple[int, str], ...] = (
    (3, "oral_warning"), (4, "written_warning"), (7, "written_statement_of_dissatisfaction"),
    (11, "allowance_cut_25pct_6_months"), (14, "allowance_cut_25pct_9_months"),
    (17, "allowance_cut_25pct_12_months"), (21, "demotion"), (25, "removal_from_position"),
    (28, "dismissal"))


def discipline_level(days: int) -> str | None:
    """The PP 94/2021 level ``days`` unexcused absences in a year reach (None below 3)."""
    return next((level for least, level in reversed(DISCIPLINE_LEVELS) if days >= least), None)


def thresholds_reached(days: int, thresholds: Iterable[int]) -> tuple[int, ...]:
    """The configured thresholds ``days`` has reached, lowest first."""
    return tuple(sorted({t for t in thresholds if days >= t}))


@dataclass(frozen=True)
class UnitTotals:
    unit: str
    employees: int
    working_days: int
    categories: Mapping[str, int]
    present_by_mode: Mapping[str, int]
    tl: Mapping[str, int]
    psw: Mapping[str, int]
    cut_percent_mean: float
    absent_year_to_date: int


def _sum(maps: Iterable[Mapping[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for m in maps:
        for k, v in m.items():
            out[k] = out.get(k, 0) + v
    return out


def unit_totals(recaps: Iterable[EmployeeRecap]) -> list[UnitTotals]:
    """Per unit (``-`` for employees without one), by unit name."""
    by_unit: dict[str, list[EmployeeRecap]] = {}
    for r in recaps:
        by_unit.setdefault(r.unit or "-", []).append(r)
    return [UnitTotals(unit=u, employees=len(rs), working_days=sum(r.working_days for r in rs),
                       categories=_sum(r.categories for r in rs), present_by_mode=_sum(r.present_by_mode for r in rs),
                       tl=_sum(r.tl for r in rs), psw=_sum(r.psw for r in rs),
                       cut_percent_mean=round(sum(r.cut_percent for r in rs) / len(rs), 4),
                       absent_year_to_date=sum(r.absent_year_to_date for r in rs))
            for u, rs in sorted(by_unit.items())]


# --- the files ------------------------------------------------------------------------------------
BASE_COLUMNS = ["nip", "name", "unit", "working_days", "days_present",
                *[f"days_{m.lower()}" for m in WORK_MODES], "days_mode_unknown"]
TAIL_COLUMNS = ["days_pending_review", "days_excused", "days_on_leave", "days_official_travel",
                "absent_with_notice", "absent_without_notice", "days_unrecorded", "leave_by_type",
                "cut_percent", "cut_capped", "absent_year_to_date", "cut_reasons", "pending_reviews",
                "consecutive_absent_days", "consecutive_absence", *REPORT_COUNTS]


def tier_columns(table: LatenessTable) -> list[str]:
    return [t.tier.lower() for t in (*table.late, *table.early_leave)]


def recap_columns(table: LatenessTable) -> list[str]:
    """recap.csv's columns: the counts, one column per TL and PSW tier of the agency's table."""
    return [*BASE_COLUMNS, *tier_columns(table), *TAIL_COLUMNS]


def _counts(categories: Mapping[str, int], modes: Mapping[str, int], tl: Mapping[str, int],
            psw: Mapping[str, int]) -> JsonObject:
    return {"days_present": categories[ATTENDED_CAT],
            **{f"days_{m.lower()}": modes.get(m, 0) for m in WORK_MODES},
            "days_mode_unknown": modes.get(UNKNOWN_MODE, 0),
            **{k.lower(): v for k, v in {**tl, **psw}.items()},
            "days_pending_review": categories[PENDING_CAT], "days_excused": categories[EXCUSED],
            "days_on_leave": categories[ON_LEAVE], "days_official_travel": categories[OFFICIAL_TRAVEL],
            "absent_with_notice": sum(categories[c] for c in WITH_NOTICE),
            "absent_without_notice": categories[ABSENT], "days_unrecorded": categories[UNRECORDED_CAT]}


def recap_row(r: EmployeeRecap) -> JsonObject:
    return {"nip": r.nip, "name": r.name, "unit": r.unit, "working_days": r.working_days,
            **_counts(r.categories, r.present_by_mode, r.tl, r.psw),
            "leave_by_type": dict(r.leave_by_type), "cut_percent": r.cut_percent, "cut_capped": r.cut_capped,
            "absent_year_to_date": r.absent_year_to_date, "cut_reasons": list(r.cut_reasons),
            "pending_reviews": list(r.pending), "consecutive_absent_days": len(r.consecutive_absence),
            "consecutive_absence": [{"date": d, "code": "absent_without_notice"} for d in r.consecutive_absence],
            **{k: r.reports.get(k, 0) for k in REPORT_COUNTS}}


UNIT_HEAD = ["unit", "employees", "working_days"]
UNIT_TAIL = ["cut_percent_mean", "absent_year_to_date"]
_DAY_COUNTS = TAIL_COLUMNS[:7]  # days_pending_review .. days_unrecorded


def unit_columns(table: LatenessTable) -> list[str]:
    """units.csv's columns: the employees' counts summed per unit, and their mean cut."""
    return [*UNIT_HEAD, *BASE_COLUMNS[4:], *tier_columns(table), *_DAY_COUNTS, *UNIT_TAIL]


def unit_row(u: UnitTotals) -> JsonObject:
    cats = {c: u.categories.get(c, 0) for c in CATEGORIES}
    return {"unit": u.unit, "employees": u.employees, "working_days": u.working_days,
            **_counts(cats, u.present_by_mode, u.tl, u.psw), "cut_percent_mean": u.cut_percent_mean,
            "absent_year_to_date": u.absent_year_to_date}
