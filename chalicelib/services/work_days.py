"""The report a day asks for (issue 15): ``policy.work.report_day`` fed with what is known of
each (employee, date), read in bulk: the approved requests overlapping the dates (one query,
``by_status``), the day records and the reports by their keys (BatchGetItem each), the units'
published rosters (through the policy cache) and the schedules document (cached). Used by the
team view (``GET /team/now``), the day views (``/me/attendance``, ``/team/attendance``), the
supervisors' digest (``jobs.detect_absence``) and, with the recap's own reads, the monthly recap.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from chalicelib.policy import work as rules
from chalicelib.policy.day import EXCUSED, OFFICIAL_TRAVEL, ON_LEAVE, Day
from chalicelib.policy.requests import APPROVED, EXCUSE, LEAVE, OFFICIAL_TRAVEL_TYPE, WFH
from chalicelib.policy.schedule import Schedules
from chalicelib.services import schedules
from chalicelib.services.agency_config import schedules as schedules_doc
from chalicelib.services.records import Employee, Office, RequestRecord, WorkReport
from chalicelib.wiring import Services

DEFAULT_ZONE = "Asia/Jakarta"
Key = tuple[str, str]  # (nip, ISO date)


@dataclass
class Known:
    """What the rule needs besides the day itself, read once for many days."""

    requests: dict[str, list[RequestRecord]]  # approved, by NIP
    reports: dict[Key, WorkReport]
    roster: Callable[[str, str], object]  # (unit, YYYY-MM) -> PublishedRoster | None
    now: datetime
    cutoff: rules.Cutoff
    required_on: tuple[str, ...]
    _rosters: dict = field(default_factory=dict)

    def roster_status(self, e: Employee, day: str) -> str | None:
        if not e.unit:
            return None
        key = (e.unit, day[:7])
        if key not in self._rosters:
            self._rosters[key] = self.roster(*key)
        saved = self._rosters[key]
        return saved.status_on(e.nip, day) if saved is not None else None  # type: ignore[attr-defined]


def known(svc: Services, requests: Sequence[RequestRecord], reports: Sequence[WorkReport]) -> Known:
    by_nip: dict[str, list[RequestRecord]] = defaultdict(list)
    for r in requests:
        if r.status == APPROVED:
            by_nip[r.nip].append(r)
    return Known(requests=by_nip, reports={(r.nip, r.date): r for r in reports},
                 roster=svc.policy_cache.roster, now=svc.clock.now(),
                 cutoff=rules.parse_cutoff(svc.settings.report_cutoff),
                 required_on=tuple(svc.settings.report_required_on))


def one(k: Known, e: Employee, d: date, working: bool, timezone: str, day: Day | None) -> rules.ReportDay:
    """The report state of ``e``'s ``d`` (``working``: of their effective schedule)."""
    iso = d.isoformat()
    covering = [r for r in k.requests.get(e.nip, ()) if r.start <= iso <= r.end]
    status = day.status if day else None
    excused = status in (EXCUSED, ON_LEAVE) or any(r.type in (EXCUSE, LEAVE) for r in covering)
    asked = "DL" if status == OFFICIAL_TRAVEL or any(r.type == OFFICIAL_TRAVEL_TYPE for r in covering) else (
        "WFH" if any(r.type == WFH for r in covering) else None)
    rostered = k.roster_status(e, iso)
    mode = rules.day_mode(k.required_on, request=asked, roster=rostered if rostered in ("WFO", "WFH") else None,
                          checkin=day.work_mode if day else None)
    report = k.reports.get((e.nip, iso))
    return rules.report_day(d, mode, k.required_on, working=working, excused=excused,
                            report_status=report.status if report else None, now=k.now, timezone=timezone,
                            cutoff=k.cutoff)


def report_days(svc: Services, wanted: Sequence[tuple[Employee, Office | None, date]],
                days: dict[Key, Day] | None = None, document: Schedules | None = None,
                approved: Sequence[RequestRecord] | None = None) -> dict[Key, rules.ReportDay]:
    """The report state of each (employee, their office, date) of ``wanted``, in bulk reads
    (``days``, ``approved``: already read by the caller)."""
    if not wanted:
        return {}
    nips = sorted({e.nip for e, _, _ in wanted})
    dates = sorted({d.isoformat() for _, _, d in wanted})
    if days is None:
        days = {(r.nip, r.date): r.day for r in svc.records.days_of(nips, dates)}
    if approved is None:
        approved = svc.records.requests_overlapping(APPROVED, dates[0], dates[-1])
    k = known(svc, approved, svc.records.reports_on(nips, dates))
    document = document or schedules_doc(svc)
    out: dict[Key, rules.ReportDay] = {}
    for e, office, d in wanted:
        if office is not None:
            working, tz = schedules.effective(svc, e, office, d, document=document).working, office.timezone
        else:
            working, tz = svc.calendar.day_status(d).working, DEFAULT_ZONE
        out[(e.nip, d.isoformat())] = one(k, e, d, working, tz, days.get((e.nip, d.isoformat())))
    return out
