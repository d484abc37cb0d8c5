"""Office hours in local time, and the TL/PSW lateness table."""
from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.common.errors import HadirError, Kind
from chalicelib.policy import LatenessTable, OfficeRules, Tier, local_moment

UTC = timezone.utc


class TestLocalMoment:
    def test_a_utc_evening_is_the_next_morning_in_makassar(self):
        # Given 23:30 UTC on Sunday 2 March 2025, When read in WITA (UTC+8)
        # Then it is 07:30 on Monday 3 March: the record belongs to the 3rd
        assert local_moment(datetime(2025, 3, 2, 23, 30, tzinfo=UTC), "Asia/Makassar") == (
            date(2025, 3, 3), time(7, 30))

    @pytest.mark.parametrize("tz, hour", [("Asia/Jakarta", 7), ("Asia/Pontianak", 7),
                                          ("Asia/Makassar", 8), ("Asia/Jayapura", 9)])
    def test_wib_wita_wit_offsets(self, tz, hour):
        assert local_moment(datetime(2025, 7, 1, 0, 0, 59, 999, tzinfo=UTC), tz) == (
            date(2025, 7, 1), time(hour, 0, 59))

    def test_naive_datetimes_are_refused(self):
        with pytest.raises(ValueError):
            local_moment(datetime(2025, 3, 3, 0, 0), "Asia/Jakarta")

    @settings(max_examples=60, deadline=None)
    @given(st.datetimes(datetime(2000, 1, 1), datetime(2040, 1, 1)),
           st.sampled_from([("Asia/Jakarta", 7), ("Asia/Makassar", 8), ("Asia/Jayapura", 9)]))
    def test_local_time_is_utc_plus_the_fixed_offset(self, naive_utc, tz_offset):
        # Given any instant, Then Indonesian local time is UTC + 7/8/9 h (no daylight saving)
        tz, offset = tz_offset
        d, t = local_moment(naive_utc.replace(tzinfo=UTC), tz)
        expected = naive_utc + timedelta(hours=offset)
        assert (d, t) == (expected.date(), expected.time().replace(microsecond=0))


class TestOfficeRules:
    def test_defaults(self):
        r = OfficeRules("Asia/Makassar")
        assert (r.checkin_window, r.work_start, r.work_end, r.checkout_window) == (
            ("06:00", "10:00"), "07:30", "16:00", ("16:00", "20:00"))

    def test_denpasar_rules_round_trip(self):
        # Given Denpasar's published hours: check-in 06:00-08:00, work 08:00-15:30,
        # check-out 15:30-18:00 WITA
        d = {"timezone": "Asia/Makassar", "checkin_window": ["06:00", "08:00"],
             "work_start": "08:00", "work_end": "15:30", "checkout_window": ["15:30", "18:00"],
             "work_end_by_weekday": {"4": "16:00"}}
        rules = OfficeRules.from_dict(d)
        assert rules.to_dict() == d
        assert rules.end_on(date(2025, 3, 7)) == time(16, 0)  # a Friday
        assert rules.end_on(date(2025, 3, 6)) == time(15, 30)

    @pytest.mark.parametrize("changes, field, code", [
        ({"work_start": "7:30"}, "work_start", "not_hh_mm"),
        ({"work_start": "24:00"}, "work_start", "not_hh_mm"),
        ({"work_end": 1600}, "work_end", "not_hh_mm"),
        ({"checkin_window": ("10:00", "06:00")}, "checkin_window", "start_not_before_end"),
        ({"checkout_window": ("16:00", "16:00")}, "checkout_window", "start_not_before_end"),
        ({"work_start": "05:30"}, "work_start", "before_checkin_window"),
        ({"work_end": "07:00"}, "work_end", "not_after_work_start"),
        ({"work_end": "21:00"}, "work_end", "after_checkout_window_end"),
        ({"checkin_window": ("06:00",)}, "checkin_window", "not_a_pair"),
        ({"timezone": "WITA"}, "timezone", "unknown_timezone"),
        ({"work_end_by_weekday": {9: "16:00"}}, "work_end_by_weekday.9", "not_a_weekday"),
        ({"work_end_by_weekday": {4: "06:00"}}, "work_end_by_weekday.4", "not_after_work_start"),
    ])
    def test_invalid_rules_name_the_field(self, changes, field, code):
        args = {"timezone": "Asia/Jakarta", **changes}
        with pytest.raises(HadirError) as e:
            OfficeRules(**args)
        assert e.value.code == "invalid_time_rules" and e.value.kind == Kind.INVALID
        assert {"field": field, "code": code} in [
            {"field": p["field"], "code": p["code"]} for p in e.value.details["problems"]]

    def test_from_dict_needs_a_timezone(self):
        with pytest.raises(HadirError) as e:
            OfficeRules.from_dict({"work_start": "07:30"})
        assert e.value.code == "invalid_time_rules"


