"""The WFO/WFH roster generator (policy/roster.py), judged by the independent validator
(policy/roster_check.py) and, on small units, by brute force over every possible roster."""
import itertools
from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.policy import echelon
from chalicelib.policy.roster import (
    AWAY, FAIR, MAX_SHARE, MIN_SHARE, QUOTA_ORDER, TOP_LEVELS, WFO, Infeasible, Member, Quota, Roster, solve,
)
from chalicelib.policy.roster_check import check, day_limits

MON = date(2026, 11, 2)
DAYS = [MON + timedelta(days=i) for i in range(5)]


def nip(i: int) -> str:
    return f"19800101200501{1000 + i:04d}"


def brute_force_exists(staff, days, max_share, min_share) -> bool:
    cells = [(m.nip, j) for m in staff for j, d in enumerate(days) if d not in m.unavailable]
    for bits in itertools.product((False, True), repeat=len(cells)):
        rows = {m.nip: [AWAY if d in m.unavailable else "WFH" for d in days] for m in staff}
        for (n, j), wfo in zip(cells, bits):
            if wfo:
                rows[n][j] = WFO
        if not check(staff, days, rows, max_share, min_share):
            return True
    return False


@st.composite
def small_units(draw):
    n = draw(st.integers(1, 4))
    nd = draw(st.integers(1, 3))
    days = DAYS[:nd]
    staff = [Member(nip(i), draw(st.sampled_from([None, None, 2, 3, 4])),
                    frozenset(draw(st.sets(st.sampled_from(days), max_size=nd)))) for i in range(n)]
    max_share = draw(st.sampled_from(["0.25", "0.3", "0.5", "0.75", "1"]))
    min_share = draw(st.sampled_from(["0", "0", "0.25", "0.5"]))
    return staff, days, max_share, min_share


@settings(max_examples=300, deadline=None)
@given(small_units())
def test_the_solver_agrees_with_brute_force_and_its_rosters_have_no_violations(unit):
    # Given a small unit with leave, levels and a quota
    staff, days, max_share, min_share = unit
    # When the roster is solved
    result = solve(staff, days, Quota(Fraction(max_share), Fraction(min_share)))
    # Then a roster has no violations, and "infeasible" means no roster at all exists
    if isinstance(result, Roster):
        assert check(staff, days, result.assignment, max_share, min_share) == []
    else:
        assert result.failures and not brute_force_exists(staff, days, max_share, min_share)


@settings(max_examples=60, deadline=None)
@given(st.integers(5, 40), st.integers(1, 10), st.sampled_from(["0.3", "0.4", "0.5"]), st.randoms())
def test_larger_units_get_valid_rosters(n, nd, max_share, rng):
    # Given a unit with a head, two deputies, and leave on random days
    days = [MON + timedelta(days=i) for i in range(nd)]
    staff = [Member(nip(i), 2 if i == 0 else 3 if i < 3 else None,
                    frozenset(d for d in days if i and rng.random() < 0.15)) for i in range(n)]
    result = solve(staff, days, Quota(Fraction(max_share)))
    if isinstance(result, Roster):
        assert check(staff, days, result.assignment, max_share) == []


def test_thirty_percent_of_a_unit_rotates_fairly_and_the_leaders_stay():
    # Given 10 staff: a head (II), two heads of division (III), seven others, 30 % over 5 days
    staff = [Member(nip(0), 2), Member(nip(1), 3), Member(nip(2), 3)] + [Member(nip(i)) for i in range(3, 10)]
    # When solved
    r = solve(staff, DAYS, Quota(Fraction(3, 10)))
    # Then at most 3 a day are in the office, the head every day, one of level III every day
    assert isinstance(r, Roster) and r.hi == 3
    assert all(r.assignment[nip(0)][j] == WFO for j in range(5))
    assert all(WFO in (r.assignment[nip(1)][j], r.assignment[nip(2)][j]) for j in range(5))
    # And the seven others share the one place left a day: office days within one of each other
    others = [r.office_days(nip(i)) for i in range(3, 10)]
    assert max(others) - min(others) <= 1 and sum(others) == 5 - 0
    assert check(staff, DAYS, r.assignment, "0.3") == []


def test_leave_is_respected_and_counts_only_available_days():
    # Given someone on leave all week but Monday
    staff = [Member(nip(0)), Member(nip(1)), Member(nip(2), unavailable=frozenset(DAYS[1:]))]
    r = solve(staff, DAYS, Quota(Fraction(1, 3), Fraction(1, 3)))
    assert isinstance(r, Roster)
    assert r.assignment[nip(2)][1:] == (AWAY,) * 4
    assert check(staff, DAYS, r.assignment, Fraction(1, 3), Fraction(1, 3)) == []


def test_the_only_head_on_leave_is_reported_with_the_days():
    # Given the only eselon II on travel on Wednesday and Thursday
    staff = [Member(nip(0), 2, frozenset(DAYS[2:4])), Member(nip(1), 3), Member(nip(2))]
    r = solve(staff, DAYS, Quota(Fraction(1)))
    # Then the top-levels rule fails on exactly those days, for level 2
    assert isinstance(r, Infeasible)
    assert [(f.constraint, f.days, f.details["level"]) for f in r.failures] == [(TOP_LEVELS, tuple(DAYS[2:4]), 2)]


