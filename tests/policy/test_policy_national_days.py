"""The shipped national days are the pinned ``holidays`` package's, and the calendar reads them
without importing it."""
import subprocess
import sys
from datetime import date

from chalicelib.policy import national_days
from chalicelib.policy.calendar import WorkCalendar


def test_the_shipped_file_is_what_the_package_says_for_every_year_it_covers():
    # Given the file shipped with the code, When it is generated again from the pinned package
    # Then every year is the same (regenerate with python -m chalicelib.policy.national_days)
    assert national_days._shipped() == national_days.generate()


def test_a_year_outside_the_file_comes_from_the_package():
    # Given a year the file does not cover, When its days are asked, Then the package answers
    year = national_days.YEARS.stop + 3
    assert national_days.of_year(year) == national_days.from_package(year)
    assert date(year, 8, 17) in national_days.of_year(year)[0]  # Hari Proklamasi


def test_the_calendar_answers_without_importing_the_holidays_package():
    # Given a fresh interpreter, When the calendar decides a holiday and a working day
    # Then the answers are right and the package (every country it knows) was never imported
    code = ("import sys; from datetime import date; from chalicelib.policy.calendar import WorkCalendar; "
            "c = WorkCalendar(); print(c.day_status(date(2026, 8, 17)).reason, c.day_status(date(2026, 8, 18)).reason, "
            "'holidays' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["national_holiday", "working_day", "False"]


def test_cuti_bersama_come_from_the_file_too():
    # Given 2026 in the file, When its cuti bersama are read, Then the calendar marks them
    national, cuti = national_days.of_year(2026)
    weekdays = sorted(d for d in cuti if d.weekday() < 5 and d not in national)
    assert weekdays, "the package lists 2026's cuti bersama on weekdays"
    assert {WorkCalendar().day_status(d).reason for d in weekdays} == {"cuti_bersama"}