class TestLatenessTable:
    @pytest.mark.parametrize("minutes, tier, percent", [
        (0, None, None), (-5, None, None), (1, "TL1", 0.5), (30, "TL1", 0.5), (31, "TL2", 1.0),
        (60, "TL2", 1.0), (61, "TL3", 1.5), (90, "TL3", 1.5), (91, "TL4", 2.0), (600, "TL4", 2.0),
    ])
    def test_permentan_68_2012_tiers(self, minutes, tier, percent):
        t = LatenessTable().classify_late(minutes)
        assert (t and t["tier"], t and t["percent"]) == (tier, percent)

    def test_early_leave_uses_psw_and_absence_costs_4_percent(self):
        table = LatenessTable()
        assert table.classify_early_leave(45)["tier"] == "PSW2"
        assert table.absent() == {"tier": "absent", "percent": 4.0}
        assert table.missing_record("out") == {"tier": "PSW4", "min_minutes": 91,
                                               "max_minutes": None, "percent": 2.0,
                                               "missing_record": True}

    def test_an_agency_with_two_tiers(self):
        # Given an agency with TL1 up to 60 min at 0.5 % and TL2 beyond at 1 %
        table = LatenessTable.from_dict({"late": [
            {"tier": "TL1", "min_minutes": 1, "max_minutes": 60, "percent": 0.5},
            {"tier": "TL2", "min_minutes": 61, "max_minutes": None, "percent": 1.0}]})
        assert table.classify_late(75)["tier"] == "TL2"
        assert table.classify_early_leave(75)["tier"] == "PSW3"  # default PSW kept
        assert LatenessTable.from_dict(table.to_dict()) == table

    @pytest.mark.parametrize("late, code", [
        ([], "empty"),
        ([Tier("TL1", 0, None, 1)], "not_contiguous"),
        ([Tier("TL1", 1, 30, 1), Tier("TL2", 35, None, 1)], "not_contiguous"),
        ([Tier("TL1", 1, 30, 1)], "last_tier_must_be_open_ended"),
        ([Tier("TL1", 1, None, 1), Tier("TL2", 2, None, 1)], "invalid_max_minutes"),
        ([Tier("TL1", 1, None, 101)], "not_a_percent"),
        ([Tier("TL1", 1, 5, 1), Tier("TL1", 6, None, 1)], "missing_or_duplicate_tier_name"),
    ])
    def test_malformed_tables_are_refused(self, late, code):
        with pytest.raises(HadirError) as e:
            LatenessTable(late=late)
        assert e.value.code == "invalid_lateness_table"
        assert code in [p["code"] for p in e.value.details["problems"]]

    def test_malformed_tier_dict(self):
        with pytest.raises(HadirError) as e:
            LatenessTable.from_dict({"late": [{"min_minutes": 1}]})
        assert e.value.code == "invalid_lateness_table"

    @settings(max_examples=60, deadline=None)
    @given(st.integers(1, 2000), st.integers(0, 2000))
    def test_tiers_cover_every_minute_and_never_go_down(self, a, b):
        # Given any two positive lateness values, Then both have a tier, and the later one
        # costs at least as much
        table = LatenessTable()
        lo, hi = sorted((a, max(b, 1)))
        t_lo, t_hi = table.classify_late(lo), table.classify_late(hi)
        assert t_lo["min_minutes"] <= lo and (t_lo["max_minutes"] or lo) >= lo
        assert t_hi["percent"] >= t_lo["percent"]
