"""Server-side signs that a GPS fix was spoofed (fake-GPS apps, staff copying the office's point).

The client's mock flag is weak (rooted phones hide it; iOS never reports it), so the server judges
the fix itself. Each signal that fires adds one reason in the format of ``policy.decision``:
``{"code", "effect", <its numbers>}``. Every effect is ``flag`` by default (a supervisor reviews)
and configurable per code (``reject``, ``flag`` or ``info``) in ``SignalRules.effects``.

======================  ================================================  ========================
 reason code            condition (defaults)                              numbers
======================  ================================================  ========================
 implausible_accuracy   ``accuracy_m`` < ``min_accuracy_m`` (1.0 m): no   accuracy_m,
                        phone fix is more precise; fake-GPS apps send 0   min_accuracy_m
 copied_coordinates     lat and lon equal, both rounded to                site_id, matched
                        ``copied_decimals`` (6, ~0.1 m), to a site's      ("centre" | "vertex"),
                        circle centre or any vertex of its polygon        decimals
 repeated_coordinates   the same point, rounded to ``repeat_decimals``    days, dates (latest
                        (6), in the employee's history on at least        first, at most 5),
                        ``repeat_min_days`` (2) other local dates         decimals, min_days
 new_device             the app's device id (``X-Device-Id``) is not the   device_id, bound
                        one bound at enrolment (or approved since)
 shared_device          one device used by several employees that day     employees
 stale_capture          the photo's EXIF capture time lies outside the    taken_at, offset_known,
                        upload session (``capture_tolerance_s``, 600 s,   session_opened_at,
                        either side): taken before, e.g. from the gallery tolerance_s
 impossible_travel      speed from the latest earlier fix above           distance_km, elapsed_s,
                        ``max_speed_kmh`` (300); only when the fixes are  speed_kmh,
                        >= ``min_travel_elapsed_s`` (60 s) apart and      max_speed_kmh,
                        >= ``min_travel_distance_km`` (1 km) apart        previous_at
======================  ================================================  ========================

Freshness (``stale_location``, ``clock_skew``) and the OS mock flag are judged in
``policy.decision``, not here. History fixes at or after ``now_utc`` are ignored. Travel is
measured between server times (``PriorFix.at`` and ``now_utc``), never the phone's clock.

Why these defaults: at 6 decimals (a cell of about 0.11 m x 0.11 m at Indonesia's latitudes) an
honest fix with 10 m accuracy lands in a given cell at most about once in 20,000 check-ins (when
standing right on it), while a typed or copied point lands in it every time. 300 km/h is faster
than any door-to-door trip by road, rail or sea; a flight between two attendances can exceed it,
which is why it flags and does not reject. Pairs under 60 s apart are retries (their speed is all
GPS noise), and under 1 km is one place: neither says anything about travel. Wi-Fi-based fixes can
repeat one point for a phone on the same desk (with a large accuracy radius); that, too, is why
the effects default to ``flag``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from haversine import Unit, haversine

from chalicelib.common.errors import InvalidInput, JsonObject, problem
from chalicelib.geo import Circle, Polygon, Position, Site

IMPLAUSIBLE_ACCURACY = "implausible_accuracy"
COPIED_COORDINATES = "copied_coordinates"
REPEATED_COORDINATES = "repeated_coordinates"
IMPOSSIBLE_TRAVEL = "impossible_travel"
NEW_DEVICE, SHARED_DEVICE = "new_device", "shared_device"
STALE_CAPTURE = "stale_capture"
GPS_CODES = (IMPLAUSIBLE_ACCURACY, COPIED_COORDINATES, REPEATED_COORDINATES, IMPOSSIBLE_TRAVEL)
SIGNAL_CODES = (*GPS_CODES, NEW_DEVICE, SHARED_DEVICE, STALE_CAPTURE)
EFFECTS = ("reject", "flag", "info")
DEFAULT_EFFECT = "flag"
MAX_DATES_REPORTED = 5
MIN_DECIMALS, MAX_DECIMALS = 5, 12  # 4 decimals (~11 m) would catch honest fixes; 12+ is noise



def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass(frozen=True)
class SignalRules:
    """Thresholds for the spoofing signals and the effect of each (module docstring).

    ``effects`` maps a reason code to ``reject``, ``flag`` or ``info``; codes left out are
    ``flag``. After construction it holds every code. Decimals are 5 to 12: at 4 (~11 m) honest
    fixes would match often. ``InvalidInput(code="invalid_signal_rules")`` lists every problem.
    """

    min_accuracy_m: float = 1.0
    copied_decimals: int = 6
    repeat_decimals: int = 6
    repeat_min_days: int = 2
    max_speed_kmh: float = 300.0
    min_travel_elapsed_s: float = 60.0
    min_travel_distance_km: float = 1.0
    capture_tolerance_s: float = 600.0
    effects: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise InvalidInput("The GPS signal rules are not valid.", code="invalid_signal_rules",
                               details={"problems": problems})
        object.__setattr__(self, "effects",
                           {c: self.effects.get(c, DEFAULT_EFFECT) for c in SIGNAL_CODES})

    def _problems(self) -> list[JsonObject]:
        problems: list[JsonObject] = []
        for name, low in (("min_accuracy_m", 0.0), ("min_travel_elapsed_s", 0.0),
                          ("min_travel_distance_km", 0.0), ("capture_tolerance_s", 0.0)):
            v = getattr(self, name)
            if not (_is_number(v) and v >= low):
                problems.append(problem(name, "not_a_number_at_least", min=low))
        if not (_is_number(self.max_speed_kmh) and self.max_speed_kmh > 0):
            problems.append(problem("max_speed_kmh", "not_a_positive_number"))
        for name in ("copied_decimals", "repeat_decimals"):
            v = getattr(self, name)
            if not (_is_int(v) and MIN_DECIMALS <= v <= MAX_DECIMALS):
                problems.append(problem(name, "out_of_range", min=MIN_DECIMALS, max=MAX_DECIMALS))
        if not (_is_int(self.repeat_min_days) and self.repeat_min_days >= 1):
            problems.append(problem("repeat_min_days", "not_an_integer_at_least", min=1))
        if not isinstance(self.effects, Mapping):
            return problems + [problem("effects", "not_a_mapping")]
        for code, effect in self.effects.items():
            if code not in SIGNAL_CODES:
                problems.append(problem(f"effects.{str(code)[:40]}", "unknown_code",
                                         allowed=list(SIGNAL_CODES)))
            elif effect not in EFFECTS:
                problems.append(problem(f"effects.{code}", "not_allowed", allowed=list(EFFECTS)))
        return problems


@dataclass(frozen=True)
class PriorFix:
    """One of the employee's earlier fixes: WGS84 degrees, the server time of that attendance
    (tz-aware) and the office-local ISO date it counted for."""

    lat: float
    lon: float
    at: datetime
    local_date: str

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("PriorFix.at must be timezone-aware")


def _key(lat: float, lon: float, decimals: int) -> tuple[float, float]:
    return round(lat, decimals), round(lon, decimals)


def _accuracy_reason(position: Position, rules: SignalRules) -> list[JsonObject]:
    if position.accuracy_m >= rules.min_accuracy_m:
        return []
    return [{"code": IMPLAUSIBLE_ACCURACY, "effect": rules.effects[IMPLAUSIBLE_ACCURACY],
             "accuracy_m": position.accuracy_m, "min_accuracy_m": rules.min_accuracy_m}]


def _site_points(site: Site) -> list[tuple[str, float, float]]:
    """The points an administrator typed for a site: a circle's centre, a polygon's vertices."""
    g = site.geofence
    if isinstance(g, Circle):
        return [("centre", g.lat, g.lon)]
    if isinstance(g, Polygon):
        return [("vertex", lat, lon) for ring in g.rings for lon, lat in ring]
    return []


def _copied_reason(position: Position, sites: Sequence[Site],
                   rules: SignalRules) -> list[JsonObject]:
    d = rules.copied_decimals
    here = _key(position.lat, position.lon, d)
    for site in sites:
        for matched, lat, lon in _site_points(site):
            if _key(lat, lon, d) == here:
                return [{"code": COPIED_COORDINATES, "effect": rules.effects[COPIED_COORDINATES],
                         "site_id": site.site_id, "matched": matched, "decimals": d}]
    return []


def _repeated_reason(position: Position, earlier: Sequence[PriorFix], local_date: str | None,
                     rules: SignalRules) -> list[JsonObject]:
    d = rules.repeat_decimals
    here = _key(position.lat, position.lon, d)
    days = sorted({f.local_date for f in earlier
                   if f.local_date != local_date and _key(f.lat, f.lon, d) == here}, reverse=True)
    if len(days) < rules.repeat_min_days:
        return []
    return [{"code": REPEATED_COORDINATES, "effect": rules.effects[REPEATED_COORDINATES],
             "days": len(days), "dates": days[:MAX_DATES_REPORTED], "decimals": d,
             "min_days": rules.repeat_min_days}]


def _travel_reason(position: Position, now_utc: datetime, earlier: Sequence[PriorFix],
                   rules: SignalRules) -> list[JsonObject]:
    if not earlier:
        return []
    prev = max(earlier, key=lambda f: (f.at, f.lat, f.lon))
    elapsed_s = (now_utc - prev.at).total_seconds()
    distance_km = haversine((prev.lat, prev.lon), (position.lat, position.lon),
                            unit=Unit.KILOMETERS)
    if elapsed_s < rules.min_travel_elapsed_s or distance_km < rules.min_travel_distance_km:
        return []
    speed_kmh = distance_km / (elapsed_s / 3600.0)
    if speed_kmh <= rules.max_speed_kmh:
        return []
    return [{"code": IMPOSSIBLE_TRAVEL, "effect": rules.effects[IMPOSSIBLE_TRAVEL],
             "distance_km": round(distance_km, 3), "elapsed_s": int(elapsed_s),
             "speed_kmh": round(speed_kmh, 1), "max_speed_kmh": rules.max_speed_kmh,
             "previous_at": prev.at.isoformat()}]


def gps_signals(position: Position, now_utc: datetime, sites: Sequence[Site],
                history: Sequence[PriorFix], rules: SignalRules = SignalRules(), *,
                local_date: str | None = None) -> list[JsonObject]:
    """The spoofing reasons that fire for ``position`` (module docstring), in table order.

    ``history`` is the employee's own earlier fixes, any order; only those before ``now_utc``
    count. ``local_date`` is the day this attendance counts for (``Decision.local_date``): fixes
    from that day do not count as "other days" for ``repeated_coordinates``. Without it, every
    day in ``history`` counts, so a check-out would count that morning's check-in.
    """
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise ValueError("now_utc must be timezone-aware")
    earlier = [f for f in history if f.at < now_utc]
    return (_accuracy_reason(position, rules) + _copied_reason(position, sites, rules)
            + _repeated_reason(position, earlier, local_date, rules)
            + _travel_reason(position, now_utc, earlier, rules))


def device_signals(bound: str | None, sent: str | None, users_today: Sequence[str],
                   rules: SignalRules = SignalRules()) -> list[JsonObject]:
    """Reasons about the phone: another device than the one bound (a missing id counts as
    another; nothing when none is bound yet), and a device several employees used today."""
    reasons: list[JsonObject] = []
    if bound is not None and sent != bound:
        reasons.append({"code": NEW_DEVICE, "effect": rules.effects[NEW_DEVICE], "device_id": sent,
                        "bound": True})
    if len(set(users_today)) > 1:
        reasons.append({"code": SHARED_DEVICE, "effect": rules.effects[SHARED_DEVICE],
                        "employees": len(set(users_today))})
    return reasons


def capture_signals(taken: datetime | None, offset_known: bool, opened_utc: datetime, now_utc: datetime,
                    timezone: str, rules: SignalRules = SignalRules()) -> list[JsonObject]:
    """A photo the camera says was taken outside the upload session (give or take the
    tolerance: phone clocks drift, and a time without its offset is read in the office's zone).
    Nothing when the photo carries no capture time (browser captures carry none)."""
    if taken is None:
        return []
    aware = taken if taken.tzinfo is not None else taken.replace(tzinfo=ZoneInfo(timezone))
    tolerance = timedelta(seconds=rules.capture_tolerance_s)
    if opened_utc - tolerance <= aware <= now_utc + tolerance:
        return []
    return [{"code": STALE_CAPTURE, "effect": rules.effects[STALE_CAPTURE], "taken_at": aware.isoformat(),
             "offset_known": offset_known, "session_opened_at": opened_utc.isoformat(),
             "tolerance_s": rules.capture_tolerance_s}]
