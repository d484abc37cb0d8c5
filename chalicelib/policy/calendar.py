"""Which days are working days: weekends, national holidays, cuti bersama, agency holidays.

National holidays come from the ``holidays`` package (Indonesia, public category), shipped as data
(``national_days.py``). Cuti bersama
(collective leave, set each year by joint ministerial decree) come from the same package's
``government`` category unless turned off, plus any configured here, because decrees change late
and agencies must be able to correct them without a release: a year whose cuti bersama is
configured (``cuti_bersama_years``) replaces the package's list for that year. Regional holidays
hold for one province only (``day_status(d, province=...)``). ``extra_working_days`` declares a day
a working day whatever else says (a revised decree, or a service unit that stays open).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from chalicelib.common.errors import InvalidInput, JsonObject
from chalicelib.policy import national_days

WORKING_DAY = "working_day"
WEEKEND = "weekend"
NATIONAL_HOLIDAY = "national_holiday"
CUTI_BERSAMA = "cuti_bersama"
AGENCY_HOLIDAY = "agency_holiday"
REGIONAL_HOLIDAY = "regional_holiday"

MONDAY_TO_FRIDAY = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class DayStatus:
    """Whether a date is a working day, why, and the holiday's name if there is one."""

    working: bool
    reason: str  # working_day | weekend | national_holiday | cuti_bersama | agency_holiday
    name: str | None = None

    def to_dict(self) -> JsonObject:
        return {"working": self.working, "reason": self.reason, "name": self.name}


class WorkCalendar:
    """An agency's working-day calendar. Immutable once built; cheap to query."""

    def __init__(self, extra_holidays: Mapping[date, str] | None = None,
                 cuti_bersama: Mapping[date, str] | None = None,
                 workdays: Iterable[int] = MONDAY_TO_FRIDAY, *,
                 package_cuti_bersama: bool = True,
                 extra_working_days: Mapping[date, str] | None = None,
                 cuti_bersama_years: Iterable[int] | None = None,
                 regional_holidays: Mapping[str, Mapping[date, str]] | None = None):
        self.extra_holidays = dict(extra_holidays or {})
        self.cuti_bersama = dict(cuti_bersama or {})
        self.cuti_bersama_years = frozenset(
            {d.year for d in self.cuti_bersama} if cuti_bersama_years is None else cuti_bersama_years)
        self.regional_holidays = {p: dict(days) for p, days in (regional_holidays or {}).items()}
        self.workdays = tuple(sorted(set(workdays)))
        self.package_cuti_bersama = package_cuti_bersama
        self.extra_working_days = dict(extra_working_days or {})
        bad = [d for d in self.workdays if not (isinstance(d, int) and 0 <= d <= 6)]
        if bad or not self.workdays:
            raise InvalidInput("workdays must be weekday numbers 0 (Monday) to 6 (Sunday).",
                             code="invalid_calendar", details={"workdays": list(self.workdays)})

    def day_status(self, d: date, province: str | None = None) -> DayStatus:
        """The status of ``d`` (for an office in ``province``, if known). Precedence: an extra
        working day, then national holiday, cuti bersama, agency holiday, regional holiday,
        weekend; otherwise a working day."""
        if d in self.extra_working_days:
            return DayStatus(True, WORKING_DAY, self.extra_working_days[d] or None)
        national, package_cuti = national_days.of_year(d.year)
        if d in national:
            return DayStatus(False, NATIONAL_HOLIDAY, national[d])
        if d in self.cuti_bersama:
            return DayStatus(False, CUTI_BERSAMA, self.cuti_bersama[d])
        if self.package_cuti_bersama and d.year not in self.cuti_bersama_years and d in package_cuti:
            return DayStatus(False, CUTI_BERSAMA, package_cuti[d])
        if d in self.extra_holidays:
            return DayStatus(False, AGENCY_HOLIDAY, self.extra_holidays[d])
        regional = self.regional_holidays.get(province or "", {})
        if d in regional:
            return DayStatus(False, REGIONAL_HOLIDAY, regional[d])
        if d.weekday() not in self.workdays:
            return DayStatus(False, WEEKEND, None)
        return DayStatus(True, WORKING_DAY, None)

    def is_working_day(self, d: date, province: str | None = None) -> bool:
        return self.day_status(d, province).working

    def working_days(self, start: date, end: date, province: str | None = None) -> list[date]:
        """Working days from ``start`` to ``end`` inclusive."""
        days = (start + timedelta(n) for n in range((end - start).days + 1))
        return [d for d in days if self.is_working_day(d, province)]
