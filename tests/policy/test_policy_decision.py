"""The verdict on one check-in or check-out, following the rule table in decision.py."""
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from haversine import Unit, inverse_haversine
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.common.errors import HadirError
from chalicelib.geo import Circle, Position, Site, locate
from chalicelib.policy import LatenessTable, OfficeRules, WorkCalendar, decide_checkin

UTC = timezone.utc
WITA = timezone(timedelta(hours=8))
DENPASAR = (-8.6705, 115.2126)  # a Denpasar city office (approximate)
OFFICE = Site("dps-office", "office", "WFO", Circle(*DENPASAR, 50), "Asia/Makassar", "opd-dps")
RULES = OfficeRules("Asia/Makassar")  # check-in 06:00-10:00, work 07:30-16:00, out 16:00-20:00
CALENDAR = WorkCalendar()
TABLE = LatenessTable()
MATCH = {"score": 0.71, "threshold": 0.45, "decision": "match"}
NO_MATCH = {"score": 0.21, "threshold": 0.45, "decision": "no_match"}
MONDAY = date(2025, 3, 3)


def wita(hh, mm, ss=0, day=MONDAY):
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=WITA).astimezone(UTC)


def decide(now, *, kind="in", metres=5.0, accuracy=10.0, face=MATCH, is_mock=False,
           captured_at=None, **kw):
    lat, lon = inverse_haversine(DENPASAR, metres, 0.0, unit=Unit.METERS)
    position = Position(lat, lon, accuracy, captured_at or now - timedelta(seconds=5), is_mock)
    geo = locate(position, [OFFICE])
    return decide_checkin(kind=kind, now_utc=now, rules=kw.pop("rules", RULES),
                          calendar=kw.pop("calendar", CALENDAR), face=face, geo=geo,
                          position=position, lateness=TABLE, **kw)


def reason(d, code):
    return next(r for r in d.reasons if r["code"] == code)


class TestCheckIn:
    def test_on_time_inside_with_a_matching_face_is_accepted_with_its_reasons(self):
        # Given a matching selfie 5 m from the office centre at 07:20 WITA on a Monday
        d = decide(wita(7, 20))
        # Then accepted, for that local day and time, with every positive reason
        assert (d.decision, d.local_date, d.local_time) == ("accepted", "2025-03-03", "07:20:00")
        assert (d.work_mode, d.site_id, d.late_minutes, d.tier) == ("WFO", "dps-office", 0, None)
        assert d.codes == ["face_match", "inside_geofence", "on_time"]
        assert reason(d, "face_match") == {"code": "face_match", "effect": "info",
                                           "score": 0.71, "threshold": 0.45}

    def test_a_quarter_hour_late_is_accepted_as_tl1(self):
        d = decide(wita(7, 45, 59))
        assert (d.decision, d.late_minutes, d.tier) == ("accepted", 15, "TL1")
        assert reason(d, "late") == {"code": "late", "effect": "info", "minutes": 15,
                                     "tier": "TL1", "percent": 0.5, "work_start": "07:30",
                                     "after_checkin_window": False}

    def test_the_start_minute_itself_is_on_time(self):
        assert decide(wita(7, 30, 59)).codes[-1] == "on_time"

    def test_after_the_window_closes_is_still_accepted_but_tl4(self):
        # Given a check-in at 10:30, after the 06:00-10:00 window
        d = decide(wita(10, 30))
        # Then accepted, 180 minutes late (against 07:30), TL4
        assert (d.decision, d.late_minutes, d.tier) == ("accepted", 180, "TL4")
        assert reason(d, "late")["after_checkin_window"] is True

    def test_before_the_window_opens_is_rejected(self):
        d = decide(wita(5, 50))
        assert d.decision == "rejected"
        assert reason(d, "outside_checkin_window") == {
            "code": "outside_checkin_window", "effect": "reject", "local_time": "05:50:00",
            "window_start": "06:00", "window_end": "10:00"}

    def test_a_second_check_in_is_rejected(self):
        d = decide(wita(7, 0), already_checked_in=True)
        assert d.decision == "rejected" and "already_checked_in" in d.codes

    def test_the_day_is_the_office_day_not_the_utc_day(self):
        # Given 23:45 UTC on Sunday 2 March = 07:45 WITA on Monday 3 March
        d = decide(datetime(2025, 3, 2, 23, 45, tzinfo=UTC))
        # Then it is Monday's check-in, 15 minutes late, not a weekend record
        assert (d.local_date, d.late_minutes, d.decision) == ("2025-03-03", 15, "accepted")

    def test_a_papua_office_uses_wit(self):
        rules = OfficeRules("Asia/Jayapura")
        d = decide(datetime(2025, 3, 2, 22, 40, tzinfo=UTC), rules=rules)  # 07:40 WIT
        assert (d.local_time, d.late_minutes, d.timezone) == ("07:40:00", 10, "Asia/Jayapura")


