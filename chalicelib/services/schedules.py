"""The effective schedule of an employee at an office on a local date, as the use cases ask it:
check-in (``services/checkin.py``), absence detection (``services/jobs.py``) and the monthly recap
(``services/recap.py``) all call :func:`effective`, which calls ``policy.schedule.effective_day``
with the agency's schedules document (``agency_config.schedules``, cached) and calendar."""
from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.policy.schedule import EffectiveDay, Person, Place, Schedules, effective_day
from chalicelib.policy.schedule import working_days as schedule_working_days
from chalicelib.services.agency_config import schedules
from chalicelib.services.records import Employee, Office


def person(e: Employee, office: Office) -> Person:
    return Person(unit=e.unit, group=e.group, office_id=office.office_id)


def place(office: Office) -> Place:
    return Place(office_id=office.office_id, rules=office.rules, province=office.province)


def effective(svc: Any, e: Employee, office: Office, local_date: date,
              document: Schedules | None = None) -> EffectiveDay:
    """``e``'s day at ``office`` on ``local_date`` (``document``: the schedules already read)."""
    return effective_day(document or schedules(svc), person(e, office), place(office), svc.calendar, local_date)


def working_days(svc: Any, e: Employee, office: Office | None, first: date, through: date,
                 document: Schedules | None = None) -> tuple[date, ...]:
    """``e``'s working days ``first``..``through``; with no office on file, the agency calendar's."""
    if through < first:
        return ()
    if office is None:
        return tuple(svc.calendar.working_days(first, through))
    return schedule_working_days(document or schedules(svc), person(e, office), place(office), svc.calendar,
                                 first, through)
