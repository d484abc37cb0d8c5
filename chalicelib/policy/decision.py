"""The verdict on one check-in or check-out: accepted, flagged (for a supervisor) or rejected.

Every rule below that fires adds one reason ``{"code": ..., "effect": ..., <its numbers>}``;
``effect`` is ``reject``, ``flag`` or ``info``. The decision is ``rejected`` if any reason
rejects, else ``flagged`` if any flags, else ``accepted``. Positive facts (``face_match``,
``inside_geofence``, ``on_time``) are recorded too, so an accepted record says why it was accepted.

=====  ==========================================  ======  =====================================
 #     condition                                   effect  reason code (numbers)
=====  ==========================================  ======  =====================================
 1     face result missing                         flag    face_not_verified
 1     face decision "no_match"                    reject  face_mismatch (score, threshold)
 1     face decision "match"                       info    face_match (score, threshold)
 1     "match", but the selfie is an enrolment     reject  replayed_image (score, threshold,
       photo again (replay_score >= threshold)             photo: the enrolment photo's index)
 1     the photo could not be verified             reject  its image/face error code (message):
                                                           no_face, blurry, corrupt_image, ...
 2     position.is_mock (OS says mock location)    reject  mock_location
 3     geo outside every allowed site              reject  outside_geofence (nearest_site_id,
                                                           distance_m, distance_to_edge_m,
                                                           accuracy_m) or no_sites
 3     geo uncertain                               flag    location_uncertain (site_id,
                                                           accuracy_m, distance_to_edge_m)
 3     accuracy worse than the maximum             reject* accuracy_too_low (accuracy_m, max):
                                                           such a fix cannot prove presence
 3     geo inside                                  info    inside_geofence (site_id, margin_m)
 4     a spoofing signal fired (policy.signals)    flag*   implausible_accuracy,
                                                           copied_coordinates,
                                                           repeated_coordinates, impossible_travel
 4     fix older than ``max_position_age_s``       flag    stale_location (age_s, max_age_s)
 4     fix more than 30 s in the future            flag    clock_skew (ahead_s, max_ahead_s)
 5 in  a check-in already exists today             reject  already_checked_in
 5 out no check-in today                           flag    no_checkin
 6     the effective schedule applied (given)      info    schedule (schedule_id, source,
                                                           variant_id, work_start, work_end)
 6     local date is not a working day             flag    weekend | not_a_schedule_day |
                                                           national_holiday | cuti_bersama |
                                                           agency_holiday | regional_holiday
                                                           (name, local_date); then no time rules
 7 in  local time before the check-in window       reject  outside_checkin_window (local_time,
                                                           window_start, window_end)
 7 in  later than work_start (also after the       info    late (minutes, tier, percent,
       window closes: still accepted)                      work_start, after_checkin_window)
 7 in  otherwise                                   info    on_time (local_time, work_start)
 8 out earlier than work_end                       info    early_leave (minutes, tier, percent,
                                                           work_end)
 8 out at or after the check-out window's end      flag    outside_checkout_window (local_time,
                                                           window_start, window_end)
 8 out otherwise                                   info    on_time (local_time, work_end)
=====  ==========================================  ======  =====================================

(*) ``accuracy_too_low`` only informs when the fix is certainly outside anyway; a spoofing
signal's effect is configured per code (``SignalRules.effects``, flag by default).

Times are the office's local wall-clock (``rules.timezone``); the record's day is the office's
local date. Minutes are whole minutes, truncated. Windows are half-open ``[start, end)``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from chalicelib.common.errors import InvalidInput, JsonObject
from chalicelib.geo import GeoResult, Position
from chalicelib.policy.calendar import DayStatus, WorkCalendar
from chalicelib.policy.time_rules import LatenessTable, OfficeRules, minutes_between

ACCEPTED, FLAGGED, REJECTED = "accepted", "flagged", "rejected"
REJECT, FLAG, INFO = "reject", "flag", "info"
MAX_CLOCK_AHEAD_S = 30


@dataclass(frozen=True)
class Decision:
    """The verdict on one attendance, with the local day and time it counts for and why."""

    decision: str  # accepted | flagged | rejected
    kind: str  # in | out
    local_date: str  # ISO date in the office's time zone
    local_time: str  # HH:MM:SS in the office's time zone
    work_mode: str | None
    late_minutes: int
    early_leave_minutes: int
    tier: str | None  # TL1..TL4 for a late check-in, PSW1..PSW4 for an early check-out
    reasons: list[JsonObject] = field(default_factory=list)
    site_id: str | None = None
    timezone: str = ""

    @property
    def codes(self) -> list[str]:
        return [r["code"] for r in self.reasons]

    def to_dict(self) -> JsonObject:
        return {
            "decision": self.decision, "kind": self.kind, "local_date": self.local_date,
            "local_time": self.local_time, "timezone": self.timezone,
            "work_mode": self.work_mode, "site_id": self.site_id,
            "late_minutes": self.late_minutes, "early_leave_minutes": self.early_leave_minutes,
            "tier": self.tier, "reasons": self.reasons,
        }


@dataclass(frozen=True)
class FaceFailure:
    """The selfie could not be verified at all (an image or face error such as ``no_face``):
    an input to the decision like a score, and a reason to reject."""

    code: str
    message: str


SCORE_FIELDS = ("score", "threshold")  # the exact face figures: supervisors and auditors only


def for_employee(reasons: list[JsonObject]) -> list[JsonObject]:
    """The reasons as the employee sees them: every code and number but the face's exact score
    and threshold, which would let anyone tune a photo against the matcher."""
    return [{k: v for k, v in r.items() if k not in SCORE_FIELDS} for r in reasons]


def _face_reasons(face: dict | FaceFailure | None) -> list[JsonObject]:
    if isinstance(face, FaceFailure):
        return [{"code": face.code, "effect": REJECT, "message": face.message}]
    if face is not None and not isinstance(face, dict) and hasattr(face, "to_dict"):
        face = face.to_dict()  # a MatchResult
    if not face or face.get("decision") not in ("match", "no_match"):
        return [{"code": "face_not_verified", "effect": FLAG}]
    numbers = {"score": face.get("score"), "threshold": face.get("threshold")}
    if face["decision"] == "no_match":
        return [{"code": "face_mismatch", "effect": REJECT, **numbers}]
    replayed, limit = face.get("replay_score"), face.get("replay_threshold")
    if replayed is not None and limit is not None and replayed >= limit:
        # the enrolment photo itself (or a copy of it): a match, but not a new capture
        return [{"code": "replayed_image", "effect": REJECT, "score": replayed, "threshold": limit,
                 "photo": face.get("replay_of")}]
    return [{"code": "face_match", "effect": INFO, **numbers}]


def _geo_reasons(geo: GeoResult) -> list[JsonObject]:
    effect = {"outside": REJECT, "uncertain": FLAG, "inside": INFO}[geo.status]
    out = []
    for r in geo.reasons:
        e = effect
        if r["code"] == "accuracy_too_low":
            e = INFO if geo.status == "outside" else REJECT
        out.append({**r, "effect": e})
    return out


def _freshness_reasons(now_utc: datetime, position: Position,
                       max_age_s: int) -> list[JsonObject]:
    age = (now_utc - position.captured_at).total_seconds()
    if age > max_age_s:
        return [{"code": "stale_location", "effect": FLAG, "age_s": int(age),
                 "max_age_s": max_age_s}]
    if -age > MAX_CLOCK_AHEAD_S:
        return [{"code": "clock_skew", "effect": FLAG, "ahead_s": int(-age),
                 "max_ahead_s": MAX_CLOCK_AHEAD_S}]
    return []


@dataclass(frozen=True)
class _Timing:
    """What the time rules say about one attendance: reasons, minutes and the TL/PSW tier."""

    reasons: list[JsonObject]
    late: int = 0
    early: int = 0
    tier: str | None = None


def _checkin_timing(local_time: time, rules: OfficeRules, lateness: LatenessTable) -> _Timing:
    hhmmss = local_time.strftime("%H:%M:%S")
    if local_time < rules.checkin_start:
        return _Timing([{"code": "outside_checkin_window", "effect": REJECT, "local_time": hhmmss,
                         "window_start": rules.checkin_window[0], "window_end": rules.checkin_window[1]}])
    late = max(0, minutes_between(rules.start, local_time))
    t = lateness.classify_late(late)
    if not t:
        return _Timing([{"code": "on_time", "effect": INFO, "local_time": hhmmss,
                         "work_start": rules.work_start}])
    return _Timing([{"code": "late", "effect": INFO, "minutes": late, "tier": t["tier"],
                     "percent": t["percent"], "work_start": rules.work_start,
                     "after_checkin_window": local_time >= rules.checkin_end}], late=late, tier=t["tier"])


def _checkout_timing(local_date: date, local_time: time, rules: OfficeRules,
                     lateness: LatenessTable) -> _Timing:
    hhmmss = local_time.strftime("%H:%M:%S")
    work_end = rules.end_on(local_date)
    early = max(0, minutes_between(local_time, work_end))
    t = lateness.classify_early_leave(early)
    if t:
        return _Timing([{"code": "early_leave", "effect": INFO, "minutes": early, "tier": t["tier"],
                         "percent": t["percent"], "work_end": work_end.strftime("%H:%M")}],
                       early=early, tier=t["tier"])
    if local_time >= rules.checkout_end:
        return _Timing([{"code": "outside_checkout_window", "effect": FLAG, "local_time": hhmmss,
                         "window_start": rules.checkout_window[0], "window_end": rules.checkout_window[1]}])
    return _Timing([{"code": "on_time", "effect": INFO, "local_time": hhmmss,
                     "work_end": work_end.strftime("%H:%M")}])


def decide_checkin(*, kind: str, now_utc: datetime, rules: OfficeRules, calendar: WorkCalendar,
                   face: dict | FaceFailure | None, geo: GeoResult, position: Position,
                   lateness: LatenessTable, max_position_age_s: int = 120,
                   already_checked_in: bool = False, signals: Sequence[JsonObject] = (),
                   day_status: DayStatus | None = None, schedule: JsonObject | None = None) -> Decision:
    """Apply the rule table (module docstring) to one attendance and return the verdict.

    ``day_status`` and ``schedule`` come from the employee's effective day
    (``policy.schedule.effective_day``): whether the date is a working day for them (their
    schedule's weekdays, their office's province) and the schedule applied, recorded as an
    ``info`` reason; without them the calendar decides alone, as before schedules."""
    if kind not in ("in", "out"):
        raise InvalidInput("kind must be 'in' or 'out'.", code="invalid_kind",
                         details={"kind": str(kind)[:10]})
    local_date, local_time = rules.local_moment(now_utc)
    hhmmss = local_time.strftime("%H:%M:%S")

    reasons = _face_reasons(face)
    if position.is_mock:
        reasons.append({"code": "mock_location", "effect": REJECT})
    reasons += _geo_reasons(geo)
    reasons += list(signals)  # policy.signals.gps_signals: each with its configured effect
    reasons += _freshness_reasons(now_utc, position, max_position_age_s)

    if kind == "in" and already_checked_in:
        reasons.append({"code": "already_checked_in", "effect": REJECT})
    if kind == "out" and not already_checked_in:
        reasons.append({"code": "no_checkin", "effect": FLAG})

    day = day_status if day_status is not None else calendar.day_status(local_date)
    if schedule is not None:
        reasons.append(dict(schedule))
    if not day.working:
        timing = _Timing([{"code": day.reason, "effect": FLAG, "name": day.name,
                           "local_date": local_date.isoformat()}])
    elif kind == "in":
        timing = _checkin_timing(local_time, rules, lateness)
    else:
        timing = _checkout_timing(local_date, local_time, rules, lateness)
    reasons += timing.reasons
    late, early, tier = timing.late, timing.early, timing.tier

    effects = {r["effect"] for r in reasons}
    verdict = REJECTED if REJECT in effects else FLAGGED if FLAG in effects else ACCEPTED
    return Decision(
        decision=verdict, kind=kind, local_date=local_date.isoformat(), local_time=hhmmss,
        work_mode=geo.work_mode, late_minutes=late, early_leave_minutes=early, tier=tier,
        reasons=reasons, site_id=geo.site_id if geo.status != "outside" else None,
        timezone=rules.timezone,
    )
