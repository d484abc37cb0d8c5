"""Face enrolment: three photos, each must pass; the template is stored KMS-envelope-encrypted,
with the employee's consent, in one write."""
from __future__ import annotations

from chalicelib.common.errors import Conflict, HadirError, InvalidInput, NotFound
from chalicelib.common.logs import logger, metrics
from chalicelib.face import liveness
from chalicelib.services import sessions
from chalicelib.services.records import Employee
from chalicelib.services.schemas import (
    EnrolmentOut,
    EnrolRequest,
    PhotoResult,
    UploadSessionOut,
)
from chalicelib.wiring import Services

ENROLMENT_PHOTOS = 3


def employee(svc: Services, nip: str) -> Employee:
    emp = svc.records.get_employee(nip)
    if emp is None:
        raise NotFound("No employee record for this account", code="employee_not_found")
    return emp


def _not_enrolled(svc: Services, nip: str) -> Employee:
    emp = employee(svc, nip)
    if emp.enrolled:
        raise Conflict("Already enrolled; an admin must allow a new enrolment", code="already_enrolled")
    return emp


def open_uploads(svc: Services, nip: str) -> UploadSessionOut:
    _not_enrolled(svc, nip)
    steps = liveness.enrolment_challenge() if svc.liveness.required else None
    out = sessions.open_session(svc, nip, sessions.ENROLMENT, svc.settings.enrolment_session_ttl_s,
                                ENROLMENT_PHOTOS, steps)
    return out.model_copy(update={"nonce": None})  # bound to the session by the POST policy


def enrol(svc: Services, nip: str, req: EnrolRequest, device_id: str | None = None) -> EnrolmentOut:
    """``consent`` must be true: the employee accepted the biometric consent notice shown by the
    app (UU 27/2022: face templates are specific personal data). It is recorded, with the
    notice's version, in the same write as the template."""
    notice = svc.settings.consent_notice_version
    if req.consent is not True:
        raise InvalidInput("Explicit consent to biometric processing is required to enrol",
                           code="consent_required", details={"field": "consent", "notice_version": notice})
    _not_enrolled(svc, nip)
    sess = sessions.claimable(svc, req.session_id, nip, sessions.ENROLMENT)
    photos = sessions.read_photos(svc, sess)
    try:
        steps = sess.challenge.steps if sess.challenge else None
        result = svc.face_engine().enrol(photos, steps, svc.liveness)  # EnrolmentError: details.photos
    except HadirError:
        metrics.add_metric(name="EnrolmentRejected", unit="Count", value=1)
        raise
    finally:
        del photos
    sealed = svc.vault.seal(nip, result.template.to_dict())
    sealed = sealed.model_copy(update={"model_version": result.template.model_version})
    pending = svc.settings.enrolment_approval
    if pending:  # the reviewer sees the photos (reviews.enrolment_evidence), kept until decided
        for key in sess.keys:
            svc.uploads.keep(key, sessions.evidence_key(key))
    svc.records.enrol(nip, sealed, sess.session_id, svc.now_iso(), consent_notice=notice, device_id=device_id,
                      pending=pending)
    svc.uploads.discard(sess.keys)
    metrics.add_metric(name="Enrolled", unit="Count", value=1)
    logger.info("enrolled", extra={"nip": nip, "model_version": result.template.model_version})
    return EnrolmentOut(model_version=result.template.model_version,
                        status="pending_approval" if pending else "enrolled",
                        photos=[PhotoResult(index=p.index, ok=p.ok, checks=p.checks) for p in result.photos],
                        liveness=liveness.for_employee(result.liveness.to_dict()) if result.liveness else None)
