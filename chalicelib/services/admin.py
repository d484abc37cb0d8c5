"""Administration: offices, employee import (JSON or Simpeg CSV, per-row results), enrolment reset."""
from __future__ import annotations

import csv
import io
import json
import re
from typing import Iterator

from pydantic import ValidationError

from chalicelib.common.errors import (
    HadirError,
    InvalidInput,
    JsonObject,
    Malformed,
    NotFound,
    TooLarge,
)
from chalicelib.common.http import invalid_input
from chalicelib.common.logs import logger, metrics
from chalicelib.policy.nip import validate_nip
from chalicelib.services.records import Employee, Office
from chalicelib.services.schemas import (
    EmployeeRow,
    EnrolmentReset,
    ErrorBody,
    ImportResult,
    ImportRow,
    OfficeOut,
    OfficeRequest,
    OutdatedEnrolments,
    TemplateVersionCount,
)
from chalicelib.wiring import Services

MAX_ROWS = 1000

# Simpeg export headers (Indonesian) -> API field names.
CSV_ALIASES = {"nip": "nip", "nama": "name", "name": "name", "unit_kerja": "unit", "unit": "unit",
               "group": "group", "kelompok": "group", "eselon": "echelon", "echelon": "echelon",
               "kantor": "office_ids", "office_ids": "office_ids", "office_id": "office_ids",
               "nip_atasan": "supervisor_nip", "supervisor_nip": "supervisor_nip",
               "peran": "roles", "roles": "roles", "email": "email", "password": "password"}
_LIST_FIELDS = ("office_ids", "roles")


def create_office(svc: Services, req: OfficeRequest, actor: str = "system") -> OfficeOut:
    rules = req.rules()
    office = Office(office_id=req.office_id, name=req.name.strip(), timezone=rules.timezone,
                    geofence=req.geofence, rules=rules.to_dict(), work_mode="WFO", province=req.province)
    svc.records.put_office(office, now=svc.now_iso(), actor=actor)
    svc.policy_cache.forget(f"office#{office.office_id}")  # others see it within HADIR_CONFIG_TTL_S
    logger.info("office saved", extra={"office_id": office.office_id, "timezone": rules.timezone})
    return OfficeOut(**office.model_dump())


def parse_employee_rows(raw: bytes, content_type: str) -> list[JsonObject]:
    """Rows from a JSON list or a Simpeg CSV, with API field names (each validated later, alone)."""
    if content_type.startswith("text/csv"):
        return _csv_rows(raw)
    if not raw.strip():
        raise Malformed("A JSON body is required", code="missing_body")
    try:
        rows = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Malformed("The body is not valid JSON", code="invalid_json") from exc
    if not isinstance(rows, list):
        raise Malformed("A JSON list of employees or text/csv is expected", code="invalid_body")
    return rows


