"""Attempt limits at check-in (``policy.attempts``): refuse while the account cools down, and tell
the supervisor once when failed face checks lock it."""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.common.errors import TooManyAttempts
from chalicelib.common.logs import logger, metrics
from chalicelib.policy.attempts import Lockout, lockout
from chalicelib.services import notices
from chalicelib.services.records import CheckinRecord, Employee, RecentAttempt
from chalicelib.wiring import Services


def recent_failures(svc: Services, history: list[RecentAttempt], now: datetime) -> list[datetime]:
    """When the employee's face checks failed within the limit's window and cool-down."""
    limit = svc.attempt_limit
    since = now - timedelta(seconds=limit.window_s + limit.cooldown_s)
    return [at for at, c in ((datetime.fromisoformat(c.at), c) for c in history)
            if since <= at <= now and c.face_failed]


def refuse_if_locked(svc: Services, failures: list[datetime], now: datetime) -> None:
    lock = lockout(failures, now, svc.attempt_limit)
    if lock is not None:
        metrics.add_metric(name="CheckinLockedOut", unit="Count", value=1)
        raise TooManyAttempts("Too many failed face checks: try again later", details={
            **lock.to_dict(now), "window_s": svc.attempt_limit.window_s,
            "max_failures": svc.attempt_limit.max_failures})


def after_attempt(svc: Services, emp: Employee, attempt: CheckinRecord, failures: list[datetime]) -> None:
    """Tell the supervisor, once per lockout, when this failed attempt locks the account."""
    if not attempt.face.failed:
        return
    at = datetime.fromisoformat(attempt.at)
    lock = lockout([*failures, at], at, svc.attempt_limit)
    if lock is not None:
        _notify(svc, emp, lock, at)


def _notify(svc: Services, emp: Employee, lock: Lockout, now: datetime) -> None:
    sup = svc.records.get_employee(emp.supervisor_nip) if emp.supervisor_nip else None
    notice = {"kind": notices.LOCKOUT, "nip": emp.nip, "name": emp.name, "supervisor_nip": emp.supervisor_nip,
              "supervisor_name": sup.name if sup else None, "supervisor_email": sup.email if sup else None,
              **lock.to_dict(now)}
    if notices.publish_lockout(svc, notice):
        logger.info("check-in locked out", extra={"nip": emp.nip, "failures": lock.failures})
