"""The phone an employee checks in with: bound at enrolment (``X-Device-Id``); another one is
flagged ``new_device`` until an admin or the employee's own supervisor approves it here."""
from __future__ import annotations

from chalicelib.adapters.auth import Principal
from chalicelib.common.logs import logger
from chalicelib.services.schemas import DeviceBinding, DeviceBound
from chalicelib.services.staff import staff_member
from chalicelib.wiring import Services


def approve(svc: Services, nip: str, req: DeviceBinding, actor: Principal) -> DeviceBound:
    staff_member(svc, nip, actor)
    svc.records.bind_device(nip, req.device_id, actor=actor.username, reason=req.reason, now=svc.now_iso())
    logger.info("device bound", extra={"nip": nip, "actor": actor.username})
    return DeviceBound(nip=nip, device_id=req.device_id, bound_by=actor.username)
