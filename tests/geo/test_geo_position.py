"""Parsing the phone's position strictly."""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.common.errors import HadirError, Kind
from chalicelib.geo import Position, parse_position

GOOD = {"lat": -8.6705, "lon": 115.2126, "accuracy_m": 12.5,
        "captured_at": "2025-03-03T00:05:00Z", "is_mock": False}


def with_(**changes):
    obj = dict(GOOD)
    for k, v in changes.items():
        if v is ...:
            obj.pop(k)
        else:
            obj[k] = v
    return obj


def code_of(obj):
    with pytest.raises(HadirError) as e:
        parse_position(obj)
    assert e.value.kind == Kind.INVALID
    return e.value.code


def test_a_good_fix_from_denpasar_is_parsed():
    # Given a fix from Denpasar taken at 08:05 WITA, When parsed
    pos = parse_position(GOOD)
    # Then the timestamp keeps its offset and the numbers are floats
    assert pos == Position(-8.6705, 115.2126, 12.5,
                           datetime(2025, 3, 3, 0, 5, tzinfo=timezone.utc), False)
    assert pos.to_dict()["captured_at"] == "2025-03-03T00:05:00+00:00"


def test_an_offset_timestamp_and_int_coordinates_are_accepted():
    pos = parse_position(with_(lat=-8, lon=115, captured_at="2025-03-03T08:05:00+08:00"))
    assert pos.captured_at.utcoffset() == timedelta(hours=8) and pos.lat == -8.0


def test_missing_is_mock_means_not_mocked():
    assert parse_position(with_(is_mock=...)).is_mock is False


@pytest.mark.parametrize("field, value", [
    ("lat", "-8.67"), ("lat", True), ("lat", float("nan")), ("lon", float("inf")),
    ("lat", -90.5), ("lon", 180.01), ("lat", ...), ("lon", None), ("lon", [115.2]),
])
def test_bad_coordinates_are_invalid_coordinates(field, value):
    assert code_of(with_(**{field: value})) == "invalid_coordinates"


def test_null_island_is_refused_as_a_stale_gps_symptom():
    # Given a phone without a fix reporting (0, 0), When parsed, Then it is refused
    with pytest.raises(HadirError) as e:
        parse_position(with_(lat=0, lon=0.0))
    assert e.value.code == "invalid_coordinates"
    assert e.value.details["problems"][0]["code"] == "null_island"


def test_the_equator_and_the_meridian_alone_are_fine():
    assert parse_position(with_(lat=0.0, lon=115.0)).lat == 0.0


@pytest.mark.parametrize("value", [..., None, -1, "10", True, float("nan")])
def test_bad_accuracy_is_invalid_accuracy(value):
    assert code_of(with_(accuracy_m=value)) == "invalid_accuracy"


@pytest.mark.parametrize("value", [..., "", "yesterday", "2025-03-03T08:05:00", "2025-03-03",
                                   1741000000, "2025-13-03T08:05:00Z"])
def test_bad_or_naive_timestamps_are_invalid_captured_at(value):
    assert code_of(with_(captured_at=value)) == "invalid_captured_at"


@pytest.mark.parametrize("value", ["true", 1, None])
def test_is_mock_must_be_a_bool(value):
    assert code_of(with_(is_mock=value)) == "invalid_is_mock"


def test_not_an_object():
    assert code_of(["-8.6", "115.2"]) == "invalid_coordinates"
