"""Sign-in counts in memory: the twin of ``storage.login_attempts`` (same rules, one lock)."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.policy.login import LoginLimit, LoginTurn, refused_until


@dataclass
class _Count:
    failures: int
    window_start: datetime
    locked_until: datetime | None = None


class InMemoryLoginAttempts:
    def __init__(self) -> None:
        self.counts: dict[str, _Count] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: datetime, limit: LoginLimit) -> LoginTurn:
        with self._lock:
            c = self.counts.get(key)
            window = timedelta(seconds=limit.window_s)
            if c is not None and c.locked_until is None and c.window_start > now - window \
                    and c.failures < limit.max_failures:
                c.failures += 1
                return LoginTurn(True, c.failures)
            if c is None or (c.locked_until is not None and c.locked_until <= now) or \
                    (c.locked_until is None and c.window_start <= now - window):
                self.counts[key] = _Count(1, now)
                return LoginTurn(True, 1)
            return LoginTurn(False, c.failures,
                             refused_until(c.failures, c.window_start, c.locked_until, now, limit))

    def lock(self, key: str, until: datetime, now: datetime, limit: LoginLimit) -> None:
        with self._lock:
            if key in self.counts:
                self.counts[key].locked_until = until

    def clear(self, key: str) -> None:
        with self._lock:
            self.counts.pop(key, None)
