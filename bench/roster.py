"""The WFO/WFH roster of one unit at Bangka Tengah's size and rule: 200 staff, at most 30 % in the
office, 22 working days (November 2026's weekdays from the 2nd, Monday to Friday), the unit's
structure one eselon II head, 4 eselon III, 12 eselon IV and 183 without a structural position;
about one in ten has a few days of leave or travel (a seeded random generator: the same unit every
run). Solved by ``chalicelib.policy.roster.solve``; the roster judged by the independent
``chalicelib.policy.roster_check.check``.

    .venv/bin/python -m bench.roster [--staff 200] [--days 22] [--max-share 0.3] [--min-share 0] [--seed 13]
    .venv/bin/python -m bench.roster --trap 2 --min-share 0.3   # the measured worst case (infeasible)

The last stdout line is one JSON object: ``staff``, ``days``, ``seconds`` (the solve only, wall
clock), ``feasible``, ``violations`` (the validator's count), ``rotation`` (each group's k), ``hi``
(the day's cap). Figures and the machine: bench/RESULTS-roster.md.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import platform
import random
import sys
import time
from datetime import date, timedelta

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from chalicelib.policy.roster import Infeasible, Member, Quota, share, solve  # noqa: E402
from chalicelib.policy.roster_check import check  # noqa: E402


def working_days(first: date, count: int) -> list[date]:
    out, d = [], first
    while len(out) < count:
        if d.weekday() < 5:
            out.append(d)
        d += timedelta(days=1)
    return out


def unit(staff: int, days: list[date], seed: int) -> list[Member]:
    rng = random.Random(seed)
    levels = [2] + [3] * 4 + [4] * 12
    members = []
    for i in range(staff):
        level = levels[i] if i < len(levels) else None
        away: set[date] = set()
        if i > 0 and rng.random() < 0.1:  # the head is always there: a unit of one head has no stand-in
            start = rng.randrange(len(days) - 3)
            away = set(days[start:start + rng.randint(1, 3)])
        members.append(Member(nip=f"19800101200501{1000 + i:04d}", level=level, unavailable=frozenset(away)))
    return members


def fairness_trap(staff: int, days: list[date], heads: int) -> list[Member]:
    """The worst case: every day alone is feasible, no fair rotation is. ``heads`` eselon II and 4
    eselon III (so 2 or 3 fairness groups), 70 staff available on the first day only and the rest
    always; with the office pinned at exactly 30 % a day (``--min-share 0.3``) whoever of the 70 stays
    home on day one has 0 of 1 available days (k = 0) while the others must come about 10 times."""
    leaders = [Member(f"19800101200501{1000 + i:04d}", 2 if i < heads else 3) for i in range(heads + 4)]
    first_day = [Member(f"19850101201001{1000 + i:04d}", None, frozenset(days[1:])) for i in range(70)]
    rest = [Member(f"19900101201501{1000 + i:04d}") for i in range(staff - len(leaders) - 70)]
    return leaders + first_day + rest


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--staff", type=int, default=200)
    ap.add_argument("--days", type=int, default=22)
    ap.add_argument("--max-share", default="0.3")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--min-share", default="0")
    ap.add_argument("--trap", type=int, metavar="HEADS", default=0,
                    help="the fairness trap (infeasible) with HEADS eselon II instead of the seeded unit")
    args = ap.parse_args(argv)
    days = working_days(date(2026, 11, 2), args.days)
    members = fairness_trap(args.staff, days, args.trap) if args.trap else unit(args.staff, days, args.seed)
    quota = Quota(max_share=share(args.max_share), min_share=share(args.min_share))
    t0 = time.perf_counter()
    result = solve(members, days, quota)
    seconds = time.perf_counter() - t0
    feasible = not isinstance(result, Infeasible)
    violations = len(check(members, days, result.assignment, args.max_share, args.min_share)) if feasible else None
    out = {"staff": args.staff, "days": len(days), "seconds": round(seconds, 3), "feasible": feasible,
           "violations": violations, "rotation": dict(result.rotation) if feasible else None,
           "hi": result.hi if feasible else None,
           "failures": None if feasible else [f.constraint for f in result.failures], "python": platform.python_version()}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
