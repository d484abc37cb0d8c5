"""Administration: offices, employee import (JSON or Simpeg CSV, per-row results), enrolment reset."""
from __future__ import annotations

import csv
import io
import re
from typing import Any

from chalicelib.adapters.auth import ROLES, Directory
from chalicelib.common.errors import HadirError, Malformed, InvalidInput, NotFound, TooLarge
from chalicelib.geo import geofence_to_dict, parse_geofence
from chalicelib.common.logs import logger, metrics
from chalicelib.policy.nip import validate_nip
from chalicelib.policy.time_rules import OfficeRules
from chalicelib.services import Services
from chalicelib.adapters.storage.repos import utc_iso

_OFFICE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
RULE_FIELDS = ("checkin_window", "work_start", "work_end", "checkout_window")
MAX_ROWS = 1000

# Simpeg export headers (Indonesian) -> API field names.
CSV_ALIASES = {"nip": "nip", "nama": "name", "name": "name", "unit_kerja": "unit", "unit": "unit",
               "kantor": "office_ids", "office_ids": "office_ids", "office_id": "office_ids",
               "nip_atasan": "supervisor_nip", "supervisor_nip": "supervisor_nip",
               "peran": "roles", "roles": "roles", "email": "email", "password": "password"}


def create_office(svc: Services, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise Malformed("A JSON object is expected", code="invalid_body")
    problems = []
    office_id = body.get("office_id")
    if not isinstance(office_id, str) or not _OFFICE_ID.match(office_id):
        problems.append({"field": "office_id", "code": "invalid",
                         "hint": "lowercase letters, digits and '-', 2-63 characters"})
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append({"field": "name", "code": "required"})
    if problems:
        raise InvalidInput("The office is not valid", code="invalid_office",
                         details={"problems": problems})
    if "geofence" not in body:
        raise InvalidInput("geofence is required", code="missing_fields",
                         details={"fields": ["geofence"]})
    fence = parse_geofence(body["geofence"])
    window = lambda v: v.split("-") if isinstance(v, str) and "-" in v else v  # noqa: E731
    rules_in = {"timezone": body.get("timezone")}
    rules_in.update({k: window(body[k]) if k.endswith("window") else body[k]
                     for k in RULE_FIELDS if k in body})
    rules = _office_rules(rules_in)
    office = {"office_id": office_id, "name": name.strip(), "timezone": rules.timezone,
              "geofence": geofence_to_dict(fence), "rules": rules.to_dict(),
              "work_mode": "WFO"}
    svc.store.put_office(office)
    logger.info("office saved", extra={"office_id": office_id, "timezone": rules.timezone})
    return office


def _office_rules(d: dict[str, Any]) -> OfficeRules:
    if not isinstance(d.get("timezone"), str):
        raise InvalidInput("timezone is required (e.g. Asia/Makassar)", code="invalid_time_rules", details={"problems": [{"field": "timezone", "code": "required"}]})
    try:
        return OfficeRules.from_dict(d)
    except HadirError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise InvalidInput("The office time rules are not valid", code="invalid_time_rules",
                         details={"problems": [{"code": "malformed"}]}) from exc


def parse_employee_rows(raw: bytes | str, content_type: str, json_body: Any) -> list[dict[str, Any]]:
    """Rows from a JSON list or a Simpeg CSV, normalised to API field names."""
    if content_type.startswith("text/csv"):
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        sample = text[:2048]
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
        reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
        if not reader.fieldnames or "nip" not in [h.strip().lower() for h in reader.fieldnames]:
            raise InvalidInput("The CSV needs a header row with at least 'nip'", code="invalid_csv", details={"header": reader.fieldnames or []})
        rows = []
        for rec in reader:
            row: dict[str, Any] = {}
            for k, v in rec.items():
                if k is None:
                    continue
                field = CSV_ALIASES.get(k.strip().lower())
                if field:
                    row[field] = (v or "").strip()
            for f in ("office_ids", "roles"):
                if isinstance(row.get(f), str):
                    row[f] = [x.strip() for x in re.split(r"[|;,]", row[f]) if x.strip()]
            rows.append(row)
        return rows
    if not isinstance(json_body, list):
        raise Malformed("A JSON list of employees or text/csv is expected", code="invalid_body")
    return json_body


def import_employees(svc: Services, rows: list[Any]) -> tuple[int, dict[str, Any]]:
    """Validate and save each row on its own; one bad row never loses the good ones."""
    if len(rows) > MAX_ROWS:
        raise TooLarge(f"At most {MAX_ROWS} rows per request", code="too_many_rows")
    offices = {o["office_id"] for o in svc.store.offices()}
    batch_nips = {r.get("nip") for r in rows if isinstance(r, dict)}
    results, created = [], 0
    directory = Directory()
    for i, row in enumerate(rows, start=1):
        try:
            emp, password = _validate_row(svc, row, offices, batch_nips)
            directory.create_user(emp["nip"], password, nip=emp["nip"], name=emp["name"],
                                  groups=emp["roles"])
            svc.store.put_employee(emp)
            created += 1
            results.append({"row": i, "nip": emp["nip"], "ok": True})
        except HadirError as exc:
            nip = row.get("nip") if isinstance(row, dict) else None
            results.append({"row": i, "nip": nip, "ok": False, "error": exc.to_dict()})
    metrics.add_metric(name="EmployeesImported", unit="Count", value=created)
    failed = len(rows) - created
    logger.info("employees imported", extra={"rows_created": created, "rows_failed": failed})
    status = 200 if created or not rows else 422
    return status, {"created": created, "failed": failed, "rows": results}


def _validate_row(svc: Services, row: Any, offices: set[str],
                  batch_nips: set[Any]) -> tuple[dict[str, Any], str]:
    if not isinstance(row, dict):
        raise InvalidInput("Each row must be an object", code="invalid_row")
    problems: list[dict[str, Any]] = []
    nip = str(row.get("nip") or "").strip()
    validate_nip(nip)  # raises invalid_nip with details.problems
    name = str(row.get("name") or "").strip()
    if not name:
        problems.append({"field": "name", "code": "required"})
    office_ids = row.get("office_ids") or []
    if not isinstance(office_ids, list) or not office_ids:
        problems.append({"field": "office_ids", "code": "required"})
    else:
        unknown = [o for o in office_ids if o not in offices]
        if unknown:
            problems.append({"field": "office_ids", "code": "unknown_office", "office_ids": unknown})
    roles = row.get("roles") or ["employee"]
    if not isinstance(roles, list) or any(r not in ROLES for r in roles):
        problems.append({"field": "roles", "code": "unknown_role", "allowed": list(ROLES)})
    sup = str(row.get("supervisor_nip") or "").strip() or None
    if sup:
        if sup == nip:
            problems.append({"field": "supervisor_nip", "code": "self_supervision"})
        elif sup not in batch_nips and svc.store.get_employee(sup) is None:
            problems.append({"field": "supervisor_nip", "code": "unknown_supervisor"})
    password = row.get("password") or ""
    if password and (not isinstance(password, str) or len(password) < 8):
        problems.append({"field": "password", "code": "too_short", "min_length": 8})
    if problems:
        raise InvalidInput("The row is not valid", code="invalid_employee",
                         details={"problems": problems})
    if "employee" not in roles:
        roles = ["employee", *roles]
    return ({"nip": nip, "name": name, "unit": row.get("unit") or None, "office_ids": office_ids,
             "supervisor_nip": sup, "roles": sorted(set(roles)), "email": row.get("email") or None},
            password)


def reset_enrolment(svc: Services, nip: str, actor: str, reason: str | None) -> dict[str, Any]:
    if svc.store.get_employee(nip) is None:
        raise NotFound("No such employee", code="employee_not_found", details={"nip": nip})
    svc.store.reset_enrolment(nip, actor=actor, reason=reason, now=utc_iso())
    logger.info("enrolment reset", extra={"nip": nip, "actor": actor})
    return {"nip": nip, "status": "not_enrolled", "reset_by": actor}
