"""Sign-in lockout: how many failed sign-ins a username may have before it is locked.

Pure. Every sign-in is counted against its normalised username *before* the directory is asked
(so concurrent guesses cannot all slip through while the first ones are being checked), whether
the user exists or not (so the answer never tells which usernames exist). Within ``window_s`` of
the first counted attempt at most ``max_failures`` attempts reach the directory; when the last of
them fails too, the username is locked for ``lock_s`` (a fixed period, counted from that failure).
A successful sign-in clears the count; so does the end of the window or of the lock.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.common.errors import InvalidInput


@dataclass(frozen=True)
class LoginLimit:
    max_failures: int = 5
    window_s: int = 900
    lock_s: int = 900

    def __post_init__(self) -> None:
        bad = [f for f in ("max_failures", "window_s", "lock_s") if not getattr(self, f) >= 1]
        if bad:
            raise InvalidInput("The sign-in limit is not valid", code="invalid_login_limit",
                               details={"problems": [{"field": f, "code": "not_positive"} for f in bad]})

    def keep_s(self) -> int:
        """How long a count may matter: the TTL of its record."""
        return self.window_s + self.lock_s


@dataclass(frozen=True)
class LoginTurn:
    """The outcome of counting one sign-in: allowed (the ``failures``-th counted attempt in the
    window, this one included) or refused until ``retry_at``."""

    allowed: bool
    failures: int
    retry_at: datetime | None = None

    def locks_on_failure(self, limit: LoginLimit) -> bool:
        return self.allowed and self.failures >= limit.max_failures

    def retry_after_s(self, now: datetime) -> int:
        at = self.retry_at or now
        return max(1, int((at - now).total_seconds() + 0.999))


def refused_until(failures: int, window_start: datetime, locked_until: datetime | None,
                  now: datetime, limit: LoginLimit) -> datetime:
    """When a refused username may try again: the end of its lock, else (its last allowed
    attempt still in flight) the end of its window, never sooner than in a second."""
    if locked_until is not None and locked_until > now:
        return locked_until
    end = window_start + timedelta(seconds=limit.window_s)
    return end if end > now else now + timedelta(seconds=1)


def login_key(username: str) -> str:
    """The username as counted: Unicode-normalised, trimmed, case-folded (``" AYU "`` and
    ``"ayu"`` share one count)."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


def username_problem(username: str) -> str | None:
    """Why a username cannot be one (an empty one, inner whitespace, control characters), or None."""
    text = username.strip()
    if not text:
        return "empty"
    if any(c.isspace() or unicodedata.category(c).startswith("C") for c in text):
        return "invalid_characters"
    return None
