"""Where is the employee? Decide inside / uncertain / outside of their allowed sites.

The phone reports a point and an accuracy radius; the person is somewhere in that circle. So:

* **inside**    the whole accuracy circle is inside the fence: inside by more than ``accuracy_m``;
* **outside**   the whole accuracy circle is outside: outside by more than ``accuracy_m``;
* **uncertain** otherwise (the circle straddles the edge), or the accuracy is worse than
  ``max_accuracy_m`` and the point is not certainly outside (a 150 m fix cannot prove presence).

Numbers reported (metres):

* ``distance_to_edge_m``  signed distance from the point to the fence edge, negative inside.
* ``margin_m``            clearance between the accuracy circle and the edge,
  ``-distance_to_edge_m - accuracy_m``: positive when certainly inside; None when outside.
* ``distance_m``          for a circle, the haversine distance from the point to the centre; for a
  polygon, the distance to the polygon (0 inside, else distance to the nearest edge).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.common.errors import InvalidInput, JsonObject
from chalicelib.geo.fences import (
    Circle,
    Geofence,
    Polygon,
    centre_distance_m,
    signed_distance_m,
)
from chalicelib.geo.position import Position

DEFAULT_MAX_ACCURACY_M = 100.0

SITE_KINDS = ("office", "home", "assignment", "anywhere")
WORK_MODES = ("WFO", "WFH", "WFA", "DL")
WORK_MODE_BY_KIND = {"office": "WFO", "home": "WFH", "assignment": "DL", "anywhere": "WFA"}

INSIDE, UNCERTAIN, OUTSIDE = "inside", "uncertain", "outside"


@dataclass(frozen=True)
class Site:
    """A place where an employee may attend, and the work mode attending there means:
    WFO at the office, WFH at home, DL (dinas luar, official travel) at an assignment,
    WFA at any other approved site ("anywhere"); see ``WORK_MODE_BY_KIND``."""

    site_id: str
    kind: str
    work_mode: str
    geofence: Geofence
    timezone: str
    office_id: str

    def __post_init__(self) -> None:
        problems = []
        if self.kind not in SITE_KINDS:
            problems.append({"field": "kind", "code": "not_allowed", "allowed": list(SITE_KINDS)})
        if self.work_mode not in WORK_MODES:
            problems.append({"field": "work_mode", "code": "not_allowed",
                             "allowed": list(WORK_MODES)})
        if not isinstance(self.geofence, (Circle, Polygon)):
            problems.append({"field": "geofence", "code": "not_a_geofence"})
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            problems.append({"field": "timezone", "code": "unknown_timezone"})
        if problems:
            raise InvalidInput("The site is not valid.", code="invalid_site",
                             details={"site_id": self.site_id, "problems": problems})


@dataclass(frozen=True)
class GeoResult:
    """The verdict on one position against a list of sites, with every number behind it.

    ``site_id`` is the chosen site; when ``status`` is "outside" it is the nearest site (by
    distance to its edge) and ``work_mode`` is None. ``candidates`` lists every site with its
    own status and distances, best first. Distances are defined in the module docstring.
    """

    status: str
    site_id: str | None
    work_mode: str | None
    distance_m: float | None
    accuracy_m: float
    margin_m: float | None
    candidates: list[JsonObject] = field(default_factory=list)
    reasons: list[JsonObject] = field(default_factory=list)
    distance_to_edge_m: float | None = None

    def to_dict(self) -> JsonObject:
        return {
            "status": self.status, "site_id": self.site_id, "work_mode": self.work_mode,
            "distance_m": _r(self.distance_m), "distance_to_edge_m": _r(self.distance_to_edge_m),
            "accuracy_m": _r(self.accuracy_m), "margin_m": _r(self.margin_m),
            "candidates": self.candidates, "reasons": self.reasons,
        }


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


@dataclass(frozen=True)
class _Assessment:
    site: Site
    status: str
    edge_m: float
    distance_m: float
    margin_m: float | None
    accuracy_too_low: bool

    def to_dict(self) -> JsonObject:
        return {"site_id": self.site.site_id, "work_mode": self.site.work_mode,
                "kind": self.site.kind, "status": self.status, "distance_m": _r(self.distance_m),
                "distance_to_edge_m": _r(self.edge_m), "margin_m": _r(self.margin_m)}


def _assess(position: Position, site: Site, max_accuracy_m: float) -> _Assessment:
    g = site.geofence
    edge = signed_distance_m(g, position.lat, position.lon)
    if isinstance(g, Circle):
        distance = centre_distance_m(g, position.lat, position.lon)
    else:
        distance = max(0.0, edge)
    acc = position.accuracy_m
    too_low = acc > max_accuracy_m
    if edge > acc:
        status = OUTSIDE
    elif edge < -acc and not too_low:
        status = INSIDE
    else:
        status = UNCERTAIN
    margin = None if status == OUTSIDE else -edge - acc
    return _Assessment(site, status, edge, distance, margin, too_low)


def _rank(a: _Assessment) -> tuple:
    """Sort key, best first: inside (largest margin), uncertain (most inside), outside (nearest)."""
    order = {INSIDE: 0, UNCERTAIN: 1, OUTSIDE: 2}[a.status]
    primary = -a.margin_m if a.status == INSIDE else a.edge_m  # type: ignore[operator]
    return (order, primary, a.site.site_id)


def locate(position: Position, sites: Sequence[Site], *,
           max_accuracy_m: float = DEFAULT_MAX_ACCURACY_M) -> GeoResult:
    """Which of ``sites`` the position is in, as inside / uncertain / outside, with reasons."""
    acc = position.accuracy_m
    if not sites:
        return GeoResult(status=OUTSIDE, site_id=None, work_mode=None, distance_m=None,
                         accuracy_m=acc, margin_m=None,
                         reasons=[{"code": "no_sites", "accuracy_m": _r(acc)}])
    ranked = sorted((_assess(position, s, max_accuracy_m) for s in sites), key=_rank)
    best = ranked[0]
    sid = best.site.site_id
    if best.status == INSIDE:
        reasons = [{"code": "inside_geofence", "site_id": sid, "margin_m": _r(best.margin_m),
                    "distance_to_edge_m": _r(best.edge_m), "accuracy_m": _r(acc)}]
    elif best.status == UNCERTAIN:
        reasons = [{"code": "location_uncertain", "site_id": sid, "accuracy_m": _r(acc),
                    "distance_to_edge_m": _r(best.edge_m)}]
    else:
        reasons = [{"code": "outside_geofence", "nearest_site_id": sid,
                    "distance_m": _r(best.distance_m), "distance_to_edge_m": _r(best.edge_m),
                    "accuracy_m": _r(acc)}]
    if best.accuracy_too_low:
        reasons.append({"code": "accuracy_too_low", "accuracy_m": _r(acc),
                        "max_accuracy_m": max_accuracy_m})
    located = best.status != OUTSIDE
    return GeoResult(
        status=best.status,
        site_id=sid,
        work_mode=best.site.work_mode if located else None,
        distance_m=best.distance_m,
        accuracy_m=acc,
        margin_m=best.margin_m,
        candidates=[a.to_dict() for a in ranked],
        reasons=reasons,
        distance_to_edge_m=best.edge_m,
    )
