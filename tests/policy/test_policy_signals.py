"""GPS spoofing signals, following the rule table in signals.py: each fired and not fired at its
boundary, and properties of honest fixes (jitter never looks copied, staying put never travels)."""
import json
from datetime import UTC, datetime, timedelta

import pytest
from haversine import Unit, inverse_haversine
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.common.errors import InvalidInput
from chalicelib.geo import Circle, Polygon, Position, Site
from chalicelib.policy.signals import GPS_CODES, PriorFix, SignalRules, device_signals, gps_signals

CENTRE = (-8.6705, 115.2126)  # a Denpasar office, as an administrator typed it
OFFICE = Site("dps-office", "office", "WFO", Circle(*CENTRE, 50), "Asia/Makassar", "opd-dps")
RING = [(115.2100, -8.6720), (115.2110, -8.6720), (115.2110, -8.6710), (115.2100, -8.6710),
        (115.2100, -8.6720)]
ANNEX = Site("dps-annex", "office", "WFO", Polygon([RING]), "Asia/Makassar", "opd-dps")
NOW = datetime(2025, 3, 5, 23, 30, tzinfo=UTC)  # 07:30 WITA on Thursday 6 March
M_PER_DEG = 111_195.08  # metres per degree of latitude on the haversine sphere


def fix(lat=CENTRE[0] + 0.0001, lon=CENTRE[1] + 0.0001, accuracy=8.0):
    return Position(lat, lon, accuracy, NOW - timedelta(seconds=5), False)


def moved(start, km, bearing=0.0):
    return inverse_haversine(start, km, bearing, unit=Unit.KILOMETERS)


def prior(lat, lon, days_ago=1, seconds_ago=None, local_date=None):
    at = NOW - (timedelta(seconds=seconds_ago) if seconds_ago is not None
                else timedelta(days=days_ago))
    return PriorFix(lat, lon, at, local_date or (at + timedelta(hours=8)).date().isoformat())


def codes(reasons):
    return [r["code"] for r in reasons]


def only(reasons, code):
    [r] = [r for r in reasons if r["code"] == code]
    return r


class TestImplausibleAccuracy:
    @pytest.mark.parametrize("accuracy", [0.0, 0.5, 0.999])
    def test_a_fix_more_precise_than_a_metre_is_flagged(self, accuracy):
        # Given a fix claiming better than 1 m accuracy (a fake-GPS app sends 0)
        reasons = gps_signals(fix(accuracy=accuracy), NOW, [OFFICE], [])
        # Then it is flagged with the accuracy and the minimum
        assert reasons == [{"code": "implausible_accuracy", "effect": "flag",
                            "accuracy_m": accuracy, "min_accuracy_m": 1.0}]

    @pytest.mark.parametrize("accuracy", [1.0, 3.9, 150.0])
    def test_a_metre_or_worse_is_plausible(self, accuracy):
        assert gps_signals(fix(accuracy=accuracy), NOW, [OFFICE], []) == []

    def test_the_minimum_is_configurable(self):
        rules = SignalRules(min_accuracy_m=3.0)
        assert codes(gps_signals(fix(accuracy=2.9), NOW, [OFFICE], [], rules)) == [
            "implausible_accuracy"]
        assert gps_signals(fix(accuracy=3.0), NOW, [OFFICE], [], rules) == []


class TestCopiedCoordinates:
    def test_the_circle_centre_itself_is_flagged(self):
        # Given a fix exactly at the office's typed centre
        reasons = gps_signals(fix(*CENTRE), NOW, [OFFICE], [])
        # Then it is flagged as copied, naming the site and the decimals compared
        assert reasons == [{"code": "copied_coordinates", "effect": "flag",
                            "site_id": "dps-office", "matched": "centre", "decimals": 6}]

    def test_equal_when_rounded_to_six_decimals_is_copied_and_one_step_off_is_not(self):
        # Given fixes 0.4e-6 and 0.6e-6 degrees north of the centre (about 4 and 7 cm)
        same = fix(CENTRE[0] + 0.0000004, CENTRE[1])
        next_cell = fix(CENTRE[0] + 0.0000006, CENTRE[1])
        # Then the first rounds onto the centre and the second does not
        assert codes(gps_signals(same, NOW, [OFFICE], [])) == ["copied_coordinates"]
        assert gps_signals(next_cell, NOW, [OFFICE], []) == []

    def test_both_coordinates_must_match(self):
        assert gps_signals(fix(CENTRE[0], CENTRE[1] + 0.00001), NOW, [OFFICE], []) == []

    def test_any_polygon_vertex_counts_and_the_inside_does_not(self):
        # Given an annex fenced by a polygon, and fixes at a corner and in the middle
        corner = fix(-8.6710, 115.2110)
        middle = fix(-8.6715, 115.2105)
        # Then the corner is copied (vertex of that site) and the middle is not
        assert only(gps_signals(corner, NOW, [OFFICE, ANNEX], []), "copied_coordinates") == {
            "code": "copied_coordinates", "effect": "flag", "site_id": "dps-annex",
            "matched": "vertex", "decimals": 6}
        assert gps_signals(middle, NOW, [OFFICE, ANNEX], []) == []

    def test_fewer_decimals_compare_a_larger_cell(self):
        # Given 5 decimals: a fix 3e-6 degrees (about 0.3 m) off the centre rounds onto it
        rules = SignalRules(copied_decimals=5)
        near = fix(CENTRE[0] + 0.000003, CENTRE[1])
        assert codes(gps_signals(near, NOW, [OFFICE], [], rules)) == ["copied_coordinates"]
        assert gps_signals(near, NOW, [OFFICE], []) == []


