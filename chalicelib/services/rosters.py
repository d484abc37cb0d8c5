"""The WFO/WFH roster of a unit over a period (``POST /admin/rosters``): the unit's staff, each
one's working days (``services/schedules.py``: their schedule at their first office), their
approved leave and official travel (``requests_overlapping``, one query), solved by
``policy/roster.py``. A proposal: nothing is stored or published yet.

Who: an admin for any unit; a supervisor for their own staff in the unit (their direct reports,
and themselves if they belong to it): the quota's headcount is then that staff. A unit with none
of the caller's staff is ``unit_not_found`` for a supervisor as for an unknown unit (no hint
that it exists). Days: every working day of any member; a day that is not a member's working day
is ``off`` for them (unavailable, like leave).
"""
from __future__ import annotations

from datetime import date, timedelta

from chalicelib.adapters.auth import Principal
from chalicelib.common.errors import InvalidInput, NotFound
from chalicelib.policy import echelon
from chalicelib.policy import requests as rules
from chalicelib.policy.roster import (AWAY, Failure, Infeasible, Member, Quota, Roster, group_of, share, solve,
                                      top_levels)
from chalicelib.services.agency_config import schedules
from chalicelib.services.records import Employee
from chalicelib.services.schedules import working_days
from chalicelib.services.schemas import RosterOut, RosterRequest, RosterRow
from chalicelib.wiring import Services

UNAVAILABLE_TYPES = ("leave", "official_travel")


def generate(svc: Services, body: RosterRequest, actor: Principal) -> RosterOut:
    staff = _staff(svc, body.unit, actor)
    working = _working(svc, staff, body.first, body.through)
    days = sorted(set().union(*working.values()))
    away = _away(svc, {e.nip for e in staff}, body.first, body.through)
    members = [Member(e.nip, echelon.level(e.echelon),
                      frozenset(d for d in days if d not in working[e.nip] or d in away.get(e.nip, {})))
               for e in staff]
    quota = Quota(share(body.max_share), share(body.min_share))
    result = solve(members, days, quota)
    if isinstance(result, Infeasible):
        raise InvalidInput("No roster meets every rule", code="roster_infeasible",
                           details={"unit": body.unit, "failures": [_failure(f) for f in result.failures]})
    return _out(body.unit, staff, members, result, working, away)


def _staff(svc: Services, unit: str, actor: Principal) -> list[Employee]:
    if "admin" in actor.groups:
        pool = svc.records.employees()
    else:
        pool = svc.records.staff_of(actor.nip or "")
        me = svc.records.get_employee(actor.nip or "") if actor.nip else None
        pool = pool + ([me] if me else [])
    staff = sorted((e for e in pool if e.unit == unit), key=lambda e: e.nip)
    if not staff:
        raise NotFound("No staff of yours in that unit", code="unit_not_found", details={"unit": unit})
    return staff


def _working(svc: Services, staff: list[Employee], first: date, through: date) -> dict[str, set[date]]:
    offices = {o.office_id: o for o in svc.records.offices()}
    document = schedules(svc)
    return {e.nip: set(working_days(svc, e, offices.get(e.office_ids[0]) if e.office_ids else None,
                                    first, through, document)) for e in staff}


def _away(svc: Services, nips: set[str], first: date, through: date) -> dict[str, dict[date, str]]:
    """nip -> date -> leave | official_travel, from the approved requests overlapping the period."""
    out: dict[str, dict[date, str]] = {}
    for r in svc.records.requests_overlapping(rules.APPROVED, first.isoformat(), through.isoformat()):
        if r.nip not in nips or r.type not in UNAVAILABLE_TYPES:
            continue
        d, end = max(date.fromisoformat(r.start), first), min(date.fromisoformat(r.end), through)
        while d <= end:
            out.setdefault(r.nip, {})[d] = r.type
            d += timedelta(days=1)
    return out


def _failure(f: Failure) -> dict[str, object]:
    return {"constraint": f.constraint, "days": [d.isoformat() for d in f.days], "details": dict(f.details)}


def _out(unit: str, staff: list[Employee], members: list[Member], roster: Roster,
         working: dict[str, set[date]], away: dict[str, dict[date, str]]) -> RosterOut:
    tops = top_levels(members)
    rows = []
    for e, m in zip(staff, members):
        statuses = [s if s != AWAY else away.get(e.nip, {}).get(d, "off") if d in working[e.nip] else "off"
                    for d, s in zip(roster.days, roster.assignment[e.nip])]
        rows.append(RosterRow(nip=e.nip, name=e.name, echelon=e.echelon, group=group_of(m, tops),
                              office_days=roster.office_days(e.nip),
                              available_days=len(roster.days) - len(m.unavailable), days=statuses))
    return RosterOut(unit=unit, days=list(roster.days), headcount=len(staff), lo=roster.lo, hi=roster.hi,
                     top_levels=list(tops), rotation=dict(roster.rotation), staff=rows)
