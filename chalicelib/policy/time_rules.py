"""Office hours in the office's own time zone, and the lateness (TL) / early-leave (PSW) table.

Times are local ``HH:MM`` strings as agencies publish them. Windows are half-open:
``("06:00", "10:00")`` admits 06:00:00 up to 09:59:59. Minutes late or early are whole minutes,
truncated (07:30:59 is not late for a 07:30 start), matching the minute granularity of the rules.

A record's working day is the office's local date, never UTC's: 23:30 UTC on 2 March is already
07:30 on 3 March in Makassar (WITA, UTC+8).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.common.errors import InvalidInput, JsonObject, problem

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_GRACE_MINUTES = 120
MAX_TIERS = 10



def parse_hhmm(s: str) -> time:
    h, m = s.split(":")
    return time(int(h), int(m))


def zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def local_moment(now_utc: datetime, tz: str | ZoneInfo) -> tuple[date, time]:
    """The office's local date and wall-clock time (to the second) at the instant ``now_utc``."""
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise ValueError("now_utc must be timezone-aware")
    local = now_utc.astimezone(zone(tz))
    return local.date(), local.time().replace(microsecond=0, tzinfo=None)


def minutes_between(earlier: time, later: time) -> int:
    """Whole minutes from ``earlier`` to ``later`` on the same day (negative if reversed)."""
    seconds = (later.hour * 3600 + later.minute * 60 + later.second) - (
        earlier.hour * 3600 + earlier.minute * 60 + earlier.second)
    return int(seconds / 60)  # truncates towards zero


@dataclass(frozen=True)
class OfficeRules:
    """An office's daily schedule in its local time zone.

    Defaults: check-in 06:00-10:00, work 07:30-16:00, check-out 16:00-20:00. Many agencies end
    later on Friday (the longer Friday prayer break); ``work_end_by_weekday={4: "16:30"}`` says so.
    """

    timezone: str
    checkin_window: tuple[str, str] = ("06:00", "10:00")
    work_start: str = "07:30"
    work_end: str = "16:00"
    checkout_window: tuple[str, str] = ("16:00", "20:00")
    work_end_by_weekday: Mapping[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "checkin_window", tuple(self.checkin_window))
        object.__setattr__(self, "checkout_window", tuple(self.checkout_window))
        object.__setattr__(self, "work_end_by_weekday", dict(self.work_end_by_weekday))
        problems = self._problems()
        if problems:
            raise InvalidInput("The office time rules are not valid.", code="invalid_time_rules",
                             details={"problems": problems})

    def _problems(self) -> list[JsonObject]:
        problems: list[JsonObject] = []
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            problems.append(problem("timezone", "unknown_timezone"))
        fields: JsonObject = {"work_start": self.work_start, "work_end": self.work_end}
        for name in ("checkin_window", "checkout_window"):
            w = getattr(self, name)
            if len(w) != 2:
                problems.append(problem(name, "not_a_pair"))
                continue
            fields[name + ".start"], fields[name + ".end"] = w
        for wd, end in self.work_end_by_weekday.items():
            if not (isinstance(wd, int) and 0 <= wd <= 6):
                problems.append(problem(f"work_end_by_weekday.{wd}", "not_a_weekday"))
            fields[f"work_end_by_weekday.{wd}"] = end
        bad = [k for k, v in fields.items() if not (isinstance(v, str) and _HHMM.match(v))]
        problems += [problem(k, "not_hh_mm", value=str(fields[k])[:20]) for k in bad]
        if bad or problems:
            return problems

        t = {k: parse_hhmm(v) for k, v in fields.items()}

        def need(ok: bool, field_: str, code: str, **extra: Any) -> None:
            if not ok:
                problems.append(problem(field_, code, **extra))

        need(t["checkin_window.start"] < t["checkin_window.end"], "checkin_window",
             "start_not_before_end")
        need(t["checkout_window.start"] < t["checkout_window.end"], "checkout_window",
             "start_not_before_end")
        need(t["checkin_window.start"] <= t["work_start"], "work_start",
             "before_checkin_window", checkin_window_start=self.checkin_window[0])
        ends = {"work_end": t["work_end"]} | {
            f"work_end_by_weekday.{wd}": t[f"work_end_by_weekday.{wd}"]
            for wd in self.work_end_by_weekday}
        for name, end in ends.items():
            need(t["work_start"] < end, name, "not_after_work_start", work_start=self.work_start)
            need(end <= t["checkout_window.end"], name, "after_checkout_window_end",
                 checkout_window_end=self.checkout_window[1])
        return problems

    # Parsed times -----------------------------------------------------------------------------
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def checkin_start(self) -> time:
        return parse_hhmm(self.checkin_window[0])

    @property
    def checkin_end(self) -> time:
        return parse_hhmm(self.checkin_window[1])

    @property
    def checkout_end(self) -> time:
        return parse_hhmm(self.checkout_window[1])

    @property
    def start(self) -> time:
        return parse_hhmm(self.work_start)

    def end_on(self, d: date) -> time:
        """Work end on ``d``'s weekday."""
        return parse_hhmm(self.work_end_by_weekday.get(d.weekday(), self.work_end))

    def local_moment(self, now_utc: datetime) -> tuple[date, time]:
        return local_moment(now_utc, self.timezone)

    # Storage ----------------------------------------------------------------------------------
    def to_dict(self) -> JsonObject:
        d: JsonObject = {
            "timezone": self.timezone, "checkin_window": list(self.checkin_window),
            "work_start": self.work_start, "work_end": self.work_end,
            "checkout_window": list(self.checkout_window),
        }
        if self.work_end_by_weekday:
            d["work_end_by_weekday"] = {str(k): v for k, v in self.work_end_by_weekday.items()}
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "OfficeRules":
        """Build from stored or submitted config; missing keys take the defaults."""
        if not isinstance(d, Mapping) or "timezone" not in d:
            raise InvalidInput("The office time rules are not valid.", code="invalid_time_rules",
                             details={"problems": [problem("timezone", "missing")]})
        known = ("timezone", "checkin_window", "work_start", "work_end", "checkout_window")
        kwargs: JsonObject = {k: d[k] for k in known if k in d}
        for k in ("checkin_window", "checkout_window"):
            if k in kwargs and not isinstance(kwargs[k], (list, tuple)):
                kwargs[k] = (kwargs[k],)  # reported as not_a_pair
        by_weekday = d.get("work_end_by_weekday") or {}
        if not isinstance(by_weekday, Mapping):
            by_weekday = {"?": by_weekday}  # reported as not_a_weekday
        kwargs["work_end_by_weekday"] = {
            (int(k) if isinstance(k, str) and k.isdigit() else k): v
            for k, v in dict(by_weekday).items()}
        return cls(**kwargs)


