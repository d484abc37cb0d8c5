"""The WFO/WFH roster of a unit over a period (Bangka Tengah's ~30 % rotation, Bolmong's rule that
the two highest structural levels stay in the office). Pure: data in, a roster or its failure out.

**Input.** The unit's staff (:class:`Member`: NIP, structural level 1..5 of ``policy/echelon.py``
or ``None``, the days they are unavailable: approved leave and official travel), the unit's
working days, and a :class:`Quota`.

**Constraints** of a roster, which says for each member and working day ``WFO``, ``WFH`` or
``away`` (an unavailable day: leave or travel):

1. *availability*: ``away`` exactly on a member's unavailable days; never ``WFO`` on them.
2. *quota* (``max_share``, ``min_share``): each day's number of ``WFO`` members lies in
   ``[lo, hi]`` with ``hi = floor(max_share * N)`` and ``lo = ceil(min_share * N)``, ``N`` the
   unit's headcount (everyone in the roster, available or not: the cap is about the office's
   density, SE MenPAN-RB 67/2020 style). Shares are exact fractions (``Fraction("0.3")``), so
   30 % of 200 is 60, never 59 by floating point. ``lo > hi`` fails as ``quota_order``.
3. *top levels* (``top_levels_in_office``): let the top levels be the two smallest level numbers
   present among the staff (one if only one is present, none if nobody has a structural
   position); on every working day at least one member of each top level is ``WFO``.
4. *fair rotation*: members are grouped: one group per top level, and ``rotation`` for everyone
   else. Within a group of two or more, with ``a_i`` the member's available working days and
   ``o_i`` their ``WFO`` days, there is an integer ``k >= 0`` with
   ``min(k, a_i) <= o_i <= min(k + 1, a_i)`` for every member: office days are within one of each
   other, except that nobody is asked for more office days than they are available (someone on
   leave for most of the period is in the office on all their available days, at most ``k + 1``).
   The top levels are their own groups because their duty (3) cannot be shared out fairly with
   the whole unit: a unit's single head is in the office every day.

**Method: exact, by maximum flow.** For a fixed ``k`` per group, rule 4 is a pair of bounds per
member, ``[l_i, u_i] = [min(k, a_i), min(k + 1, a_i)]``, and a roster is exactly an integral
feasible circulation in: source -> member ``[l_i, u_i]``; member -> day ``[0, 1]`` for each
available day (for a top-level member: member -> (day, level) ``[0, 1]`` and (day, level) -> day
``[1, N]``); day -> sink ``[lo, hi]``; sink -> source ``[0, inf)``. A roster gives such a flow
(send 1 on member -> day for each WFO day; conservation and every bound hold by 1-3 and the bounds);
an integral feasible flow gives a roster (WFO where member -> day carries 1: a member's total is the
flow on source -> member, a day's on day -> sink, a level's on (day, level) -> day). Integral bounds
admit an integral feasible flow whenever any exists, and ``policy/flow.py`` decides feasibility
exactly (lower bounds reduced to a max flow, Dinic). So a roster exists iff some vector of ``k``
gives a feasible flow; a group's ``k`` beyond its largest ``a_i`` gives the same bounds as that
value, so ``k`` ranges over ``0..max a_i`` (a one-member group has no fairness: ``[0, a_i]``) and
trying every vector decides the question. Vectors failing a necessary condition are skipped
unflowed: the counts (sum of ``l_i`` <= sum of ``hi``, sum of ``u_i`` >= sum of ``lo``, a top
level's sum of ``u_i`` >= days), or a group's ``k`` that is infeasible on its own, every other
member free in ``[0, a_i]`` (a relaxation: if it has no flow, no vector containing that ``k`` has
one). At most ``(D + 1) ** 3`` flows for D days and three fairness groups; for the bench's unit
three flows (bench/RESULTS-roster.md has a measured worst case).
Without rule 4 the days are independent, so the first check is per day and exact: a day fails when
a top level has nobody available (``top_levels_in_office``), when ``hi`` is below the number of top
levels (``max_share``), or when ``lo`` exceeds the members available (``min_share``). Only when
every day passes can rule 4 fail (``fair_rotation``; its days are where the first candidate's flow
fell short).

**Which roster** among many: the rotation's ``k`` as large as possible (the office used as fully
as the cap allows, "about 30 %"), then each top level's ``k`` as small as possible (leaders not in
the office more than needed); with those ``k`` fixed, the most office days in total (a maximum
flow from source to sink over the feasible one: the residual graph keeps every bound), so the
days fill up to the cap; ties as the flow finds them (deterministic for the same input).
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from math import ceil, floor

from chalicelib.policy.flow import LowerBoundFlow

WFO, WFH, AWAY = "WFO", "WFH", "away"
ROTATION = "rotation"
TOP_LEVELS, MAX_SHARE, MIN_SHARE, QUOTA_ORDER, FAIR = (
    "top_levels_in_office", "max_share", "min_share", "quota_order", "fair_rotation")


def share(value: Fraction | float | str | int) -> Fraction:
    """An exact share in [0, 1] (``0.3`` read as 3/10, not its binary float)."""
    f = value if isinstance(value, Fraction) else Fraction(str(value))
    if not 0 <= f <= 1:
        raise ValueError("a share lies in [0, 1]")
    return f


@dataclass(frozen=True)
class Member:
    nip: str
    level: int | None = None  # 1..5 (eselon I..V), None: no structural position
    unavailable: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Quota:
    max_share: Fraction = Fraction(3, 10)
    min_share: Fraction = Fraction(0)

    def bounds(self, headcount: int) -> tuple[int, int]:
        """``(lo, hi)``: the day's fewest and most members in the office."""
        return ceil(share(self.min_share) * headcount), floor(share(self.max_share) * headcount)


