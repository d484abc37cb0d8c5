"""Attendance policy: who, which day, what time, and the verdict with its reasons.

Pure: no AWS, no I/O, no environment. Functions take data and return decisions that carry their
reasons (rules applied, thresholds, minutes, tiers) as data.

Glossary (Indonesian terms kept where they are the domain's own words):

ASN         Aparatur Sipil Negara, the civil service: PNS (permanent civil servants) and PPPK
            (government employees on work agreements).
NIP         Nomor Induk Pegawai, the 18-digit civil-servant number: birth date, year and month
            of first appointment, sex digit, sequence (see ``policy.nip``). PPPK hold an NI PPPK.
OPD         Organisasi Perangkat Daerah, a unit of a regional government (an agency or office);
            its head is the supervisor of last resort.
BKD/BKPSDM  the regional personnel agency that administers attendance and allowances.
TL1-TL4     terlambat, late arrival tiers; each cuts a percentage of the day's performance
            allowance (``policy.time_rules.LatenessTable``).
PSW1-PSW4   pulang sebelum waktunya, leaving before the end of work, tiered the same way.
WIB/WITA/WIT Western / Central / Eastern Indonesia Time: UTC+7 (Asia/Jakarta, Asia/Pontianak),
            UTC+8 (Asia/Makassar), UTC+9 (Asia/Jayapura); no daylight saving. A record's day is
            the office's local date.
WFO/WFH/WFA work from office / home / anywhere (an approved site).
DL          dinas luar, official duty away from the office (an assignment site).
Cuti bersama collective leave days set each year by joint ministerial decree, taken from annual
            leave; non-working days for attendance.
"""
from chalicelib.policy.absence import (
    AbsenceRecord,
    EmployeeRef,
    find_absentees,
    group_by_supervisor,
    window_closed,
)
from chalicelib.policy.calendar import DayStatus, WorkCalendar
from chalicelib.policy.decision import Decision, decide_checkin
from chalicelib.policy.export import (
    CSV_COLUMNS,
    EXPORT_SCHEMA_VERSION,
    manifest,
    records_to_csv,
)
from chalicelib.policy.nip import InvalidNip, NipInfo, validate_nip
from chalicelib.policy.time_rules import (
    LatenessTable,
    OfficeRules,
    Tier,
    local_moment,
)

__all__ = [
    "AbsenceRecord", "EmployeeRef", "find_absentees", "group_by_supervisor", "window_closed",
    "DayStatus", "WorkCalendar", "Decision", "decide_checkin",
    "CSV_COLUMNS", "EXPORT_SCHEMA_VERSION", "manifest", "records_to_csv",
    "InvalidNip", "NipInfo", "validate_nip",
    "LatenessTable", "OfficeRules", "Tier", "local_moment",
]
