"""When schedules from chalicelib/common/resources.py fire: a tiny matcher for their UTC cron fields."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from chalicelib.common.resources import Schedule

_DOW = {"MON": 0, "TUE": 1, "WED": 2, "THU": 3, "FRI": 4, "SAT": 5, "SUN": 6}


def _days(spec: str) -> set[int]:
    if spec == "*":
        return set(range(7))
    out: set[int] = set()
    for part in spec.split(","):
        if "-" in part:
            a, b = part.split("-")
            out |= set(range(_DOW[a], _DOW[b] + 1))
        else:
            out.add(_DOW[part])
    return out


def fires_between(s: Schedule, after: datetime, until: datetime) -> list[datetime]:
    """Fire times of ``s`` in the half-open interval (after, until], in UTC."""
    after, until = after.astimezone(timezone.utc), until.astimezone(timezone.utc)
    out = []
    day = after.replace(hour=0, minute=0, second=0, microsecond=0)
    while day <= until:
        t = day.replace(hour=s.hour, minute=s.minute)
        if after < t <= until and t.weekday() in _days(s.day_of_week):
            out.append(t)
        day += timedelta(days=1)
    return out
