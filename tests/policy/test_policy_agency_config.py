"""The agency's calendar document and TL/PSW table variants (issue 12)."""
from datetime import date, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.common.errors import HadirError
from chalicelib.policy.calendar_config import (DECREE_CUTI_BERSAMA, calendar_from_document, default_calendar,
                                               default_document)
from chalicelib.policy.time_rules import LatenessTable, Tier


def _problems(doc):
    with pytest.raises(HadirError) as e:
        calendar_from_document(doc)
    assert e.value.code == "invalid_calendar"
    return [(p["field"], p["code"]) for p in e.value.details["problems"]]


# --- calendar ----------------------------------------------------------------------------------
def test_the_default_cuti_bersama_are_the_decrees_10_plus_1_in_2025_and_8_in_2026():
    # Given the decree list, Then 2025 has the decree's 10 days plus 18 August (the amendment)
    assert len(DECREE_CUTI_BERSAMA[2025]) == 11 and len(DECREE_CUTI_BERSAMA[2026]) == 8
    assert ("2025-08-18", "Hari Kemerdekaan Republik Indonesia") in DECREE_CUTI_BERSAMA[2025]


@pytest.mark.parametrize("year", [2025, 2026, 2027])
def test_the_decree_dates_match_the_holidays_package_government_category(year):
    package = holidays.country_holidays("ID", years=year, categories=("government",))
    assert {date.fromisoformat(d) for d, _ in DECREE_CUTI_BERSAMA[year]} == set(package)


def test_the_default_calendar_makes_cuti_bersama_non_working():
    cal = default_calendar()
    status = cal.day_status(date(2026, 3, 23))
    assert (status.working, status.reason) == (False, "cuti_bersama")
    assert "Idul Fitri" in status.name
    assert cal.day_status(date(2026, 3, 25)).working


def test_a_listed_year_replaces_the_package_list_and_others_keep_it():
    # Given an agency whose 2026 decree (as it reads it) has only Imlek
    cal = calendar_from_document({"years": {"2026": {"cuti_bersama": [
        {"date": "2026-02-16", "name": "Cuti Bersama Imlek"}]}}})
    # Then the package's other 2026 days are working days, and 2025 keeps the package's
    assert cal.day_status(date(2026, 2, 16)).reason == "cuti_bersama"
    assert cal.day_status(date(2026, 3, 23)).working
    assert cal.day_status(date(2025, 4, 2)).reason == "cuti_bersama"


def test_a_year_with_only_agency_holidays_keeps_the_package_cuti_bersama():
    cal = calendar_from_document({"years": {"2026": {"agency_holidays": [
        {"date": "2026-07-01", "name": "HUT Dinas"}]}}})
    assert cal.day_status(date(2026, 3, 23)).reason == "cuti_bersama"
    assert cal.day_status(date(2026, 7, 1)).reason == "agency_holiday"


def test_regional_holidays_hold_for_their_province_only():
    # Given Bali's anniversary as a Bali (51) regional holiday
    cal = calendar_from_document({"years": {"2026": {"regional_holidays": {"51": [
        {"date": "2026-08-14", "name": "HUT Provinsi Bali"}]}}}})
    assert cal.day_status(date(2026, 8, 14), province="51").reason == "regional_holiday"
    assert cal.day_status(date(2026, 8, 14)).working  # agency-wide: a working day
    assert cal.day_status(date(2026, 8, 14), province="52").working


def test_an_extra_working_day_wins_over_cuti_bersama():
    cal = calendar_from_document({"years": {"2026": {"extra_working_days": [
        {"date": "2026-03-24", "name": "Pelayanan tetap buka"}]}}})
    assert cal.day_status(date(2026, 3, 24)).working