@dataclass(frozen=True)
class Tier:
    """One row of the TL or PSW table: ``min_minutes``..``max_minutes`` (None: no upper bound)
    costs ``percent`` of the day's performance allowance."""

    tier: str
    min_minutes: int
    max_minutes: int | None
    percent: float

    def to_dict(self) -> JsonObject:
        return {"tier": self.tier, "min_minutes": self.min_minutes,
                "max_minutes": self.max_minutes, "percent": self.percent}


def _tiers(prefix: str) -> tuple[Tier, ...]:
    return (Tier(f"{prefix}1", 1, 30, 0.5), Tier(f"{prefix}2", 31, 60, 1.0),
            Tier(f"{prefix}3", 61, 90, 1.5), Tier(f"{prefix}4", 91, None, 2.0))


PERMENTAN_68_2012_LATE = _tiers("TL")
PERMENTAN_68_2012_EARLY_LEAVE = _tiers("PSW")


@dataclass(frozen=True)
class LatenessTable:
    """Tiers for lateness (TL) and early leave (PSW), and the cut for an unexcused absence.

    Defaults are Permentan 68/2012: 1-30 min 0.5 %, 31-60 1 %, 61-90 1.5 %, 91+ (or no record)
    2 %; absent without notice 4 %. Agencies differ, so this is configuration, not code:
    ``grace_minutes`` of lateness are tolerated (not late at all; past them the minutes count
    from work start), ``daily_cap_percent`` caps one day's TL + PSW cut, and
    ``missing_checkout_counts`` says whether no check-out costs the last PSW tier (PSW4).
    """

    late: tuple[Tier, ...] = PERMENTAN_68_2012_LATE
    early_leave: tuple[Tier, ...] = PERMENTAN_68_2012_EARLY_LEAVE
    absent_percent: float = 4.0
    source: str = "Permentan 68/2012"
    grace_minutes: int = 0
    daily_cap_percent: float | None = None
    missing_checkout_counts: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "late", tuple(self.late))
        object.__setattr__(self, "early_leave", tuple(self.early_leave))
        problems = _tier_problems("late", self.late) + _tier_problems("early_leave",
                                                                       self.early_leave)
        if not _is_percent(self.absent_percent):
            problems.append(problem("absent_percent", "not_a_percent"))
        if not (_is_int(self.grace_minutes) and 0 <= self.grace_minutes <= MAX_GRACE_MINUTES):
            problems.append(problem("grace_minutes", "out_of_range", min=0, max=MAX_GRACE_MINUTES))
        if self.daily_cap_percent is not None and not _is_percent(self.daily_cap_percent):
            problems.append(problem("daily_cap_percent", "not_a_percent"))
        if not isinstance(self.missing_checkout_counts, bool):
            problems.append(problem("missing_checkout_counts", "not_a_boolean"))
        if problems:
            raise InvalidInput("The lateness table is not valid.", code="invalid_lateness_table",
                             details={"problems": problems})

    @staticmethod
    def _classify(tiers: Sequence[Tier], minutes: int) -> JsonObject | None:
        if minutes <= 0:
            return None
        for t in tiers:
            if minutes >= t.min_minutes and (t.max_minutes is None or minutes <= t.max_minutes):
                return t.to_dict()
        return None

    def classify_late(self, minutes: int) -> JsonObject | None:
        """The TL tier for ``minutes`` late, e.g. ``{"tier": "TL2", "min_minutes": 31,
        "max_minutes": 60, "percent": 1.0}``; None when not late or within the grace minutes."""
        if minutes <= self.grace_minutes:
            return None
        return self._classify(self.late, minutes)

    def classify_early_leave(self, minutes: int) -> JsonObject | None:
        """The PSW tier for leaving ``minutes`` early; None when not early."""
        return self._classify(self.early_leave, minutes)

    def missing_record(self, kind: str) -> JsonObject | None:
        """No check-in (kind "in") or no check-out ("out") on a day attended: the last tier;
        None for a missing check-out when the agency does not count it."""
        if kind != "in" and not self.missing_checkout_counts:
            return None
        last = (self.late if kind == "in" else self.early_leave)[-1]
        return {**last.to_dict(), "missing_record": True}

    def absent(self) -> JsonObject:
        return {"tier": "absent", "percent": self.absent_percent}

    def day_percent(self, percents: Iterable[float]) -> float:
        """One day's cut from its TL and PSW percents, capped at ``daily_cap_percent``."""
        total = float(sum(percents))
        return total if self.daily_cap_percent is None else min(total, float(self.daily_cap_percent))

    def to_dict(self) -> JsonObject:
        return {"late": [t.to_dict() for t in self.late],
                "early_leave": [t.to_dict() for t in self.early_leave],
                "absent_percent": self.absent_percent, "source": self.source,
                "grace_minutes": self.grace_minutes, "daily_cap_percent": self.daily_cap_percent,
                "missing_checkout_counts": self.missing_checkout_counts}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "LatenessTable":
        def tiers(key: str, default: tuple[Tier, ...]) -> tuple[Tier, ...]:
            rows = d.get(key)
            if rows is None:
                return default
            try:
                return tuple(Tier(r["tier"], r["min_minutes"], r.get("max_minutes"), r["percent"])
                             for r in rows)
            except (KeyError, TypeError, AttributeError):
                raise InvalidInput("The lateness table is not valid.",
                                 code="invalid_lateness_table",
                                 details={"problems": [problem(key, "malformed_tier")]}) from None

        return cls(late=tiers("late", PERMENTAN_68_2012_LATE),
                   early_leave=tiers("early_leave", PERMENTAN_68_2012_EARLY_LEAVE),
                   absent_percent=d.get("absent_percent", 4.0),
                   source=str(d.get("source", "agency"))[:120],
                   grace_minutes=d.get("grace_minutes", 0),
                   daily_cap_percent=d.get("daily_cap_percent"),
                   missing_checkout_counts=d.get("missing_checkout_counts", True))


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_percent(x: Any) -> bool:
    return (isinstance(x, (int, float)) and not isinstance(x, bool)
            and 0 <= x <= 100)