class TestRepeatedCoordinates:
    HERE = (-8.670437, 115.212688)

    def test_the_same_point_on_two_other_days_is_flagged_with_the_days(self):
        # Given the exact same 6-decimal point on 4 and 5 March (twice on the 5th)
        history = [prior(*self.HERE, days_ago=2), prior(*self.HERE, days_ago=1),
                   prior(*self.HERE, seconds_ago=86_000)]
        # When the employee checks in there again
        reasons = gps_signals(fix(*self.HERE), NOW, [OFFICE], history)
        # Then it is flagged: 2 distinct days, latest first
        assert reasons == [{"code": "repeated_coordinates", "effect": "flag", "days": 2,
                            "dates": ["2025-03-05", "2025-03-04"], "decimals": 6,
                            "min_days": 2}]

    def test_one_other_day_is_not_enough(self):
        history = [prior(*self.HERE, days_ago=1)]
        assert gps_signals(fix(*self.HERE), NOW, [OFFICE], history) == []

    def test_a_point_one_cell_away_does_not_count(self):
        history = [prior(self.HERE[0] + 0.000001, self.HERE[1], days_ago=d) for d in (1, 2, 3)]
        assert gps_signals(fix(*self.HERE), NOW, [OFFICE], history) == []

    def test_the_days_own_earlier_fixes_are_not_other_days(self):
        # Given an earlier fix today and one on another day, all at the same point
        history = [prior(*self.HERE, seconds_ago=3600, local_date="2025-03-06"),
                   prior(*self.HERE, days_ago=1)]
        now_fix = fix(*self.HERE)
        # Then with the record's local date, only one other day counts: not flagged
        assert gps_signals(now_fix, NOW, [OFFICE], history, local_date="2025-03-06") == []
        # And without it, this morning counts as a day
        assert codes(gps_signals(now_fix, NOW, [OFFICE], history)) == ["repeated_coordinates"]

    def test_at_most_five_dates_are_reported_but_all_are_counted(self):
        history = [prior(*self.HERE, days_ago=d) for d in range(1, 9)]
        r = only(gps_signals(fix(*self.HERE), NOW, [OFFICE], history), "repeated_coordinates")
        assert r["days"] == 8
        assert r["dates"] == ["2025-03-05", "2025-03-04", "2025-03-03", "2025-03-02",
                              "2025-03-01"]

    def test_fixes_after_now_are_ignored(self):
        history = [prior(*self.HERE, days_ago=-1), prior(*self.HERE, days_ago=1)]
        assert gps_signals(fix(*self.HERE), NOW, [OFFICE], history) == []

    def test_the_number_of_days_is_configurable(self):
        history = [prior(*self.HERE, days_ago=1)]
        rules = SignalRules(repeat_min_days=1)
        assert codes(gps_signals(fix(*self.HERE), NOW, [OFFICE], history, rules)) == [
            "repeated_coordinates"]


