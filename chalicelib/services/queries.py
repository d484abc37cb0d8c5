"""Read models: an employee's own profile and days, a supervisor's team, auditors' exports."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from chalicelib.adapters import aws
from chalicelib.common.errors import InvalidInput, NotFound
from chalicelib.policy.time_rules import OfficeRules
from chalicelib.services import Services
from chalicelib.services.enrolment import _employee
from chalicelib.services.sites import valid_on

MAX_RANGE_DAYS = 62


def parse_date(value: Any, field: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} must be a date YYYY-MM-DD", code="invalid_date",
                         details={"field": field}) from None


def me(svc: Services, nip: str, groups: frozenset[str]) -> dict[str, Any]:
    emp = _employee(svc, nip)
    offices = [o for o in (svc.store.get_office(i) for i in emp["office_ids"]) if o]
    today = _today(svc, emp)
    personal = [{**site, "valid_today": valid_on(site, today)} for site in svc.store.sites_of(nip)]
    return {"nip": emp["nip"], "name": emp["name"], "unit": emp["unit"], "roles": sorted(groups),
            "supervisor_nip": emp["supervisor_nip"],
            "enrollment": {"status": "enrolled" if emp["enrolled"] else "not_enrolled",
                           "enrolled_at": emp["enrolled_at"]},
            "offices": [{"office_id": o["office_id"], "name": o["name"], "timezone": o["timezone"],
                         "rules": o["rules"]} for o in offices],
            "sites": [{k: v for k, v in site.items() if k != "nip"} for site in personal],
            "sites_today": {"date": today.isoformat(), "sites": [
                *({"site_id": o["office_id"], "kind": "office", "work_mode": o.get("work_mode", "WFO")}
                  for o in offices),
                *({k: site[k] for k in ("site_id", "kind", "work_mode")}
                  for site in personal if site["valid_today"])]}}


def _today(svc: Services, emp: dict[str, Any]) -> date:
    office = svc.store.get_office(emp["office_ids"][0]) if emp["office_ids"] else None
    tz = office["timezone"] if office else "Asia/Jakarta"
    return OfficeRules(timezone=tz).local_moment(svc.settings.now())[0]


def my_attendance(svc: Services, nip: str, start: Any, end: Any) -> dict[str, Any]:
    emp = _employee(svc, nip)
    today = _today(svc, emp)
    end_d = parse_date(end, "to") if end else today
    start_d = parse_date(start, "from") if start else end_d - timedelta(days=6)
    if start_d > end_d or (end_d - start_d).days >= MAX_RANGE_DAYS:
        raise InvalidInput(f"from must be on or before to, at most {MAX_RANGE_DAYS} days",
                         code="invalid_range",
                         details={"from": start_d.isoformat(), "to": end_d.isoformat()})
    days = {d["date"]: d for d in svc.store.days_between(nip, start_d, end_d)}
    checkins: dict[str, list[dict[str, Any]]] = {}
    for c in svc.store.checkins_between(nip, start_d, end_d):
        checkins.setdefault(c["local_date"], []).append(
            {k: c.get(k) for k in ("checkin_id", "kind", "decision", "local_time", "work_mode",
                                   "late_minutes", "reasons")})
    cal = svc.calendar()
    out = []
    d = start_d
    while d <= end_d:
        iso = d.isoformat()
        rec = days.get(iso)
        ds = cal.day_status(d)
        if rec:
            status = rec["status"]
        elif not ds.working:
            status = ds.reason
        elif d >= today:
            status = "pending" if d == today else "future"
        else:
            status = "no_record"
        out.append({"date": iso, "status": status, "working_day": ds.working,
                    "holiday": ds.name, "first_in": rec.get("first_in") if rec else None,
                    "last_out": rec.get("last_out") if rec else None,
                    "late_minutes": rec.get("late_minutes") if rec else None,
                    "work_mode": rec.get("work_mode") if rec else None,
                    "checkins": checkins.get(iso, [])})
        d += timedelta(days=1)
    return {"nip": nip, "from": start_d.isoformat(), "to": end_d.isoformat(), "days": out}


def team_attendance(svc: Services, supervisor_nip: str, day: Any) -> dict[str, Any]:
    sup = _employee(svc, supervisor_nip)
    d = parse_date(day, "date") if day else _today(svc, sup)
    staff = []
    for e in sorted(svc.store.staff_of(supervisor_nip), key=lambda e: e["nip"]):
        rec = svc.store.day(e["nip"], d.isoformat())
        staff.append({"nip": e["nip"], "name": e["name"], "unit": e["unit"],
                      "status": rec["status"] if rec else "no_record",
                      "first_in": rec.get("first_in") if rec else None,
                      "last_out": rec.get("last_out") if rec else None,
                      "late_minutes": rec.get("late_minutes") if rec else None,
                      "work_mode": rec.get("work_mode") if rec else None,
                      "reasons": rec.get("reasons", []) if rec else []})
    return {"supervisor_nip": supervisor_nip, "date": d.isoformat(), "staff": staff}


def exports(svc: Services, day: Any) -> dict[str, Any]:
    if not day:
        raise InvalidInput("date is required", code="missing_fields",
                         details={"fields": ["date"]})
    d = parse_date(day, "date")
    s3 = aws.client("s3")
    bucket = svc.settings.buckets["exports"]
    prefix = f"attendance/date={d.isoformat()}/agency={svc.settings.agency_id}/"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    if not listed:
        raise NotFound("No export for this date yet", code="export_not_found",
                         details={"date": d.isoformat()})
    files = [{"key": o["Key"], "bytes": o["Size"],
              "url": s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": o["Key"]},
                                               ExpiresIn=900)}
             for o in sorted(listed, key=lambda o: o["Key"])]
    return {"date": d.isoformat(), "files": files, "expires_in": 900}
