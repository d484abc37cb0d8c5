"""Notices, published to the topic whose queue feeds the e-mail sender: to supervisors, absences
(one per date, zone and supervisor) and check-in lockouts (one per lockout); to employees, the
decisions on their reviews and requests (:func:`tell_employee`); to the personnel agency, PP 94/2021
thresholds of unexcused absence reached (``services/discipline.py``). Publishing and e-mail are
once-only (job markers); a failed send releases its marker so the next run sends it."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Callable

from chalicelib.common.errors import HadirError, JsonObject, Kind
from chalicelib.common.logs import logger
from chalicelib.common.resources import NOTIFICATION_DAYS
from chalicelib.services.records import Employee, Notification, utc_iso
from chalicelib.services.schemas import NotificationList, NotificationOut
from chalicelib.wiring import Services

ABSENCE, LOCKOUT, EMPLOYEE = "absence_notice", "checkin_lockout", "employee_notice"
DISCIPLINE = "discipline_notice"
EPISODE = "episode_alert"  # services/pings.py: one per out-of-region (or away-from-home) episode


def once(svc: Services, key: str, details: JsonObject, send: Callable[[], None], ttl_days: int = 90) -> bool:
    """``send()`` unless ``key`` was claimed before (a job marker); a failed send releases it."""
    if not svc.records.claim(key, details, now=svc.clock.now(), ttl_days=ttl_days):
        return False
    try:
        send()
    except Exception:
        _release(svc, key)
        raise
    return True


def _release(svc: Services, key: str, tries: int = 3) -> None:
    """Release a marker whose send failed; a transient failure of the release itself is tried
    again (a marker left claimed would mean a notice never sent)."""
    for n in range(tries):
        try:
            return svc.records.release(key)
        except HadirError as exc:
            if exc.kind is not Kind.UNAVAILABLE or n == tries - 1:
                raise


def publish_absence_notice(svc: Services, notice: JsonObject) -> bool:
    """Publish once per (date, zone, supervisor); False if it was already sent."""
    key = f"absence-notice#{notice['date']}#{notice['zone']}#{notice['supervisor_nip']}"
    count, waiting = len(notice["absentees"]), len(notice.get("pending_review", []))
    subject = f"Hadir: {count} absent, {waiting} to review on {notice['date']}"[:99]
    if not once(svc, key, {"count": count}, lambda: svc.notifier.publish(notice, subject)):
        return False
    logger.info("absence notice published", extra={"supervisor_nip": notice["supervisor_nip"],
                                                   "date": notice["date"], "count": count})
    return True


def publish_lockout(svc: Services, notice: JsonObject) -> bool:
    """Publish once per lockout (employee and the first failure counted)."""
    if not notice.get("supervisor_nip"):
        return False
    subject = f"Hadir: check-ins of {notice['nip']} locked after {notice['failures']} failed face checks"
    return once(svc, f"lockout-notice#{notice['nip']}#{notice['since']}", {"failures": notice["failures"]},
                 lambda: svc.notifier.publish(notice, subject[:99]))


def tell_employee(svc: Services, employee: Employee, topic: str, ref: str, message: str,
                  details: JsonObject | None = None) -> bool:
    """Tell an employee about a decision on something of theirs (``topic`` e.g. ``review_decided``,
    ``request_decided``; ``ref`` the review or request id): once per (employee, topic, ref, message).
    Kept for ``GET /me/notifications`` and published to the notice topic (e-mailed when the
    employee has an address)."""
    now = svc.clock.now()
    told = Notification(notification_id=uuid.uuid4().hex, nip=employee.nip, at=utc_iso(now), topic=topic,
                        ref=ref, message=message, details=details or {})
    notice = {"kind": EMPLOYEE, "name": employee.name, "employee_email": employee.email,
              **told.model_dump(mode="json")}
    key = f"employee-notice#{employee.nip}#{topic}#{ref}#{message}"

    def send() -> None:
        svc.records.add_notification(told, expires=now + timedelta(days=NOTIFICATION_DAYS))
        svc.notifier.publish(notice, f"Hadir: {message}"[:99])
    return once(svc, key, {"topic": topic}, send)


def my_notifications(svc: Services, nip: str, limit: int) -> NotificationList:
    """What the employee was told, newest first (GET /me/notifications)."""
    return NotificationList(nip=nip, items=[NotificationOut(**n.model_dump(exclude={"nip"}))
                                            for n in svc.records.notifications(nip, limit)])


def send_email(svc: Services, notice: JsonObject) -> bool:
    """The e-mail for one notice; once only. False without an address or sender."""
    kind = notice.get("kind")
    to = notice.get({EMPLOYEE: "employee_email", DISCIPLINE: "personnel_email"}.get(kind, "supervisor_email"))
    if not to or not svc.settings.ses_sender:
        logger.warning("no e-mail address for notice", extra={"kind": kind, "nip": notice.get("nip"),
                                                             "supervisor_nip": notice.get("supervisor_nip")})
        return False
    compose = {LOCKOUT: _lockout_email, EMPLOYEE: _employee_email, DISCIPLINE: _discipline_email,
               EPISODE: _episode_email}.get(
        kind, _absence_email)
    key, subject, body = compose(notice)
    return once(svc, key, {}, lambda: svc.notifier.send_email(to, subject, body))


def _employee_email(notice: JsonObject) -> tuple[str, str, str]:
    body = f"{notice['message']}\n\nReference: {notice['ref']}. The details are in Hadir."
    return (f"employee-email#{notice['nip']}#{notice['topic']}#{notice['ref']}#{notice['message']}",
            f"Hadir: {notice['message']}"[:99], body)


def _absence_email(notice: JsonObject) -> tuple[str, str, str]:
    absent = [f"- {a['nip']} {a['name']} ({a['office_id']})" for a in notice["absentees"]] or ["- none"]
    waiting = [f"- {a['nip']} {a['name']} ({a['office_id']}): review {a.get('review_id')}"
               for a in notice.get("pending_review", [])]
    asked = [f"- {q['request_id']}: {q['nip']} {q['name']}, {q['type']} {q['start']} to {q['end']}"
             for q in notice.get("pending_requests", [])]
    unreported = [f"- {m['nip']} {m['name']}: {m['date']} ({m['reason']['work_mode']}, cut-off {m['reason']['cutoff']})"
                  for m in notice.get("reports_missing", [])]
    body = (f"Staff without an accepted check-in on {notice['date']} ({notice['zone']}):\n"
            + "\n".join(absent)
            + ("\n\nFlagged check-ins waiting for your review:\n" + "\n".join(waiting) if waiting else "")
            + ("\n\nRequests waiting for your decision:\n" + "\n".join(asked) if asked else "")
            + ("\n\nRequired daily work reports not written by the cut-off:\n" + "\n".join(unreported)
               if unreported else "")
            + "\n\nEach day and its reasons are in Hadir's team view.")
    return (f"absence-email#{notice['date']}#{notice['zone']}#{notice['supervisor_nip']}",
            f"Hadir: absences on {notice['date']}", body)


def _episode_email(notice: JsonObject) -> tuple[str, str, str]:
    what = "outside the region" if notice["episode_kind"] == "outside_region" else "away from their home (WFH)"
    first = notice.get("first") or {}
    body = (f"{notice['name']} ({notice['nip']}) was seen {what} at {notice['opened_at']} during working hours, "
            f"without an approved permission (position {first.get('lat')}, {first.get('lon')}, accuracy "
            f"{first.get('accuracy_m')} m).\n\nFurther pings extend this episode and one back inside closes it; "
            "you get no other alert for it. The episode and its pings are in Hadir (team episodes): "
            "please check with them.")
    return (f"episode-email#{notice['nip']}#{notice['episode_id']}", f"Hadir: {notice['nip']} {what}"[:99], body)


def _lockout_email(notice: JsonObject) -> tuple[str, str, str]:
    body = (f"{notice['name']} ({notice['nip']}) failed {notice['failures']} face checks since "
            f"{notice['since']}; check-ins are refused until {notice['until']}.\n\n"
            "If this was not them, someone may be trying photos of them: check with them.")
    return (f"lockout-email#{notice['nip']}#{notice['since']}",
            f"Hadir: check-ins of {notice['nip']} locked", body)


def _discipline_email(notice: JsonObject) -> tuple[str, str, str]:
    days = ", ".join(r["date"] for r in notice["reasons"])
    if notice.get("rule") == "consecutive_working_days":
        body = (f"{notice['name']} ({notice['nip']}, {notice.get('unit') or 'no unit'}) was absent without notice "
                f"{notice['count']} consecutive working days (recap of {notice['month']}): PP 94/2021 names "
                f"dismissal for 10. The days: {days}.\n\nHadir reports the days; the decision is the personnel agency's.")
        return (f"discipline-email#{notice['agency_id']}#consecutive#{notice['nip']}#{notice['reasons'][0]['date']}",
                f"Hadir: {notice['nip']} absent {notice['count']} consecutive working days", body)
    body = (f"{notice['name']} ({notice['nip']}, {notice.get('unit') or 'no unit'}) has {notice['count']} days of "
            f"absence without notice in {notice['year']} (recap of {notice['month']}), reaching the threshold "
            f"of {notice['threshold']} days. PP 94/2021 level: {notice.get('level') or 'none'}.\n\n"
            f"The days: {days}.\n\nHadir reports the count; the decision is the personnel agency's.")
    return (f"discipline-email#{notice['agency_id']}#{notice['year']}#{notice['nip']}#{notice['threshold']}",
            f"Hadir: {notice['nip']} reached {notice['threshold']} days absent in {notice['year']}", body)
