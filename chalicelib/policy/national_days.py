"""Indonesia's national holidays and cuti bersama as data: ``data/national_days_id.json``.

Generated from the pinned ``holidays`` package (``python -m chalicelib.policy.national_days``)
and shipped with the code, because importing that package loads every country it knows (about
0.5 s of a Lambda cold start, measured in bench/RESULTS-checkin.md) where a check-in needs one
country. Years outside the file's range still come from the package, imported then.
tests/policy/test_policy_national_days.py checks the file against the package.
"""
from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).with_name("data") / "national_days_id.json"
YEARS = range(2020, 2041)

Days = dict[date, str]


@lru_cache(maxsize=64)
def of_year(year: int) -> tuple[Days, Days]:
    """(national holidays, cuti bersama) of ``year``: from the shipped file, else the package."""
    shipped = _shipped().get(str(year))
    if shipped is None:
        return from_package(year)
    return ({date.fromisoformat(d): n for d, n in shipped["public"].items()},
            {date.fromisoformat(d): n for d, n in shipped["government"].items()})


@lru_cache(maxsize=1)
def _shipped() -> dict[str, dict[str, dict[str, str]]]:
    return json.loads(DATA.read_text(encoding="utf-8"))


def from_package(year: int) -> tuple[Days, Days]:
    from holidays.countries.indonesia import Indonesia  # imports every country: off the hot path
    return dict(Indonesia(years=year).items()), dict(Indonesia(years=year, categories=("government",)).items())


def generate() -> dict[str, dict[str, dict[str, str]]]:
    out = {}
    for year in YEARS:
        public, government = from_package(year)
        out[str(year)] = {"public": {d.isoformat(): n for d, n in sorted(public.items())},
                          "government": {d.isoformat(): n for d, n in sorted(government.items())}}
    return out


if __name__ == "__main__":
    DATA.write_text(json.dumps(generate(), ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {DATA} ({YEARS.start}-{YEARS.stop - 1})")
