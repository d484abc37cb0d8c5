"""Personal sites: where an employee may attend besides their offices, and the work mode that means.

An admin, or the employee's own supervisor (a unit head putting staff on work-from-home), assigns a
home (WFH), an assignment for dinas luar (DL) or an approved work-from-anywhere place (WFA), with an
optional validity window in office-local dates. Check-in tests the position against the offices and
the personal sites valid that day; the matched site gives the work mode. Every change is audited.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.adapters.auth import Principal
from chalicelib.common.errors import Malformed, InvalidInput, Forbidden, NotFound, Conflict
from chalicelib.geo import WORK_MODE_BY_KIND, Site, geofence_to_dict, parse_geofence
from chalicelib.common.logs import logger
from chalicelib.services import Services
from chalicelib.services.admin import _OFFICE_ID as _SITE_ID
from chalicelib.adapters.storage.repos import utc_iso

PERSONAL_KINDS = ("home", "assignment", "anywhere")
MAX_NOTE = 500


def assign(svc: Services, nip: str, body: Any, actor: Principal) -> dict[str, Any]:
    emp = _employee_in_reach(svc, nip, actor)
    if not isinstance(body, dict):
        raise Malformed("A JSON object is expected", code="invalid_body")
    site = _validate(body)
    if site["site_id"] in emp["office_ids"]:
        raise Conflict("The site id is one of the employee's offices", code="site_exists",
                       details={"site_id": site["site_id"]})
    site["nip"] = nip
    now = utc_iso()
    svc.store.add_site(site, actor=actor.username, now=now)
    logger.info("site assigned", extra={"nip": nip, "site_id": site["site_id"], "kind": site["kind"],
                                        "actor": actor.username})
    return {**site, "created_by": actor.username, "created_at": now}


def list_for(svc: Services, nip: str, actor: Principal) -> dict[str, Any]:
    _employee_in_reach(svc, nip, actor)
    return {"nip": nip, "sites": svc.store.sites_of(nip)}


def remove(svc: Services, nip: str, site_id: str, actor: Principal) -> dict[str, Any]:
    _employee_in_reach(svc, nip, actor)
    site = svc.store.remove_site(nip, site_id, actor=actor.username, now=utc_iso())
    logger.info("site removed", extra={"nip": nip, "site_id": site_id, "actor": actor.username})
    return {**site, "status": "removed", "removed_by": actor.username}


def valid_on(site: dict[str, Any], day: date) -> bool:
    """Whether a personal site may be used on ``day`` (office-local; both bounds inclusive)."""
    d = day.isoformat()
    return (not site.get("valid_from") or site["valid_from"] <= d) and (
        not site.get("valid_to") or d <= site["valid_to"])


def candidate_sites(offices: list[dict[str, Any]], personal: list[dict[str, Any]],
                    day: date) -> list[Site]:
    """The sites a check-in on ``day`` is tested against: every office, then the personal sites
    valid that day (which take the first office's time zone and time rules)."""
    first = offices[0]
    sites = [Site(site_id=o["office_id"], kind="office", work_mode=o.get("work_mode", "WFO"),
                  geofence=parse_geofence(o["geofence"]), timezone=o["timezone"],
                  office_id=o["office_id"]) for o in offices]
    sites += [Site(site_id=p["site_id"], kind=p["kind"], work_mode=p["work_mode"],
                   geofence=parse_geofence(p["geofence"]), timezone=first["timezone"],
                   office_id=first["office_id"]) for p in personal if valid_on(p, day)]
    return sites


def _employee_in_reach(svc: Services, nip: str, actor: Principal) -> dict[str, Any]:
    """The employee, if ``actor`` is an admin or the employee's own supervisor."""
    emp = svc.store.get_employee(nip)
    if emp is None:
        raise NotFound("No such employee", code="employee_not_found", details={"nip": nip})
    if "admin" not in actor.groups and not (actor.nip and emp["supervisor_nip"] == actor.nip):
        raise Forbidden("Supervisors may manage the sites of their own staff only",
                        code="not_your_staff", details={"nip": nip})
    return emp


def _validate(body: dict[str, Any]) -> dict[str, Any]:
    site_id, note = body.get("site_id"), body.get("note")
    problems = []
    if not isinstance(site_id, str) or not _SITE_ID.match(site_id):
        problems.append({"field": "site_id", "code": "invalid",
                         "hint": "lowercase letters, digits and '-', 2-63 characters"})
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        problems.append({"field": "note", "code": "invalid", "max_length": MAX_NOTE})
    if problems:
        raise InvalidInput("The site is not valid", code="invalid_site",
                         details={"problems": problems})
    kind = body.get("kind")
    if kind not in PERSONAL_KINDS:
        raise InvalidInput("kind must be home, assignment or anywhere", code="invalid_site_kind", details={"allowed": list(PERSONAL_KINDS),
                                              "work_modes": {k: WORK_MODE_BY_KIND[k] for k in PERSONAL_KINDS}})
    if "geofence" not in body:
        raise InvalidInput("geofence is required", code="missing_fields",
                         details={"fields": ["geofence"]})
    fence = parse_geofence(body["geofence"])  # 422 invalid_geofence with every problem
    valid_from, valid_to = _date(body, "valid_from"), _date(body, "valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        raise InvalidInput("valid_to is before valid_from", code="invalid_validity",
                         details={"problems": [{"field": "valid_to", "code": "before_valid_from"}]})
    return {"site_id": site_id, "kind": kind, "work_mode": WORK_MODE_BY_KIND[kind],
            "geofence": geofence_to_dict(fence), "valid_from": valid_from, "valid_to": valid_to,
            "note": note.strip() if note else None}


def _date(body: dict[str, Any], field: str) -> str | None:
    value = body.get(field)
    if value is None:
        return None
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise InvalidInput(f"{field} must be a date YYYY-MM-DD", code="invalid_validity",
                         details={"problems": [{"field": field, "code": "not_a_date"}]}) from None
