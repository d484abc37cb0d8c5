"""Attempt limits: how often a face check may fail before the account cools down.

Pure. A failed face check is an attempt whose photo did not match (``face_mismatch``) or could not
be verified at all (no face, blurry, several faces, ...). After ``max_failures`` of them within
``window_s``, further attempts are refused until ``cooldown_s`` after the latest failure, so a
borrowed phone and a stack of photos cannot be tried until one passes. The refusal carries the
numbers (failures, window, retry after) and happens before any photo is read.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.common.errors import InvalidInput, JsonObject


@dataclass(frozen=True)
class AttemptLimit:
    max_failures: int = 5
    window_s: int = 600
    cooldown_s: int = 600

    def __post_init__(self) -> None:
        bad = [f for f in ("max_failures", "window_s", "cooldown_s") if not getattr(self, f) >= 1]
        if bad:
            raise InvalidInput("The attempt limit is not valid", code="invalid_attempt_limit",
                               details={"problems": [{"field": f, "code": "not_positive"} for f in bad]})


@dataclass(frozen=True)
class Lockout:
    failures: int
    since: datetime  # the first failure counted
    until: datetime

    def retry_after_s(self, now: datetime) -> int:
        return max(1, int((self.until - now).total_seconds() + 0.999))

    def to_dict(self, now: datetime) -> JsonObject:
        return {"failures": self.failures, "since": self.since.isoformat(), "until": self.until.isoformat(),
                "retry_after_s": self.retry_after_s(now)}


def failed_face_check(face_decision: str | None, face_error: str | None,
                      replay_of: int | None = None, liveness_passed: bool | None = None) -> bool:
    """Whether an attempt counts against the limit: its face did not match, was unverifiable,
    was an enrolment photo replayed, or failed its liveness challenge."""
    return (face_decision == "no_match" or face_error is not None or replay_of is not None
            or liveness_passed is False)


def lockout(failures: Iterable[datetime], now: datetime, limit: AttemptLimit) -> Lockout | None:
    """The lockout in force at ``now`` given the times of earlier failed face checks, or None:
    the latest run of ``max_failures`` failures within ``window_s`` locks until ``cooldown_s``
    after its last failure (however the window slides meanwhile)."""
    n, window = limit.max_failures, timedelta(seconds=limit.window_s)
    times = sorted(t for t in failures if t <= now)
    for i in range(len(times) - 1, n - 2, -1):
        first = times[i - n + 1]
        if times[i] - first <= window:
            until = times[i] + timedelta(seconds=limit.cooldown_s)
            return Lockout(n, first, until) if now < until else None
    return None
