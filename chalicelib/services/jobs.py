"""Scheduled work: absence detection per time zone, and the daily export for auditors.

Both are safe to run twice: absent marks are conditional writes, notices are once-only, and each
export run writes new, write-once objects chained to the run before (each run is itself audited).
"""
from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.common.errors import JsonObject
from chalicelib.common.logs import logger, metrics
from chalicelib.common import resources
from chalicelib.common.resources import ZONES
from chalicelib.policy.absence import (
    AbsenceRecord,
    EmployeeRef,
    find_absentees,
    group_by_supervisor,
    window_closed,
)
from chalicelib.policy.day import (
    NO_RECORD,
    REQUEST_STATUSES,
    absent_day,
    split_for_absence,
)
from chalicelib.policy.export import (
    AUDIT_FILE,
    MANIFEST_FILE,
    RECORDS_FILE,
    audit_manifest,
    audit_to_csv,
    audit_window,
    chain,
    manifest,
    records_to_csv,
    run_id,
)
from chalicelib.policy import analytics as tables
from chalicelib.policy.calendar import WORKING_DAY, DayStatus
from chalicelib.policy.schedule import EffectiveDay, Schedules
from chalicelib.policy.time_rules import OfficeRules
from chalicelib.policy import work as work_rules
from chalicelib.policy.requests import APPROVED
from chalicelib.services import analytics, notices, runs, schedules, work_days
from chalicelib.services.agency_config import schedules as agency_schedules
from chalicelib.services import requests as staff_requests
from chalicelib.services.queries import export_prefix
from chalicelib.services.records import (
    AuditCursor,
    AuditEntry,
    CheckinRecord,
    DayRecord,
    Employee,
    Office,
    RequestRecord,
    utc_iso,
)
from chalicelib.services.reviews import pending_review_id
from chalicelib.wiring import Services


def detect_absence(svc: Services, zone: str) -> JsonObject:
    """Mark and tell the absences of ``zone``'s offices. Reads through keys and indexes only
    (never a Scan): the zone's offices (by_zone), each office's staff (by_office, page by page),
    their day records by key (BatchGetItem); supervisors and requesters by key when needed."""
    now = svc.clock.now()
    report: JsonObject = {"zone": zone, "timezone": ZONES[zone][0], "offices": [], "absent": 0,
                          "covered_by_request": 0, "notices": 0, "skipped_offices": []}
    found: list[AbsenceRecord] = []
    pending: list[tuple[EmployeeRef, str]] = []  # with the review id its supervisor decides
    local_date: date | None = None
    document = agency_schedules(svc)
    in_zone: set[str] = set()
    unreported: dict[str, JsonObject] = {}  # by nip#date
    approved_by_days: dict[tuple[date, date], list[RequestRecord]] = {}  # read once per span, not per office
    for office in svc.records.offices_in_zone(zone):
        in_zone.add(office.office_id)
        office_date, staff, days, waiting, members = _due(svc, office, now, document)
        if office_date is None:
            report["skipped_offices"].append({"office_id": office.office_id, "reason": "window_open"})
            continue
        local_date = office_date
        unreported.update(_missing_reports(svc, office, members, now, document, approved_by_days))
        office_found, office_pending, written, covered = _absentees_of(svc, office, local_date, staff, days)
        found += office_found
        pending += office_pending
        report["absent"] += written
        report["covered_by_request"] += covered
        report["offices"].append({"office_id": office.office_id, "date": local_date.isoformat(),
                                  "staff": len(staff), "absent_new": written, "window_open": waiting,
                                  "not_working": sum(not d.working for d in days.values())})
    report["pending_review"] = len(pending)
    directory = _Directory(svc)
    waiting_requests = staff_requests.pending_for(svc, _Directory(svc, in_zone)) if local_date else {}
    report["pending_requests"] = sum(len(v) for v in waiting_requests.values())
    report["reports_missing"] = len(unreported)
    report["notices"] = _notify(svc, zone, found, pending, directory, local_date.isoformat() if local_date else None,
                                waiting_requests, list(unreported.values()))
    metrics.add_metric(name="AbsencesDetected", unit="Count", value=report["absent"])
    logger.info("absence detection done", extra={k: report[k] for k in ("zone", "absent", "notices")})
    return report


