"""Read models: an employee's own profile and days, a supervisor's team, auditors' exports."""
from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from typing import TypeVar

from chalicelib.common.errors import InvalidInput, JsonObject, NotFound
from chalicelib.policy.analytics import ROOT as ANALYTICS_PREFIX
from chalicelib.policy.day import Day, view_status
from chalicelib.policy.export import MANIFEST_FILE, run_of
from chalicelib.policy.decision import for_employee
from chalicelib.policy.time_rules import OfficeRules
from chalicelib.policy.work import ReportDay
from chalicelib.services import work_days
from chalicelib.services.enrolment import employee
from chalicelib.services.records import CheckinRecord, DayRecord, Employee, ExportObject, Office
from chalicelib.services.schemas import (
    CheckinBrief,
    DateRangeQuery,
    EnrolmentState,
    ExportFile,
    ExportList,
    ExportRun,
    Me,
    MyAttendance,
    MyDay,
    MySite,
    OfficeBrief,
    SitesToday,
    SiteToday,
    StaffDay,
    TeamAttendance,
)
from chalicelib.wiring import Services

V = TypeVar("V", MyDay, StaffDay)

MAX_RANGE_DAYS = 62
DOWNLOAD_TTL_S = 900


def me(svc: Services, nip: str, groups: frozenset[str]) -> Me:
    emp = employee(svc, nip)
    offices = _offices(svc, emp)
    today = _today(svc, offices).isoformat()
    sites = [MySite(**s.model_dump(exclude={"nip"}), valid_today=s.valid_on(today))
             for s in svc.records.sites_of(nip)]
    return Me(nip=emp.nip, name=emp.name, unit=emp.unit, roles=sorted(groups),
              supervisor_nip=emp.supervisor_nip,
              enrollment=EnrolmentState(status="pending_approval" if emp.awaiting_approval
                                        else "enrolled" if emp.enrolled else "not_enrolled",
                                        enrolled_at=emp.enrolled_at),
              offices=[OfficeBrief(office_id=o.office_id, name=o.name, timezone=o.timezone, rules=o.rules,
                                   geofence=o.geofence)
                       for o in offices],
              sites=sites,
              sites_today=SitesToday(date=today, sites=[
                  *(SiteToday(site_id=o.office_id, kind="office", work_mode=o.work_mode) for o in offices),
                  *(SiteToday(site_id=s.site_id, kind=s.kind, work_mode=s.work_mode)
                    for s in sites if s.valid_today)]))


def _offices(svc: Services, emp: Employee) -> list[Office]:
    return [o for o in (svc.records.get_office(i) for i in emp.office_ids) if o]


def _today(svc: Services, offices: list[Office]) -> date:
    """Today in the first office's time zone (WIB without an office)."""
    tz = offices[0].timezone if offices else "Asia/Jakarta"
    return OfficeRules(timezone=tz).local_moment(svc.clock.now())[0]


def local_today(svc: Services, emp: Employee) -> date:
    """Today where the employee works (their first office's zone)."""
    return _today(svc, _offices(svc, emp))


def my_attendance(svc: Services, nip: str, q: DateRangeQuery) -> MyAttendance:
    emp = employee(svc, nip)
    today = local_today(svc, emp)
    end = q.end or today
    start = q.start or end - timedelta(days=6)
    if start > end or (end - start).days >= MAX_RANGE_DAYS:
        raise InvalidInput(f"from must be on or before to, at most {MAX_RANGE_DAYS} days",
                           code="invalid_range", details={"from": start.isoformat(), "to": end.isoformat()})
    days = {d.date: d for d in svc.records.days_between(nip, start.isoformat(), end.isoformat())}
    checkins: dict[str, list[CheckinBrief]] = {}
    for c in svc.records.checkins_between(nip, start.isoformat(), end.isoformat()):
        checkins.setdefault(c.local_date, []).append(_brief(c))
    dates = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    home = (_offices(svc, emp) or [None])[0]
    due = work_days.report_days(svc, [(emp, home, d) for d in dates if d <= today],
                                days={(nip, k): v.day for k, v in days.items()})
    out = [with_report_reason(_my_day(svc, d, days, checkins), due.get((nip, d.isoformat()))) for d in dates]
    return MyAttendance(nip=nip, start=start.isoformat(), end=end.isoformat(), days=out)


def with_report_reason(view: V, work: ReportDay | None) -> V:
    """A day view with the required report's reason (``report_due`` / ``report_missing``) added."""
    reason = work.reason() if work else None
    return view.model_copy(update={"reasons": [*view.reasons, reason]}) if reason else view  # type: ignore[attr-defined]


def _brief(c: CheckinRecord) -> CheckinBrief:
    return CheckinBrief(checkin_id=c.checkin_id, kind=c.kind, decision=c.decision, local_time=c.local_time,
                        work_mode=c.work_mode, late_minutes=c.late_minutes, reasons=for_employee(c.reasons))


