"""Geofencing for presence: parse fences and positions, and decide where an employee is.

Pure: no AWS, no I/O. Every verdict carries the distances and accuracy behind it.
"""
from chalicelib.geo.fences import (
    MAX_RADIUS_M,
    MIN_RADIUS_M,
    Circle,
    Geofence,
    GeoInputError,
    Polygon,
    geofence_to_dict,
    parse_geofence,
    signed_distance_m,
)
from chalicelib.geo.locate import (
    DEFAULT_MAX_ACCURACY_M,
    SITE_KINDS,
    WORK_MODE_BY_KIND,
    WORK_MODES,
    GeoResult,
    Site,
    locate,
)
from chalicelib.geo.position import Position, parse_position

__all__ = [
    "Circle", "Polygon", "Geofence", "GeoInputError", "parse_geofence", "geofence_to_dict",
    "signed_distance_m", "MIN_RADIUS_M", "MAX_RADIUS_M",
    "Position", "parse_position",
    "Site", "GeoResult", "locate", "DEFAULT_MAX_ACCURACY_M", "SITE_KINDS", "WORK_MODES",
    "WORK_MODE_BY_KIND",
]