class _Directory(Mapping[str, Employee]):
    """Employees read by key when asked for (a GetItem each, remembered), instead of the whole
    directory in memory: the supervisors a digest names, the requesters of pending requests.
    With ``offices``, only those whose first office is one of them are found (the zone's staff)."""

    def __init__(self, svc: Services, offices: set[str] | None = None):
        self._svc, self._offices = svc, offices
        self._seen: dict[str, Employee | None] = {}

    def __getitem__(self, nip: str) -> Employee:
        if nip not in self._seen:
            e = self._svc.records.get_employee(nip)
            kept = e is not None and (self._offices is None or e.office_ids[:1] != [] and e.office_ids[0] in self._offices)
            self._seen[nip] = e if kept else None
        found = self._seen[nip]
        if found is None:
            raise KeyError(nip)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(n for n, e in self._seen.items() if e is not None)

    def __len__(self) -> int:
        return sum(e is not None for e in self._seen.values())


def _due(svc: Services, office: Office, now: datetime, document: Schedules
         ) -> tuple[date | None, list[EmployeeRef], dict[str, EffectiveDay], int, list[Employee]]:
    """(the office's local date, or None while every window is open; the staff whose effective
    day is a working day with its check-in window closed; every staff member's effective day;
    how many windows are still open; the office's staff). An office without staff follows its own
    rules' window."""
    rules = OfficeRules.from_dict(office.rules)
    local_date, local_time = rules.local_moment(now)
    members = list(svc.records.staff_in_office(office.office_id))
    days = {e.nip: schedules.effective(svc, e, office, local_date, document) for e in members}
    open_ = {n for n, d in days.items() if local_time < d.rules.checkin_end}
    if (not members and not window_closed(now, rules)) or (members and len(open_) == len(members)):
        return None, [], days, len(open_), members
    staff = [EmployeeRef(e.nip, e.name, e.supervisor_nip, office.office_id)
             for e in members if e.nip not in open_ and days[e.nip].working]
    return local_date, staff, days, len(open_), members


def _missing_reports(svc: Services, office: Office, members: list[Employee], now: datetime,
                     document: Schedules, approved: dict[tuple[date, date], list[RequestRecord]]
                     ) -> dict[str, JsonObject]:
    """The office's staff whose required report of a day whose cut-off (``HADIR_REPORT_CUTOFF``,
    in the office's time zone) passed since the previous run (the job runs MON-FRI: Monday's
    digest names Friday's) was not written: for the digest, by NIP; each day in one digest only."""
    cutoff = work_rules.parse_cutoff(svc.settings.report_cutoff)
    today = OfficeRules.from_dict(office.rules).local_moment(now)[0]
    previous = now - timedelta(days=1 if today.weekday() else 3)
    days = [d for d in (today - timedelta(days=n) for n in range(cutoff.days, cutoff.days + 4))
            if previous < cutoff.closes(d, office.timezone) <= now]
    if not members or not days:
        return {}
    span = (min(days), max(days))
    if span not in approved:
        approved[span] = svc.records.requests_overlapping(APPROVED, span[0].isoformat(), span[1].isoformat())
    states = work_days.report_days(svc, [(e, office, d) for e in members for d in days], document=document,
                                   approved=approved[span])
    by_nip = {e.nip: e for e in members}
    return {f"{nip}#{d}": {"nip": nip, "name": by_nip[nip].name, "office_id": office.office_id, "date": d,
                           "supervisor_nip": by_nip[nip].supervisor_nip, "reason": s.reason()}
            for (nip, d), s in sorted(states.items()) if s.due == "missing"}


def _absentees_of(svc: Services, office: Office, local_date: date, staff: list[EmployeeRef],
                  effective: dict[str, EffectiveDay] | None = None,
                  ) -> tuple[list[AbsenceRecord], list[tuple[EmployeeRef, str]], int, int]:
    """Who of the office's staff is absent, whose day waits for a review, how many absence marks
    were new, and how many days an approved request covered instead (excused, on_leave,
    official_travel, written with the request's id). Already-absent staff are found again (the
    mark is not rewritten) so that a notice lost by an earlier run is sent now; the notice's own
    marker keeps it once-only."""
    days = {d.nip: d for d in svc.records.days_of([e.nip for e in staff], [local_date.isoformat()])}
    attended, pending = split_for_absence((nip, d.day) for nip, d in days.items())
    # ``staff`` holds only those whose effective day is a working day (their schedule's weekdays,
    # their office's province's regional holidays): their reasons name the schedule applied
    status = DayStatus(True, WORKING_DAY) if effective is not None else svc.calendar.day_status(local_date)
    missing = [replace(r, reasons=[*r.reasons, effective[r.nip].reason_data()]) if effective else r
               for r in find_absentees(local_date=local_date, employees=staff, accepted_checkin_nips=attended,
                                       day_status=status, excused_nips=pending, lateness=svc.lateness)]
    approved = staff_requests.approved_on(svc, local_date.isoformat()) if missing else {}
    found = [r for r in missing if r.nip not in approved]
    now = svc.now_iso()
    written = sum(_mark(svc, office, local_date, r, days.get(r.nip), now) for r in found)
    covered = sum(_cover(svc, office, local_date, approved[r.nip], r.name, days.get(r.nip), now)
                  for r in missing if r.nip in approved)
    return found, [(e, pending_review_id(days[e.nip])) for e in staff if e.nip in pending], written, covered


