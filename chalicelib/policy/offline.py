"""Check-ins captured without signal and sent later (the PWA's offline queue).

The phone captured the frames, the fix and the time while offline, and had no server challenge:
it asked its own poses (``offline_steps``). Once online it opens a session for exactly those
steps (marked offline), uploads the frames and posts the check-in with ``offline_captured_at``.
The server then:

=============================  =========================================================  ==========
 rule                          condition                                                  code
=============================  =========================================================  ==========
 capture time in the future    ``captured_at`` > now + ``max_ahead_s`` (30 s)              offline_in_future
 capture too old               ``captured_at`` < now - ``max_age_h`` (12 h by default)     offline_too_old
 steps                         ``front`` first, the turns from the agency's directions,    invalid_offline_steps
                               as many turns as an online challenge asks (liveness on)
 session                       an offline session for these very steps (and a normal       offline_session_mismatch
                               check-in never uses an offline session)
 fix taken at the capture      the fix's ``captured_at`` within ``max_position_age_s``      offline_position_mismatch
                               of the capture time
=============================  =========================================================  ==========

An accepted capture is judged at its capture time (its local day, lateness and window), and
always carries ``delayed_capture`` (effect flag, with ``captured_at``, ``received_at``,
``delay_s``): the client chose its own challenge, so a supervisor reviews it.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from chalicelib.common.errors import InvalidInput, JsonObject
from chalicelib.face.liveness import FRONT, LivenessRules

DELAYED_CAPTURE = "delayed_capture"
MAX_AHEAD_S = 30  # = policy.decision.MAX_CLOCK_AHEAD_S: phone clocks drift


def capture_moment(captured_at: datetime, now_utc: datetime, max_age_h: int) -> datetime:
    """The capture time in UTC when it may be judged now, else the refusal."""
    at = captured_at.astimezone(now_utc.tzinfo)
    details = {"captured_at": captured_at.isoformat(), "received_at": now_utc.isoformat()}
    if at > now_utc + timedelta(seconds=MAX_AHEAD_S):
        raise InvalidInput("The capture time lies in the future", code="offline_in_future",
                           details={**details, "max_ahead_s": MAX_AHEAD_S})
    if at < now_utc - timedelta(hours=max_age_h):
        raise InvalidInput(f"A check-in captured offline must be sent within {max_age_h} hours",
                           code="offline_too_old", details={**details, "max_age_h": max_age_h})
    return at


def check_steps(steps: Sequence[str], rules: LivenessRules) -> None:
    """``front`` first, then turns the agency allows; as many as its challenges ask for."""
    turns = list(steps[1:])
    ok = (bool(steps) and steps[0] == FRONT and all(t in rules.directions for t in turns)
          and (len(turns) == rules.turns if rules.required else len(turns) <= rules.turns))
    if not ok:
        raise InvalidInput("offline_steps must be front, then the allowed turns", code="invalid_offline_steps",
                           details={"steps": list(steps)[:6], "turns": rules.turns,
                                    "directions": list(rules.directions)})


def check_session(offline: bool, session_steps: Sequence[str] | None, uploads: int,
                  sent_steps: Sequence[str] | None) -> None:
    """An offline check-in uses the offline session opened for its steps, one upload per step;
    an online one never uses an offline session."""
    if not offline and sent_steps is None:
        return
    if offline and sent_steps is not None and list(session_steps or []) == list(sent_steps) \
            and uploads == len(sent_steps):
        return
    raise InvalidInput("The session was not opened for this offline capture", code="offline_session_mismatch",
                       details={"session_offline": offline, "session_steps": list(session_steps or []),
                                "uploads": uploads, "steps": list(sent_steps or [])})


def check_fix(fix_at: datetime, captured_utc: datetime, max_position_age_s: int) -> None:
    apart = abs((fix_at - captured_utc).total_seconds())
    if apart > max_position_age_s:
        raise InvalidInput("The position was not taken at the capture", code="offline_position_mismatch",
                           details={"apart_s": int(apart), "max_apart_s": max_position_age_s})


def delayed_reason(captured_utc: datetime, now_utc: datetime) -> JsonObject:
    return {"code": DELAYED_CAPTURE, "effect": "flag", "captured_at": captured_utc.isoformat(),
            "received_at": now_utc.isoformat(), "delay_s": int((now_utc - captured_utc).total_seconds())}