@pytest.mark.parametrize("doc, expected", [
    ({"years": {"2026": {"cuti_bersama": [{"date": "2025-12-31", "name": "x"}]}}},
     ("years.2026.cuti_bersama[0]", "outside_year")),
    ({"years": {"2026": {"cuti_bersama": [{"date": "2026-02-30", "name": "x"}]}}},
     ("years.2026.cuti_bersama[0]", "not_a_date")),
    ({"years": {"2026": {"agency_holidays": [{"date": "2026-07-01", "name": " "}]}}},
     ("years.2026.agency_holidays[0]", "missing_or_long_name")),
    ({"years": {"2026": {"cuti_bersama": [{"date": "2026-02-16", "name": "a"},
                                          {"date": "2026-02-16", "name": "b"}]}}},
     ("years.2026.cuti_bersama[1]", "duplicate_date")),
    ({"years": {"20x6": {}}}, ("years.20x6", "not_a_year")),
    ({"years": {"2026": {"regional_holidays": {"Bali": []}}}},
     ("years.2026.regional_holidays.Bali", "not_a_province_code")),
    ({"years": {"2026": {"cuti_bersama": [{"date": "2026-02-16", "name": "a"}],
                         "extra_working_days": [{"date": "2026-02-16", "name": "b"}]}}},
     ("years.2026.extra_working_days", "also_a_holiday")),
    ({"years": []}, ("years", "not_an_object")),
])
def test_a_bad_calendar_is_refused_with_every_problem(doc, expected):
    assert expected in _problems(doc)


def test_the_default_document_is_itself_valid_and_round_trips():
    assert calendar_from_document(default_document()).cuti_bersama_years == {2025, 2026, 2027}


# --- lateness table ----------------------------------------------------------------------------
ELSEWHERE = LatenessTable(late=(Tier("TL1", 1, 30, 0.5), Tier("TL2", 31, 60, 1.0),
                                Tier("TL3", 61, 90, 1.25), Tier("TL4", 91, None, 2.5)),
                          daily_cap_percent=3.0, source="agency elsewhere")
TWO_TIERS = LatenessTable(late=(Tier("TL1", 1, 60, 0.5), Tier("TL2", 61, None, 1.0)),
                          early_leave=(Tier("PSW1", 1, 60, 0.5), Tier("PSW2", 61, None, 1.0)))


def test_tl3_at_1_25_and_tl4_at_2_5_with_a_daily_cap():
    assert ELSEWHERE.classify_late(75)["percent"] == 1.25
    assert ELSEWHERE.classify_late(120)["percent"] == 2.5
    # Late TL4 (2.5) and leaving PSW4 early (2.0) in one day: capped at 3 %
    assert ELSEWHERE.day_percent([2.5, ELSEWHERE.classify_early_leave(95)["percent"]]) == 3.0
    assert ELSEWHERE.day_percent([0.5, 1.0]) == 1.5
    assert LatenessTable().day_percent([2.0, 2.0]) == 4.0  # no cap by default


def test_a_two_tier_table():
    assert [TWO_TIERS.classify_late(m)["tier"] for m in (1, 60, 61, 600)] == ["TL1", "TL1", "TL2", "TL2"]
    assert TWO_TIERS.missing_record("out") == {"tier": "PSW2", "min_minutes": 61, "max_minutes": None,
                                               "percent": 1.0, "missing_record": True}


def test_grace_minutes_are_not_late_and_past_them_minutes_count_from_work_start():
    table = LatenessTable(grace_minutes=5)
    assert table.classify_late(5) is None
    assert table.classify_late(6)["tier"] == "TL1"
    assert table.classify_late(31)["tier"] == "TL2"
    assert table.classify_early_leave(3)["tier"] == "PSW1"  # grace is for lateness only


def test_a_missing_checkout_can_be_left_uncounted():
    assert LatenessTable().missing_record("out")["tier"] == "PSW4"
    table = LatenessTable(missing_checkout_counts=False)
    assert table.missing_record("out") is None
    assert table.missing_record("in")["tier"] == "TL4"