def _mark(svc: Services, office: Office, local_date: date, r: AbsenceRecord, stored: DayRecord | None,
          now: str) -> bool:
    """The absence mark: new, or over a day without attendance (a check-out alone), at its version;
    an absence already marked is not rewritten."""
    if stored is not None and stored.day.status != NO_RECORD:
        return False
    return svc.records.mark_absent(DayRecord(
        nip=r.nip, date=local_date.isoformat(), name=r.name, version=stored.version if stored else None,
        day=absent_day(office.office_id, r.reasons, stored.day if stored else None)), now)


def _cover(svc: Services, office: Office, local_date: date, req: RequestRecord, name: str,
           stored: DayRecord | None, now: str) -> bool:
    """The status an approved request gives the day (new, or over a check-out alone at its version)."""
    if stored is not None and stored.day.status != NO_RECORD:
        return False
    day = staff_requests.apply_approved(stored.day if stored else None, office.office_id, req)
    return svc.records.mark_absent(DayRecord(nip=req.nip, date=local_date.isoformat(), name=name,
                                             version=stored.version if stored else None, day=day), now)


def _notify(svc: Services, zone: str, found: list[AbsenceRecord], pending: list[tuple[EmployeeRef, str]],
            by_nip: Mapping[str, Employee], local_date: str | None,
            requests: dict[str, list[JsonObject]] | None = None, unreported: list[JsonObject] | None = None) -> int:
    """One digest per supervisor: their absent staff, the staff whose day waits for review, the
    requests waiting for their decision (each with its id) and the required daily work reports
    not written by the cut-off (``report_missing``)."""
    absent = group_by_supervisor(found)
    waiting: dict[str | None, list[tuple[EmployeeRef, str]]] = {}
    for e, review_id in pending:
        waiting.setdefault(e.supervisor_nip, []).append((e, review_id))
    requests = requests or {}
    missing: dict[str | None, list[JsonObject]] = {}
    for m in unreported or []:
        missing.setdefault(m["supervisor_nip"], []).append({k: v for k, v in m.items() if k != "supervisor_nip"})
    sent = 0
    for sup_nip in sorted({*absent, *waiting, *requests, *missing} - {None}):
        recs, sup = absent.get(sup_nip, []), by_nip.get(sup_nip)
        notice = {"kind": notices.ABSENCE, "zone": zone,
                  "date": recs[0].local_date.isoformat() if recs else local_date,
                  "supervisor_nip": sup_nip, "supervisor_name": sup.name if sup else None,
                  "supervisor_email": sup.email if sup else None,
                  "absentees": [{"nip": r.nip, "name": r.name, "office_id": r.office_id,
                                 "reasons": r.reasons} for r in recs],
                  "pending_review": [{"nip": e.nip, "name": e.name, "office_id": e.office_id,
                                      "review_id": review_id} for e, review_id in waiting.get(sup_nip, [])],
                  "pending_requests": requests.get(sup_nip, []),
                  "reports_missing": missing.get(sup_nip, [])}
        sent += notices.publish_absence_notice(svc, notice)
    return sent


AUDIT_DAY_ZONE = "WIB"  # an export's audit entries are those made during its date in WIB
EXPORT_ACTOR = "scheduler"