@dataclass(frozen=True)
class Failure:
    """A constraint no roster can meet, the days it fails on and why (data for the 422)."""

    constraint: str
    days: tuple[date, ...]
    details: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Roster:
    days: tuple[date, ...]
    assignment: Mapping[str, tuple[str, ...]]  # nip -> WFO | WFH | away, one per day
    rotation: Mapping[str, int]  # group -> its k (office days k or k + 1)
    lo: int
    hi: int

    def office_days(self, nip: str) -> int:
        return self.assignment[nip].count(WFO)


@dataclass(frozen=True)
class Infeasible:
    failures: tuple[Failure, ...]


def top_levels(staff: Iterable[Member]) -> tuple[int, ...]:
    return tuple(sorted({m.level for m in staff if m.level is not None}))[:2]


def group_of(m: Member, tops: Sequence[int]) -> str:
    return f"level:{m.level}" if m.level in tops else ROTATION


def solve(staff: Sequence[Member], days: Sequence[date], quota: Quota = Quota()) -> Roster | Infeasible:
    days = tuple(sorted(set(days)))
    lo, hi = quota.bounds(len(staff))
    failures = day_failures(staff, days, lo, hi)
    if failures:
        return Infeasible(failures)
    problem = _Problem(staff, days, lo, hi)
    first: _Attempt | None = None
    for ks in problem.candidates():
        attempt = problem.attempt(ks)
        if attempt.feasible:
            return problem.roster(attempt)
        first = first or attempt
    return Infeasible((problem.fairness_failure(first),))


def day_failures(staff: Sequence[Member], days: Sequence[date], lo: int, hi: int) -> tuple[Failure, ...]:
    """The exact per-day conditions (rules 1-3 only; the days are independent without rule 4)."""
    if lo > hi:
        return (Failure(QUOTA_ORDER, days, {"lo": lo, "hi": hi}),)
    tops = top_levels(staff)
    uncovered: dict[int, list[date]] = {lvl: [] for lvl in tops}
    over, under = [], []
    for d in days:
        present = [m for m in staff if d not in m.unavailable]
        for lvl in tops:
            if not any(m.level == lvl for m in present):
                uncovered[lvl].append(d)
        if len(tops) > hi:
            over.append(d)
        if lo > len(present):
            under.append(d)
    out = [Failure(TOP_LEVELS, tuple(ds), {"level": lvl, "problem": "nobody_available"})
           for lvl, ds in uncovered.items() if ds]
    if over:
        out.append(Failure(MAX_SHARE, tuple(over), {"hi": hi, "top_levels": len(tops)}))
    if under:
        out.append(Failure(MIN_SHARE, tuple(under), {"lo": lo}))
    return tuple(out)


@dataclass
class _Attempt:
    ks: Mapping[str, int]
    feasible: bool
    flow: LowerBoundFlow
    wfo: dict[tuple[int, int], int]  # (member index, day index) -> flow handle


