"""Scheduled work: absence detection per time zone, and the daily export for auditors.

Both are safe to run twice: absent records are conditional puts, notices are once-only, and the
export rewrites the same objects from the same records.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib.adapters import aws, notify
from chalicelib.common.logs import logger, metrics
from chalicelib.policy.absence import EmployeeRef, find_absentees, group_by_supervisor, window_closed
from chalicelib.policy.export import manifest, records_to_csv
from chalicelib.policy.time_rules import OfficeRules
from chalicelib.common.resources import ZONES
from chalicelib.services import Services
from chalicelib.adapters.storage.repos import utc_iso

COUNTING = ("present", "late")  # day statuses that are an accepted check-in
PENDING = ("flagged",)  # awaiting a supervisor: neither present nor absent yet


def detect_absence(svc: Services, zone: str, now: datetime | None = None) -> dict[str, Any]:
    tz = ZONES[zone][0]
    now = now or svc.settings.now()
    offices = [o for o in svc.store.offices() if _zone_of(o["timezone"]) == zone]
    employees = svc.store.employees()
    by_nip = {e["nip"]: e for e in employees}
    report: dict[str, Any] = {"zone": zone, "timezone": tz, "offices": [], "absent": 0,
                              "notices": 0, "skipped_offices": []}
    records = []
    for office in offices:
        rules = OfficeRules.from_dict(office["rules"])
        if not window_closed(now, rules):
            report["skipped_offices"].append({"office_id": office["office_id"], "reason": "window_open"})
            continue
        local_date = rules.local_moment(now)[0]
        staff = [EmployeeRef(e["nip"], e["name"], e["supervisor_nip"], office["office_id"])
                 for e in employees if e["office_ids"] and e["office_ids"][0] == office["office_id"]]
        accepted, excused = set(), set()
        for item in svc.store.items_on(local_date.isoformat()):
            if item.item_type == "day" and item.status in COUNTING:
                accepted.add(item.nip)
            elif item.item_type == "day" and item.status != "absent":
                excused.add(item.nip)  # flagged: under review, neither present nor absent
        # Already-absent staff are found again (mark_absent writes nothing for them) so that a
        # notice lost by an earlier run is sent now; the notice's own marker keeps it once-only.
        found = find_absentees(local_date=local_date, employees=staff, accepted_checkin_nips=accepted,
                               day_status=svc.calendar().day_status(local_date),
                               excused_nips=excused, lateness=svc.lateness())
        written = [r for r in found
                   if svc.store.mark_absent(r.nip, local_date.isoformat(),
                                            {**r.to_dict(), "office_id": office["office_id"],
                                             "name": r.name, "reasons": r.reasons}, utc_iso())]
        records += found
        report["absent"] += len(written)
        report["offices"].append({"office_id": office["office_id"], "date": local_date.isoformat(),
                                  "staff": len(staff), "absent_new": len(written)})
    for sup_nip, recs in group_by_supervisor(records).items():
        if not sup_nip:
            continue
        sup = by_nip.get(sup_nip) or {}
        notice = {"kind": "absence_notice", "zone": zone, "date": recs[0].local_date.isoformat(),
                  "supervisor_nip": sup_nip, "supervisor_name": sup.get("name"),
                  "supervisor_email": sup.get("email"),
                  "absentees": [{"nip": r.nip, "name": r.name, "office_id": r.office_id,
                                 "reasons": r.reasons} for r in recs]}
        if notify.publish_absence_notice(svc.store, notice):
            report["notices"] += 1
    metrics.add_metric(name="AbsencesDetected", unit="Count", value=report["absent"])
    logger.info("absence detection done", extra={k: report[k] for k in ("zone", "absent", "notices")})
    return report


def export_day(svc: Services, day: date | None = None, zone: str = "WIB",
               now: datetime | None = None) -> dict[str, Any]:
    """Write records.csv + manifest.json for ``day`` (default: the local day that just ended in
    ``zone``). Every zone's run rewrites the file with all records of that date; the run after the
    westernmost zone (WIB) ends is complete."""
    now = now or svc.settings.now()
    if day is None:
        day = OfficeRules(timezone=ZONES[zone][0]).local_moment(now)[0] - timedelta(days=1)
    rows = []
    for item in svc.store.items_on(day.isoformat()):
        data = dict(item.data or {})
        if item.item_type == "checkin":
            rows.append({**data, "distance_m": data.get("geo", {}).get("distance_m"),
                         "accuracy_m": data.get("geo", {}).get("accuracy_m"),
                         "face_score": data.get("face", {}).get("score")})
        elif item.status == "absent":
            rows.append({**data, "nip": item.nip, "local_date": day.isoformat(), "kind": "day",
                         "decision": "absent", "record_id": f"{item.nip}#DAY#{day.isoformat()}"})
    body = records_to_csv(rows)
    man = manifest(body, rows, date=day, agency_id=svc.settings.agency_id, generated_at=utc_iso(now))
    man["zones_ended"] = [z for z, (tz, _) in ZONES.items()
                          if OfficeRules(timezone=tz).local_moment(now)[0] > day]
    prefix = f"attendance/date={day.isoformat()}/agency={svc.settings.agency_id}/"
    s3 = aws.client("s3")
    bucket = svc.settings.buckets["exports"]
    s3.put_object(Bucket=bucket, Key=prefix + "records.csv", Body=body, ContentType="text/csv",
                  ServerSideEncryption="AES256")
    s3.put_object(Bucket=bucket, Key=prefix + "manifest.json", Body=json.dumps(man, indent=2).encode(),
                  ContentType="application/json", ServerSideEncryption="AES256")
    logger.info("export written", extra={"date": day.isoformat(), "rows": len(rows)})
    return {"date": day.isoformat(), "rows": len(rows), "key": prefix + "records.csv",
            "sha256": man["sha256"]}


def _zone_of(timezone: str) -> str | None:
    offset = OfficeRules(timezone=timezone).tz.utcoffset(datetime(2025, 1, 1))
    hours = int(offset.total_seconds() // 3600) if offset is not None else None
    return next((z for z, (_, off) in ZONES.items() if off == hours), None)