def export_day(svc: Services, day: date | None = None, zone: str = "WIB") -> JsonObject:
    """Write a new run of ``day``'s export (default: the local day that just ended in ``zone``):
    records.csv, audit.csv and, last, manifest.json under ``run=<run_id>/``, never replacing an
    earlier run's objects. The manifest chains to the previous run's (the day's, else the day
    before's last). Every zone's run holds all records of that date; the run after the
    westernmost zone (WIB) ends is complete (the audit entries are those of the day in WIB).
    The run is itself audited with its keys, version ids and SHA-256."""
    now = svc.clock.now()
    if day is None:
        day = OfficeRules(timezone=ZONES[zone][0]).local_moment(now)[0] - timedelta(days=1)
    rows = [_checkin_row(c) for c in svc.records.checkins_on(day.isoformat())]
    rows += [_absence_row(d) for d in svc.records.days_on(day.isoformat())
             if d.day.status in ("absent", *REQUEST_STATUSES)]
    body = records_to_csv(rows)
    audit_body, audit_part = _audit_file(svc, day)
    day_prefix = export_prefix(svc, day)
    previous = runs.last_run(svc, day_prefix) or runs.last_run(svc, export_prefix(svc, day - timedelta(days=1)))
    run = run_id(now, secrets.token_hex(4), after=previous.run if previous else None)
    sequence = previous.sequence + 1 if previous and previous.prefix == day_prefix else 1
    base = manifest(body, rows, date=day, agency_id=svc.settings.agency_id, generated_at=utc_iso(now),
                    audit=audit_part)
    base["zones_ended"] = [z for z, (tz, _) in ZONES.items() if OfficeRules(timezone=tz).local_moment(now)[0] > day]
    parquet = analytics.write_parquet(svc, [(tables.ATTENDANCE, {"date": day, "agency": svc.settings.agency_id},
                                             tables.attendance_rows(rows, run))], run)
    base["parquet"] = [f.manifest() for f in parquet]
    man = chain(base, run=run, zone=zone, sequence=sequence,
                previous_sha256=previous.sha256 if previous else None,
                files={RECORDS_FILE: body, AUDIT_FILE: audit_body})
    out = runs.write_run(svc, day_prefix, run, {RECORDS_FILE: (body, "text/csv"),
                                                AUDIT_FILE: (audit_body, "text/csv")}, man)
    svc.records.append_audit(AuditEntry(
        subject=f"export#{day.isoformat()}", at=utc_iso(now), action="export_written", actor=EXPORT_ACTOR,
        details={"zone": zone, "rows": len(rows), "audit_rows": audit_part["rows"], "run_id": run},
        after={"files": out.sha256, "versions": out.versions, "manifest_sha256": out.manifest_sha256}))
    logger.info("export written", extra={"date": day.isoformat(), "rows": len(rows), "run_id": run,
                                         "audit_rows": audit_part["rows"]})
    return {"date": day.isoformat(), "run_id": run, "rows": len(rows), "key": out.keys[RECORDS_FILE],
            "sha256": man["sha256"], "audit_rows": audit_part["rows"], "audit_key": out.keys[AUDIT_FILE],
            "manifest_key": out.keys[MANIFEST_FILE], "manifest_sha256": out.manifest_sha256,
            "previous_manifest_sha256": man["previous_manifest_sha256"], "parquet_key": parquet[0].key}


def _audit_file(svc: Services, day: date) -> tuple[bytes, JsonObject]:
    """The audit CSV of ``day`` (the entries made during it in WIB) and its manifest part."""
    window = audit_window(day, ZoneInfo(ZONES[AUDIT_DAY_ZONE][0]))
    start, end = (utc_iso(t) for t in window)
    entries = [e.model_dump(mode="json") for e in _audit_between(svc, start[:10], end[:10])
               if start <= e.at < end]
    body = audit_to_csv(entries)
    return body, audit_manifest(body, len(entries), window=window)


def _audit_between(svc: Services, start: str, end: str) -> list[AuditEntry]:
    """Every audit entry of the UTC dates ``start`` to ``end``, page by page."""
    found: list[AuditEntry] = []
    after: AuditCursor | None = None
    while True:
        page = svc.records.audit_log(start, end, limit=200, after=after)
        found += page.entries
        if page.next is None:
            return found
        after = page.next


def _checkin_row(c: CheckinRecord) -> JsonObject:
    """One attempt as an export row: the record, with its evidence flattened into columns."""
    return {**c.model_dump(mode="json"), "distance_m": c.geo.distance_m, "accuracy_m": c.geo.accuracy_m,
            "face_score": c.face.score}


def _absence_row(d: DayRecord) -> JsonObject:
    return {"nip": d.nip, "name": d.name, "office_id": d.day.office_id, "local_date": d.date,
            "kind": "day", "decision": d.day.status, "reasons": list(d.day.reasons),
            "record_id": f"{d.nip}#DAY#{d.date}"}


zone_of = resources.zone_of  # kept here for its callers