def test_a_cap_below_the_number_of_top_levels_fails_as_max_share():
    # Given 5 staff with two structural levels and 30 %: one place a day, two leaders needed
    staff = [Member(nip(0), 2), Member(nip(1), 3)] + [Member(nip(i)) for i in range(2, 5)]
    r = solve(staff, DAYS[:2], Quota(Fraction(3, 10)))
    assert isinstance(r, Infeasible) and r.failures[0].constraint == MAX_SHARE
    assert r.failures[0].days == tuple(DAYS[:2])


def test_a_minimum_above_the_available_staff_fails_as_min_share_and_bounds_in_order():
    staff = [Member(nip(0), unavailable=frozenset(DAYS[:1])), Member(nip(1))]
    r = solve(staff, DAYS[:2], Quota(Fraction(1), Fraction(1)))
    assert isinstance(r, Infeasible) and (r.failures[0].constraint, r.failures[0].days) == (MIN_SHARE, (DAYS[0],))
    r = solve(staff, DAYS[:2], Quota(Fraction(1, 4), Fraction(3, 4)))
    assert isinstance(r, Infeasible) and r.failures[0].constraint == QUOTA_ORDER


def test_fairness_alone_can_make_it_infeasible():
    # Given exactly one in the office a day (a third of three), two people available on Monday
    # only and a third from Tuesday to Thursday: whoever of the first two stays home has 0 office
    # days on 1 available day, so k = 0, yet the third must come 3 times (> k + 1)
    days = DAYS[:4]
    staff = [Member(nip(0), None, frozenset(days[1:])), Member(nip(1), None, frozenset(days[1:])),
             Member(nip(2), None, frozenset(days[:1]))]
    r = solve(staff, days, Quota(Fraction(1, 3), Fraction(1, 3)))
    # Then the failure is the fair rotation (every day on its own is fine), and brute force agrees
    assert isinstance(r, Infeasible) and [f.constraint for f in r.failures] == [FAIR]
    assert set(r.failures[0].days) <= set(days) and r.failures[0].details["groups"] == ["rotation"]
    assert not brute_force_exists(staff, days, Fraction(1, 3), Fraction(1, 3))


@st.composite
def exact_quota_units(draw):
    """Units where each day's count is pinned (lo == hi): where fairness can fail on its own."""
    n = draw(st.integers(2, 4))
    nd = draw(st.integers(2, 4))
    days = DAYS[:nd]
    staff = [Member(nip(i), draw(st.sampled_from([None, None, None, 3])),
                    frozenset(draw(st.sets(st.sampled_from(days), max_size=nd)))) for i in range(n)]
    c = draw(st.integers(1, n - 1))
    return staff, days, Fraction(c, n), Fraction(c, n)


@settings(max_examples=200, deadline=None)
@given(exact_quota_units())
def test_pinned_quotas_agree_with_brute_force(unit):
    staff, days, mx, mn = unit
    result = solve(staff, days, Quota(mx, mn))
    if isinstance(result, Roster):
        assert check(staff, days, result.assignment, mx, mn) == []
    else:
        assert not brute_force_exists(staff, days, mx, mn)


def test_day_limits_round_exactly():
    # 30 % of 200 is 60 (not 59 by binary floating point); 30 % of 7 is 2; a 10 % minimum of 7 is 1
    assert day_limits(200, "0.3", 0) == (0, 60)
    assert day_limits(7, 0.3, 0.1) == (1, 2)
    assert Quota(Fraction("0.3"), Fraction("0.1")).bounds(7) == (1, 2)


@pytest.mark.parametrize("raw,canon,level", [
    ("II.a", "II.a", 2), ("iib", "II.b", 2), ("III/a", "III.a", 3), ("4", "IV", 4), (1, "I", 1),
    ("2.a", "II.a", 2), (" V ", "V", 5), ("", None, None), (None, None, None)])
def test_echelon_spellings(raw, canon, level):
    assert echelon.canonical(raw) == canon and echelon.level(raw) == level


@pytest.mark.parametrize("raw", ["VI", "6", "II.c", "x", "IIII", True])
def test_echelon_nonsense_is_refused(raw):
    with pytest.raises(echelon.InvalidEchelon):
        echelon.canonical(raw)


@given(st.integers(0, 500), st.fractions(0, 1, max_denominator=1000), st.fractions(0, 1, max_denominator=1000))
def test_the_solver_and_the_validator_round_the_quota_alike(n, mx, mn):
    # Two implementations (Fraction in the solver, integer ratios in the validator) agree
    assert Quota(mx, mn).bounds(n) == day_limits(n, mx, mn)


def test_no_working_days_or_no_staff_give_an_empty_roster():
    assert solve([Member(nip(0), 2)], [], Quota()).assignment == {nip(0): ()}
    assert solve([], DAYS, Quota()).assignment == {}
