"""The one clock. Use cases get it injected (``Services.clock``); on the local and test stages
``HADIR_NOW`` freezes it (``settings.frozen_now``), anywhere else the settings refuse to load."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that stands still until told otherwise (tests, demos with ``--now``)."""

    def __init__(self, at: datetime):
        self._at = at.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(timezone.utc)

    def advance(self, **delta: float) -> None:
        self._at += timedelta(**delta)
