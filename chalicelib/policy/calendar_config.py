"""The agency's calendar document: cuti bersama, regional and agency holidays, extra working days,
per year; validated into a :class:`WorkCalendar`. Pure (no I/O).

A document (JSON, as stored and as the admin API takes it)::

    {"years": {"2026": {"cuti_bersama": [{"date": "2026-02-16", "name": "Cuti Bersama Imlek"}],
                        "regional_holidays": {"51": [{"date": "2026-03-19", "name": "..."}]},
                        "agency_holidays": [...], "extra_working_days": [...]}},
     "package_cuti_bersama": true, "source": "SKB 2026"}

A year that lists ``cuti_bersama`` replaces the ``holidays`` package's cuti bersama for that year (even with an empty
list: the agency says "none"); years not listed take the package's unless ``package_cuti_bersama``
is false. Regional holidays are keyed by province code (BPS/Kemendagri two digits, e.g. "51" Bali).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from chalicelib.common.errors import InvalidInput, JsonObject, problem
from chalicelib.policy.calendar import WorkCalendar

_PROVINCE = re.compile(r"^\d{2}$")
DAY_LISTS = ("cuti_bersama", "agency_holidays", "extra_working_days")
MAX_NAME = 120

# Cuti bersama by joint decree (SKB Menteri Agama, Menteri Ketenagakerjaan and MenPAN-RB). 2025:
# the decree of 2024 set 10 days; 18 August 2025 was added by its amendment (the 80th Independence
# Day), so 11 are in force. 2026: 8 days (SKB of 2025). 2027: the dates the ``holidays`` package
# (0.108) carries for the 2027 decree.
_CB = "Cuti Bersama "
DECREE_CUTI_BERSAMA: dict[int, tuple[tuple[str, str], ...]] = {
    2025: (("2025-01-28", "Tahun Baru Imlek"), ("2025-03-28", "Hari Suci Nyepi"),
           ("2025-04-02", "Hari Raya Idul Fitri"), ("2025-04-03", "Hari Raya Idul Fitri"),
           ("2025-04-04", "Hari Raya Idul Fitri"), ("2025-04-07", "Hari Raya Idul Fitri"),
           ("2025-05-13", "Hari Raya Waisak"), ("2025-05-30", "Kenaikan Yesus Kristus"),
           ("2025-06-09", "Hari Raya Idul Adha"),
           ("2025-08-18", "Hari Kemerdekaan Republik Indonesia"),
           ("2025-12-26", "Hari Raya Natal")),
    2026: (("2026-02-16", "Tahun Baru Imlek"), ("2026-03-18", "Hari Suci Nyepi"),
           ("2026-03-20", "Hari Raya Idul Fitri"), ("2026-03-23", "Hari Raya Idul Fitri"),
           ("2026-03-24", "Hari Raya Idul Fitri"), ("2026-05-15", "Kenaikan Yesus Kristus"),
           ("2026-05-28", "Hari Raya Idul Adha"), ("2026-12-24", "Hari Raya Natal")),
    2027: (("2027-02-05", "Tahun Baru Imlek"), ("2027-03-09", "Hari Raya Idul Fitri"),
           ("2027-03-12", "Hari Raya Idul Fitri"), ("2027-03-15", "Hari Raya Idul Fitri"),
           ("2027-03-25", "Wafat Yesus Kristus"), ("2027-05-18", "Hari Raya Idul Adha"),
           ("2027-05-19", "Hari Raya Waisak"), ("2027-12-24", "Hari Raya Natal")),
}


def default_document() -> JsonObject:
    """The calendar used when the agency stored none: the decrees' cuti bersama 2025-2027."""
    return {"years": {str(y): {"cuti_bersama": [{"date": d, "name": _CB + n} for d, n in days]}
                      for y, days in DECREE_CUTI_BERSAMA.items()},
            "package_cuti_bersama": True, "source": "SKB cuti bersama 2025-2027"}


