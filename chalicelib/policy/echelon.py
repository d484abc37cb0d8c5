"""Structural level (eselon) of an employee: one canonical spelling and its level number. Pure.

Representation: the canonical string is the roman level with an optional grade, ``"II.a"``,
``"III.b"``, ``"IV"`` (levels I..V, grades a/b), as Simpeg prints it. Accepted spellings:
``"II.a"``, ``"IIa"``, ``"II/a"``, ``"ii.A"``, ``"2a"``, ``"2.a"``, ``"2"`` (or the integer 2).
:func:`level` is the number 1..5 (1 = eselon I, the highest); the grade does not make a separate
level: the roster's top-two-levels rule (SE MenPAN-RB 19/2020) compares levels, so II.a and II.b are
both level 2. Staff without a structural position (functional or general staff) have ``None``.
"""
from __future__ import annotations

import re

ROMAN = ("I", "II", "III", "IV", "V")
_PATTERN = re.compile(r"^(?P<lvl>V|IV|I{1,3}|[1-5])(?:[ ./-]?(?P<grade>[ab]))?$", re.IGNORECASE)


class InvalidEchelon(ValueError):
    """Not one of I..V with an optional grade a/b."""


def canonical(raw: str | int | None) -> str | None:
    """``raw`` spelled canonically (``"II.a"``), ``None`` for empty; :class:`InvalidEchelon` else."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise InvalidEchelon(str(raw))
    m = _PATTERN.match(str(raw).strip())
    if not m:
        raise InvalidEchelon(str(raw)[:20])
    lvl = m["lvl"].upper()
    roman = ROMAN[int(lvl) - 1] if lvl.isdigit() else lvl
    return f"{roman}.{m['grade'].lower()}" if m["grade"] else roman


def level(echelon: str | None) -> int | None:
    """1..5 of a canonical (or any accepted) spelling; ``None`` for no structural position."""
    c = canonical(echelon)
    return None if c is None else ROMAN.index(c.split(".")[0]) + 1
