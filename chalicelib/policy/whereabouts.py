"""Whereabouts during working hours (Denpasar, Bolmong): when a ping may be taken, where it is, and
what a staff member's state is right now. Pure: no I/O.

* :func:`on_duty`: a ping is taken only inside the effective schedule's working hours of the day
  (``work_start`` (a flexible day: its earliest start) to the day's ``work_end``) on a working day;
  otherwise the reason it is refused, as data (``not_a_working_day``, ``outside_working_hours``).
* :class:`Region`: the agency's boundary (a GeoJSON Polygon or MultiPolygon, e.g. a regency's
  limits, up to ``MAX_REGION_SPAN_DEG`` across). A fix is outside only when it lies outside by more
  than its accuracy radius: a poor fix near the boundary never opens an episode.
* :func:`judge`: outside the region (``outside_region``) or, on a WFH day, away from the registered
  home (``away_from_home``; the home replaces the region, as staff living in another regency work
  from home there), unless an approved permission covers the day (``permitted``).
* :func:`state_now`: one staff member's state for ``GET /team/now``, with its reasons.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Any, Sequence

from chalicelib.common.errors import InvalidInput, JsonObject, problem
from chalicelib.geo.fences import (
    EARTH_RADIUS_M,
    Geofence,
    Polygon,
    as_number,
    check_lat_lon,
    signed_distance_m,
)
from chalicelib.geo.position import Position
from chalicelib.policy.schedule import EffectiveDay

MAX_REGION_VERTICES = 20_000
MAX_REGION_SPAN_DEG = 6.0  # a province at most (Bali is about 1.5 degrees across)
OUTSIDE_REGION, AWAY_FROM_HOME, PERMITTED = "outside_region", "away_from_home", "permitted"
PERMISSION_TYPES = ("leave_region", "official_travel")  # they cover leaving the region (and home)
LEAVE_TYPES = ("leave", "excuse")  # off duty: no ping is taken


# --- working hours -----------------------------------------------------------------------------
def duty_hours(eff: EffectiveDay) -> tuple[str, str]:
    """The day's working hours (HH:MM, HH:MM): a flexible day from its earliest start."""
    start = eff.flexible_start[0] if eff.flexible_start else eff.rules.work_start
    return start, eff.rules.end_on(eff.local_date).strftime("%H:%M")


def on_duty(eff: EffectiveDay, local_time: time) -> JsonObject | None:
    """None when ``local_time`` lies in ``eff``'s working hours; else why not (a reason)."""
    base = {"local_date": eff.local_date.isoformat(), "local_time": local_time.strftime("%H:%M:%S"),
            "schedule_id": eff.schedule_id}
    if not eff.working:
        return {"code": "not_a_working_day", "day": eff.reason, **base}
    start, end = duty_hours(eff)
    if start <= local_time.strftime("%H:%M") < end:
        return None
    return {"code": "outside_working_hours", "work_start": start, "work_end": end, **base}


# --- the region --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Region:
    """Polygons in GeoJSON order (each a :class:`geo.Polygon`: ring 0 exterior, the others holes),
    measured by the geofences' own ``signed_distance_m``."""

    name: str | None
    polygons: tuple[Polygon, ...]

    def contains(self, lat: float, lon: float) -> bool:
        return self.distance_outside_m(lat, lon) == 0.0

    def distance_outside_m(self, lat: float, lon: float) -> float:
        """0 inside any polygon; else metres to the nearest edge (local projection around the point)."""
        return max(0.0, min(signed_distance_m(p, lat, lon) for p in self.polygons))


def _fail(problems: list[JsonObject]) -> InvalidInput:
    return InvalidInput("The region is not valid.", code="invalid_region", details={"problems": problems})


def _ring(field: str, raw: Any, problems: list[JsonObject]) -> tuple[tuple[float, float], ...]:
    if not isinstance(raw, list) or len(raw) < 4:
        problems.append(problem(field, "too_few_positions", min=4))
        return ()
    ring: list[tuple[float, float]] = []
    for i, pos in enumerate(raw):
        if not isinstance(pos, list) or len(pos) not in (2, 3):
            problems.append(problem(f"{field}[{i}]", "not_a_position"))
            continue
        before = len(problems)
        lon, lat = as_number(pos[0], f"{field}[{i}].lon", problems), as_number(pos[1], f"{field}[{i}].lat", problems)
        check_lat_lon(lat, lon, problems, prefix=f"{field}[{i}].")
        if len(problems) == before:
            ring.append((lon, lat))  # type: ignore[arg-type]
    if len(ring) == len(raw) and ring[0] != ring[-1]:
        problems.append(problem(field, "ring_not_closed"))
    return tuple(ring)