class _Problem:
    def __init__(self, staff: Sequence[Member], days: tuple[date, ...], lo: int, hi: int) -> None:
        self.staff, self.days, self.lo, self.hi = staff, days, lo, hi
        self.tops = top_levels(staff)
        self.avail = [[j for j, d in enumerate(days) if d not in m.unavailable] for m in staff]
        self.groups: dict[str, list[int]] = {}
        for i, m in enumerate(staff):
            self.groups.setdefault(group_of(m, self.tops), []).append(i)
        self.fair = {g: ix for g, ix in self.groups.items() if len(ix) > 1}

    def bounds(self, i: int, ks: Mapping[str, int]) -> tuple[int, int]:
        a = len(self.avail[i])
        k = ks.get(group_of(self.staff[i], self.tops))
        return (0, a) if k is None else (min(k, a), min(k + 1, a))

    def candidates(self) -> Iterable[dict[str, int]]:
        """Every ``k`` vector in preference order, skipping those failing a necessary condition:
        the counts (:meth:`_plausible`), or one group's ``k`` infeasible even with every other
        member free (``[0, a_i]``: a relaxation, so a vector holding such a ``k`` cannot work)."""
        names = sorted(self.fair, key=lambda g: (g != ROTATION, g))
        ranges = []
        for g in names:
            top = max(len(self.avail[i]) for i in self.fair[g])
            ranges.append(range(top, -1, -1) if g == ROTATION else range(0, top + 1))
        sums = {g: {k: self._sums(g, k) for k in r} for g, r in zip(names, ranges)}
        free = [(0, len(self.avail[i])) for i, m in enumerate(self.staff) if group_of(m, self.tops) not in self.fair]
        base = (sum(lo for lo, _ in free), sum(u for _, u in free))
        alone: dict[tuple[str, int], bool] = {}
        for combo in itertools.product(*ranges):
            ks = dict(zip(names, combo))
            if not self._plausible(ks, sums, base):
                continue
            if all(alone.setdefault((g, k), len(ks) == 1 or self.attempt({g: k}, fill=False).feasible) for g, k in ks.items()):
                yield ks

    def _sums(self, g: str, k: int) -> tuple[int, int]:
        b = [self.bounds(i, {g: k}) for i in self.fair[g]]
        return sum(lo for lo, _ in b), sum(u for _, u in b)

    def _plausible(self, ks: Mapping[str, int], sums: Mapping[str, Mapping[int, tuple[int, int]]],
                   base: tuple[int, int]) -> bool:
        low = base[0] + sum(sums[g][k][0] for g, k in ks.items())
        high = base[1] + sum(sums[g][k][1] for g, k in ks.items())
        if low > self.hi * len(self.days) or high < self.lo * len(self.days):
            return False
        for lvl in self.tops:
            g = f"level:{lvl}"
            cap = sums[g][ks[g]][1] if g in ks else sum(len(self.avail[i]) for i in self.groups[g])
            if cap < len(self.days):
                return False
        return True

    def attempt(self, ks: Mapping[str, int], fill: bool = True) -> _Attempt:
        n, nd = len(self.staff), len(self.days)
        tops = list(self.tops)
        # nodes: 0 source, 1 sink, members, days, (day, top level)
        member, day = 2, 2 + n
        level_day = day + nd
        flow = LowerBoundFlow(level_day + nd * len(tops))
        wfo: dict[tuple[int, int], int] = {}
        for i, m in enumerate(self.staff):
            flow.add(0, member + i, *self.bounds(i, ks))
            t = tops.index(m.level) if m.level in tops else None
            for j in self.avail[i]:
                target = day + j if t is None else level_day + j * len(tops) + t
                wfo[(i, j)] = flow.add(member + i, target, 0, 1)
        for j in range(nd):
            for t in range(len(tops)):
                flow.add(level_day + j * len(tops) + t, day + j, 1, n)
            flow.add(day + j, 1, self.lo, self.hi)
        back = flow.add(1, 0, 0, n * nd)
        feasible = flow.solve()
        if feasible and fill:
            flow.maximize(0, 1, back)
        return _Attempt(dict(ks), feasible, flow, wfo)

    def roster(self, attempt: _Attempt) -> Roster:
        out = {}
        for i, m in enumerate(self.staff):
            row = [AWAY] * len(self.days)
            for j in self.avail[i]:
                row[j] = WFO if attempt.flow.flow_on(attempt.wfo[(i, j)]) else WFH
            out[m.nip] = tuple(row)
        return Roster(self.days, out, attempt.ks, self.lo, self.hi)

    def _day_of(self, node: int) -> int:
        n, nd = len(self.staff), len(self.days)
        j = node - 2 - n
        return j if j < nd else (j - nd) // len(self.tops)

    def fairness_failure(self, first: _Attempt | None) -> Failure:
        if first is None:
            return Failure(FAIR, self.days, {"problem": "no_rotation_fits_the_quota",
                                             "groups": sorted(self.fair)})
        n = len(self.staff)
        unmet = first.flow.unmet()
        short = sorted({self._day_of(v) for v in unmet if v >= 2 + n})
        nips = sorted(self.staff[v - 2].nip for v in unmet if 2 <= v < 2 + n)
        return Failure(FAIR, tuple(self.days[j] for j in short) or self.days,
                       {"groups": sorted(self.fair), "first_rotation": dict(first.ks), "members": nips[:50]})
