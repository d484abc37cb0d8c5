"""The WFO/WFH roster of a unit over a period (``POST /admin/rosters``): the unit's staff, each
one's working days (``services/schedules.py``: their schedule at their first office), their
approved leave and official travel (``requests_overlapping``, one query), solved by
``policy/roster.py``. A proposal: nothing is stored or published yet.

Who: an admin for any unit; a supervisor for their own staff in the unit (their direct reports,
and themselves if they belong to it): the quota's headcount is then that staff. A unit with none
of the caller's staff is ``unit_not_found`` for a supervisor as for an unknown unit (no hint
that it exists). Days: every working day of any member; a day that is not a member's working day
is ``off`` for them (unavailable, like leave).

**Publishing** (``POST /admin/rosters/publish``): the same caller and staff, solved again here (a
client's assignment is never taken), checked by the independent validator, and stored as the
unit's roster of that month (one item, table ``rosters``: one conditional put and its audit entry
in one transaction, so nothing is ever half-published). ``replaces`` names the version read: a
publish over another version (or over one that exists, without ``replaces``) is 409
``roster_changed`` and writes nothing; a supervisor cannot replace a roster that holds staff not
theirs (403 ``not_your_staff``). Check-in (``policy/roster_day.py``) and pings read an employee's
day with one GetItem (their unit, the month). Each member is told their days once per version
(``notices.tell_employee``), and so is each member's supervisor.
"""
from __future__ import annotations

from datetime import date, timedelta

from chalicelib.adapters.auth import Principal
from chalicelib.common.errors import Forbidden, InvalidInput, NotFound
from chalicelib.common.logs import logger
from chalicelib.policy import echelon
from chalicelib.policy import requests as rules
from chalicelib.policy.roster import (AWAY, WFH, WFO, Failure, Infeasible, Member, Quota, Roster, group_of, share,
                                      solve, top_levels)
from chalicelib.policy.roster_check import check
from chalicelib.policy.roster_day import RosterDay
from chalicelib.services import notices
from chalicelib.services.agency_config import schedules
from chalicelib.services.records import Employee, PublishedRoster
from chalicelib.services.schedules import working_days
from chalicelib.services.schemas import (MyRosterDay, MyRosterOut, RosterOut, RosterPublishRequest, RosterQuery,
                                         RosterRequest, RosterRow)
from chalicelib.wiring import Services

PUBLISHED, TEAM_PUBLISHED = "roster_published", "team_roster_published"

UNAVAILABLE_TYPES = ("leave", "official_travel")


def generate(svc: Services, body: RosterRequest, actor: Principal) -> RosterOut:
    return _propose(svc, body, actor)[0]


def _propose(svc: Services, body: RosterRequest, actor: Principal) -> tuple[RosterOut, list[Employee], list[Member]]:
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
    return _out(body.unit, staff, members, result, working, away), staff, members


def _staff(svc: Services, unit: str, actor: Principal) -> list[Employee]:
    if "admin" in actor.groups:
        pool = list(svc.records.staff_in_unit(unit))
    else:
        pool = svc.records.staff_of(actor.nip or "")
        me = svc.records.get_employee(actor.nip or "") if actor.nip else None
        pool = pool + ([me] if me else [])
    staff = sorted((e for e in pool if e.unit == unit), key=lambda e: e.nip)
    if not staff:
        raise NotFound("No staff of yours in that unit", code="unit_not_found", details={"unit": unit})
    return staff


def _working(svc: Services, staff: list[Employee], first: date, through: date) -> dict[str, set[date]]:
    offices = svc.policy_cache.offices(e.office_ids[0] for e in staff if e.office_ids)
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


# --- publishing ----------------------------------------------------------------------------------
def publish(svc: Services, body: RosterPublishRequest, actor: Principal) -> RosterOut:
    out, staff, members = _propose(svc, body, actor)
    _validate(out, members, body)
    month = body.first.strftime("%Y-%m")
    stored = svc.records.roster(body.unit, month)
    mine = {e.nip for e in staff}
    if stored is not None and "admin" not in actor.groups and set(stored.statuses) - mine:
        raise Forbidden("The unit's roster of that month holds staff not yours", code="not_your_staff",
                        details={"unit": body.unit, "month": month, "others": len(set(stored.statuses) - mine)})
    roster = PublishedRoster(unit=body.unit, month=month, days=[d.isoformat() for d in out.days],
                             statuses={r.nip: list(r.days) for r in out.staff},
                             document=out.model_dump(mode="json", include=_DOCUMENT), published_at="", published_by="")
    details = {"unit": body.unit, "month": month, "first": body.first.isoformat(), "through": body.through.isoformat(),
               "max_share": body.max_share, "min_share": body.min_share, "lo": out.lo, "hi": out.hi,
               "headcount": out.headcount, "days": len(out.days), "scope": "unit" if "admin" in actor.groups
               else f"staff_of:{actor.nip}"}
    saved = svc.records.publish_roster(roster, body.replaces, actor.username, svc.now_iso(), details)
    svc.policy_cache.forget(f"roster#{body.unit}#{month}")  # other containers see it within HADIR_CONFIG_TTL_S
    logger.info("roster published", extra={"unit": body.unit, "month": month, "version": saved.version,
                                           "headcount": out.headcount, "actor": actor.username})
    return _published(out, saved, notified=_notify(svc, staff, saved))


