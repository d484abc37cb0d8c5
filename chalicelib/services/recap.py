"""The monthly recap (policy/recap.py) of the agency, written as a write-once, chained run.

``recap/year=YYYY/month=MM/agency=<agency>/run=<run_id>/``: ``recap.csv`` (one row per employee),
``units.csv`` (per unit), their Parquet twins in the analytics tree (policy/analytics.py) and, last,
``manifest.json`` (each file's SHA-256, the previous run's
manifest SHA-256: the month's previous run, else the month before's last). The run is audited
(``recap_written``).
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta

from chalicelib.common.errors import InvalidInput, NotFound
from chalicelib.common.resources import ZONES
from chalicelib.policy import analytics as tables
from chalicelib.policy import recap as policy
from chalicelib.policy import work as work_rules
from chalicelib.policy.day import Day
from chalicelib.policy.export import EXPORT_SCHEMA_VERSION, chain, run_id, table_to_csv
from chalicelib.policy.time_rules import LatenessTable, local_moment
from chalicelib.services import analytics, discipline, runs, schedules, units, work_days
from chalicelib.services import recap_input as reading
from chalicelib.services.agency_config import schedules as agency_schedules
from chalicelib.services.queries import DOWNLOAD_TTL_S, runs_under
from chalicelib.services.records import AuditEntry, Employee, RequestRecord, utc_iso
from chalicelib.services.schemas import RecapFile, RecapList, RecapRun
from chalicelib.wiring import Services

RECAP_FILE, UNITS_FILE = "recap.csv", "units.csv"
EARLIEST_ZONE, LATEST_ZONE = "WIT", "WIB"  # a month begins first in WIT; a day ends last in WIB

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` once before the first employee and after each one."""


def recap_prefix(svc: Services, first: date) -> str:
    return f"recap/year={first.year:04d}/month={first.month:02d}/agency={svc.settings.agency_id}/"


def _invalid_month(month: str, why: str) -> InvalidInput:
    return InvalidInput("The month must be YYYY-MM and not in the future.", code="invalid_month",
                        details={"month": month[:16], "reason": why})


def period(svc: Services, month: str) -> tuple[date, date]:
    """(first day, last day counted) of ``month``: the whole month once it is over, else up to
    the last day that ended in WIB (possibly none yet: ``through`` before ``first``). A month that
    has not begun anywhere in Indonesia (WIT) is refused."""
    try:
        first = date.fromisoformat(month + "-01")
    except ValueError:
        raise _invalid_month(month, "not_a_month") from None
    now = svc.clock.now()
    east = local_moment(now, ZONES[EARLIEST_ZONE][0])[0]
    if first > east.replace(day=1):
        raise _invalid_month(month, "future")
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    ended = local_moment(now, ZONES[LATEST_ZONE][0])[0] - timedelta(days=1)
    return first, min(last, ended)


WorkingDays = tuple[tuple[date, ...], tuple[date, ...], tuple[date, ...]]
"""An employee's working days: of the period, of the year so far, since :func:`run_start`."""
RUN_LOOKBACK_DAYS = 31  # a run of consecutive absence may begin in the December before


def run_start(first: date) -> date:
    """Where the month's recap looks for consecutive absence: from December of the year before."""
    return first.replace(month=1, day=1) - timedelta(days=RUN_LOOKBACK_DAYS)


def _input(e: Employee, first: date, stored: dict[str, Day], working: WorkingDays,
           excusing: frozenset[str]) -> policy.MonthInput:
    month, year, run = working
    month_days = {d: day for d, day in stored.items() if d >= first.isoformat()}
    return policy.MonthInput(person=policy.Person(e.nip, e.name, e.unit), days=month_days, working_days=month,
                             excusing=excusing, year_days=stored, year_working_days=year, run_working_days=run)