class TestEvidence:
    def test_face_mismatch_is_rejected_with_score_and_threshold(self):
        d = decide(wita(7, 0), face=NO_MATCH)
        assert d.decision == "rejected"
        assert reason(d, "face_mismatch") == {"code": "face_mismatch", "effect": "reject",
                                              "score": 0.21, "threshold": 0.45}

    def test_no_face_result_is_flagged(self):
        assert decide(wita(7, 0), face=None).decision == "flagged"

    def test_mock_location_is_rejected_even_if_all_else_is_fine(self):
        d = decide(wita(7, 0), is_mock=True)
        assert d.decision == "rejected" and "mock_location" in d.codes

    def test_outside_the_fence_is_rejected_with_the_distance(self):
        d = decide(wita(7, 0), metres=800)
        assert d.decision == "rejected" and d.work_mode is None and d.site_id is None
        r = reason(d, "outside_geofence")
        assert (r["nearest_site_id"], r["distance_m"], r["effect"]) == ("dps-office", 800.0,
                                                                        "reject")

    def test_a_30m_fix_near_the_edge_of_a_50m_fence_is_flagged(self):
        d = decide(wita(7, 0), metres=35, accuracy=30)
        assert d.decision == "flagged" and reason(d, "location_uncertain")["effect"] == "flag"

    def test_a_stale_fix_is_flagged(self):
        now = wita(7, 0)
        d = decide(now, captured_at=now - timedelta(minutes=5))
        assert reason(d, "stale_location") == {"code": "stale_location", "effect": "flag",
                                               "age_s": 300, "max_age_s": 120}
        assert d.decision == "flagged"

    def test_a_fix_from_the_future_is_clock_skew(self):
        now = wita(7, 0)
        d = decide(now, captured_at=now + timedelta(seconds=90))
        assert reason(d, "clock_skew")["ahead_s"] == 90 and d.decision == "flagged"

    def test_a_fix_a_few_seconds_ahead_is_tolerated(self):
        now = wita(7, 0)
        assert decide(now, captured_at=now + timedelta(seconds=20)).decision == "accepted"


class TestNonWorkingDays:
    def test_saturday_is_flagged_and_not_late(self):
        d = decide(wita(9, 0, day=date(2025, 3, 1)))
        assert (d.decision, d.late_minutes, d.tier) == ("flagged", 0, None)
        assert reason(d, "weekend")["effect"] == "flag"

    def test_a_second_check_in_on_a_weekend_is_still_rejected(self):
        d = decide(wita(9, 0, day=date(2025, 3, 1)), already_checked_in=True)
        assert d.decision == "rejected" and "already_checked_in" in d.codes

    def test_idul_fitri_is_a_national_holiday(self):
        d = decide(wita(7, 0, day=date(2025, 3, 31)))
        r = reason(d, "national_holiday")
        assert "Idul Fitri" in r["name"] and d.decision == "flagged"