def _csv_rows(raw: bytes) -> list[JsonObject]:
    """A Simpeg CSV decoded strictly (UTF-8, a BOM allowed) into at most ``MAX_ROWS`` rows of
    fields of at most ``MAX_CSV_FIELD`` characters: anything else is ``invalid_csv`` (or
    ``too_many_rows``) before a row is saved."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("The CSV must be UTF-8 (save it as 'CSV UTF-8')", code="invalid_csv",
                           details={"byte_offset": exc.start, "problem": "not_utf8"}) from None
    if "\x00" in text:
        raise InvalidInput("The CSV contains NUL bytes (is it UTF-16?)", code="invalid_csv",
                           details={"problem": "nul_byte", "byte_offset": raw.index(b"\x00")})
    sample = text[:2048]
    reader = csv.DictReader(io.StringIO(text), delimiter=";" if sample.count(";") > sample.count(",") else ",")
    try:
        if not reader.fieldnames or "nip" not in [h.strip().lower() for h in reader.fieldnames]:
            raise InvalidInput("The CSV needs a header row with at least 'nip'", code="invalid_csv",
                               details={"header": (reader.fieldnames or [])[:20]})
        return [_csv_row(rec, reader.line_num) for rec in _bounded(reader)]
    except csv.Error as exc:
        raise InvalidInput("The CSV cannot be read", code="invalid_csv",
                           details={"line": reader.line_num, "problem": str(exc)[:200]}) from None


MAX_CSV_FIELD = 1000  # characters of one cell (the longest field, a name, takes 200)


def _bounded(reader: csv.DictReader) -> Iterator[dict]:
    for n, rec in enumerate(reader, start=1):
        if n > MAX_ROWS:
            raise TooLarge(f"At most {MAX_ROWS} rows per request", code="too_many_rows")
        yield rec


def _csv_row(rec: dict, line: int) -> JsonObject:
    row: JsonObject = {}
    for k, v in rec.items():
        if k is None:  # cells beyond the header's (a trailing delimiter): ignored
            continue
        if v is not None and len(v) > MAX_CSV_FIELD:
            raise InvalidInput("A CSV cell is too long", code="invalid_csv",
                               details={"line": line, "column": k[:50], "max_chars": MAX_CSV_FIELD})
        field = CSV_ALIASES.get(k.strip().lower())
        if field:
            row[field] = (v or "").strip()
    for f in _LIST_FIELDS:
        if isinstance(row.get(f), str):
            row[f] = [x.strip() for x in re.split(r"[|;,]", row[f]) if x.strip()]
    return {k: v for k, v in row.items() if v != ""}


def run_import(svc: Services, rows: list[JsonObject], actor: str) -> ImportResult:
    """The API's side of an import: the row limit checked here, the rows saved by the import
    runner (its own function, holding the directory's admin rights; or this process)."""
    _check_row_count(rows)
    return svc.imports.run(rows, actor)


def _check_row_count(rows: list[JsonObject]) -> None:
    if len(rows) > MAX_ROWS:
        raise TooLarge(f"At most {MAX_ROWS} rows per request", code="too_many_rows")


def import_employees(svc: Services, rows: list[JsonObject], actor: str = "system") -> ImportResult:
    """Validate and save each row on its own (audited as ``actor``'s); one bad row never loses
    the good ones. Needs the directory's admin rights: runs in the import function."""
    _check_row_count(rows)
    offices = {o.office_id for o in svc.records.offices()}
    batch_nips = {r["nip"] for r in rows if isinstance(r, dict) and isinstance(r.get("nip"), str)}
    results = []
    for i, raw in enumerate(rows, start=1):
        try:
            emp, password = _validate_row(svc, raw, offices, batch_nips)
            svc.directory.upsert_user(emp.nip, password or "", nip=emp.nip, name=emp.name,
                                      groups=emp.roles)
            svc.records.put_employee(emp, now=svc.now_iso(), actor=actor, password_set=bool(password))
            results.append(ImportRow(row=i, nip=emp.nip, ok=True))
        except HadirError as exc:
            nip = raw.get("nip") if isinstance(raw, dict) else None
            results.append(ImportRow(row=i, nip=nip, ok=False, error=ErrorBody(**exc.to_dict())))
    created = sum(r.ok for r in results)
    metrics.add_metric(name="EmployeesImported", unit="Count", value=created)
    logger.info("employees imported", extra={"rows_created": created, "rows_failed": len(rows) - created})
    return ImportResult(created=created, failed=len(rows) - created, rows=results)


def _validate_row(svc: Services, raw: object, offices: set[str],
                  batch_nips: set[object]) -> tuple[Employee, str | None]:
    if not isinstance(raw, dict):
        raise InvalidInput("Each row must be an object", code="invalid_row")
    validate_nip(str(raw.get("nip") or "").strip())  # invalid_nip with details.problems
    try:
        row = EmployeeRow.model_validate(raw)
    except ValidationError as exc:
        err = invalid_input(exc, EmployeeRow)
        raise InvalidInput("The row is not valid", code="invalid_employee", details=err.details) from None
    problems = _row_problems(svc, row, offices, batch_nips)
    if problems:
        raise InvalidInput("The row is not valid", code="invalid_employee", details={"problems": problems})
    roles = sorted({"employee", *row.roles})
    return (Employee(nip=row.nip, name=row.name, unit=row.unit or None, group=row.group or None,
                     echelon=row.echelon if isinstance(row.echelon, str) else None, office_ids=row.office_ids,
                     supervisor_nip=row.supervisor_nip or None, roles=roles, email=row.email or None),
            row.password)


def _row_problems(svc: Services, row: EmployeeRow, offices: set[str],
                  batch_nips: set[object]) -> list[JsonObject]:
    problems: list[JsonObject] = []
    if not row.name:
        problems.append({"field": "name", "code": "required"})
    if not row.office_ids:
        problems.append({"field": "office_ids", "code": "required"})
    elif unknown := [o for o in row.office_ids if o not in offices]:
        problems.append({"field": "office_ids", "code": "unknown_office", "office_ids": unknown})
    sup = row.supervisor_nip
    if sup == row.nip:
        problems.append({"field": "supervisor_nip", "code": "self_supervision"})
    elif sup and sup not in batch_nips and svc.records.get_employee(sup) is None:
        problems.append({"field": "supervisor_nip", "code": "unknown_supervisor"})
    return problems


def reset_enrolment(svc: Services, nip: str, actor: str, reason: str | None) -> EnrolmentReset:
    if svc.records.get_employee(nip) is None:
        raise NotFound("No such employee", code="employee_not_found", details={"nip": nip})
    svc.records.reset_enrolment(nip, actor=actor, reason=reason, now=svc.now_iso())
    logger.info("enrolment reset", extra={"nip": nip, "actor": actor})
    return EnrolmentReset(nip=nip, reset_by=actor)


def outdated_enrolments(svc: Services) -> OutdatedEnrolments:
    """Templates counted by model version: those not of the engine's need a previous model (a
    self re-enrolment) or an admin reset; none left = the previous models can be dropped."""
    engine = svc.face_engine()
    current, loadable = engine.model_version, set(engine.previous_versions)
    by_version: dict[str, list[str]] = {}
    for nip, version in sorted(svc.records.template_versions().items()):
        by_version.setdefault(version, []).append(nip)
    versions = [TemplateVersionCount(model_version=v, count=len(nips), current=v == current, loadable=v in loadable,
                                     nips=[] if v == current else nips)
                for v, nips in sorted(by_version.items(), key=lambda kv: (kv[0] != current, kv[0]))]
    return OutdatedEnrolments(engine_model_version=current, previous_model_versions=sorted(loadable),
                              enrolled=sum(v.count for v in versions),
                              outdated=sum(v.count for v in versions if not v.current), versions=versions)