def _day_list(field: str, year: int, rows: Any, problems: list[JsonObject]) -> dict[date, str]:
    if not isinstance(rows, list):
        problems.append(problem(field, "not_a_list"))
        return {}
    days: dict[date, str] = {}
    for i, row in enumerate(rows):
        f = f"{field}[{i}]"
        raw = row.get("date") if isinstance(row, Mapping) else None
        name = row.get("name") if isinstance(row, Mapping) else None
        try:
            d = date.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 10 else None
        except ValueError:
            d = None
        if d is None:
            problems.append(problem(f, "not_a_date"))
            continue
        if d.year != year:
            problems.append(problem(f, "outside_year", date=raw, year=year))
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            problems.append(problem(f, "missing_or_long_name", max_length=MAX_NAME))
        if d in days:
            problems.append(problem(f, "duplicate_date", date=raw))
        days[d] = name.strip() if isinstance(name, str) else ""
    return days


def _year(key: str, body: Any, problems: list[JsonObject]) -> dict[str, Any]:
    out: dict[str, Any] = {k: {} for k in DAY_LISTS} | {"regional": {}}
    if not (isinstance(key, str) and key.isdigit() and 2000 <= int(key) <= 2100):
        problems.append(problem(f"years.{key}", "not_a_year"))
        return out
    if not isinstance(body, Mapping):
        problems.append(problem(f"years.{key}", "not_an_object"))
        return out
    year = int(key)
    out["lists_cuti_bersama"] = "cuti_bersama" in body
    for name in DAY_LISTS:
        out[name] = _day_list(f"years.{key}.{name}", year, body.get(name, []), problems)
    regional = body.get("regional_holidays", {})
    if not isinstance(regional, Mapping):
        problems.append(problem(f"years.{key}.regional_holidays", "not_an_object"))
        regional = {}
    for prov, rows in regional.items():
        f = f"years.{key}.regional_holidays.{prov}"
        if not (isinstance(prov, str) and _PROVINCE.match(prov)):
            problems.append(problem(f, "not_a_province_code"))
        out["regional"][prov] = _day_list(f, year, rows, problems)
    holidays = set(out["cuti_bersama"]) | set(out["agency_holidays"])
    for d in sorted(holidays & set(out["extra_working_days"])):
        problems.append(problem(f"years.{key}.extra_working_days", "also_a_holiday", date=d.isoformat()))
    return out


def calendar_from_document(doc: Mapping[str, Any]) -> WorkCalendar:
    """The :class:`WorkCalendar` of a calendar document; ``invalid_calendar`` (422) with every
    problem in ``details.problems`` when it breaks a rule."""
    problems: list[JsonObject] = []
    years = doc.get("years", {}) if isinstance(doc, Mapping) else None
    if not isinstance(years, Mapping):
        problems.append(problem("years", "not_an_object"))
        years = {}
    package = doc.get("package_cuti_bersama", True) if isinstance(doc, Mapping) else True
    if not isinstance(package, bool):
        problems.append(problem("package_cuti_bersama", "not_a_boolean"))
    parsed = {k: _year(k, v, problems) for k, v in years.items()}
    if problems:
        raise InvalidInput("The calendar is not valid.", code="invalid_calendar",
                           details={"problems": problems})
    merged: dict[str, dict[date, str]] = {k: {} for k in DAY_LISTS}
    regional: dict[str, dict[date, str]] = {}
    for y in parsed.values():
        for k in DAY_LISTS:
            merged[k].update(y[k])
        for prov, days in y["regional"].items():
            regional.setdefault(prov, {}).update(days)
    return WorkCalendar(extra_holidays=merged["agency_holidays"], cuti_bersama=merged["cuti_bersama"],
                        extra_working_days=merged["extra_working_days"], package_cuti_bersama=package is not False,
                        cuti_bersama_years={int(k) for k, y in parsed.items() if y.get("lists_cuti_bersama")}, regional_holidays=regional)


def default_calendar() -> WorkCalendar:
    return calendar_from_document(default_document())