def parse_region(doc: Any) -> Region | None:
    """``{"name": str?, "boundary": GeoJSON Polygon | MultiPolygon | null}``; null: no region."""
    if not isinstance(doc, dict):
        raise _fail([problem("", "not_an_object")])
    boundary, name = doc.get("boundary"), doc.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 200):
        raise _fail([problem("name", "not_a_string", max_length=200)])
    if boundary is None:
        return None
    kind = boundary.get("type") if isinstance(boundary, dict) else None
    coords = boundary.get("coordinates") if isinstance(boundary, dict) else None
    if kind not in ("Polygon", "MultiPolygon") or not isinstance(coords, list) or not coords:
        raise _fail([problem("boundary", "unsupported_type", allowed=["Polygon", "MultiPolygon"])])
    raw_polys = [coords] if kind == "Polygon" else coords
    problems: list[JsonObject] = []
    polys = []
    for p, raw in enumerate(raw_polys):
        if not isinstance(raw, list) or not raw:
            problems.append(problem(f"boundary.coordinates[{p}]", "not_a_list_of_rings"))
            continue
        polys.append(tuple(_ring(f"boundary.coordinates[{p}][{r}]", ring, problems) for r, ring in enumerate(raw)))
    vertices = sum(len(r) for poly in polys for r in poly)
    if vertices > MAX_REGION_VERTICES:
        problems.append(problem("boundary", "too_many_positions", value=vertices, max=MAX_REGION_VERTICES))
    if not problems:
        lons = [x for poly in polys for x, _ in poly[0]]
        lats = [y for poly in polys for _, y in poly[0]]
        span = max(max(lons) - min(lons), max(lats) - min(lats))
        if span > MAX_REGION_SPAN_DEG:
            problems.append(problem("boundary", "too_large", span_deg=round(span, 4), max_span_deg=MAX_REGION_SPAN_DEG))
    if problems:
        raise _fail(problems)
    return Region(name=name, polygons=tuple(Polygon([list(r) for r in poly]) for poly in polys))


def default_region() -> JsonObject:
    return {"name": None, "boundary": None}


# --- judging a fix -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    outside: bool  # opens or extends an episode
    kind: str | None  # outside_region | away_from_home (what was left), None inside
    reasons: tuple[JsonObject, ...] = ()


def judge(position: Position, region: Region | None, home: Geofence | None, home_site_id: str | None,
          permits: Sequence[JsonObject]) -> Verdict:
    """Where the fix is against the region and (a WFH day) the home; an approved permission covering
    the day turns "outside" into ``permitted`` (info), never an episode."""
    reasons: list[JsonObject] = []
    kind = None
    if region is not None and home is None:  # a WFH day expects the home, wherever it lies
        d = region.distance_outside_m(position.lat, position.lon)
        if d > position.accuracy_m:
            kind = OUTSIDE_REGION
            reasons.append({"code": OUTSIDE_REGION, "effect": "flag", "distance_m": round(d, 1),
                            "accuracy_m": position.accuracy_m, "region": region.name})
    if home is not None:
        d = signed_distance_m(home, position.lat, position.lon)
        if d > position.accuracy_m:
            kind = kind or AWAY_FROM_HOME
            reasons.append({"code": AWAY_FROM_HOME, "effect": "flag", "distance_m": round(d, 1),
                            "accuracy_m": position.accuracy_m, "site_id": home_site_id})
    if kind and permits:
        return Verdict(False, None, (*({**r, "effect": "info"} for r in reasons),
                                     {"code": PERMITTED, "effect": "info", "requests": list(permits)}))
    return Verdict(kind is not None, kind, tuple(reasons))


# --- who is where, now -------------------------------------------------------------------------
@dataclass(frozen=True)
class NowInputs:
    """What is known about one staff member right now (their office's local date)."""

    local_date: date
    working: bool
    day_reason: str  # the effective day's reason (working_day, weekend, national_holiday...)
    window_closed: bool  # the check-in window of today has closed
    day_status: str | None  # the day record's status (present, late, pending_review, absent...)
    work_mode: str | None  # the day's work mode (WFO, WFH, DL, WFA)
    requests: tuple[JsonObject, ...]  # approved requests covering today: {request_id, type}
    open_episode: JsonObject | None  # {episode_id, kind, opened_at}
    last_seen_at: str | None  # the latest ping or check-in (UTC ISO)
    online: bool


def state_now(i: NowInputs) -> tuple[str, list[JsonObject]]:
    """(state, reasons): outside_region | on_leave | on_travel | flagged | in_office | at_home |
    at_site | absent | not_checked_in | off_day; every fact that decided it is a reason."""
    reasons: list[JsonObject] = [{"code": "day", "local_date": i.local_date.isoformat(), "working": i.working,
                                  "day": i.day_reason, "status": i.day_status}]
    reasons += [{"code": "request", **r} for r in i.requests]
    if i.open_episode:
        reasons.append({"code": "open_episode", **i.open_episode})
    reasons.append({"code": "online" if i.online else "offline", "last_seen_at": i.last_seen_at})
    types = {r.get("type") for r in i.requests}
    if i.open_episode:
        return OUTSIDE_REGION if i.open_episode.get("kind") != AWAY_FROM_HOME else AWAY_FROM_HOME, reasons
    if types & set(LEAVE_TYPES):
        return "on_leave", reasons
    if "official_travel" in types:
        return "on_travel", reasons
    if i.day_status == "pending_review":
        return "flagged", reasons
    if i.day_status in ("present", "late"):
        return {"WFH": "at_home", "DL": "on_travel", "WFA": "at_site"}.get(i.work_mode or "WFO", "in_office"), reasons
    if not i.working:
        return "off_day", reasons
    if i.day_status == "absent" or i.window_closed:
        return "absent", reasons
    return "not_checked_in", reasons


__all__ = ["EARTH_RADIUS_M", "Region", "Verdict", "NowInputs", "on_duty", "duty_hours", "parse_region",
           "judge", "state_now", "default_region"]