class TestImpossibleTravel:
    def travel(self, km, seconds, rules=None):
        start = (CENTRE[0] + 0.0001, CENTRE[1] + 0.0001)
        history = [prior(*moved(start, km, 1.0), seconds_ago=seconds)]
        return gps_signals(fix(*start), NOW, [OFFICE], history, rules or SignalRules())

    def test_faster_than_300_kmh_is_flagged_with_its_numbers(self):
        # Given a fix 300.5 km from one an hour ago (Denpasar to Lombok's east coast, say)
        reasons = self.travel(300.5, 3600)
        # Then it is flagged with the distance, time, speed, limit and the previous fix's time
        assert reasons == [{"code": "impossible_travel", "effect": "flag", "distance_km": 300.5,
                            "elapsed_s": 3600, "speed_kmh": 300.5, "max_speed_kmh": 300.0,
                            "previous_at": "2025-03-05T22:30:00+00:00"}]

    def test_just_under_the_limit_is_not(self):
        assert self.travel(299.5, 3600) == []

    def test_pairs_under_a_minute_apart_are_ignored_even_if_far(self):
        # Given 100 km in 59 s (a retry with a wild fix) and in 60 s
        assert self.travel(100, 59) == []
        assert codes(self.travel(100, 60)) == ["impossible_travel"]

    def test_pairs_under_a_kilometre_apart_are_ignored(self):
        # Given a strict 10 km/h limit and 60 s between fixes (0.99 km = 59 km/h)
        rules = SignalRules(max_speed_kmh=10.0)
        assert self.travel(0.99, 60, rules) == []
        assert codes(self.travel(1.01, 60, rules)) == ["impossible_travel"]

    def test_the_previous_fix_is_the_latest_before_now_in_any_order(self):
        # Given history out of order: 2 days ago 500 km away, 2 hours ago next door,
        # and a (bogus) future fix 500 km away
        here = (CENTRE[0] + 0.0001, CENTRE[1] + 0.0001)
        far = moved(here, 500, 1.5)
        history = [prior(*far, days_ago=-1), prior(*here, seconds_ago=7200),
                   prior(*far, days_ago=2)]
        # Then travel is measured from 2 hours ago: no reason
        assert gps_signals(fix(*here), NOW, [OFFICE], history) == []
        # And with the nearby fix gone, from the far one 2 days ago: 500 km in 48 h, no reason
        assert gps_signals(fix(*here), NOW, [OFFICE], history[::2]) == []


class TestEffectsAndRules:
    def test_an_agency_can_make_a_signal_reject_or_only_inform(self):
        rules = SignalRules(effects={"copied_coordinates": "reject",
                                     "implausible_accuracy": "info"})
        reasons = gps_signals(fix(*CENTRE, accuracy=0.0), NOW, [OFFICE], [], rules)
        assert [(r["code"], r["effect"]) for r in reasons] == [
            ("implausible_accuracy", "info"), ("copied_coordinates", "reject")]
        assert rules.effects["impossible_travel"] == "flag"

    def test_every_signal_can_fire_at_once_in_table_order_and_is_json(self):
        history = [prior(*CENTRE, days_ago=d) for d in (1, 2)]
        history.append(prior(*moved(CENTRE, 50), seconds_ago=120))
        reasons = gps_signals(fix(*CENTRE, accuracy=0.0), NOW, [OFFICE], history)
        assert codes(reasons) == list(GPS_CODES)
        assert json.loads(json.dumps(reasons)) == reasons

    def test_invalid_rules_list_every_problem(self):
        with pytest.raises(InvalidInput) as e:
            SignalRules(min_accuracy_m=-1, copied_decimals=3, repeat_decimals=True,
                        repeat_min_days=0, max_speed_kmh=float("nan"),
                        effects={"copied_coordinates": "block", "teleport": "flag"})
        assert e.value.code == "invalid_signal_rules"
        fields = [p["field"] for p in e.value.details["problems"]]
        assert fields == ["min_accuracy_m", "max_speed_kmh", "copied_decimals",
                          "repeat_decimals", "repeat_min_days", "effects.copied_coordinates",
                          "effects.teleport"]

    def test_rules_are_hashable_values(self):
        assert SignalRules() == SignalRules(effects={"impossible_travel": "flag"})
        assert hash(SignalRules()) == hash(SignalRules())

    def test_naive_times_are_refused(self):
        with pytest.raises(ValueError):
            PriorFix(*CENTRE, datetime(2025, 3, 5, 7, 0), "2025-03-05")
        with pytest.raises(ValueError):
            gps_signals(fix(), NOW.replace(tzinfo=None), [OFFICE], [])


def offset(north_m, east_m, origin=CENTRE):
    lat = origin[0] + north_m / M_PER_DEG
    return lat, origin[1] + east_m / (M_PER_DEG * 0.98857)  # cos(8.67 degrees)


# Distinct rows 0.2 m apart north-south (more than one 6-decimal cell, 0.11 m), each with its own
# east-west jitter: honest fixes of a person at a desk within 40 m of the centre, never on it.
honest_offsets = st.lists(
    st.tuples(st.integers(-200, 200).filter(bool), st.floats(-0.04, 0.04), st.floats(-40, 40)),
    min_size=1, max_size=20, unique_by=lambda t: t[0])


@settings(max_examples=40, deadline=None)
@given(offsets=honest_offsets, accuracy=st.floats(1.0, 60.0))
def test_jittered_honest_fixes_never_look_copied_or_repeated(offsets, accuracy):
    # Given an employee's daily fixes around the office, no two in the same 0.1 m cell
    points = [offset(row * 0.2 + dn, east) for row, dn, east in offsets]
    *earlier, today = points
    history = [prior(*p, days_ago=len(earlier) - i) for i, p in enumerate(earlier)]
    # When the last of them is judged against the earlier ones
    reasons = gps_signals(fix(*today, accuracy=accuracy), NOW, [OFFICE, ANNEX], history)
    # Then nothing fires: not copied, not repeated, and sitting still is not travel
    assert reasons == []


