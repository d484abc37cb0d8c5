"""Geofences (a circle or a GeoJSON polygon) and the signed distance from a point to their edge.

The signed distance is the one number the rest of the package reasons with: negative inside the
fence, positive outside, in metres. Circles use the haversine distance to the centre; polygons use
a local equirectangular projection centred on the point. At Indonesia's latitudes that is exact to
about 0.1 m for points within 5 km of the edge (where decisions are close) and within 0.05 % at
50-100 km, when the point is outside by far more than any GPS accuracy. Polygons are limited to
1 degree across so the projection stays this good.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from haversine import Unit, haversine

from chalicelib.common.errors import HadirError, JsonObject, Kind, problem

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius, the one `haversine` uses
MIN_RADIUS_M = 1.0
MAX_RADIUS_M = 50_000.0
MAX_POLYGON_SPAN_DEG = 1.0  # keeps the local projection accurate (about 111 km north-south)
MAX_POLYGON_VERTICES = 2_000


class GeoInputError(HadirError):
    """The geographic input is not valid."""

    kind = Kind.INVALID

    def __init__(self, code: str, message: str, problems: list[JsonObject]):
        super().__init__(message, code=code, details={"problems": problems})
        self.problems = problems


@dataclass(frozen=True)
class Circle:
    """A circular fence: centre (WGS84 degrees) and radius in metres."""

    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True)
class Polygon:
    """A polygonal fence in GeoJSON order: each position is (lon, lat); ring 0 is the exterior,
    the others are holes. Every ring is closed (first position == last)."""

    rings: list[list[tuple[float, float]]]


Geofence = Circle | Polygon



def as_number(value: Any, field: str, problems: list[JsonObject]) -> float | None:
    """Return ``value`` as a finite float, or record a problem. Bools and strings are refused:
    JSON ``true`` or ``"7.5"`` in a coordinate is a client bug, not a number to guess at."""
    if value is None:
        problems.append(problem(field, "missing"))
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append(problem(field, "not_a_number", type=type(value).__name__))
        return None
    try:
        number = float(value)  # an int of hundreds of digits does not fit a float
    except OverflowError:
        problems.append(problem(field, "out_of_range"))
        return None
    if not math.isfinite(number):
        problems.append(problem(field, "not_finite"))
        return None
    return number


def check_lat_lon(lat: float | None, lon: float | None, problems: list[JsonObject],
                  prefix: str = "") -> None:
    if lat is not None and not -90.0 <= lat <= 90.0:
        problems.append(problem(prefix + "lat", "out_of_range", value=lat, min=-90, max=90))
    if lon is not None and not -180.0 <= lon <= 180.0:
        problems.append(problem(prefix + "lon", "out_of_range", value=lon, min=-180, max=180))


def _fail(problems: list[JsonObject]) -> GeoInputError:
    return GeoInputError("invalid_geofence", "The geofence is not valid.", problems)


def parse_geofence(obj: dict) -> Geofence:
    """Parse ``{"type": "circle", "lat", "lon", "radius_m"}`` or a GeoJSON Polygon.

    Raises HadirError ``invalid_geofence`` (422) with ``details.problems`` listing every problem
    found (field, code and the limits), so an administrator can fix the fence in one go.
    """
    if not isinstance(obj, dict):
        raise _fail([problem("", "not_an_object")])
    kind = obj.get("type")
    if kind == "circle":
        return _parse_circle(obj)
    if kind == "Polygon":
        return _parse_polygon(obj.get("coordinates"))
    raise _fail([problem("type", "unsupported_type", value=str(kind)[:40],
                          allowed=["circle", "Polygon"])])


def _parse_circle(obj: dict) -> Circle:
    problems: list[JsonObject] = []
    lat = as_number(obj.get("lat"), "lat", problems)
    lon = as_number(obj.get("lon"), "lon", problems)
    radius = as_number(obj.get("radius_m"), "radius_m", problems)
    check_lat_lon(lat, lon, problems)
    if radius is not None and not MIN_RADIUS_M <= radius <= MAX_RADIUS_M:
        problems.append(problem("radius_m", "out_of_range", value=radius,
                                 min=MIN_RADIUS_M, max=MAX_RADIUS_M))
    if problems:
        raise _fail(problems)
    return Circle(lat=lat, lon=lon, radius_m=radius)  # type: ignore[arg-type]


def _parse_polygon(coords: Any) -> Polygon:
    if not isinstance(coords, list) or not coords:
        raise _fail([problem("coordinates", "not_a_list_of_rings")])
    problems: list[JsonObject] = []
    rings: list[list[tuple[float, float]]] = []
    total = 0
    for r, raw_ring in enumerate(coords):
        field = f"coordinates[{r}]"
        if not isinstance(raw_ring, list):
            problems.append(problem(field, "not_a_list_of_positions"))
            continue
        ring: list[tuple[float, float]] = []
        for p, pos in enumerate(raw_ring):
            pfield = f"{field}[{p}]"
            if not isinstance(pos, (list, tuple)) or len(pos) not in (2, 3):
                problems.append(problem(pfield, "not_a_position"))
                continue
            before = len(problems)
            lon = as_number(pos[0], pfield + ".lon", problems)
            lat = as_number(pos[1], pfield + ".lat", problems)
            check_lat_lon(lat, lon, problems, prefix=pfield + ".")
            if len(problems) == before:
                ring.append((lon, lat))  # type: ignore[arg-type]
        total += len(raw_ring)
        if len(ring) == len(raw_ring):
            problems.extend(_ring_problems(field, ring))
        rings.append(ring)
    if total > MAX_POLYGON_VERTICES:
        problems.append(problem("coordinates", "too_many_positions", value=total,
                                 max=MAX_POLYGON_VERTICES))
    if not problems:
        lon0 = rings[0][0][0]
        lons = [(p[0] - lon0 + 180.0) % 360.0 - 180.0 for p in rings[0]]  # antimeridian-safe
        lats = [p[1] for p in rings[0]]
        span = max(max(lons) - min(lons), max(lats) - min(lats))
        if span > MAX_POLYGON_SPAN_DEG:
            problems.append(problem("coordinates[0]", "too_large", span_deg=round(span, 4),
                                     max_span_deg=MAX_POLYGON_SPAN_DEG))
    if problems:
        raise _fail(problems)
    return Polygon(rings=rings)


def _ring_problems(field: str, ring: list[tuple[float, float]]) -> list[JsonObject]:
    if len(ring) < 4:
        return [problem(field, "too_few_positions", value=len(ring), min=4)]
    if ring[0] != ring[-1]:
        return [problem(field, "ring_not_closed")]
    if len(set(ring[:-1])) < 3:
        return [problem(field, "degenerate_ring", distinct_positions=len(set(ring[:-1])))]
    lat0 = ring[0][1]
    xy = [_project(lon, lat, ring[0][0], lat0) for lon, lat in ring]
    area = 0.5 * abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(xy, xy[1:])))
    if area < 1.0:  # square metres: a line or a point, not an area
        return [problem(field, "zero_area", area_m2=round(area, 3))]
    return []


def geofence_to_dict(g: Geofence) -> JsonObject:
    """The storable form of a fence; ``parse_geofence(geofence_to_dict(g)) == g``."""
    if isinstance(g, Circle):
        return {"type": "circle", "lat": g.lat, "lon": g.lon, "radius_m": g.radius_m}
    if isinstance(g, Polygon):
        return {"type": "Polygon", "coordinates": [[[lon, lat] for lon, lat in r] for r in g.rings]}
    raise TypeError(f"not a geofence: {type(g).__name__}")


def _project(lon: float, lat: float, lon0: float, lat0: float) -> tuple[float, float]:
    """Equirectangular projection around (lon0, lat0), in metres (x east, y north)."""
    dlon = (lon - lon0 + 180.0) % 360.0 - 180.0  # shortest way round the antimeridian
    x = math.radians(dlon) * EARTH_RADIUS_M * math.cos(math.radians(lat0))
    y = math.radians(lat - lat0) * EARTH_RADIUS_M
    return x, y


def _segment_distance(ax: float, ay: float, bx: float, by: float) -> float:
    """Distance from the origin to segment AB (projected metres)."""
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
    return math.hypot(ax + t * dx, ay + t * dy)


def _crosses(ax: float, ay: float, bx: float, by: float) -> bool:
    """Whether AB crosses the ray from the origin towards +x (even-odd rule)."""
    if (ay > 0) == (by > 0):
        return False
    return ax + (0 - ay) * (bx - ax) / (by - ay) > 0


def signed_distance_m(g: Geofence, lat: float, lon: float) -> float:
    """Metres from (lat, lon) to the fence edge: negative inside, positive outside."""
    if isinstance(g, Circle):
        return centre_distance_m(g, lat, lon) - g.radius_m
    nearest = math.inf
    inside = False
    for ring in g.rings:
        xy = [_project(p_lon, p_lat, lon, lat) for p_lon, p_lat in ring]
        for (ax, ay), (bx, by) in zip(xy, xy[1:]):
            nearest = min(nearest, _segment_distance(ax, ay, bx, by))
            if _crosses(ax, ay, bx, by):
                inside = not inside
    return -nearest if inside else nearest


def centre_distance_m(c: Circle, lat: float, lon: float) -> float:
    """Great-circle (haversine) metres from (lat, lon) to the circle's centre."""
    return haversine((lat, lon), (c.lat, c.lon), unit=Unit.METERS)
