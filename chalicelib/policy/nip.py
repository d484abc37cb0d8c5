"""NIP, the 18-digit civil-servant number: validate it and read what it encodes.

Layout (Peraturan Kepala BKN 22/2007): ``YYYYMMDD`` birth date, ``YYYYMM`` year and month of first
appointment as CPNS, one sex digit (1 male, 2 female), and a 3-digit sequence (from 001) among
people sharing the first 15 digits. Example: ``198503302010011001`` is a man born 30 March 1985,
appointed January 2010, sequence 1. Printed NIPs are often grouped with spaces
(``19850330 201001 1 001``); whitespace is removed before checking.

A PPPK's number (NI PPPK) has the same length, but digits 13-14 are not a month (they count work
agreements, commonly ``21``); pass ``allow_pppk=True`` to accept those, with ``appointment`` month
``None`` and ``employment="PPPK"``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from chalicelib.common.errors import HadirError, JsonObject, Kind

ADULT_AGE = 18


@dataclass(frozen=True)
class NipInfo:
    """What a valid NIP says about its holder."""

    nip: str
    birth_date: date
    appointment: tuple[int, int | None]  # (year, month); month None for PPPK
    sex: str  # "male" | "female"
    sequence: int
    employment: str = "PNS"  # "PNS" | "PPPK"

    def to_dict(self) -> JsonObject:
        return {"nip": self.nip, "birth_date": self.birth_date.isoformat(),
                "appointment": list(self.appointment), "sex": self.sex,
                "sequence": self.sequence, "employment": self.employment}


class InvalidNip(HadirError):
    """The NIP is not valid."""

    kind = Kind.INVALID
    code = "invalid_nip"

    def __init__(self, problems: list[str]):
        super().__init__("The NIP is not valid.", details={"problems": problems})
        self.problems = problems


def _birth_date(nip: str, problems: list[str]) -> date | None:
    try:
        birth = date(int(nip[0:4]), int(nip[4:6]), int(nip[6:8]))
    except ValueError:
        birth = None
    if birth is None or birth.year < 1900:
        problems.append("invalid_birth_date")
        return None
    return birth


def _timeline_problems(birth: date | None, year: int, month: int | None, found: list[str],
                       today: date | None) -> list[str]:
    """Appointed before the holder was 18 (month unknown for PPPK: use the year), or, with
    ``today`` given, born or appointed in the future."""
    problems = []
    if birth is not None and not {"invalid_appointment_year", "invalid_appointment_month"} & set(found):
        if (year, month if month is not None else 12) < (birth.year + ADULT_AGE, birth.month):
            problems.append("appointed_before_age_18")
    if today is not None:
        if birth is not None and birth > today:
            problems.append("birth_date_in_future")
        if (year, month or 1) > (today.year, today.month):
            problems.append("appointment_in_future")
    return problems


def validate_nip(s: str, *, allow_pppk: bool = False, today: date | None = None) -> NipInfo:
    """Check ``s`` and decode it, or raise ``invalid_nip`` with every problem code found:
    ``not_18_digits``, ``invalid_birth_date``, ``invalid_appointment_month``,
    ``invalid_appointment_year``, ``invalid_sex_digit``, ``invalid_sequence`` (000),
    ``appointed_before_age_18``, and with ``today`` given, ``birth_date_in_future`` and
    ``appointment_in_future``."""
    raw = s if isinstance(s, str) else ""
    nip = "".join(raw.split())
    if len(nip) != 18 or not nip.isascii() or not nip.isdigit():
        raise InvalidNip(["not_18_digits"])

    problems: list[str] = []
    birth = _birth_date(nip, problems)
    year, month_digits = int(nip[8:12]), int(nip[12:14])
    employment = "PNS"
    month: int | None = month_digits
    if not 1 <= month_digits <= 12:
        if allow_pppk and month_digits > 12:
            employment, month = "PPPK", None
        else:
            problems.append("invalid_appointment_month")
    if year < 1900:
        problems.append("invalid_appointment_year")
    sex = {"1": "male", "2": "female"}.get(nip[14])
    if sex is None:
        problems.append("invalid_sex_digit")
    sequence = int(nip[15:18])
    if sequence == 0:
        problems.append("invalid_sequence")
    problems += _timeline_problems(birth, year, month, problems, today)
    if problems:
        raise InvalidNip(problems)
    return NipInfo(nip=nip, birth_date=birth, appointment=(year, month),  # type: ignore[arg-type]
                   sex=sex, sequence=sequence, employment=employment)  # type: ignore[arg-type]
