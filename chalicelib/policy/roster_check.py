"""An independent check of a WFO/WFH roster against every rule of ``policy/roster.py``'s docstring,
counting violations. It shares no code with the solver (nothing imported from it): the tests and
``bench/roster.py`` judge the solver's output with it. Pure.

``staff``: objects with ``nip``, ``level`` (1..5 or None) and ``unavailable`` (a set of dates);
``assignment``: nip -> one status per day (``"WFO"``, ``"WFH"``, ``"away"``).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Violation:
    rule: str  # shape | availability | max_share | min_share | top_levels | fairness
    subject: str  # a nip, a day (ISO) or a group
    detail: str


def day_limits(headcount: int, max_share: Any, min_share: Any) -> tuple[int, int]:
    """``(lo, hi)``: ceil(min_share * N), floor(max_share * N), in exact integer arithmetic
    (a share given as a decimal string or number, or as a ratio with numerator/denominator)."""
    def ratio(x: Any) -> tuple[int, int]:
        if hasattr(x, "numerator") and not isinstance(x, float):
            return x.numerator, x.denominator
        return Decimal(str(x)).as_integer_ratio()
    (hn, hd), (ln, ld) = ratio(max_share), ratio(min_share)
    return -((-ln * headcount) // ld), (hn * headcount) // hd


def check(staff: Sequence[Any], days: Sequence[date], assignment: Mapping[str, Sequence[str]],
          max_share: Any, min_share: Any = 0) -> list[Violation]:
    days = sorted(set(days))
    out: list[Violation] = []
    nips = [m.nip for m in staff]
    if sorted(assignment) != sorted(nips):
        out.append(Violation("shape", "roster", "the roster's people are not the unit's staff"))
    for m in staff:
        row = list(assignment.get(m.nip, ()))
        if len(row) != len(days) or any(s not in ("WFO", "WFH", "away") for s in row):
            out.append(Violation("shape", m.nip, "not one WFO/WFH/away per working day"))
            continue
        for d, s in zip(days, row):
            if (s == "away") != (d in m.unavailable):
                out.append(Violation("availability", m.nip, f"{d.isoformat()}: {s}"))
    if any(v.rule == "shape" for v in out):
        return out
    out += _days(staff, days, assignment, *day_limits(len(staff), max_share, min_share))
    out += _fairness(staff, days, assignment)
    return out


def _days(staff: Sequence[Any], days: list[date], assignment: Mapping[str, Sequence[str]],
          lo: int, hi: int) -> list[Violation]:
    out = []
    levels = sorted({m.level for m in staff if m.level is not None})[:2]
    for j, d in enumerate(days):
        inside = [m for m in staff if assignment[m.nip][j] == "WFO"]
        if len(inside) > hi:
            out.append(Violation("max_share", d.isoformat(), f"{len(inside)} in the office, at most {hi}"))
        if len(inside) < lo:
            out.append(Violation("min_share", d.isoformat(), f"{len(inside)} in the office, at least {lo}"))
        for lvl in levels:
            if not any(m.level == lvl for m in inside):
                out.append(Violation("top_levels", d.isoformat(), f"nobody of level {lvl} in the office"))
    return out


def _fairness(staff: Sequence[Any], days: list[date], assignment: Mapping[str, Sequence[str]]) -> list[Violation]:
    levels = sorted({m.level for m in staff if m.level is not None})[:2]
    groups: dict[str, list[Any]] = {}
    for m in staff:
        groups.setdefault(f"level:{m.level}" if m.level in levels else "rotation", []).append(m)
    out = []
    for name, members in groups.items():
        counts = [(list(assignment[m.nip]).count("WFO"), len(days) - len([d for d in days if d in m.unavailable]))
                  for m in members]
        if len(members) > 1 and not any(all(min(k, a) <= o <= min(k + 1, a) for o, a in counts)
                                        for k in range(len(days) + 1)):
            out.append(Violation("fairness", name, f"office days {sorted(o for o, _ in counts)} not within one"))
    return out
