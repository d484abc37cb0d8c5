"""Listing staff through indexes, never a Scan of the employees (docs/capacity.md, "Staff
through indexes"): an admin's screens (the team view, the review queue) list one unit at a time
(by_unit); the monthly recap walks the agency's offices (by_office)."""
from __future__ import annotations

from chalicelib.common.errors import InvalidInput
from chalicelib.services.records import Employee
from chalicelib.services.ports import AttendanceRecords

UNIT_REQUIRED = "unit_required"


def staff_of_unit(records: AttendanceRecords, unit: str | None) -> list[Employee]:
    """The employees of ``unit``, by NIP; InvalidInput ``unit_required`` without one."""
    if not unit:
        raise InvalidInput("An admin names a unit (?unit=): the screen lists one unit's staff",
                           code=UNIT_REQUIRED)
    return list(records.staff_in_unit(unit))


def agency_staff(records: AttendanceRecords) -> list[Employee]:
    """Every office's staff (the by_office index, page by page), by NIP: the whole agency without
    a Scan (the monthly recap). The import puts everyone in an office (``office_ids`` required)."""
    return sorted((e for o in records.offices() for e in records.staff_in_office(o.office_id)),
                  key=lambda e: e.nip)