def _my_day(svc: Services, d: date, days: dict[str, DayRecord],
            checkins: dict[str, list[CheckinBrief]]) -> MyDay:
    iso, rec = d.isoformat(), days.get(d.isoformat())
    ds = svc.calendar.day_status(d)
    status = view_status(rec.day if rec else None, ds.working, ds.reason)
    return MyDay(date=iso, status=status, working_day=ds.working, holiday=ds.name,
                 **_times(rec.day if rec else None), checkins=checkins.get(iso, []))


def _times(day: Day | None) -> JsonObject:
    """What a day view shows of the day besides its status (nothing without a day record)."""
    if day is None:
        return {}
    return {"first_in": day.first_in, "last_out": day.last_out, "late_minutes": day.late_minutes,
            "work_mode": day.work_mode, "reasons": list(day.reasons), "checkin_ids": list(day.checkin_ids),
            "review_ids": list(day.review_ids), "request_ids": list(day.request_ids)}


def team_attendance(svc: Services, supervisor_nip: str, day: date | None) -> TeamAttendance:
    sup = employee(svc, supervisor_nip)
    d = (day or local_today(svc, sup)).isoformat()
    ds = svc.calendar.day_status(date.fromisoformat(d))
    staff = []
    members = sorted(svc.records.staff_of(supervisor_nip), key=lambda e: e.nip)
    past = date.fromisoformat(d) <= local_today(svc, sup)
    homes = {i: svc.records.get_office(i) for i in sorted({e.office_ids[0] for e in members if e.office_ids})}
    due = work_days.report_days(svc, [(e, homes.get(e.office_ids[0]) if e.office_ids else None, date.fromisoformat(d))
                                      for e in members if past])
    for e in members:
        rec = svc.records.day(e.nip, d)
        if rec is None:
            view = StaffDay(nip=e.nip, name=e.name, unit=e.unit, status=view_status(None, ds.working, ds.reason))
        else:
            view = StaffDay(nip=e.nip, name=e.name, unit=e.unit, status=rec.day.status, **_times(rec.day))
        staff.append(with_report_reason(view, due.get((e.nip, d))))
    return TeamAttendance(supervisor_nip=supervisor_nip, date=d, staff=staff)


def export_prefix(svc: Services, day: date) -> str:
    return f"attendance/date={day.isoformat()}/agency={svc.settings.agency_id}/"


def exports(svc: Services, day: date) -> ExportList:
    """Every run of ``day``'s export, oldest first, each file with its version id and a presigned
    URL of exactly that version; ``files``: the latest run with a manifest."""
    runs = runs_under(svc, export_prefix(svc, day))
    if not runs:
        raise NotFound("No export for this date yet", code="export_not_found",
                       details={"date": day.isoformat()})
    complete = [r for r in runs if r.manifest_sha256]
    return ExportList(date=day.isoformat(), files=(complete or runs)[-1].files, runs=runs,
                      expires_in=DOWNLOAD_TTL_S)


def runs_under(svc: Services, prefix: str) -> list[ExportRun]:
    """Every write-once run under ``prefix``, oldest first, each file with its version id and a
    presigned URL of exactly that version."""
    by_run: dict[str, list[ExportObject]] = {}
    for o in svc.exports.list(prefix, versions=True):
        run = run_of(o.key)
        if run:
            by_run.setdefault(run, []).append(o)
    return [_export_run(svc, run, objs) for run, objs in sorted(by_run.items())]


def _export_run(svc: Services, run: str, objects: list[ExportObject]) -> ExportRun:
    files = [ExportFile(key=o.key, bytes=o.bytes, version_id=o.version_id,
                        url=svc.exports.download_url(o.key, DOWNLOAD_TTL_S, o.version_id))
             for o in objects]
    man = next((o for o in objects if o.key.endswith("/" + MANIFEST_FILE)), None)
    if man is None:
        return ExportRun(run_id=run, files=files)
    data = svc.exports.get(man.key, man.version_id)
    try:
        stated = json.loads(data)
    except ValueError:
        stated = None
    if not isinstance(stated, dict):  # never so as written: shown without what it would state
        return ExportRun(run_id=run, manifest_sha256=hashlib.sha256(data).hexdigest(), files=files)
    return ExportRun(run_id=run, zone=stated.get("zone"), created_at=stated.get("generated_at"),
                     sequence=stated.get("run_sequence"), manifest_sha256=hashlib.sha256(data).hexdigest(),
                     previous_manifest_sha256=stated.get("previous_manifest_sha256"),
                     files=files, parquet=_parquet_files(svc, stated.get("parquet")))


def _parquet_files(svc: Services, entries: object) -> list[ExportFile]:
    """The run's Parquet files (under ``analytics/``, named by its manifest) as downloads."""
    if not isinstance(entries, list):
        return []
    return [ExportFile(key=e["key"], bytes=e["bytes"], version_id=e.get("version_id"),
                       url=svc.exports.download_url(e["key"], DOWNLOAD_TTL_S, e.get("version_id")))
            for e in entries if isinstance(e, dict) and isinstance(e.get("key"), str)
            and e["key"].startswith(ANALYTICS_PREFIX) and isinstance(e.get("bytes"), int)]
