"""The monthly recap against an independent oracle, and a table of named days.

The oracle is README's "Monthly recap" rule in plain terms over plain facts (what happened on each
working day), with the Permentan 68/2012 table written out again here: TL/PSW 1-30 min 0.5 %,
31-60 1 %, 61-90 1.5 %, 91+ (or no record) 2 %; absent without notice 4 %; an excused, on-leave or
official-travel day cuts nothing; a pending review is listed, not cut; an approved request over an
attended day removes its cut; the month is capped at 100 %.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.policy import recap
from chalicelib.policy.day import Day
from chalicelib.policy.time_rules import LatenessTable

settings.register_profile("recap_oracle", max_examples=300, deadline=None, derandomize=True, database=None)
PROFILE = settings.get_profile("recap_oracle")
TABLE = LatenessTable()
PERSON = recap.Person("199001152015032001", "Ayu", "Bagian Umum")


# --- the oracle --------------------------------------------------------------------------------------

def tier_percent(minutes: int) -> tuple[int, float] | None:
    if minutes <= 0:
        return None
    for n, (upper, pct) in enumerate(((30, 0.5), (60, 1.0), (90, 1.5), (None, 2.0)), start=1):
        if upper is None or minutes <= upper:
            return n, pct
    raise AssertionError


@dataclass(frozen=True)
class Fact:
    """What happened on one working day, in plain terms."""

    kind: str  # none | checkout_only | attended | pending | excused | leave | travel | absent | rejected
    mode: str = "WFO"
    late: int = 0
    early: int | None = 0  # None: no check-out
    excused_by_request: bool = False
    subtype: str = "annual"
    stated_reason: bool = True  # the check-in's late reason carries its tier and percent


def oracle_cut(f: Fact) -> float:
    if f.kind in ("absent", "rejected"):
        return 4.0
    if f.kind != "attended" or f.excused_by_request:
        return 0.0
    late = tier_percent(f.late)
    early = (4, 2.0) if f.early is None else tier_percent(f.early)
    return (late[1] if late else 0.0) + (early[1] if early else 0.0)


def as_day(f: Fact, d: str) -> Day | None:
    """The stored day that the fact leaves (as the services write it)."""
    req = {"code": "request_approved", "effect": "info", "request_id": f"r-{d}", "status": None,
           "type": "leave", "subtype": f.subtype}
    if f.kind == "none":
        return None
    if f.kind == "checkout_only":
        return Day(status="no_record", last_out="16:30", reasons=({"code": "no_checkin", "effect": "flag"},))
    if f.kind == "pending":
        return Day(status="pending_review", first_in="07:20", reasons=({"code": "new_device", "effect": "flag"},))
    if f.kind in ("excused", "leave", "travel"):
        status = {"excused": "excused", "leave": "on_leave", "travel": "official_travel"}[f.kind]
        return Day(status=status, reasons=({**req, "status": status},), request_ids=(f"r-{d}",))
    if f.kind == "absent":
        return Day(status="absent", reasons=({"code": "no_checkin", "effect": "info", "percent": 4.0},))
    if f.kind == "rejected":
        return Day(status="absent", reasons=({"code": "review_rejected", "effect": "reject"},))
    t = tier_percent(f.late)
    reasons = ({"code": "late", "minutes": f.late, "tier": f"TL{t[0]}", "percent": t[1]},) \
        if t and f.stated_reason else ({"code": "on_time"},)
    return Day(status="late" if f.late else "present", first_in="07:30", late_minutes=f.late, reasons=reasons,
               last_out=None if f.early is None else "16:00", early_leave_minutes=f.early,
               work_mode=f.mode, request_ids=(f"x-{d}",) if f.excused_by_request else ())


def month_input(facts: list[Fact], start: date = date(2026, 3, 2)) -> recap.MonthInput:
    dates = tuple(start + timedelta(days=i) for i in range(len(facts)))
    days = {d.isoformat(): day for d, f in zip(dates, facts) if (day := as_day(f, d.isoformat())) is not None}
    excusing = frozenset(f"x-{d.isoformat()}" for d, f in zip(dates, facts) if f.excused_by_request)
    return recap.MonthInput(PERSON, days, dates, excusing, year_days=days, year_working_days=dates)


facts = st.one_of(
    st.builds(Fact, kind=st.sampled_from(["none", "checkout_only", "pending", "excused", "leave", "travel",
                                          "absent", "rejected"]),
              subtype=st.sampled_from(["annual", "sick", "maternity"])),
    st.builds(Fact, kind=st.just("attended"), mode=st.sampled_from(["WFO", "WFH", "DL", "WFA"]),
              late=st.integers(0, 200), early=st.one_of(st.none(), st.integers(0, 200)),
              excused_by_request=st.booleans(), stated_reason=st.booleans()))
months = st.lists(facts, min_size=0, max_size=40)


# --- properties ----------------------------------------------------------------------------------------

@PROFILE
@given(months)
def test_the_cut_is_the_sum_of_the_days_cuts_capped_at_100(month):
    r = recap.recap_employee(month_input(month), TABLE)
    expected = sum(oracle_cut(f) for f in month)
    assert r.cut_percent == pytest.approx(min(100.0, expected))
    assert r.cut_capped == (expected > 100)
    assert sum(c["percent"] for c in r.cut_reasons) == pytest.approx(expected)


@PROFILE
@given(months)
def test_the_categories_add_up_to_the_working_days(month):
    r = recap.recap_employee(month_input(month), TABLE)
    assert r.working_days == len(month) == sum(r.categories.values())
    assert sum(r.present_by_mode.values()) == r.categories["attended"] == sum(1 for f in month if f.kind == "attended")
    assert r.absent_with_notice == sum(1 for f in month if f.kind in ("excused", "leave", "travel"))
    assert r.absent_without_notice == r.absent_year_to_date == sum(1 for f in month if f.kind in ("absent", "rejected"))
    assert sum(r.leave_by_type.values()) == r.categories["on_leave"]
    assert sum(r.tl.values()) == sum(1 for f in month if f.kind == "attended" and f.late > 0)
    assert sum(r.psw.values()) == sum(1 for f in month if f.kind == "attended" and (f.early is None or f.early > 0))


@PROFILE
@given(months)
def test_an_excused_day_never_cuts_and_a_pending_one_is_named_not_cut(month):
    m = month_input(month)
    r = recap.recap_employee(m, TABLE)
    no_cut = {d.isoformat() for d, f in zip(m.working_days, month)
              if f.kind in ("excused", "leave", "travel", "pending", "none", "checkout_only") or f.excused_by_request}
    assert all(c["percent"] == 0 for c in r.cut_reasons if c["date"] in no_cut)
    assert [p["date"] for p in r.pending] == [d.isoformat() for d, f in zip(m.working_days, month) if f.kind == "pending"]
    assert all(p["code"] == "pending_review" and p["percent"] == 0 for p in r.pending)


# --- named days ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, fact, cut, codes", [
    ("on time, left on time", Fact("attended"), 0.0, []),
    ("TL1: 10 min late", Fact("attended", late=10), 0.5, ["late"]),
    ("TL2 + PSW3", Fact("attended", late=45, early=75), 2.5, ["late", "early_leave"]),
    ("TL4 without a stated reason: the table's", Fact("attended", late=120, stated_reason=False), 2.0, ["late"]),
    ("no check-out: PSW4", Fact("attended", early=None), 2.0, ["no_checkout"]),
    ("late but an approved request covers it", Fact("attended", late=45, excused_by_request=True), 0.0, ["late"]),
    ("absent without notice", Fact("absent"), 4.0, ["absent"]),
    ("rejected review: absent", Fact("rejected"), 4.0, ["review_rejected"]),
    ("excused (sick)", Fact("excused"), 0.0, []),
    ("annual leave", Fact("leave"), 0.0, []),
    ("dinas luar", Fact("travel"), 0.0, []),
    ("pending review: listed, not cut", Fact("pending"), 0.0, []),
    ("no record at all: listed, not cut", Fact("none"), 0.0, []),
])
def test_a_named_day(name, fact, cut, codes):
    # Given one working day; When it is recapped
    r = recap.recap_employee(month_input([fact]), TABLE)
    # Then its cut and the reasons' codes are as the rule says
    assert r.cut_percent == pytest.approx(cut), name
    assert [c["code"] for c in r.cut_reasons] == codes
    assert all(c["date"] == "2026-03-02" for c in r.cut_reasons)


def test_the_agencys_daily_cap_limits_a_day_and_says_so():
    # Given an agency table capping a day at 2.5 % (TL2 1 % + PSW3 1.5 % + ... stays under; TL4 + PSW4 not)
    capped = LatenessTable.from_dict({"daily_cap_percent": 2.5})
    # When a day 120 min late without a check-out is recapped
    r = recap.recap_employee(month_input([Fact("attended", late=120, early=None)]), capped)
    # Then the day costs the cap, and the reasons add up to it, naming the cap
    assert r.cut_percent == pytest.approx(2.5)
    assert [c["code"] for c in r.cut_reasons] == ["late", "no_checkout", "daily_cap"]
    assert r.cut_reasons[-1]["cap_percent"] == 2.5


def test_a_missing_check_out_costs_nothing_where_the_agency_does_not_count_it():
    lenient = LatenessTable.from_dict({"missing_checkout_counts": False})
    r = recap.recap_employee(month_input([Fact("attended", early=None)]), lenient)
    assert r.cut_percent == 0.0 and r.cut_reasons == ()


def test_a_month_of_absences_is_capped_at_100_percent():
    r = recap.recap_employee(month_input([Fact("absent")] * 30), TABLE)
    assert r.cut_percent == 100.0 and r.cut_capped and len(r.cut_reasons) == 30


def test_leave_is_counted_by_subtype_and_units_sum_their_staff():
    a = recap.recap_employee(month_input([Fact("leave", subtype="annual"), Fact("leave", subtype="sick"),
                                          Fact("attended", mode="WFH", late=5)]), TABLE)
    assert a.leave_by_type == {"annual": 1, "sick": 1}
    assert a.present_by_mode["WFH"] == 1 and a.tl["TL1"] == 1
    [unit] = recap.unit_totals([a, a])
    assert unit.employees == 2 and unit.working_days == 6 and unit.tl["TL1"] == 2
    assert unit.cut_percent_mean == pytest.approx(0.5)


def test_the_recap_row_has_every_documented_column():
    r = recap.recap_employee(month_input([Fact("attended", late=45)]), TABLE)
    row = recap.recap_row(r)
    assert set(recap.recap_columns(TABLE)) <= set(row)
    assert row["tl2"] == 1 and row["psw1"] == 0 and row["cut_percent"] == 1.0
    assert set(recap.unit_columns(TABLE)) <= set(recap.unit_row(recap.unit_totals([r])[0]))


def test_days_off_count_nothing():
    # Given a check-in on a Saturday that is not among the working days
    m = recap.MonthInput(PERSON, {"2026-03-07": Day(status="late", late_minutes=50, first_in="08:20",
                                                      last_out="16:00", work_mode="WFO")}, ())
    r = recap.recap_employee(m, TABLE)
    assert r.working_days == 0 and r.cut_percent == 0 and r.cut_reasons == ()


def test_a_late_day_cuts_what_its_check_in_stated_even_if_the_table_changed_since():
    # Given a check-in judged under an agency table whose TL2 was 1.25 %
    stated = Day(status="late", first_in="08:40", late_minutes=40, last_out="16:00", early_leave_minutes=0,
                 work_mode="WFO", reasons=({"code": "late", "minutes": 40, "tier": "TL2", "percent": 1.25},))
    # When the month is recapped with today's table (TL2 1 %)
    r = recap.recap_employee(recap.MonthInput(PERSON, {"2026-03-02": stated}, (date(2026, 3, 2),)), TABLE)
    # Then the day cuts what the employee was told at the time
    assert r.cut_percent == 1.25 and r.tl["TL2"] == 1
    assert r.cut_reasons == ({"date": "2026-03-02", "code": "late", "percent": 1.25, "tier": "TL2", "minutes": 40},)


# --- PP 94/2021: the levels and the thresholds ---------------------------------------------------
@pytest.mark.parametrize("days, level", [
    (0, None), (2, None), (3, "oral_warning"), (4, "written_warning"), (6, "written_warning"),
    (7, "written_statement_of_dissatisfaction"), (10, "written_statement_of_dissatisfaction"),
    (11, "allowance_cut_25pct_6_months"), (14, "allowance_cut_25pct_9_months"),
    (17, "allowance_cut_25pct_12_months"), (20, "allowance_cut_25pct_12_months"), (21, "demotion"),
    (25, "removal_from_position"), (27, "removal_from_position"), (28, "dismissal"), (40, "dismissal")])
def test_the_count_names_its_pp_94_2021_level(days, level):
    assert recap.discipline_level(days) == level


def test_a_count_reaches_every_threshold_at_or_below_it():
    assert recap.thresholds_reached(4, (5, 10)) == ()
    assert recap.thresholds_reached(5, (10, 5, 15)) == (5,)
    assert recap.thresholds_reached(12, (5, 10, 15, 20, 28)) == (5, 10)


def test_the_year_to_date_count_comes_with_its_dates():
    # Given two working days marked absent and one attended
    days = {"2026-01-05": Day(status="absent"), "2026-01-06": Day(status="attended"),
            "2026-01-07": Day(status="absent")}
    working = (date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7))
    # Then the count's reasons are those days
    assert recap.unexcused_absence_dates(days, working) == ("2026-01-05", "2026-01-07")
    assert recap.unexcused_absences(days, working) == 2