metres = st.floats(-450, 450)


@settings(max_examples=40, deadline=None)
@given(earlier=st.lists(st.tuples(st.integers(0, 3 * 86_400), metres, metres), min_size=1,
                        max_size=25),
       last=st.tuples(metres, metres), shuffle=st.randoms(use_true_random=False))
def test_a_stationary_employee_never_travels_impossibly(earlier, last, shuffle):
    # Given many check-ins at one place (fixes up to ~640 m off, however close in time)
    history, at = [], NOW
    for gap_s, north, east in earlier:
        at -= timedelta(seconds=gap_s)
        history.append(PriorFix(*offset(north, east), at, "2025-03-01"))
    shuffle.shuffle(history)
    # When one more check-in arrives from the same place
    reasons = gps_signals(fix(*offset(*last)), NOW, [], history)
    # Then impossible_travel never fires
    assert "impossible_travel" not in codes(reasons)


@settings(max_examples=60, deadline=None)
@given(km=st.floats(1.0, 3000.0), hours=st.floats(0.02, 72.0), bearing=st.floats(0, 6.28),
       shuffle=st.randoms(use_true_random=False))
def test_travel_fires_exactly_above_the_limit_whatever_the_history_order(km, hours, bearing,
                                                                         shuffle):
    # Given a previous fix km away, hours ago, among older fixes elsewhere, in any order
    here = fix()
    history = [prior(*moved((here.lat, here.lon), km, bearing), seconds_ago=hours * 3600),
               prior(*moved((here.lat, here.lon), 900, 2.0), days_ago=4),
               prior(here.lat, here.lon, days_ago=5)]
    shuffle.shuffle(history)
    reasons = gps_signals(here, NOW, [OFFICE], history)
    # Then it fires only when the speed is above 300 km/h (away from rounding at the limit)
    speed = km / hours
    if abs(speed - 300.0) > 0.01:
        assert ("impossible_travel" in codes(reasons)) == (speed > 300.0)


class TestDeviceSignals:
    def test_the_bound_device_raises_nothing(self):
        assert device_signals("phone-a", "phone-a", ["199001152015032001"]) == []

    def test_another_or_a_missing_device_id_is_a_new_device(self):
        for sent in ("phone-b", None):
            [r] = device_signals("phone-a", sent, [])
            assert r == {"code": "new_device", "effect": "flag", "device_id": sent, "bound": True}

    def test_nothing_is_new_before_a_device_is_bound(self):
        assert device_signals(None, "phone-b", ["199001152015032001"]) == []

    def test_a_device_two_employees_used_today_is_shared(self):
        [r] = device_signals("phone-a", "phone-a", ["199001152015032001", "199208202019021003"])
        assert (r["code"], r["employees"]) == ("shared_device", 2)

    def test_the_effect_is_configurable(self):
        [r] = device_signals("a", "b", [], SignalRules(effects={"new_device": "reject"}))
        assert r["effect"] == "reject"


class TestCaptureSignals:
    from datetime import datetime as _dt, timedelta as _td, timezone as _tz
    OPENED = _dt(2026, 3, 2, 23, 44, 0, tzinfo=_tz.utc)  # 07:44 WITA
    NOW = OPENED + _td(minutes=1)

    def test_a_photo_taken_during_the_session_raises_nothing(self):
        from chalicelib.policy.signals import capture_signals
        taken = self._dt(2026, 3, 3, 7, 44, 30)  # naive: the phone's local time, read in WITA
        assert capture_signals(taken, False, self.OPENED, self.NOW, "Asia/Makassar") == []

    def test_a_photo_taken_yesterday_is_a_stale_capture(self):
        from chalicelib.policy.signals import capture_signals
        taken = self._dt(2026, 3, 2, 7, 44, 30, tzinfo=self._tz(self._td(hours=8)))
        [r] = capture_signals(taken, True, self.OPENED, self.NOW, "Asia/Makassar")
        assert (r["code"], r["effect"], r["offset_known"], r["tolerance_s"]) == ("stale_capture", "flag", True, 600.0)

    def test_the_tolerance_absorbs_a_drifting_phone_clock(self):
        from chalicelib.policy.signals import capture_signals
        taken = self.OPENED - self._td(minutes=9)
        assert capture_signals(taken, True, self.OPENED, self.NOW, "Asia/Makassar") == []
        assert capture_signals(self.OPENED - self._td(minutes=11), True, self.OPENED, self.NOW, "Asia/Makassar")

    def test_no_capture_time_raises_nothing(self):
        from chalicelib.policy.signals import capture_signals
        assert capture_signals(None, False, self.OPENED, self.NOW, "Asia/Makassar") == []
