"""The phone's reported position, parsed strictly.

A position is evidence about a person, so nothing is guessed: strings, bools, NaN and infinities
are refused, and (0, 0) ("null island", what a phone reports when it has no fix or reuses an empty
cache) is refused too.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.common.errors import JsonObject
from chalicelib.geo.fences import GeoInputError, as_number, check_lat_lon

MAX_ACCURACY_M = 40_075_000.0  # the Earth's circumference: beyond, not a radius (invalid_accuracy);
# a merely poor fix is a stored rejection (accuracy_too_low)
MIN_YEAR, MAX_YEAR = 2000, 2100  # captured_at outside: invalid_captured_at out_of_range


@dataclass(frozen=True)
class Position:
    """A GPS fix: WGS84 degrees, the phone's accuracy radius (metres, ~68% confidence on Android),
    when it was captured (tz-aware), and whether the OS marked it as a mock location."""

    lat: float
    lon: float
    accuracy_m: float
    captured_at: datetime
    is_mock: bool

    def to_dict(self) -> JsonObject:
        return {"lat": self.lat, "lon": self.lon, "accuracy_m": self.accuracy_m,
                "captured_at": self.captured_at.isoformat(), "is_mock": self.is_mock}


def parse_position(obj: dict) -> Position:
    """Parse ``{"lat", "lon", "accuracy_m", "captured_at" (ISO 8601 with offset), "is_mock"}``.

    Raises HadirError (422) with one code per kind of fault, checked in this order:
    ``invalid_coordinates`` (non-numeric, out of range, or exactly (0, 0)), ``invalid_accuracy``
    (missing, negative or non-numeric), ``invalid_captured_at`` (not ISO 8601, or no offset),
    ``invalid_is_mock`` (present but not a bool; missing means False).
    """
    if not isinstance(obj, dict):
        raise GeoInputError("invalid_coordinates", "The position is not an object.",
                            [{"field": "", "code": "not_an_object"}])
    problems: list[JsonObject] = []
    lat = as_number(obj.get("lat"), "lat", problems)
    lon = as_number(obj.get("lon"), "lon", problems)
    check_lat_lon(lat, lon, problems)
    if not problems and lat == 0.0 and lon == 0.0:
        problems.append({"field": "lat,lon", "code": "null_island"})
    if problems:
        raise GeoInputError("invalid_coordinates", "The coordinates are not valid.", problems)

    accuracy = as_number(obj.get("accuracy_m"), "accuracy_m", problems)
    if accuracy is not None and accuracy < 0:
        problems.append({"field": "accuracy_m", "code": "negative", "value": accuracy})
    elif accuracy is not None and accuracy > MAX_ACCURACY_M:
        problems.append({"field": "accuracy_m", "code": "out_of_range", "value": accuracy,
                         "max": MAX_ACCURACY_M})
    if problems:
        raise GeoInputError("invalid_accuracy", "The location accuracy is not valid.", problems)

    captured_at = _parse_timestamp(obj.get("captured_at"))

    is_mock = obj.get("is_mock", False)
    if not isinstance(is_mock, bool):
        raise GeoInputError("invalid_is_mock", "is_mock must be true or false.",
                            [{"field": "is_mock", "code": "not_a_bool"}])
    return Position(lat=lat, lon=lon, accuracy_m=accuracy,  # type: ignore[arg-type]
                    captured_at=captured_at, is_mock=is_mock)


def _parse_timestamp(value: Any) -> datetime:
    def fail(code: str) -> GeoInputError:
        return GeoInputError("invalid_captured_at",
                             "captured_at must be an ISO 8601 timestamp with a UTC offset.",
                             [{"field": "captured_at", "code": code}])

    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise fail("not_iso_8601") from None
    else:
        raise fail("missing" if value is None else "not_iso_8601")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise fail("no_utc_offset")
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:  # 9999-12-31T23:59-01:00 overflows in UTC
        raise fail("out_of_range")
    return parsed
