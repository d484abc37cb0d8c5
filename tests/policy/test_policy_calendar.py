"""Working days: weekends, national holidays, cuti bersama and agency holidays."""
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.common.errors import HadirError
from chalicelib.policy import DayStatus, WorkCalendar


@pytest.fixture(scope="module")
def cal():
    return WorkCalendar()


def test_an_ordinary_monday_is_a_working_day(cal):
    assert cal.day_status(date(2025, 3, 3)) == DayStatus(True, "working_day", None)


def test_saturday_is_weekend(cal):
    assert cal.day_status(date(2025, 3, 1)) == DayStatus(False, "weekend", None)


def test_idul_fitri_2025_is_a_national_holiday(cal):
    # Given 31 March 2025 (Idul Fitri), Then it is a national holiday with its name
    status = cal.day_status(date(2025, 3, 31))
    assert (status.working, status.reason) == (False, "national_holiday")
    assert "Idul Fitri" in status.name


def test_independence_day_on_a_sunday_is_still_reported_as_the_holiday(cal):
    assert cal.day_status(date(2025, 8, 17)).reason == "national_holiday"


def test_cuti_bersama_from_the_package(cal):
    # Given 2 April 2025, cuti bersama for Idul Fitri (SKB 2025)
    assert cal.day_status(date(2025, 4, 2)).reason == "cuti_bersama"


def test_cuti_bersama_can_be_configured_or_the_package_list_turned_off():
    # Given an agency that takes its cuti bersama list from the decree itself
    cal = WorkCalendar(cuti_bersama={date(2025, 4, 8): "Cuti Bersama (SKB revisi)"},
                       package_cuti_bersama=False)
    # Then its own date counts and the package's does not
    assert cal.day_status(date(2025, 4, 8)) == DayStatus(False, "cuti_bersama",
                                                         "Cuti Bersama (SKB revisi)")
    assert cal.day_status(date(2025, 4, 2)).working


def test_agency_holiday_and_extra_working_day():
    # Given Denpasar's city anniversary as an agency holiday, and a Saturday made a working day
    cal = WorkCalendar(extra_holidays={date(2025, 2, 27): "HUT Kota Denpasar"},
                       extra_working_days={date(2025, 3, 8): "Pengganti hari kerja"})
    assert cal.day_status(date(2025, 2, 27)) == DayStatus(False, "agency_holiday",
                                                          "HUT Kota Denpasar")
    assert cal.day_status(date(2025, 3, 8)) == DayStatus(True, "working_day",
                                                         "Pengganti hari kerja")


def test_six_day_week_for_schools():
    cal = WorkCalendar(workdays=range(6))
    assert cal.day_status(date(2025, 3, 1)).working
    assert not cal.day_status(date(2025, 3, 2)).working


def test_invalid_workdays_are_refused():
    with pytest.raises(HadirError) as e:
        WorkCalendar(workdays=(0, 7))
    assert e.value.code == "invalid_calendar"


def test_working_days_of_a_holiday_week(cal):
    # Given the Idul Fitri week of 2025 (31 Mar holiday, 1 Apr holiday, 2-4 Apr cuti bersama)
    # Then there is no working day from Monday to Friday
    assert cal.working_days(date(2025, 3, 31), date(2025, 4, 6)) == []
    assert cal.working_days(date(2025, 3, 3), date(2025, 3, 9)) == [
        date(2025, 3, d) for d in (3, 4, 5, 6, 7)]


@settings(max_examples=60, deadline=None)
@given(st.dates(date(2020, 1, 1), date(2030, 12, 31)))
def test_weekends_never_work_and_working_days_are_weekdays(d):
    status = WorkCalendar().day_status(d)
    if d.weekday() >= 5:
        assert not status.working
    if status.working:
        assert status.reason == "working_day" and d.weekday() < 5
    else:
        assert status.reason in {"weekend", "national_holiday", "cuti_bersama"}
