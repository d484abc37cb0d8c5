"""Face enrolment: three photos, each must pass; the template is stored KMS-envelope-encrypted."""
from __future__ import annotations

from typing import Any

from chalicelib.adapters import vault as biometrics
from chalicelib.common.errors import HadirError, InvalidInput, NotFound, Conflict
from chalicelib.common.logs import logger, metrics
from chalicelib.services import Services
from chalicelib.adapters.storage.repos import utc_iso

ENROLMENT_PHOTOS = 3


def open_uploads(svc: Services, nip: str) -> dict[str, Any]:
    emp = _employee(svc, nip)
    if emp["enrolled"]:
        raise Conflict("Already enrolled; an admin must allow a new enrolment", code="already_enrolled")
    out = svc.uploads.open(nip, "enrollment", ENROLMENT_PHOTOS, svc.settings.enrolment_session_ttl_s)
    out.pop("nonce")  # enrolment photos are bound to the session by the policy's nonce field
    return out


def enrol(svc: Services, nip: str, session_id: Any, consent: Any) -> dict[str, Any]:
    """``consent`` must be ``true``: the employee accepted the biometric consent notice shown by
    the app (UU 27/2022: face templates are specific personal data). It is recorded, with the
    notice's version, in the same transaction as the template."""
    if consent is not True:
        raise InvalidInput("Explicit consent to biometric processing is required to enrol",
                         code="consent_required",
                         details={"field": "consent", "notice_version": svc.settings.consent_notice_version})
    emp = _employee(svc, nip)
    if emp["enrolled"]:
        raise Conflict("Already enrolled; an admin must allow a new enrolment", code="already_enrolled")
    sess = svc.uploads.claimable(session_id, nip, "enrollment")
    photos = [svc.uploads.read(k, sess["nonce"]) for k in sess["keys"]]
    engine = svc.face_engine()
    try:
        result = engine.enrol(photos)  # raises EnrolmentError (422, details.photos)
    except HadirError:
        metrics.add_metric(name="EnrolmentRejected", unit="Count", value=1)
        raise
    finally:
        del photos
    sealed = biometrics.seal(nip, result.template.to_dict(), svc.settings.kms_key_id)
    svc.store.enrol(nip, sealed, result.template.model_version, sess["session_id"], utc_iso(),
                    consent_notice=svc.settings.consent_notice_version)
    svc.uploads.discard(sess["keys"])
    metrics.add_metric(name="Enrolled", unit="Count", value=1)
    logger.info("enrolled", extra={"nip": nip, "model_version": result.template.model_version})
    return {"status": "enrolled", "model_version": result.template.model_version,
            "photos": [{"index": p.index, "ok": p.ok, "checks": p.checks} for p in result.photos]}


def _employee(svc: Services, nip: str | None) -> dict[str, Any]:
    emp = svc.store.get_employee(nip) if nip else None
    if emp is None:
        raise NotFound("No employee record for this account", code="employee_not_found")
    return emp
