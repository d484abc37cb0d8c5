"""Geofence parsing and the signed distance to a fence's edge."""
import math

import pytest
from haversine import Unit, inverse_haversine
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.common.errors import HadirError, Kind
from chalicelib.geo import Circle, Polygon, geofence_to_dict, parse_geofence, signed_distance_m

# Kantor Bupati Bangka Tengah, Koba (approximate): Si Pelawan locks attendance to 50 m around it.
KOBA = (-2.4886, 106.4110)


def offset(lat, lon, metres, bearing_rad):
    return inverse_haversine((lat, lon), metres, bearing_rad, unit=Unit.METERS)


def square(lat, lon, half_side_m, hole_half_side_m=None):
    """A GeoJSON polygon: a square centred on (lat, lon), optionally with a square hole."""
    def ring(h):
        dlat = math.degrees(h / 6_371_008.8)
        dlon = dlat / math.cos(math.radians(lat))
        return [[lon - dlon, lat - dlat], [lon + dlon, lat - dlat], [lon + dlon, lat + dlat],
                [lon - dlon, lat + dlat], [lon - dlon, lat - dlat]]
    rings = [ring(half_side_m)]
    if hole_half_side_m:
        rings.append(ring(hole_half_side_m)[::-1])
    return {"type": "Polygon", "coordinates": rings}


def problems_of(excinfo):
    return {(p["field"], p["code"]) for p in excinfo.value.details["problems"]}


class TestParseCircle:
    def test_valid_circle_round_trips(self):
        # Given the Si Pelawan fence as stored
        obj = {"type": "circle", "lat": KOBA[0], "lon": KOBA[1], "radius_m": 50}
        # When it is parsed and written back
        fence = parse_geofence(obj)
        # Then it is a Circle and the stored form is unchanged
        assert fence == Circle(lat=KOBA[0], lon=KOBA[1], radius_m=50.0)
        assert parse_geofence(geofence_to_dict(fence)) == fence

    @pytest.mark.parametrize("radius", [0, 0.5, 50_000.1, -5])
    def test_radius_out_of_range_is_refused(self, radius):
        # Given a radius outside 1..50 000 m, When parsed, Then invalid_geofence names radius_m
        with pytest.raises(HadirError) as e:
            parse_geofence({"type": "circle", "lat": 0.5, "lon": 100, "radius_m": radius})
        assert e.value.code == "invalid_geofence" and e.value.kind == Kind.INVALID
        assert ("radius_m", "out_of_range") in problems_of(e)

    @pytest.mark.parametrize("bad, code", [
        (True, "not_a_number"), ("-2.48", "not_a_number"), (float("nan"), "not_finite"),
        (float("inf"), "not_finite"), (None, "missing"), (91, "out_of_range"),
    ])
    def test_bad_latitude_is_refused(self, bad, code):
        with pytest.raises(HadirError) as e:
            parse_geofence({"type": "circle", "lat": bad, "lon": 106.4, "radius_m": 50})
        assert ("lat", code) in problems_of(e)

    def test_every_problem_is_reported_at_once(self):
        # Given a fence with three faults, When parsed, Then all three are listed
        with pytest.raises(HadirError) as e:
            parse_geofence({"type": "circle", "lat": 100, "lon": "x", "radius_m": 0})
        assert problems_of(e) == {("lat", "out_of_range"), ("lon", "not_a_number"),
                                  ("radius_m", "out_of_range")}

    @pytest.mark.parametrize("obj", [None, [], {"type": "Circle"}, {"type": "Point"}, {}])
    def test_unknown_shapes_are_refused(self, obj):
        with pytest.raises(HadirError) as e:
            parse_geofence(obj)
        assert e.value.code == "invalid_geofence"


class TestParsePolygon:
    def test_polygon_with_hole_round_trips(self):
        # Given an office compound with a courtyard cut out
        obj = square(*KOBA, 100, hole_half_side_m=20)
        # When parsed and written back
        fence = parse_geofence(obj)
        # Then positions are (lon, lat) tuples, and the stored form parses to the same fence
        assert isinstance(fence, Polygon) and len(fence.rings) == 2
        assert fence.rings[0][0] == tuple(obj["coordinates"][0][0])
        assert parse_geofence(geofence_to_dict(fence)) == fence

    def test_altitude_is_accepted_and_dropped(self):
        obj = square(*KOBA, 100)
        obj["coordinates"][0] = [p + [12.0] for p in obj["coordinates"][0]]
        assert all(len(p) == 2 for p in parse_geofence(obj).rings[0])

    @pytest.mark.parametrize("coords, code", [
        ([[[106.4, -2.4], [106.5, -2.4], [106.5, -2.5], [106.4, -2.4]][:3]], "too_few_positions"),
        ([[[106.4, -2.4], [106.5, -2.4], [106.5, -2.5], [106.4, -2.5]]], "ring_not_closed"),
        ([[[106.4, -2.4], [106.5, -2.4], [106.4, -2.4], [106.4, -2.4]]], "degenerate_ring"),
        ([[[106.4, -2.4], [106.5, -2.4], [106.6, -2.4], [106.4, -2.4]]], "zero_area"),
        ([[[106.0, -2.0], [108.0, -2.0], [108.0, -3.0], [106.0, -2.0]]], "too_large"),
    ])
    def test_malformed_rings_are_refused(self, coords, code):
        with pytest.raises(HadirError) as e:
            parse_geofence({"type": "Polygon", "coordinates": coords})
        assert code in {c for _, c in problems_of(e)}

    def test_bad_position_names_its_index(self):
        obj = square(*KOBA, 100)
        obj["coordinates"][0][2] = [200, True]
        with pytest.raises(HadirError) as e:
            parse_geofence(obj)
        assert problems_of(e) == {("coordinates[0][2].lat", "not_a_number"),
                                  ("coordinates[0][2].lon", "out_of_range")}


