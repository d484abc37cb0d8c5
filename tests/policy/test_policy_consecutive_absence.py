"""PP 94/2021: 10 consecutive working days absent without notice. Weekends and holidays neither break
nor extend a run; any other working day ends it. Checked against an oracle that walks the calendar
day by day, and across a month boundary."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.policy import recap
from chalicelib.policy.calendar import WorkCalendar
from chalicelib.policy.day import ABSENT, Day
from chalicelib.policy.time_rules import LatenessTable

START = date(2026, 1, 1)
STATUSES = (ABSENT, "present", "excused", None)  # None: no record


def oracle_runs(statuses: dict[date, str | None], holidays: set[date], first: date, last: date) -> list[list[str]]:
    """Walk every calendar day: a weekend or holiday is skipped (the count carries over), an
    absent working day adds one, anything else on a working day closes the run."""
    runs, count, dates, d = [], 0, [], first
    while d <= last:
        if d.weekday() < 5 and d not in holidays:
            if statuses.get(d) == ABSENT:
                count, dates = count + 1, dates + [d.isoformat()]
            else:
                if count:
                    runs.append(dates)
                count, dates = 0, []
        d += timedelta(days=1)
    if count:
        runs.append(dates)
    return runs


def working(holidays: set[date], first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)
            if (first + timedelta(days=i)).weekday() < 5 and first + timedelta(days=i) not in holidays]


def as_days(statuses: dict[date, str | None]) -> dict[str, Day]:
    return {d.isoformat(): Day(status=s, office_id="kantor") for d, s in statuses.items() if s is not None}


spans = st.integers(min_value=1, max_value=80)


@settings(max_examples=300, deadline=None)
@given(length=spans, data=st.data())
def test_runs_match_the_oracle(length, data):
    # Given any stretch of days with any statuses and any holidays
    last = START + timedelta(days=length - 1)
    all_days = [START + timedelta(days=i) for i in range(length)]
    statuses = {d: data.draw(st.sampled_from(STATUSES), label=d.isoformat()) for d in all_days}
    holidays = set(data.draw(st.lists(st.sampled_from(all_days), max_size=10), label="holidays"))
    # When the runs are found over the working days, Then they are the oracle's
    got = recap.absence_runs(as_days(statuses), working(holidays, START, last))
    assert [list(r) for r in got] == oracle_runs(statuses, holidays, START, last)


@settings(max_examples=300, deadline=None)
@given(length=spans, period_from=st.integers(0, 79), data=st.data())
def test_the_flag_is_the_longest_run_of_ten_reaching_into_the_period(length, period_from, data):
    last = START + timedelta(days=length - 1)
    all_days = [START + timedelta(days=i) for i in range(length)]
    # mostly absent, so runs of ten happen
    statuses = {d: data.draw(st.sampled_from((ABSENT,) * 6 + STATUSES), label=d.isoformat()) for d in all_days}
    holidays = set(data.draw(st.lists(st.sampled_from(all_days), max_size=6), label="holidays"))
    period = [d for d in working(holidays, START, last) if d >= START + timedelta(days=period_from)]
    got = recap.consecutive_absence(as_days(statuses), working(holidays, START, last), period)
    inside = {d.isoformat() for d in period}
    expected = [r for r in oracle_runs(statuses, holidays, START, last) if len(r) >= 10 and inside & set(r)]
    assert list(got) == (max(expected, key=len) if expected else [])


def test_nine_is_not_ten_and_a_present_day_breaks_the_run():
    days = working(set(), date(2026, 3, 2), date(2026, 3, 31))
    nine = {d: ABSENT for d in days[:9]}
    assert recap.consecutive_absence(as_days(nine), days, days) == ()
    broken = {**{d: ABSENT for d in days[:12]}, days[5]: "present"}
    assert recap.consecutive_absence(as_days(broken), days, days) == ()
    ten = {d: ABSENT for d in days[:10]}
    assert len(recap.consecutive_absence(as_days(ten), days, days)) == 10


def test_a_run_across_a_month_boundary_and_a_weekend_counts_in_the_later_month():
    # Given absent 23-27 February 2026 (Mon-Fri) and 2-6 March (Mon-Fri), the weekend between
    feb = [date(2026, 2, 23) + timedelta(days=i) for i in range(5)]
    mar = [date(2026, 3, 2) + timedelta(days=i) for i in range(5)]
    statuses = {d: ABSENT for d in feb + mar}
    cal = WorkCalendar()
    run_days = tuple(cal.working_days(date(2026, 2, 1), date(2026, 3, 31)))
    march = tuple(cal.working_days(date(2026, 3, 1), date(2026, 3, 31)))
    february = tuple(cal.working_days(date(2026, 2, 1), date(2026, 2, 28)))
    # When March's recap looks: Then the ten days are one run, with every date as its reasons
    m = recap.MonthInput(person=recap.Person("199001152015032001", "Ayu"), days=as_days(
        {d: s for d, s in statuses.items() if d.month == 3}), working_days=march, year_days=as_days(statuses),
        year_working_days=run_days, run_working_days=run_days)
    r = recap.recap_employee(m, LatenessTable())
    assert r.consecutive_absence == tuple(d.isoformat() for d in feb + mar)
    row = recap.recap_row(r)
    assert row["consecutive_absent_days"] == 10
    assert row["consecutive_absence"][0] == {"date": "2026-02-23", "code": "absent_without_notice"}
    # And February's recap (up to 28 February) sees five: no flag
    feb_only = {d: s for d, s in statuses.items() if d.month == 2}
    assert recap.consecutive_absence(as_days(feb_only), february, february) == ()


def test_a_holiday_inside_the_run_neither_breaks_nor_extends_it():
    # Given 18 and 20 March 2026 are cuti bersama / holidays (Nyepi, Idul Fitri) in the default calendar
    cal = WorkCalendar()
    days = tuple(cal.working_days(date(2026, 3, 9), date(2026, 4, 10)))
    assert date(2026, 3, 18) not in days
    absent = {d: ABSENT for d in days[:10]}
    run = recap.consecutive_absence(as_days(absent), days, days)
    assert len(run) == 10 and "2026-03-18" not in run