def _working_days_of(svc: Services, first: date, through: date) -> Callable[[Employee], WorkingDays]:
    """``employee -> (working days of the month, of the year so far, since run_start)`` of their
    effective schedule, memoised per schedule key (office, unit, group)."""
    offices = {o.office_id: o for o in svc.records.offices()}
    document = agency_schedules(svc)
    memo: dict[tuple[str | None, str | None, str | None], WorkingDays] = {}

    def of(e: Employee) -> WorkingDays:
        office = offices.get(e.office_ids[0]) if e.office_ids else None
        key = (office.office_id if office else None, e.unit, e.group)
        if through < first:
            return (), (), ()
        if key not in memo:
            run = schedules.working_days(svc, e, office, run_start(first), through, document)
            year_start = first.replace(month=1, day=1)
            memo[key] = (tuple(d for d in run if d >= first), tuple(d for d in run if d >= year_start), run)
        return memo[key]
    return of


def _dates_to_read(staff: list[Employee], working_of: Callable[[Employee], WorkingDays],
                   earlier: reading.Earlier) -> list[date]:
    """The dates whose day records count for someone: every schedule's working days of the
    period, and of the earlier months no complete recap covers (``earlier.unread``'s months)."""
    plans = {working_of(e) for e in staff}
    unread = {d.isoformat()[:7] for d in earlier.unread}
    return sorted({d for month, _, _ in plans for d in month}
                  | {d for _, _, run in plans for d in run if d.isoformat()[:7] in unread})


def _table_now(svc: Services) -> LatenessTable:
    """The agency's TL/PSW table as it is now, once for the whole run (``svc.lateness`` looks
    the live table up on every attribute: three times a day of every employee)."""
    current = getattr(svc.lateness, "current", None)
    return current() if callable(current) else svc.lateness


def compute(svc: Services, first: date, through: date,
            progress: Progress | None = None) -> list[policy.EmployeeRecap]:
    """Every employee's recap of ``first``..``through``, by NIP (``progress`` told after each).
    Each one's working days are those of their effective schedule (services/schedules.py) at
    their first office, computed once per (office, unit, group); the days are read in blocks of
    employees (``recap_input``: a few batched reads, not a query per employee)."""
    staff = units.agency_staff(svc.records)
    working_of = _working_days_of(svc, first, through)
    out: list[policy.EmployeeRecap] = []
    if progress:
        progress(0, len(staff))
    requests = reading.approved(svc, first, through) if through >= first else []
    if through >= first:
        excused = reading.excuses(requests)
        earlier = reading.earlier_absences(svc, first, lambda m: recap_prefix(svc, m), since=run_start(first))
        read = reading.stored_days(svc, staff, _dates_to_read(staff, working_of, earlier), earlier)
    else:  # nothing counted yet: nothing to read
        excused, read = {}, ((e, {}) for e in staff)
    table = _table_now(svc)
    reports_of = _reports_counter(svc, first, through, requests)
    for e, stored in read:
        m = _input(e, first, stored, working_of(e), excused.get(e.nip, frozenset()))
        out.append(replace(policy.recap_employee(m, table), reports=reports_of(e, m.days, m.working_days)))
        if progress:
            progress(len(out), len(staff))
    return out


def _reports_counter(svc: Services, first: date, through: date, approved: Sequence[RequestRecord]
                     ) -> Callable[[Employee, Mapping[str, Day], tuple[date, ...]], dict[str, int]]:
    """``(employee, their days, their working days) -> the counts of required reports``, from the
    period's reports (``reports_between``: one query a month, by_month) and the ``approved``
    requests the recap read, once for everyone."""
    if through < first:
        return lambda e, days, working: work_rules.report_counts(())
    known = work_days.known(svc, approved, svc.records.reports_between(first.isoformat(), through.isoformat()))

    def zone(e: Employee) -> str:
        office = svc.policy_cache.office(e.office_ids[0]) if e.office_ids else None
        return office.timezone if office else work_days.DEFAULT_ZONE

    def count(e: Employee, days: Mapping[str, Day], working: tuple[date, ...]) -> dict[str, int]:
        return work_rules.report_counts(work_days.one(known, e, d, True, zone(e), days.get(d.isoformat()))
                                        for d in working)
    return count