def test_the_table_round_trips_through_its_document():
    for t in (LatenessTable(), ELSEWHERE, TWO_TIERS, LatenessTable(grace_minutes=10, missing_checkout_counts=False)):
        back = LatenessTable.from_dict(t.to_dict())
        assert back == t


@pytest.mark.parametrize("kw, field, code", [
    ({"grace_minutes": -1}, "grace_minutes", "out_of_range"),
    ({"grace_minutes": 121}, "grace_minutes", "out_of_range"),
    ({"daily_cap_percent": 101}, "daily_cap_percent", "not_a_percent"),
    ({"missing_checkout_counts": "yes"}, "missing_checkout_counts", "not_a_boolean"),
    ({"late": (Tier("TL1", 1, 30, 1.0), Tier("TL2", 31, None, 0.5))}, "late[1]", "percent_below_previous_tier"),
    ({"late": tuple(Tier(f"TL{i}", i, i, 1) for i in range(1, 12)) + (Tier("TLx", 12, None, 1),)},
     "late", "too_many_tiers"),
])
def test_bad_table_settings_are_refused(kw, field, code):
    with pytest.raises(HadirError) as e:
        LatenessTable(**kw)
    assert e.value.code == "invalid_lateness_table"
    assert {"field": field, "code": code} in [{k: p[k] for k in ("field", "code")}
                                               for p in e.value.details["problems"]]


# --- properties against an independent oracle --------------------------------------------------
@st.composite
def tables(draw):
    """Any valid table: 1-6 tiers of random widths, non-decreasing percents, grace 0-30."""
    n = draw(st.integers(1, 6))
    widths = draw(st.lists(st.integers(1, 90), min_size=n - 1, max_size=n - 1))
    percents = sorted(draw(st.lists(st.floats(0, 10, allow_nan=False), min_size=n, max_size=n)))
    tiers, lo = [], 1
    for i in range(n):
        hi = lo + widths[i] - 1 if i < n - 1 else None
        tiers.append(Tier(f"TL{i + 1}", lo, hi, percents[i]))
        lo = (hi or 0) + 1
    return LatenessTable(late=tuple(tiers), grace_minutes=draw(st.integers(0, 30)))


def _oracle(table, minutes):
    """Independent: the bounds as a list of cut points, the tier the count of cut points passed."""
    if minutes <= max(0, table.grace_minutes):
        return None
    cuts = [t.max_minutes for t in table.late[:-1]]
    return table.late[sum(1 for c in cuts if minutes > c)].tier


@settings(max_examples=200, deadline=None)
@given(tables(), st.integers(-10, 1000))
def test_every_minute_count_maps_to_exactly_one_tier_or_none(table, minutes):
    got = table.classify_late(minutes)
    matching = [t for t in table.late if minutes >= t.min_minutes
                and (t.max_minutes is None or minutes <= t.max_minutes)]
    assert len(matching) == (1 if minutes >= 1 else 0)
    assert (got["tier"] if got else None) == _oracle(table, minutes)


@settings(max_examples=200, deadline=None)
@given(tables(), st.integers(0, 1000), st.integers(0, 1000))
def test_the_percent_never_falls_as_lateness_grows(table, a, b):
    lo, hi = sorted((a, b))
    p = [(table.classify_late(m) or {"percent": 0.0})["percent"] for m in (lo, hi)]
    assert p[0] <= p[1]


@settings(max_examples=100, deadline=None)
@given(st.dates(date(2025, 1, 1), date(2027, 12, 31)))
def test_the_default_calendar_agrees_with_the_package_on_every_day_2025_2027(d):
    from chalicelib.policy.calendar import WorkCalendar
    assert default_calendar().day_status(d) == WorkCalendar().day_status(d)


def test_working_days_of_march_2026_skip_idul_fitri_and_cuti_bersama():
    start = date(2026, 3, 16)
    days = default_calendar().working_days(start, start + timedelta(11))
    assert [d.day for d in days] == [16, 17, 25, 26, 27]
