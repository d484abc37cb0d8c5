"""Selfie + GPS check-in: load context -> verify -> locate -> decide -> fold -> save.

Every attempt (accepted, flagged or rejected alike) is stored with its reasons, in one write with
the day it changes and the session it uses. Retries with the same ``Idempotency-Key`` return the
stored result (Powertools idempotency); without the header the single-use session still prevents a
second write.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib.common.errors import Conflict, HadirError, InvalidInput, JsonObject, Kind, Malformed, NotFound
from chalicelib.common.logs import logger, metrics
from chalicelib.face import liveness
from chalicelib.face.image import capture_time
from chalicelib.face.liveness import Liveness
from chalicelib.face.types import FaceError, Template, Verification
from chalicelib.geo import GeoResult, Position, Site, locate
from chalicelib.policy import offline
from chalicelib.policy.day import Attempt, fold_day
from chalicelib.policy.decision import (
    Decision,
    FaceFailure,
    decide_checkin,
    for_employee,
)
from chalicelib.policy.signals import (
    PriorFix,
    capture_signals,
    device_signals,
    gps_signals,
)
from chalicelib.policy.events import Event
from chalicelib.policy.roster_day import allowed_sites
from chalicelib.policy.schedule import EffectiveDay
from chalicelib.policy.time_rules import OfficeRules, parse_hhmm
from chalicelib.services import attempts, events, idempotency, rosters, schedules, sessions
from chalicelib.services.enrolment import assigned_offices, employee, require_current
from chalicelib.services.records import (
    CheckinRecord,
    DayRecord,
    Employee,
    FaceEvidence,
    GeoEvidence,
    Office,
    PersonalSite,
    PositionEvidence,
    RecentAttempt,
    RecentAttempts,
    SealedTemplate,
    UploadSession,
    utc_iso,
)
from chalicelib.services.schemas import (
    CheckinOut,
    CheckinRequest,
    CheckinUploadsRequest,
    ErrorBody,
    FaceOut,
    GeoOut,
    UploadSessionOut,
)
from chalicelib.services.sites import candidate_sites
from chalicelib.services.timing import Timer
from chalicelib.wiring import Services

HISTORY_DAYS = 14  # the attempts the signals and the attempt limit look back on
RECENT_MAX = 64  # at most this many of them kept, the newest (14 days of a few a day; < 4 KB stored)


@dataclass(frozen=True)
class CheckinResult:
    body: CheckinOut
    error: HadirError | None = None  # the photo could not be verified: the response takes its status
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    employee: Employee
    session: UploadSession
    offices: list[Office]
    sealed: SealedTemplate
    sites: list[PersonalSite]
    history: RecentAttempts  # the employee's attempts of the last HISTORY_DAYS, at the version read
    failures: list[datetime]  # when their recent face checks failed (attempt limit)
    days: dict[str, DayRecord | None] = field(default_factory=dict)  # the day records read, by date
    sites_uncopied: bool = False  # the sites were queried (data written before their copy): copy them
    device_users: dict[str, list[str]] = field(default_factory=dict)  # who used X-Device-Id, by date


def open_uploads(svc: Services, nip: str, req: CheckinUploadsRequest | None = None) -> UploadSessionOut:
    """A session for a check-in now (the server's challenge), or for one captured offline: one
    upload per step the app asked (``offline_steps``), the challenge marked offline."""
    employee(svc, nip)
    ttl = svc.settings.checkin_session_ttl_s
    if req is not None and req.offline_steps is not None:
        offline.check_steps(req.offline_steps, svc.liveness)
        return sessions.open_session(svc, nip, sessions.CHECKIN, ttl, steps=list(req.offline_steps), offline=True)
    steps = liveness.challenge(svc.liveness) if svc.liveness.required else None
    return sessions.open_session(svc, nip, sessions.CHECKIN, ttl, steps=steps)


def check_in(svc: Services, nip: str, req: CheckinRequest, idempotency_key: str | None,
             lambda_context: Any = None, device_id: str | None = None) -> CheckinResult:
    if idempotency_key is None:
        return _check_in(svc, nip, req, device_id)
    key = idempotency_key.strip()
    if not key or len(key) > 128 or not (key.isascii() and key.isprintable()):
        raise Malformed("Idempotency-Key must be 1-128 printable ASCII characters",
                        code="invalid_idempotency_key")
    stored = idempotency.once(svc, nip, key, req.model_dump(mode="json"),
                              lambda: _to_stored(_check_in(svc, nip, req, device_id)), lambda_context)
    return _from_stored(stored)


def _check_in(svc: Services, nip: str, req: CheckinRequest, device_id: str | None) -> CheckinResult:
    timer, now = Timer(), svc.clock.now()
    captured = _offline_moment(svc, req, now)
    at = captured or now  # when it happened: the time rules judge the capture
    with timer("storage"):
        ctx = _load(svc, nip, req.session_id, now, at, device_id)
    _check_offline(ctx.session, req)
    verified, failure, taken = _verify(svc, nip, ctx, timer)
    alive = verified.liveness if verified else None
    with timer("geo"):
        geo, office, sites, found, rostered = _locate(svc, ctx, req.location, at, req.type)
    local_day = OfficeRules.from_dict(office.rules).local_moment(at)[0]
    local_date = local_day.isoformat()
    with timer("storage"):
        eff = schedules.effective(svc, ctx.employee, office, local_day)
        day = ctx.days[local_date] if local_date in ctx.days else svc.records.day(nip, local_date)
        signals = [*_signals(svc, ctx, req.location, sites, now, local_date, device_id),
                   *_capture(svc, ctx.session, taken, now, office.timezone, since=captured),
                   *(e.reason() for e in found), *rostered, *(liveness.reasons(alive) if alive else []),
                   *([offline.delayed_reason(captured, now)] if captured else [])]
    face = verified.match.to_dict() if verified else None
    decision = decide_checkin(
        kind=req.type, now_utc=at, rules=events.with_window(_rules(eff, req.type, day), office.office_id, found, req.type),
        calendar=svc.calendar,
        day_status=eff.day_status, schedule=eff.reason_data(),
        face=FaceFailure(failure.code, failure.message) if failure else face,
        geo=geo, position=req.location, lateness=svc.lateness, signals=signals,
        max_position_age_s=svc.settings.max_position_age_s,
        already_checked_in=bool(day and day.day.has_checkin))
    attempt = _attempt(ctx.employee, office, now, decision, face, failure, geo, req.location, device_id, alive)
    with timer("storage"):
        attempt = _keep_evidence(svc, ctx.session, attempt)
        svc.records.record_checkin(attempt, _folded(day, attempt, ctx.employee, office),
                                   ctx.session.session_id, svc.now_iso(), _kept(ctx.history, attempt),
                                   ctx.sites if ctx.sites_uncopied else None)
    # the frames are not deleted here: the sessions stream's consumer deletes them once the
    # session is marked used (sessions.delete_used_frames; the lifecycle rule is the fallback)
    attempts.after_attempt(svc, ctx.employee, attempt, ctx.failures)
    return _result(attempt, _checks(verified, failure), failure, timer.done())


def _rules(eff: EffectiveDay, kind: str, day: DayRecord | None) -> OfficeRules:
    """The effective day's times; a flexible day's check-out is judged from the day's check-in."""
    if kind != "out":
        return eff.rules
    first_in = day.day.first_in if day else None
    return eff.checkout_rules(parse_hhmm(first_in[:5]) if first_in else None)


def _offline_moment(svc: Services, req: CheckinRequest, now: datetime) -> datetime | None:
    """The capture time of a check-in captured offline (policy.offline), None for one made now;
    refused before anything is read when it cannot be judged."""
    if (req.offline_captured_at is None) != (req.offline_steps is None):
        raise InvalidInput("offline_captured_at and offline_steps go together", code="offline_fields_incomplete")
    if req.offline_captured_at is None or req.offline_steps is None:
        return None
    captured = offline.capture_moment(req.offline_captured_at, now, svc.settings.offline_max_age_h)
    offline.check_steps(req.offline_steps, svc.liveness)
    offline.check_fix(req.location.captured_at, captured, svc.settings.max_position_age_s)
    return captured


def _check_offline(session: UploadSession, req: CheckinRequest) -> None:
    challenge = session.challenge
    offline.check_session(bool(challenge and challenge.offline), challenge.steps if challenge else None,
                          len(session.keys), req.offline_steps)


def _day_keys(at: datetime) -> list[str]:
    """The local dates ``at`` can fall on in any time zone (UTC-12 to UTC+14): the day records
    read with the rest, before the office (and so the local date) is known."""
    utc = at.astimezone(timezone.utc).date()
    return [(utc + timedelta(days=d)).isoformat() for d in (-1, 0, 1)]


def _load(svc: Services, nip: str, session_id: str, now: datetime, at: datetime,
          device_id: str | None) -> Context:
    """One batched read by key (employee with the personal sites' copy, session, template, the
    day's candidate records, the recent attempts, the device's use) and the offices (cached);
    refused in the same order as ever: employee_not_found, not_enrolled, locked, the session's,
    no_office, the template's. Data written before the recent attempts item or the sites' copy
    is read as before (the 14-day Query, the sites Query)."""
    read = svc.records.checkin_reads(nip, session_id, _day_keys(at), device_id)
    emp = read.employee
    if emp is None:
        raise NotFound("No employee record for this account", code="employee_not_found")
    if not emp.enrolled:
        raise Conflict("Enrol your face before checking in", code="not_enrolled")
    history = _recent(svc, nip, read.recent, now)
    failures = attempts.recent_failures(svc, history.entries, now)
    attempts.refuse_if_locked(svc, failures, now)  # before any photo is read
    session = sessions.usable(svc, read.session, nip, sessions.CHECKIN)
    offices = assigned_offices(svc, emp)
    sealed = read.sealed
    if sealed is None:
        raise Conflict("Enrol your face before checking in", code="not_enrolled")
    require_current(svc, sealed)  # enrolment_outdated before any photo is read
    sites = read.sites if read.sites is not None else svc.records.sites_of(nip)
    return Context(emp, session, offices, sealed, sites, history, failures, read.days, read.sites is None,
                   read.device_users)


def _window(now: datetime) -> tuple[str, str]:
    return (now - timedelta(days=HISTORY_DAYS)).date().isoformat(), (now + timedelta(days=1)).date().isoformat()


def _recent(svc: Services, nip: str, stored: RecentAttempts | None, now: datetime) -> RecentAttempts:
    """The attempts of the last HISTORY_DAYS (by local date, as the Query took them): from the
    recent attempts item, or (none stored yet: data written before it) from the 14-day Query."""
    start, end = _window(now)
    if stored is None:
        return RecentAttempts(entries=[_entry(c) for c in svc.records.checkins_between(nip, start, end)])
    return stored.model_copy(update={"entries": [e for e in stored.entries if start <= e.local_date <= end]})


def _entry(c: CheckinRecord) -> RecentAttempt:
    return RecentAttempt(at=c.at, local_date=c.local_date, lat=c.position.lat, lon=c.position.lon,
                         face_failed=c.face.failed)


def _kept(history: RecentAttempts, attempt: CheckinRecord) -> RecentAttempts:
    """The recent attempts as this one leaves them (the newest RECENT_MAX), at the version read."""
    entries = sorted([*history.entries, _entry(attempt)], key=lambda e: e.at)[-RECENT_MAX:]
    return history.model_copy(update={"entries": entries})


def _verify(svc: Services, nip: str, ctx: Context,
            timer: Timer) -> tuple[Verification | None, FaceError | None, list[tuple[datetime, bool] | None]]:
    """The verification (with the liveness challenge's checks when the session has one), or why
    the photos could not be verified (an input to the decision), and when the camera says each
    was taken. The photos' pixels are never kept past it."""
    session = ctx.session
    with timer("upload_read"):
        frames = sessions.read_photos(svc, session)
        taken = [capture_time(f) for f in frames]
    with timer("kms"):
        template = Template.from_dict(svc.vault.unseal(nip, ctx.sealed))
    with timer("face"):
        engine = svc.face_engine()
        try:
            if session.challenge is None:
                return engine.verify(template, frames[0]), None, taken
            return engine.verify_challenge(template, frames, session.challenge.steps, svc.liveness), None, taken
        except FaceError as exc:
            return None, exc, taken
        finally:
            del frames


def _checks(verified: Verification | None, failure: FaceError | None) -> list[JsonObject]:
    """The quality gates as measured: from the analysis, or the refused photo's details."""
    if verified is not None:
        return verified.analysis.checks_dict()
    return list(failure.details.get("checks", [])) if failure is not None else []


def _signals(svc: Services, ctx: Context, position: Position, sites: list[Site], now: datetime,
             local_date: str, device_id: str | None) -> list[JsonObject]:
    """Spoofing signals: the fix against the sites and the last days' fixes; the phone."""
    history = [PriorFix(e.lat, e.lon, datetime.fromisoformat(e.at), e.local_date) for e in ctx.history.entries]
    # who used the phone that day, this attempt included (record_checkin adds it to the store)
    users = sorted({*ctx.device_users.get(local_date, []), ctx.employee.nip}) if device_id else []
    pending = ([{"code": "enrolment_pending", "effect": "flag", "enrolled_at": ctx.employee.enrolled_at}]
               if ctx.employee.awaiting_approval else [])
    return [*gps_signals(position, now, sites, history, svc.signal_rules, local_date=local_date),
            *device_signals(ctx.employee.device_id, device_id, users, svc.signal_rules), *pending]


def _capture(svc: Services, session: UploadSession, taken: list[tuple[datetime, bool] | None], now: datetime,
             timezone: str, since: datetime | None = None) -> list[JsonObject]:
    """``stale_capture`` for a photo (or challenge frame: ``step``) taken outside its upload
    session (or, captured offline, before its capture time ``since``), e.g. picked from the gallery."""
    opened = since or (datetime.fromisoformat(session.expires_at)
                       - timedelta(seconds=svc.settings.checkin_session_ttl_s))
    out = []
    for step, t in enumerate(taken):
        for r in capture_signals(t[0], t[1], opened, now, timezone, svc.signal_rules) if t else []:
            out.append({**r, "step": step} if len(taken) > 1 else r)
    return out


def _keep_evidence(svc: Services, session: UploadSession, attempt: CheckinRecord) -> CheckinRecord:
    """A flagged check-in's selfie (the front frame) is kept, encrypted, for its review."""
    if attempt.decision != "flagged" or attempt.kind != "in":
        return attempt
    key = sessions.evidence_key(session.keys[0])
    svc.uploads.keep(session.keys[0], key)
    return attempt.model_copy(update={"evidence_key": key})


def _folded(day: DayRecord | None, attempt: CheckinRecord, emp: Employee, office: Office) -> DayRecord | None:
    """The day as the attempt leaves it, to write back at the version read; None: unchanged."""
    if attempt.decision == "rejected":
        return None
    folded = fold_day(day.day if day else None, for_day(attempt), office.office_id)
    return None if folded is None else DayRecord(nip=attempt.nip, date=attempt.local_date, day=folded,
                                                 name=emp.name, version=day.version if day else None)


def _locate(svc: Services, ctx: Context, position: Position, now: datetime,
            kind: str) -> tuple[GeoResult, Office, list[Site], list[Event], list[JsonObject]]:
    """Where the employee is among their offices (or, on an event day, the office's event: see
    services/events.py) and the personal sites valid on the first office's local date, as a
    published roster day allows them (policy/roster_day.py); the matched site's office applies
    (the first office otherwise); the day's events found (their reasons, and the check-in window
    one may set) and the roster's reason."""
    first_day = OfficeRules.from_dict(ctx.offices[0].rules).local_moment(now)[0]
    sites, found = events.event_sites(events.book(svc), ctx.offices,
                                      candidate_sites(ctx.offices, ctx.sites, first_day), now, kind)
    sites, rostered = allowed_sites(sites, rosters.day_of(svc, ctx.employee, first_day.isoformat()))
    geo = locate(position, sites)
    matched = next((s.office_id for s in sites if s.site_id == geo.site_id), ctx.offices[0].office_id)
    office = next((o for o in ctx.offices if o.office_id == matched), ctx.offices[0])
    return geo, office, sites, found, rostered


def _attempt(emp: Employee, office: Office, now: datetime, decision: Decision,
             face: JsonObject | None, failure: FaceError | None, geo: GeoResult,
             position: Position, device_id: str | None, alive: Liveness | None) -> CheckinRecord:
    """The stored attempt; the face's and the fix's figures as their results round them."""
    checkin_id = uuid.uuid4().hex
    evidence = (FaceEvidence(**{k: face[k] for k in ("score", "threshold", "decision", "model_version",
                                                     "replay_of")},
                             liveness=alive.to_dict() if alive else None)
                if face else FaceEvidence(error=failure.code if failure else None))
    g = geo.to_dict()
    return CheckinRecord(
        checkin_id=checkin_id, record_id=checkin_id, nip=emp.nip, name=emp.name,
        office_id=office.office_id, at=utc_iso(now), **decision.to_dict(), face=evidence,
        geo=GeoEvidence(**{k: g[k] for k in ("status", "site_id", "distance_m", "accuracy_m", "margin_m")}),
        position=PositionEvidence(lat=position.lat, lon=position.lon,
                                  captured_at=position.captured_at.isoformat(), is_mock=position.is_mock),
        device_id=device_id)


def for_day(a: CheckinRecord) -> Attempt:
    return Attempt(checkin_id=a.checkin_id, kind=a.kind, decision=a.decision, local_time=a.local_time,
                   late_minutes=a.late_minutes, early_leave_minutes=a.early_leave_minutes, tier=a.tier,
                   work_mode=a.work_mode, reasons=tuple(a.reasons))


def _result(a: CheckinRecord, checks: list[JsonObject], failure: FaceError | None,
            timings: dict[str, float]) -> CheckinResult:
    """The employee's view of the decision: the face's decision and quality checks, every reason
    code with its numbers but the exact face score and threshold (supervisors and auditors see
    those in the record and the export)."""
    metrics.add_metric(name=f"Checkin_{a.decision}", unit="Count", value=1)
    logger.info("checkin decided", extra={"nip": a.nip, "checkin_id": a.checkin_id, "kind": a.kind,
                                          "decision": a.decision, "timings_ms": timings,
                                          "codes": [r["code"] for r in a.reasons]})
    body = CheckinOut(
        checkin_id=a.checkin_id, decision=a.decision, kind=a.kind, work_mode=a.work_mode,  # type: ignore[arg-type]
        local_date=a.local_date, local_time=a.local_time, timezone=a.timezone,
        late_minutes=a.late_minutes, early_leave_minutes=a.early_leave_minutes, tier=a.tier,
        reasons=for_employee(a.reasons), office_id=a.office_id,
        face=FaceOut(decision=a.face.decision, error=a.face.error, checks=checks),
        liveness=liveness.for_employee(a.face.liveness) if a.face.liveness else None,
        geo=GeoOut(status=a.geo.status, site_id=a.geo.site_id, distance_m=a.geo.distance_m,
                   accuracy_m=a.geo.accuracy_m))
    if failure is None:
        return CheckinResult(body, timings_ms=timings)
    error = HadirError(failure.message, code=failure.code, kind=failure.kind,
                       details={**failure.details, "checkin": body.model_dump(mode="json")})
    return CheckinResult(body.model_copy(update={"error": ErrorBody(**error.to_dict())}), error, timings)


def _to_stored(r: CheckinResult) -> JsonObject:
    return {"body": r.body.model_dump(mode="json"), "timings_ms": r.timings_ms,
            "error_kind": r.error.kind.value if r.error else None}


def _from_stored(d: JsonObject) -> CheckinResult:
    body = CheckinOut.model_validate(d["body"])
    error = None
    if d.get("error_kind") and body.error is not None:
        error = HadirError(body.error.message, code=body.error.code, kind=Kind(d["error_kind"]),
                           details=body.error.details)
    return CheckinResult(body, error, d.get("timings_ms", {}))

