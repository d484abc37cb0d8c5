"""Deciding inside / uncertain / outside from a position, its accuracy, and the allowed sites."""
import math
from datetime import datetime, timezone

import pytest
from haversine import Unit, inverse_haversine
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.common.errors import HadirError
from chalicelib.geo import Circle, Position, Site, locate, parse_geofence

OFFICE = (-2.4886, 106.4110)  # Kantor Bupati Bangka Tengah, Koba (approximate)
HOME = (-2.4700, 106.3900)
T = datetime(2025, 3, 3, 0, 5, tzinfo=timezone.utc)


def at(centre, metres, bearing=0.0, accuracy=10.0):
    lat, lon = inverse_haversine(centre, metres, bearing, unit=Unit.METERS)
    return Position(lat, lon, accuracy, T, False)


def office(radius=50.0, site_id="koba-office"):
    return Site(site_id, "office", "WFO", Circle(*OFFICE, radius), "Asia/Jakarta", "opd-1")


def home(radius=30.0):
    return Site("home-1", "home", "WFH", Circle(*HOME, radius), "Asia/Jakarta", "opd-1")


class TestOneFiftyMetreFence:
    """Si Pelawan: a 50 m fence, and phones that report 30 m accuracy."""

    def test_well_inside_is_inside_with_its_margin(self):
        # Given a fix 10 m from the centre with 30 m accuracy
        result = locate(at(OFFICE, 10, accuracy=30), [office()])
        # Then the whole accuracy circle is inside: margin = 50 - 10 - 30 = 10 m
        assert result.status == "inside" and result.site_id == "koba-office"
        assert result.work_mode == "WFO"
        assert result.margin_m == pytest.approx(10, abs=0.01)
        assert result.distance_m == pytest.approx(10, abs=0.01)
        assert result.reasons == [{"code": "inside_geofence", "site_id": "koba-office",
                                   "margin_m": 10.0, "distance_to_edge_m": -40.0,
                                   "accuracy_m": 30.0}]

    def test_inside_but_accuracy_reaches_past_the_edge_is_uncertain(self):
        # Given a fix 30 m from the centre (20 m inside) with 30 m accuracy
        result = locate(at(OFFICE, 30, accuracy=30), [office()])
        # Then it is uncertain and says why with numbers
        assert result.status == "uncertain" and result.work_mode == "WFO"
        assert result.reasons[0] == {"code": "location_uncertain", "site_id": "koba-office",
                                     "accuracy_m": 30.0, "distance_to_edge_m": -20.0}

    def test_just_outside_within_accuracy_is_uncertain(self):
        assert locate(at(OFFICE, 70, accuracy=30), [office()]).status == "uncertain"

    def test_far_outside_is_outside_with_distance(self):
        # Given a fix 400 m from the centre, When located
        result = locate(at(OFFICE, 400, accuracy=30), [office()])
        # Then outside: nearest site and its distance, no work mode
        assert result.status == "outside" and result.work_mode is None
        assert result.site_id == "koba-office" and result.margin_m is None
        assert result.reasons == [{"code": "outside_geofence", "nearest_site_id": "koba-office",
                                   "distance_m": 400.0, "distance_to_edge_m": 350.0,
                                   "accuracy_m": 30.0}]


class TestAccuracyTooLow:
    def test_poor_fix_at_the_centre_of_a_big_fence_is_only_uncertain(self):
        # Given a 150 m accuracy fix at the centre of a 1 km fence
        result = locate(at(OFFICE, 0, accuracy=150), [office(1000)])
        # Then it cannot prove presence
        assert result.status == "uncertain"
        assert {"code": "accuracy_too_low", "accuracy_m": 150.0,
                "max_accuracy_m": 100.0} in result.reasons

    def test_the_maximum_is_configurable(self):
        assert locate(at(OFFICE, 0, accuracy=150), [office(1000)],
                      max_accuracy_m=200).status == "inside"

    def test_poor_fix_far_away_is_still_outside(self):
        # Given a 150 m fix 5 km away: even the accuracy circle does not reach the fence
        result = locate(at(OFFICE, 5000, accuracy=150), [office()])
        assert result.status == "outside"
        assert result.reasons[-1]["code"] == "accuracy_too_low"


