"""Whereabouts during working hours: ``POST /me/pings``, the episodes a supervisor sees
(``GET /team/episodes``) and who is where now (``GET /team/now``).

A ping is refused (409, nothing stored) outside the employee's working hours of today's effective
schedule, on a day off and on approved leave: nobody is tracked off duty. Then one per
``HADIR_PING_MIN_INTERVAL_S`` (429 ``ping_too_soon``, the latest fix's conditional write), kept
``HADIR_PING_RETENTION_DAYS`` (TTL). The check-in's spoof signals apply: the OS mock flag, an
implausible accuracy, impossible travel from the latest fix, and ``new_device`` (the X-Device-Id
sent against the bound device). A ping outside the agency's region (or, on a WFH day, away
from the registered home) without an approved leave_region or dinas luar opens an episode (the
state's open-episode marker is set only if absent: one episode, one alert, however many pings race);
further outside pings extend it, a trusted ping back inside closes it. A mock-location ping
never closes one (it may not be where it says). One left open when the working day ended is
closed at its last ping by the next day's first ping: each day's episode alerts anew.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from chalicelib.common.errors import Conflict, JsonObject, NotFound, TooManyAttempts
from chalicelib.common.logs import logger
from chalicelib.geo import Position, parse_geofence
from chalicelib.geo.fences import Geofence
from chalicelib.policy.requests import APPROVED
from chalicelib.policy.signals import PriorFix, device_signals, gps_signals
from chalicelib.policy.time_rules import OfficeRules
from chalicelib.policy.whereabouts import LEAVE_TYPES, PERMISSION_TYPES, Verdict, judge, on_duty
from chalicelib.policy.roster_day import WFH
from chalicelib.services import notices, rosters, schedules
from chalicelib.services.agency_config import region
from chalicelib.services.enrolment import assigned_offices
from chalicelib.services.records import Employee, Episode, Ping, PingState, RequestRecord, utc_iso
from chalicelib.services.schemas_whereabouts import PingEpisodeOut, PingOut, PingRequest
from chalicelib.wiring import Services

EPISODE_ALERT = notices.EPISODE


def approved_on(svc: Services, nip: str, day: str) -> list[RequestRecord]:
    return [r for r in svc.records.requests_of(nip, day, day) if r.status == APPROVED and r.start <= day <= r.end]


def ping(svc: Services, nip: str, req: PingRequest, device_id: str | None = None) -> PingOut:
    """``device_id``: the app's X-Device-Id (the check-in's new_device signal against the bound one)."""
    now = svc.clock.now()
    ctx = svc.records.ping_context(nip)  # the employee, the latest fix and open episode: one read
    if ctx.employee is None:
        raise NotFound("No employee record for this account", code="employee_not_found")
    emp = ctx.employee
    office = assigned_offices(svc, emp)[0]  # its schedule and zone: working hours
    local_day, local_time = OfficeRules.from_dict(office.rules).local_moment(now)
    refused = on_duty(schedules.effective(svc, emp, office, local_day), local_time)
    if refused:
        raise Conflict("Pings are taken only in your working hours", code=refused["code"], details=refused)
    day = local_day.isoformat()
    approved = approved_on(svc, nip, day) if ctx.has_requests else []  # none ever submitted: none approved
    leave = [r.request_id for r in approved if r.type in LEAVE_TYPES]
    if leave:
        raise Conflict("You are on approved leave today: no ping is taken", code="on_approved_leave",
                       details={"local_date": day, "request_ids": leave})
    state = ctx.state
    interval = svc.settings.ping_min_interval_s
    _refuse_if_too_soon(state, now, interval)
    position = req.location
    signals = [*_signals(svc, position, now, state),
               *device_signals(emp.device_id, device_id, [], svc.signal_rules)]
    home, home_id = _home(svc, emp, approved, day)
    permits = [{"request_id": r.request_id, "type": r.type} for r in approved if r.type in PERMISSION_TYPES]
    verdict = judge(position, region(svc), home, home_id, permits)
    p = Ping(ping_id=uuid.uuid4().hex, nip=nip, at=utc_iso(now), local_date=day, lat=position.lat,
             lon=position.lon, accuracy_m=position.accuracy_m, captured_at=position.captured_at.isoformat(),
             is_mock=position.is_mock, outside=verdict.outside, kind=verdict.kind,
             reasons=[*signals, *verdict.reasons])
    expires = now + timedelta(days=svc.settings.ping_retention_days)
    if not svc.records.record_ping(p, expires=expires, not_before=utc_iso(now - timedelta(seconds=interval))):
        raise _too_soon(interval)
    episode, closed = _follow(svc, emp, p, verdict, state, now)
    return PingOut(ping_id=p.ping_id, at=p.at, local_date=day, outside=p.outside, kind=p.kind, reasons=p.reasons,
                   episode=episode, closed_episode_id=closed, next_ping_after_s=interval)


def _too_soon(retry_after_s: int) -> TooManyAttempts:
    return TooManyAttempts("One ping at a time: try again later", code="ping_too_soon",
                           details={"retry_after_s": max(1, retry_after_s)})


def _refuse_if_too_soon(state: PingState, now: datetime, interval: int) -> None:
    if state.last is None:
        return
    elapsed = (now - datetime.fromisoformat(state.last.at)).total_seconds()
    if elapsed < interval:
        raise _too_soon(int(interval - elapsed + 0.999))


def _signals(svc: Services, position: Position, now: datetime, state: PingState) -> list[JsonObject]:
    """The check-in's spoof signals that apply to a ping: the OS mock flag, an implausible accuracy,
    impossible travel from the latest fix (pings have no site to copy nor a photo)."""
    history = [PriorFix(state.last.lat, state.last.lon, datetime.fromisoformat(state.last.at), "")] \
        if state.last else []
    mock = [{"code": "mock_location", "effect": "flag"}] if position.is_mock else []
    return [*mock, *gps_signals(position, now, [], history, svc.signal_rules)]


def _home(svc: Services, emp: Employee, approved: list[RequestRecord],
          day: str) -> tuple[Geofence | None, str | None]:
    """On a day an approved WFH covers, or a WFH day of the unit's published roster: the
    registered home site (the request's, else any valid); none registered: the region only."""
    wfh = next((r for r in approved if r.type == "wfh"), None)
    if wfh is None:
        rostered = rosters.day_of(svc, emp, day)
        if rostered is None or rostered.status != WFH:
            return None, None
    homes = [s for s in svc.records.sites_of(emp.nip) if s.kind == "home" and s.valid_on(day)]
    chosen = wfh.home_site_id if wfh else None
    site = next((s for s in homes if s.site_id == chosen), homes[0] if homes else None)
    return (parse_geofence(site.geofence), site.site_id) if site else (None, None)


def _follow(svc: Services, emp: Employee, p: Ping, verdict: Verdict, state: PingState,
            now: datetime) -> tuple[PingEpisodeOut | None, str | None]:
    """Open, extend or close the employee's episode after the ping ``p``."""
    current = state.open_episode
    if current and current.local_date != p.local_date:  # left open when yesterday's hours ended
        svc.records.close_episode(current, current.last_at)
        current = None
    if not verdict.outside:
        trusted = not p.is_mock
        if current and trusted and svc.records.close_episode(current, p.at):
            logger.info("episode closed", extra={"nip": emp.nip, "episode_id": current.episode_id})
            return None, current.episode_id
        return None, None
    if current is None:
        e = Episode(episode_id=uuid.uuid4().hex, nip=emp.nip, name=emp.name, supervisor_nip=emp.supervisor_nip,
                    unit=emp.unit, kind=verdict.kind or "outside_region", local_date=p.local_date, opened_at=p.at,
                    last_at=p.at, first={"lat": p.lat, "lon": p.lon, "accuracy_m": p.accuracy_m,
                                         "reasons": p.reasons})
        if svc.records.open_episode(e, expires=now + timedelta(days=svc.settings.episode_retention_days)):
            alert_supervisor(svc, emp, e)
            return PingEpisodeOut(episode_id=e.episode_id, kind=e.kind, opened=True, opened_at=e.opened_at,
                                  pings=1), None
        current = svc.records.ping_state(emp.nip).open_episode  # another ping opened it meanwhile
        if current is None:
            return None, None
    svc.records.extend_episode(current, p.at)
    return PingEpisodeOut(episode_id=current.episode_id, kind=current.kind, opened=False,  # type: ignore[arg-type]
                          opened_at=current.opened_at, pings=current.pings + 1), None


def alert_supervisor(svc: Services, emp: Employee, e: Episode) -> bool:
    """The one alert of an episode, to the employee's supervisor (once per episode)."""
    sup = svc.records.get_employee(emp.supervisor_nip) if emp.supervisor_nip else None
    notice = {"kind": EPISODE_ALERT, "nip": emp.nip, "name": emp.name, "unit": emp.unit,
              "supervisor_nip": emp.supervisor_nip, "supervisor_email": sup.email if sup else None,
              "episode_id": e.episode_id, "episode_kind": e.kind, "opened_at": e.opened_at,
              "local_date": e.local_date, "first": e.first}
    what = "left the region" if e.kind == "outside_region" else "is away from home"
    subject = f"Hadir: {emp.name} {what} during working hours"[:99]
    sent = notices.once(svc, f"episode-alert#{emp.nip}#{e.episode_id}", {"kind": e.kind},
                        lambda: svc.notifier.publish(notice, subject))
    logger.info("episode opened", extra={"nip": emp.nip, "episode_id": e.episode_id, "kind": e.kind,
                                         "alerted": sent})
    return sent