class TestCheckOut:
    def test_leaving_an_hour_early_is_psw2(self):
        d = decide(wita(15, 0), kind="out", already_checked_in=True)
        assert (d.decision, d.early_leave_minutes, d.tier) == ("accepted", 60, "PSW2")
        assert reason(d, "early_leave")["work_end"] == "16:00"

    def test_on_time_check_out(self):
        d = decide(wita(16, 5), kind="out", already_checked_in=True)
        assert d.decision == "accepted" and d.codes[-1] == "on_time"

    def test_after_the_checkout_window_is_flagged(self):
        d = decide(wita(20, 30), kind="out", already_checked_in=True)
        assert d.decision == "flagged" and "outside_checkout_window" in d.codes

    def test_check_out_without_check_in_is_flagged(self):
        d = decide(wita(16, 5), kind="out")
        assert d.decision == "flagged" and "no_checkin" in d.codes

    def test_friday_ends_later_where_configured(self):
        rules = OfficeRules("Asia/Makassar", work_end_by_weekday={4: "16:30"})
        d = decide(wita(16, 10, day=date(2025, 3, 7)), kind="out", rules=rules,
                   already_checked_in=True)
        assert (d.early_leave_minutes, d.tier) == (20, "PSW1")


def test_unknown_kind_is_refused():
    with pytest.raises(HadirError) as e:
        decide(wita(7, 0), kind="lunch")
    assert e.value.code == "invalid_kind"


def test_to_dict_is_json_serialisable():
    d = decide(wita(7, 45)).to_dict()
    assert json.loads(json.dumps(d))["tier"] == "TL1"


@settings(max_examples=60, deadline=None)
@given(seconds=st.integers(0, 24 * 3600 - 1))
def test_check_in_time_rules_over_a_whole_working_day(seconds):
    # Given an otherwise perfect check-in at any second of a working Monday (WITA)
    now = wita(0, 0) + timedelta(seconds=seconds)
    d = decide(now)
    # Then before 06:00 it is rejected; from then on accepted, late by the whole minutes
    # since 07:30, with the table's tier
    if seconds < 6 * 3600:
        assert d.decision == "rejected" and d.late_minutes == 0
        return
    assert d.decision == "accepted"
    expected_late = max(0, (seconds - 7 * 3600 - 30 * 60) // 60)
    assert d.late_minutes == expected_late
    t = TABLE.classify_late(expected_late)
    assert d.tier == (t["tier"] if t else None)


@settings(max_examples=50, deadline=None)
@given(hh=st.integers(6, 21), face=st.sampled_from([MATCH, NO_MATCH, None]),
       metres=st.floats(0, 500), accuracy=st.floats(0, 150), is_mock=st.booleans(),
       kind=st.sampled_from(["in", "out"]), checked=st.booleans())
def test_the_verdict_is_the_worst_effect_and_a_mock_never_helps(hh, face, metres, accuracy,
                                                                 is_mock, kind, checked):
    now = wita(hh, 0)
    d = decide(now, face=face, metres=metres, accuracy=accuracy, is_mock=is_mock, kind=kind,
               already_checked_in=checked)
    effects = {r["effect"] for r in d.reasons}
    expected = ("rejected" if "reject" in effects else "flagged" if "flag" in effects
                else "accepted")
    assert d.decision == expected
    mocked = decide(now, face=face, metres=metres, accuracy=accuracy, is_mock=True, kind=kind,
                    already_checked_in=checked)
    assert mocked.decision == "rejected"


class TestUnverifiablePhoto:
    def test_a_face_error_is_an_input_that_rejects_with_its_code(self):
        from chalicelib.policy.decision import FaceFailure
        # Given a selfie in which no face was found, on time and inside the fence
        d = decide(wita(7, 20), face=FaceFailure("no_face", "No face was found"))
        # Then the decision itself is rejected, the face error first among its reasons
        assert d.decision == "rejected"
        assert d.reasons[0] == {"code": "no_face", "effect": "reject", "message": "No face was found"}
        assert "face_not_verified" not in d.codes and "inside_geofence" in d.codes