_DOCUMENT = {"unit", "days", "headcount", "lo", "hi", "top_levels", "rotation", "staff"}


def _validate(out: RosterOut, members: list[Member], body: RosterRequest) -> None:
    """The independent validator's verdict on what is about to be published (a solver bug is a
    500, never a stored roster breaking a rule)."""
    assignment = {r.nip: [s if s in (WFO, WFH) else AWAY for s in r.days] for r in out.staff}
    violations = check(members, out.days, assignment, share(body.max_share), share(body.min_share))
    if violations:
        logger.error("solved roster breaks a rule", extra={"unit": body.unit, "violations": len(violations)})
        raise RuntimeError(f"roster for {body.unit} breaks {len(violations)} rules")


def _published(out: RosterOut, saved: PublishedRoster, notified: int | None = None) -> RosterOut:
    return out.model_copy(update={"published": True, "roster_id": saved.roster_id, "version": saved.version,
                                  "published_at": saved.published_at, "published_by": saved.published_by,
                                  "notified": notified})


def _notify(svc: Services, staff: list[Employee], saved: PublishedRoster) -> int:
    """Each member their office and WFH days, each member's supervisor the unit's, once per version;
    a failed notice is logged (the roster stands; each is once-only, so none is sent twice)."""
    ref, sent = f"{saved.roster_id}#v{saved.version}", 0
    for e in staff:
        office = [d for d in saved.days if saved.status_on(e.nip, d) == WFO]
        home = [d for d in saved.days if saved.status_on(e.nip, d) == WFH]
        message = (f"Your WFO/WFH roster for {saved.month} (version {saved.version}): "
                   f"{len(office)} office days, {len(home)} days from home")
        sent += _tell(svc, e, PUBLISHED, ref, message, {"roster_id": saved.roster_id, "version": saved.version,
                                                         "month": saved.month, "office": office, "wfh": home})
    for sup_nip in sorted({e.supervisor_nip for e in staff if e.supervisor_nip}):
        sup = svc.records.get_employee(sup_nip)
        count = sum(1 for e in staff if e.supervisor_nip == sup_nip)
        if sup is not None:
            sent += _tell(svc, sup, TEAM_PUBLISHED, ref, f"The WFO/WFH roster of {saved.unit} for {saved.month} "
                          f"(version {saved.version}) was published: {count} of your staff",
                          {"roster_id": saved.roster_id, "version": saved.version, "unit": saved.unit,
                           "month": saved.month, "staff": count})
    return sent


def _tell(svc: Services, e: Employee, topic: str, ref: str, message: str, details: dict[str, object]) -> int:
    try:
        return int(notices.tell_employee(svc, e, topic, ref, message, details))
    except Exception:  # noqa: BLE001 - the roster is stored; the notice is logged and not retried here
        logger.exception("roster notice failed", extra={"nip": e.nip, "topic": topic, "ref": ref})
        return 0


def published(svc: Services, query: RosterQuery, actor: Principal) -> RosterOut:
    """The unit's published roster of a month (a supervisor: the rows of their own staff only);
    404 ``unit_not_found`` as for the proposal, 404 ``roster_not_found`` when none was published."""
    mine = {e.nip for e in _staff(svc, query.unit, actor)}
    saved = svc.records.roster(query.unit, query.month)
    if saved is None:
        raise NotFound("No roster published for that unit and month", code="roster_not_found",
                       details={"unit": query.unit, "month": query.month})
    out = RosterOut.model_validate(saved.document)
    if "admin" not in actor.groups:
        out = out.model_copy(update={"staff": [r for r in out.staff if r.nip in mine]})
    return _published(out, saved)


def my_roster(svc: Services, nip: str, month: str) -> MyRosterOut:
    """The employee's own days of their unit's published roster of ``month`` (none: empty)."""
    emp = svc.records.get_employee(nip)
    if emp is None:
        raise NotFound("No employee record for this account", code="employee_not_found")
    saved = svc.records.roster(emp.unit, month) if emp.unit else None
    row = saved.statuses.get(emp.nip) if saved else None
    if saved is None or row is None:
        return MyRosterOut(nip=emp.nip, month=month, unit=emp.unit, roster_id=None, version=None,
                           published_at=None, days=[])
    return MyRosterOut(nip=emp.nip, month=month, unit=emp.unit, roster_id=saved.roster_id, version=saved.version,
                       published_at=saved.published_at,
                       days=[MyRosterDay(date=d, status=s) for d, s in zip(saved.days, row)])  # type: ignore[arg-type]


def day_of(svc: Services, emp: Employee, day: str) -> RosterDay | None:
    """The employee's WFO or WFH day on ``day`` of their unit's published roster (through the
    policy cache),
    None without one (or on a leave, travel or off day of it). A WFO day an approved WFH request
    covers (decided after the roster) is the request's: None, as without a roster."""
    saved = svc.policy_cache.roster(emp.unit, day[:7]) if emp.unit else None
    status = saved.status_on(emp.nip, day) if saved else None
    if saved is None or status not in (WFO, WFH):
        return None
    if status == WFO and any(r.type == "wfh" and r.status == rules.APPROVED and r.start <= day <= r.end
                             for r in svc.records.requests_of(emp.nip, day, day)):
        return None
    return RosterDay(roster_id=saved.roster_id, version=saved.version, date=day, status=status)
