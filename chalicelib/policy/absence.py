"""Who did not attend on a working day, grouped for their supervisors.

Run once the office's check-in window has closed (``window_closed``). An absence is a record with
reasons, not a sanction: the supervisor confirms or excuses it (leave, dinas luar, sickness);
PP 94/2021 counts unexcused days over a year.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from chalicelib.common.errors import JsonObject
from chalicelib.policy.calendar import DayStatus
from chalicelib.policy.time_rules import LatenessTable, OfficeRules


@dataclass(frozen=True)
class EmployeeRef:
    """The little the absence check needs to know about an employee."""

    nip: str
    name: str
    supervisor_nip: str | None
    office_id: str


@dataclass(frozen=True)
class AbsenceRecord:
    """One employee with no accepted check-in on a working day, and why that counts."""

    nip: str
    local_date: date
    supervisor_nip: str | None
    reasons: list[JsonObject] = field(default_factory=list)
    name: str = ""
    office_id: str = ""

    def to_dict(self) -> JsonObject:
        return {"nip": self.nip, "name": self.name, "office_id": self.office_id,
                "local_date": self.local_date.isoformat(),
                "supervisor_nip": self.supervisor_nip, "reasons": self.reasons}


def find_absentees(*, local_date: date, employees: Iterable[EmployeeRef],
                   accepted_checkin_nips: set[str], day_status: DayStatus,
                   excused_nips: set[str] | frozenset[str] = frozenset(),
                   lateness: LatenessTable | None = None) -> list[AbsenceRecord]:
    """Employees with neither an accepted check-in nor an excuse on ``local_date``, by NIP.

    A non-working day has no absentees. Each employee is reported once even if listed twice.
    With ``lateness`` given, the reason also carries the allowance cut for an unexcused absence.
    """
    if not day_status.working:
        return []
    reason: JsonObject = {"code": "no_checkin", "local_date": local_date.isoformat(),
                              "day": day_status.reason}
    if lateness is not None:
        reason["percent"] = lateness.absent_percent
    seen: dict[str, EmployeeRef] = {}
    for e in employees:
        seen.setdefault(e.nip, e)
    return [
        AbsenceRecord(nip=e.nip, local_date=local_date, supervisor_nip=e.supervisor_nip,
                      reasons=[dict(reason)], name=e.name, office_id=e.office_id)
        for nip, e in sorted(seen.items())
        if nip not in accepted_checkin_nips and nip not in excused_nips
    ]


def group_by_supervisor(records: Iterable[AbsenceRecord]) -> dict[str | None, list[AbsenceRecord]]:
    """Records per supervisor NIP (None: employees without a supervisor on file), each list
    in NIP order, so every supervisor gets one notice listing their people."""
    groups: dict[str | None, list[AbsenceRecord]] = {}
    for r in sorted(records, key=lambda r: r.nip):
        groups.setdefault(r.supervisor_nip, []).append(r)
    return groups


def window_closed(now_utc: datetime, rules: OfficeRules) -> bool:
    """Whether the check-in window of the office's current local day has closed."""
    _, local_time = rules.local_moment(now_utc)
    return local_time >= rules.checkin_end
