"""What a supervisor sees of whereabouts: the episodes of their own staff (``GET /team/episodes``)
and each staff member's state right now (``GET /team/now``); admins see everyone (``?unit=``)."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.adapters.auth import Principal
from chalicelib.policy.requests import APPROVED
from chalicelib.policy.time_rules import OfficeRules
from chalicelib.policy.whereabouts import NowInputs, state_now
from chalicelib.policy.work import ReportDay
from chalicelib.services import schedules, units, work_days
from chalicelib.services.agency_config import schedules as schedules_doc
from chalicelib.services.records import DayRecord, Employee, Episode, Office, PingState, RequestRecord, utc_iso
from chalicelib.services.schemas import EpisodeReview
from chalicelib.services.schemas_whereabouts import (
    EpisodeList,
    EpisodeOut,
    EpisodePing,
    EpisodeQuery,
    NowQuery,
    StaffNow,
    TeamNow,
    WorkDayNow,
)
from chalicelib.wiring import Services

DEFAULT_ZONE = "Asia/Jakarta"
EVIDENCE_PINGS = 200  # an episode's pings listed as evidence, at most


def _is_admin(caller: Principal) -> bool:
    return "admin" in caller.groups


def _staff(svc: Services, caller: Principal, unit: str | None = None) -> list[Employee]:
    """A supervisor's own staff (never another's); an admin's: the staff of ``unit`` (required)."""
    if _is_admin(caller):
        return units.staff_of_unit(svc.records, unit)
    return svc.records.staff_of(caller.nip) if caller.nip else []


def _today(svc: Services, caller: Principal) -> str:
    me = svc.records.get_employee(caller.nip) if caller.nip else None
    office = svc.records.get_office(me.office_ids[0]) if me and me.office_ids else None
    return svc.clock.now().astimezone(ZoneInfo(office.timezone if office else DEFAULT_ZONE)).date().isoformat()


def episodes(svc: Services, caller: Principal, query: EpisodeQuery) -> EpisodeList:
    day = query.day.isoformat() if query.day else _today(svc, caller)
    mine = None if _is_admin(caller) else {e.nip for e in _staff(svc, caller)}
    found = [e for e in svc.records.episodes_on(day) if mine is None or e.nip in mine]
    return EpisodeList(date=day, episodes=[episode_out(svc, e) for e in found])


def episode_review_id(e: Episode) -> str:
    """The id the review queue decides it under (``services/reviews.py``)."""
    return f"w.{e.nip}.{e.local_date}.{e.episode_id}"


def episode_out(svc: Services, e: Episode) -> EpisodeOut:
    """The episode with its pings as evidence (the first ``EVIDENCE_PINGS``) and its decision."""
    pings = svc.records.pings_between(e.nip, e.opened_at, e.closed_at or e.last_at, limit=EVIDENCE_PINGS)
    evidence = [EpisodePing(at=p.at, lat=p.lat, lon=p.lon, accuracy_m=p.accuracy_m, is_mock=p.is_mock,
                            outside=p.outside, reasons=p.reasons) for p in pings]
    r = e.review
    review = EpisodeReview(decision=r.decision, reviewer=r.reviewer, at=r.at, comment=r.comment) if r else None  # type: ignore[arg-type]
    return EpisodeOut(episode_id=e.episode_id, nip=e.nip, name=e.name, unit=e.unit, kind=e.kind,  # type: ignore[arg-type]
                      local_date=e.local_date, opened_at=e.opened_at, last_at=e.last_at, closed_at=e.closed_at,
                      pings=e.pings, first=e.first, evidence=evidence, review_id=episode_review_id(e), review=review)