def write_recap(svc: Services, month: str, actor: str, progress: Progress | None = None) -> RecapRun:
    """Compute the month's recap now and write it as a new run (never replacing an earlier one);
    ``progress(done, total)`` follows the employees (the admin CLI's bar)."""
    first, through = period(svc, month)
    recaps = compute(svc, first, through, progress)
    units = policy.unit_totals(recaps)
    table = _table_now(svc)
    columns, unit_columns = policy.recap_columns(table), policy.unit_columns(table)
    body = table_to_csv(columns, [policy.recap_row(r) for r in recaps])
    units_body = table_to_csv(unit_columns, [policy.unit_row(u) for u in units])
    now = svc.clock.now()
    prefix = recap_prefix(svc, first)
    previous = runs.last_run(svc, prefix) or runs.last_run(svc, recap_prefix(svc, first - timedelta(days=1)))
    run = run_id(now, secrets.token_hex(4), after=previous.run if previous else None)
    sequence = previous.sequence + 1 if previous and previous.prefix == prefix else 1
    base = {"schema_version": EXPORT_SCHEMA_VERSION, "kind": "monthly_recap", "agency_id": svc.settings.agency_id,
            "month": month, "from": first.isoformat(), "through": through.isoformat(),
            "generated_at": utc_iso(now), "generated_by": actor, "rows": len(recaps), "columns": columns,
            "units": {"rows": len(units), "columns": unit_columns}, "lateness": table.to_dict(),
            "encoding": "utf-8", "format": "text/csv; header=present (RFC 4180)"}
    parquet = _parquet(svc, recaps, units, run, first, through)
    base["parquet"] = [f.manifest() for f in parquet]
    man = chain(base, run=run, zone=None, sequence=sequence, previous_sha256=previous.sha256 if previous else None,
                files={RECAP_FILE: body, UNITS_FILE: units_body})
    out = runs.write_run(svc, prefix, run, {RECAP_FILE: (body, "text/csv"), UNITS_FILE: (units_body, "text/csv")},
                         man)
    svc.records.append_audit(AuditEntry(
        subject=f"recap#{month}", at=utc_iso(now), action="recap_written", actor=actor,
        details={"month": month, "run_id": run, "rows": len(recaps), "units": len(units),
                 "through": through.isoformat()},
        after={"files": out.sha256, "versions": out.versions, "manifest_sha256": out.manifest_sha256}))
    notified = discipline.notify_thresholds(svc, recaps, first.year, month, actor) if through >= first else 0
    return RecapRun(month=month, run_id=run, start=first.isoformat(), through=through.isoformat(),
                    employees=len(recaps), units=len(units), sequence=sequence,
                    manifest_sha256=out.manifest_sha256, previous_manifest_sha256=man["previous_manifest_sha256"],
                    files=[RecapFile(name=name, key=key, bytes=out.sizes[key], sha256=out.sha256[key],
                                     version_id=out.versions[key]) for name, key in out.keys.items()]
                    + [RecapFile(name=f.name, key=f.key, bytes=f.bytes, sha256=f.sha256,
                                 version_id=f.version_id) for f in parquet],
                    discipline_notices=notified)


def _parquet(svc: Services, recaps: list[policy.EmployeeRecap], units: list[policy.UnitTotals], run: str,
             first: date, through: date) -> list[analytics.ParquetFile]:
    """The run's rows as the analytics tables (recap, units), written before its manifest."""
    where = {"year": first.year, "month": first.month, "agency": svc.settings.agency_id}
    return analytics.write_parquet(svc, [
        (tables.RECAP, where, tables.recap_rows(recaps, run, first, through)),
        (tables.UNITS, where, tables.unit_rows(units, run, first, through))], run)


def produce(svc: Services, month: str, actor: str) -> RecapRun:
    """POST /admin/recaps: :func:`write_recap` where pyarrow is (the analytics function)."""
    return svc.analytics.recap(month, actor)


def recaps(svc: Services, month: str) -> RecapList:
    """Every run of ``month``'s recap, oldest first, with version-pinned presigned URLs."""
    first = date.fromisoformat(month + "-01")
    found = runs_under(svc, recap_prefix(svc, first))
    if not found:
        raise NotFound("No recap for this month yet", code="recap_not_found", details={"month": month})
    complete = [r for r in found if r.manifest_sha256]
    return RecapList(month=month, files=(complete or found)[-1].files, runs=found, expires_in=DOWNLOAD_TTL_S)