class TestSeveralSites:
    def test_the_site_one_is_inside_wins_over_a_nearer_uncertain_one(self):
        # Given a WFO office and a WFH home, and a fix well inside home
        result = locate(at(HOME, 5, accuracy=5), [office(), home()])
        # Then home is chosen, with WFH, and both sites are listed best first
        assert (result.status, result.site_id, result.work_mode) == ("inside", "home-1", "WFH")
        assert [c["site_id"] for c in result.candidates] == ["home-1", "koba-office"]
        assert result.candidates[1]["status"] == "outside"

    def test_largest_margin_wins_among_insides(self):
        small = office(60, "annex")
        big = office(500, "compound")
        result = locate(at(OFFICE, 20, accuracy=10), [small, big])
        assert result.site_id == "compound"

    def test_uncertain_beats_outside(self):
        result = locate(at(HOME, 35, accuracy=10), [office(), home()])
        assert (result.status, result.site_id) == ("uncertain", "home-1")

    def test_outside_reports_the_nearest_edge(self):
        far_big = Site("big", "assignment", "DL", Circle(-2.60, 106.4110, 10_000),
                       "Asia/Jakarta", "opd-1")
        # Given a 10 km fence centred 12 km south, and a fix 2 km north of the 50 m office fence
        result = locate(at(OFFICE, 2000, accuracy=10), [office(), far_big])
        # Then the nearest edge (not the nearest centre) names the site
        edges = {c["site_id"]: c["distance_to_edge_m"] for c in result.candidates}
        assert result.site_id == min(edges, key=edges.get) == "koba-office"

    def test_no_sites_is_outside_with_a_reason(self):
        result = locate(at(OFFICE, 0), [])
        assert result.status == "outside" and result.site_id is None
        assert result.reasons[0]["code"] == "no_sites"

    def test_polygon_site(self):
        fence = parse_geofence({"type": "Polygon", "coordinates": [[
            [106.410, -2.490], [106.412, -2.490], [106.412, -2.487], [106.410, -2.487],
            [106.410, -2.490]]]})
        site = Site("poly", "office", "WFO", fence, "Asia/Jakarta", "opd-1")
        inside = locate(Position(-2.4885, 106.411, 5, T, False), [site])
        assert inside.status == "inside" and inside.distance_m == 0.0
        outside = locate(Position(-2.4885, 106.415, 5, T, False), [site])
        assert outside.status == "outside"
        assert outside.distance_m == pytest.approx(333.6, abs=1)

    def test_to_dict_is_json_ready(self):
        d = locate(at(OFFICE, 10, accuracy=5), [office()]).to_dict()
        assert d["status"] == "inside" and d["distance_m"] == 10.0 and d["margin_m"] == 35.0


@pytest.mark.parametrize("kwargs, field", [
    ({"kind": "kantor"}, "kind"), ({"work_mode": "WFX"}, "work_mode"),
    ({"timezone": "Asia/Bali"}, "timezone"), ({"geofence": {"type": "circle"}}, "geofence"),
])
def test_invalid_sites_are_refused(kwargs, field):
    args = {"site_id": "s", "kind": "office", "work_mode": "WFO", "geofence": Circle(0, 1, 50),
            "timezone": "Asia/Makassar", "office_id": "o", **kwargs}
    with pytest.raises(HadirError) as e:
        Site(**args)
    assert e.value.code == "invalid_site"
    assert [p["field"] for p in e.value.details["problems"]] == [field]


@settings(max_examples=60, deadline=None)
@given(radius=st.floats(5, 5000), dist=st.floats(0, 10_000), acc=st.floats(0, 300),
       bearing=st.floats(0, 2 * math.pi))
def test_status_follows_the_accuracy_circle(radius, dist, acc, bearing):
    # Given a circular fence and a fix `dist` from its centre with accuracy `acc`
    result = locate(at(OFFICE, dist, bearing, acc), [office(radius)])
    edge = dist - radius
    # Then the status is exactly what the accuracy circle says (ignoring a 1 cm band)
    if abs(abs(edge) - acc) < 0.01:
        return
    if edge > acc:
        expected = "outside"
    elif edge < -acc and acc <= 100:
        expected = "inside"
    else:
        expected = "uncertain"
    assert result.status == expected
    # and an inside verdict always has a positive margin
    if result.status == "inside":
        assert result.margin_m > 0


@settings(max_examples=40, deadline=None)
@given(dist=st.floats(0, 2000), acc=st.floats(0, 100), better=st.floats(0, 1))
def test_a_more_accurate_fix_is_never_less_certain(dist, acc, better):
    # Given the same point reported twice, the second time with better accuracy
    rank = {"inside": 0, "outside": 0, "uncertain": 1}
    first = locate(at(OFFICE, dist, accuracy=acc), [office(200)])
    second = locate(at(OFFICE, dist, accuracy=acc * better), [office(200)])
    # Then a certain verdict stays the same, and an uncertain one may only become certain
    if first.status != "uncertain":
        assert second.status == first.status
    assert rank[second.status] <= rank[first.status]