def now(svc: Services, caller: Principal, query: NowQuery) -> TeamNow:
    at = svc.clock.now()
    staff = _staff(svc, caller, query.unit if _is_admin(caller) else None)
    offices = svc.policy_cache.offices(i for e in staff for i in e.office_ids)
    homes = {e.nip: next((offices[i] for i in e.office_ids if i in offices), None) for e in staff}
    local = {nip: OfficeRules.from_dict(o.rules).local_moment(at) for nip, o in homes.items() if o}
    dates = sorted({d.isoformat() for d, _ in local.values()})
    days = {(d.nip, d.date): d for d in svc.records.days_of(list(local), dates)} if dates else {}
    approved: dict[str, list[RequestRecord]] = defaultdict(list)
    for r in svc.records.requests_overlapping(APPROVED, dates[0], dates[-1]) if dates else []:
        approved[r.nip].append(r)
    doc = schedules_doc(svc)
    states = svc.records.ping_states(list(local))  # one bulk read, not one per person
    work = work_days.report_days(svc, [(e, homes[e.nip], local[e.nip][0]) for e in staff if e.nip in local],
                                 days={k: v.day for k, v in days.items()}, document=doc,
                                 approved=[r for rs in approved.values() for r in rs])
    out = []
    for e in staff:
        office = homes[e.nip]
        if office is None:
            out.append(StaffNow(nip=e.nip, name=e.name, unit=e.unit, state="no_office", online=False,
                                reasons=[{"code": "no_office"}]))
            continue
        out.append(_one(svc, e, office, local[e.nip], days, approved[e.nip], at, doc, states[e.nip],
                        work[(e.nip, local[e.nip][0].isoformat())]))
    return TeamNow(at=utc_iso(at), online_minutes=svc.settings.online_minutes, staff=out)


def _one(svc: Services, e: Employee, office: Office, moment: tuple, days: dict, requests: list[RequestRecord],
         at: datetime, doc, state: PingState, work: ReportDay) -> StaffNow:
    local_day, local_time = moment
    d = local_day.isoformat()
    eff = schedules.effective(svc, e, office, local_day, document=doc)
    day: DayRecord | None = days.get((e.nip, d))
    seen = [t for t in (state.last.at if state.last else None, _checkin_at(day, local_day, office.timezone)) if t]
    last_seen = max(seen) if seen else None
    online = bool(last_seen and datetime.fromisoformat(last_seen) >= at - timedelta(minutes=svc.settings.online_minutes))
    ep = state.open_episode if state.open_episode and state.open_episode.local_date == d else None
    inputs = NowInputs(
        local_date=local_day, working=eff.working, day_reason=eff.reason,
        window_closed=local_time > eff.rules.checkin_end, day_status=day.day.status if day else None,
        work_mode=day.day.work_mode if day else None,
        requests=tuple({"request_id": r.request_id, "type": r.type, "start": r.start, "end": r.end}
                       for r in requests if r.start <= d <= r.end),
        open_episode={"episode_id": ep.episode_id, "kind": ep.kind, "opened_at": ep.opened_at,
                      "last_at": ep.last_at, "pings": ep.pings} if ep else None,
        last_seen_at=last_seen, online=online)
    name, reasons = state_now(inputs)
    due = work.reason()
    return StaffNow(nip=e.nip, name=e.name, unit=e.unit, office_id=office.office_id, local_date=d,
                    state=name, online=online, last_seen_at=last_seen,  # type: ignore[arg-type]
                    reasons=[*reasons, *([due] if due else [])], work_day=_work_day(work, day))


def _work_day(work: ReportDay, day: DayRecord | None) -> WorkDayNow | None:
    """A day whose mode needs a report (WFH/WFA): checked in, and the report's state."""
    if not work.required:
        return None
    return WorkDayNow(work_mode=work.work_mode or "", source=work.source or "", checked_in=bool(day and day.day.first_in),
                      report=work.state, report_due=work.due, cutoff=work.closes_at)  # type: ignore[arg-type]


def _checkin_at(day: DayRecord | None, local_day, tz: str) -> str | None:
    """The latest check-in or check-out of the day, as a UTC instant."""
    stamp = (day.day.last_out or day.day.first_in) if day else None
    if not stamp:
        return None
    hh, mm, *rest = (int(x) for x in stamp.split(":"))
    local = datetime.combine(local_day, time(hh, mm, rest[0] if rest else 0), ZoneInfo(tz))
    return utc_iso(local)
