"""Who may act on an employee: an admin, or the employee's own supervisor (never another's staff)."""
from __future__ import annotations

from chalicelib.adapters.auth import Principal
from chalicelib.common.errors import Forbidden, NotFound
from chalicelib.services.records import Employee
from chalicelib.wiring import Services


def staff_member(svc: Services, nip: str, actor: Principal) -> Employee:
    """The employee, if ``actor`` is an admin or the employee's own supervisor."""
    emp = svc.records.get_employee(nip)
    if emp is None:
        raise NotFound("No such employee", code="employee_not_found", details={"nip": nip})
    if "admin" not in actor.groups and not (actor.nip and emp.supervisor_nip == actor.nip):
        raise Forbidden("Supervisors may manage their own staff only",
                        code="not_your_staff", details={"nip": nip})
    return emp