class TestSignedDistance:
    def test_circle_centre_is_radius_inside(self):
        fence = Circle(*KOBA, 50)
        assert signed_distance_m(fence, *KOBA) == pytest.approx(-50)

    def test_circle_point_100m_north_is_50m_outside(self):
        fence = Circle(*KOBA, 50)
        assert signed_distance_m(fence, *offset(*KOBA, 100, 0)) == pytest.approx(50, abs=0.01)

    def test_square_centre_and_outside_and_hole(self):
        # Given a 200 m square with a 40 m hole
        fence = parse_geofence(square(*KOBA, 100, hole_half_side_m=20))
        # Then: the centre is in the hole, 20 m outside the fence's area
        assert signed_distance_m(fence, *KOBA) == pytest.approx(20, abs=0.1)
        # a point 60 m east is inside, 40 m from both the outer edge and the hole
        assert signed_distance_m(fence, *offset(*KOBA, 60, math.pi / 2)) == pytest.approx(-40, abs=0.1)
        # a point 130 m east is 30 m outside
        assert signed_distance_m(fence, *offset(*KOBA, 130, math.pi / 2)) == pytest.approx(30, abs=0.1)

    def test_polygon_across_the_antimeridian(self):
        fence = parse_geofence({"type": "Polygon", "coordinates": [[
            [179.999, -0.001], [-179.999, -0.001], [-179.999, 0.001], [179.999, 0.001],
            [179.999, -0.001]]]})
        assert signed_distance_m(fence, 0.0, 180.0) < -100


lats = st.floats(-60, 60)  # all of Indonesia and well beyond
lons = st.floats(-179, 179)


@settings(max_examples=50, deadline=None)
@given(lat=lats, lon=lons, radius=st.floats(1, 50_000), dist=st.floats(0, 100_000),
       bearing=st.floats(0, 2 * math.pi))
def test_circle_distance_is_distance_to_centre_minus_radius(lat, lon, radius, dist, bearing):
    # Given a circle and a point `dist` metres from its centre
    point = offset(lat, lon, dist, bearing)
    # When the signed distance is computed, Then it is dist - radius
    assert signed_distance_m(Circle(lat, lon, radius), *point) == pytest.approx(dist - radius,
                                                                                abs=0.01)


@settings(max_examples=50, deadline=None)
@given(lat=lats, lon=lons, radius=st.floats(20, 5_000), frac=st.floats(0, 2.5),
       bearing=st.floats(0, 2 * math.pi))
def test_polygon_agrees_with_the_circle_it_approximates(lat, lon, radius, frac, bearing):
    # Given a regular 90-gon inscribed in a circle (they differ by at most the sagitta)
    n = 90
    ring = [offset(lat, lon, radius, 2 * math.pi * i / n) for i in range(n)]
    coords = [[p[1], p[0]] for p in ring] + [[ring[0][1], ring[0][0]]]
    polygon = parse_geofence({"type": "Polygon", "coordinates": [coords]})
    sagitta = radius * (1 - math.cos(math.pi / n))
    # When a point anywhere from the centre to 2.5 radii out is measured against both
    point = offset(lat, lon, radius * frac, bearing)
    d_poly = signed_distance_m(polygon, *point)
    d_circle = signed_distance_m(Circle(lat, lon, radius), *point)
    # Then they agree to within the sagitta plus projection error (< 0.1 % of the radius)
    assert d_poly == pytest.approx(d_circle, abs=sagitta + radius * 1e-3 + 0.01)
    # and a point clearly inside or outside of both is classified the same by both
    if abs(d_circle) > sagitta + radius * 1e-3 + 0.01:
        assert (d_poly < 0) == (d_circle < 0)


@settings(max_examples=40, deadline=None)
@given(lat=st.floats(-90, 90), lon=st.floats(-180, 180), radius=st.floats(1, 50_000))
def test_any_valid_circle_round_trips(lat, lon, radius):
    fence = parse_geofence({"type": "circle", "lat": lat, "lon": lon, "radius_m": radius})
    assert parse_geofence(geofence_to_dict(fence)) == fence
