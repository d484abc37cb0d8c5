"""PP 94/2021 notices: when a monthly recap finds an employee's unexcused absences of the year
reaching a configured threshold (``HADIR_DISCIPLINE_THRESHOLDS``), the personnel agency is told once
per (employee, year, threshold): a job marker claimed with a conditional put (race-free: of two
recap runs at once only one sends), then the notice published to the notice topic (e-mailed to
``HADIR_PERSONNEL_EMAIL``) and the audit entry ``discipline_threshold_crossed`` with the count,
the threshold, the level and the days as reasons. A failed publish releases the marker.

A run of 10 consecutive working days absent without notice (``EmployeeRecap.consecutive_absence``)
is told the same way, once per run (marker keyed by the run's first day: a run that grows in the
next month's recap is not told again), audited ``discipline_consecutive_absence``."""
from __future__ import annotations

from chalicelib.common.logs import logger
from chalicelib.policy import recap as policy
from chalicelib.services import notices
from chalicelib.services.records import AuditEntry, utc_iso
from chalicelib.wiring import Services

ACTION = "discipline_threshold_crossed"
CONSECUTIVE_ACTION, CONSECUTIVE = "discipline_consecutive_absence", "consecutive_working_days"
MARKER_DAYS = 400  # the marker outlives its year


def notify_thresholds(svc: Services, recaps: list[policy.EmployeeRecap], year: int, month: str, actor: str) -> int:
    """Send each threshold newly reached by ``recaps`` (of ``year``); the number sent."""
    sent = 0
    for r in recaps:
        for threshold in policy.thresholds_reached(r.absent_year_to_date, svc.settings.discipline_thresholds):
            sent += _notify(svc, r, year, threshold, month, actor)
        if r.consecutive_absence:
            sent += _notify_consecutive(svc, r, month, actor)
    return sent


def _notify_consecutive(svc: Services, r: policy.EmployeeRecap, month: str, actor: str) -> bool:
    """PP 94/2021's 10 consecutive working days: once per run (keyed by the run's first day)."""
    run = r.consecutive_absence
    notice = {"kind": notices.DISCIPLINE, "rule": CONSECUTIVE, "agency_id": svc.settings.agency_id, "nip": r.nip,
              "name": r.name, "unit": r.unit, "year": int(run[0][:4]), "month": month,
              "threshold": policy.CONSECUTIVE_LIMIT, "count": len(run), "level": "dismissal",
              "regulation": "PP 94/2021", "personnel_email": svc.settings.personnel_email or None,
              "reasons": [{"date": d, "code": "absent_without_notice"} for d in run]}
    key = f"discipline-consecutive#{svc.settings.agency_id}#{r.nip}#{run[0]}"
    subject = f"Hadir: {r.nip} absent without notice {len(run)} consecutive working days from {run[0]} (PP 94/2021)"

    def send() -> None:
        svc.notifier.publish(notice, subject[:99])
        svc.records.append_audit(AuditEntry(
            subject=f"employee#{r.nip}", at=utc_iso(svc.clock.now()), action=CONSECUTIVE_ACTION, actor=actor,
            details={k: notice[k] for k in ("month", "threshold", "count", "level", "reasons")}))
    if not notices.once(svc, key, {"first_day": run[0], "count": len(run)}, send, ttl_days=MARKER_DAYS):
        return False
    logger.info("consecutive absence notice published", extra={"nip": r.nip, "first_day": run[0], "count": len(run)})
    return True


def _notify(svc: Services, r: policy.EmployeeRecap, year: int, threshold: int, month: str, actor: str) -> bool:
    notice = {"kind": notices.DISCIPLINE, "agency_id": svc.settings.agency_id, "nip": r.nip, "name": r.name,
              "unit": r.unit, "year": year, "month": month, "threshold": threshold, "count": r.absent_year_to_date,
              "level": policy.discipline_level(r.absent_year_to_date), "regulation": "PP 94/2021",
              "personnel_email": svc.settings.personnel_email or None,
              "reasons": [{"date": d, "code": "absent_without_notice"} for d in r.absent_dates]}
    key = f"discipline-notice#{svc.settings.agency_id}#{year}#{r.nip}#{threshold}"
    subject = f"Hadir: {r.nip} {r.absent_year_to_date} days absent without notice in {year} (PP 94/2021)"

    def send() -> None:
        svc.notifier.publish(notice, subject[:99])
        now = utc_iso(svc.clock.now())
        svc.records.append_audit(AuditEntry(
            subject=f"employee#{r.nip}", at=now, action=ACTION, actor=actor,
            details={k: notice[k] for k in ("year", "month", "threshold", "count", "level", "reasons")}))
    if not notices.once(svc, key, {"threshold": threshold, "count": r.absent_year_to_date}, send,
                        ttl_days=MARKER_DAYS):
        return False
    logger.info("discipline notice published", extra={"nip": r.nip, "year": year, "threshold": threshold,
                                                      "count": r.absent_year_to_date})
    return True