def _tier_problems(name: str, tiers: Sequence[Tier]) -> list[JsonObject]:
    """Tiers must start at 1 minute, be contiguous and ascending, and end open-ended."""
    if not tiers:
        return [problem(name, "empty")]
    if len(tiers) > MAX_TIERS:
        return [problem(name, "too_many_tiers", max=MAX_TIERS)]
    problems = []
    expected_min = 1
    codes = set()
    for i, t in enumerate(tiers):
        f = f"{name}[{i}]"
        if not isinstance(t.tier, str) or not t.tier or t.tier in codes:
            problems.append(problem(f, "missing_or_duplicate_tier_name"))
        codes.add(t.tier)
        if not _is_int(t.min_minutes) or t.min_minutes != expected_min:
            problems.append(problem(f, "not_contiguous", expected_min_minutes=expected_min))
        last = i == len(tiers) - 1
        if last and t.max_minutes is not None:
            problems.append(problem(f, "last_tier_must_be_open_ended"))
        if not last and not (_is_int(t.max_minutes) and _is_int(t.min_minutes)
                             and t.max_minutes >= t.min_minutes):
            problems.append(problem(f, "invalid_max_minutes"))
        if not _is_percent(t.percent):
            problems.append(problem(f, "not_a_percent"))
        elif i and _is_percent(tiers[i - 1].percent) and t.percent < tiers[i - 1].percent:
            problems.append(problem(f, "percent_below_previous_tier"))
        if _is_int(t.max_minutes):
            expected_min = t.max_minutes + 1
    return problems
