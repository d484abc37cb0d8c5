"""Face enrolment: three photos, each must pass; the template is stored KMS-envelope-encrypted,
with the employee's consent, in one write.

A model upgrade (docs/deploy.md, "Upgrading the face model"): an employee whose template was made
by a previous model version may enrol again themselves while that version is still configured
(``HADIR_FACE_PREVIOUS_CALIBRATIONS``): the new photos must also match the old template under the
old model. Once it is dropped, only an admin reset (audited) opens a new enrolment."""
from __future__ import annotations


from chalicelib.common.errors import Conflict, Forbidden, HadirError, InvalidInput, JsonObject, NotFound
from chalicelib.common.logs import logger, metrics
from chalicelib.face import liveness
from chalicelib.face.types import MatchResult, Template
from chalicelib.services import sessions
from chalicelib.services.records import Employee, Office, SealedTemplate
from chalicelib.services.schemas import (
    EnrolmentOut,
    EnrolRequest,
    PhotoResult,
    UploadSessionOut,
)
from chalicelib.wiring import Services

ENROLMENT_PHOTOS = 3
ENROLMENT_OUTDATED = "enrolment_outdated"  # check-in: the template is of another model version
REENROLMENT_UNAVAILABLE = "reenrolment_unavailable"  # its model is not configured any more: admin reset
REENROLMENT_MISMATCH = "reenrolment_mismatch"  # the new photos do not match the old template


def employee(svc: Services, nip: str) -> Employee:
    emp = svc.records.get_employee(nip)
    if emp is None:
        raise NotFound("No employee record for this account", code="employee_not_found")
    return emp


def assigned_offices(svc: Services, emp: Employee) -> list[Office]:
    """The employee's offices on record, first the one whose rules and time zone lead; 409
    ``no_office`` when none is (a check-in or a ping has nowhere to be judged). Each as read
    at most ``HADIR_CONFIG_TTL_S`` ago (``agency_config.PolicyCache.office``)."""
    offices = list(svc.policy_cache.offices(emp.office_ids).values())
    if not offices:
        raise Conflict("No office is assigned to this employee", code="no_office")
    return offices


def _outdated_details(svc: Services, template_version: str) -> JsonObject:
    engine = svc.face_engine()
    reenrol = template_version in engine.previous_versions
    return {"template_model_version": template_version, "engine_model_version": engine.model_version,
            "reenrol": reenrol, **({} if reenrol else {"needs": "admin_reset"})}


def require_current(svc: Services, sealed: SealedTemplate) -> None:
    """Conflict ``enrolment_outdated`` if the template is of another model version than the
    engine's, its details saying whether the employee may re-enrol themselves (``reenrol``)."""
    if sealed.model_version and sealed.model_version != svc.face_engine().model_version:
        details = _outdated_details(svc, sealed.model_version)
        raise Conflict("Your face was enrolled with an older face model: enrol again"
                       + (" from the app." if details["reenrol"] else "; ask an admin to allow it."),
                       code=ENROLMENT_OUTDATED, details=details)


def _enrolable(svc: Services, nip: str) -> tuple[Employee, SealedTemplate | None]:
    """The employee, and their outdated template when this is a model upgrade's re-enrolment.
    Conflict ``already_enrolled`` (a current template), ``reenrolment_unavailable`` (an outdated
    one whose model is not configured any more: an admin reset is the only way)."""
    emp = employee(svc, nip)
    if not emp.enrolled:
        return emp, None
    sealed = svc.records.sealed_template(nip)
    if sealed is None or not sealed.model_version or sealed.model_version == svc.face_engine().model_version:
        raise Conflict("Already enrolled; an admin must allow a new enrolment", code="already_enrolled")
    details = _outdated_details(svc, sealed.model_version)
    if not details["reenrol"]:
        raise Conflict("Your face was enrolled with a face model that is no longer available; "
                       "an admin must allow a new enrolment", code=REENROLMENT_UNAVAILABLE, details=details)
    return emp, sealed


def open_uploads(svc: Services, nip: str) -> UploadSessionOut:
    _enrolable(svc, nip)
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
    _, outdated = _enrolable(svc, nip)
    sess = sessions.claimable(svc, req.session_id, nip, sessions.ENROLMENT)
    photos = sessions.read_photos(svc, sess)
    try:
        steps = sess.challenge.steps if sess.challenge else None
        result = svc.face_engine().enrol(photos, steps, svc.liveness)  # EnrolmentError: details.photos
        old = _old_model_match(svc, nip, outdated, photos[0]) if outdated else None
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
    if outdated and old:
        svc.records.reenrol(nip, sealed, outdated.model_version, sess.session_id, svc.now_iso(), notice,
                            _renewal(outdated.model_version, sealed.model_version, old), device_id, pending)
    else:
        svc.records.enrol(nip, sealed, sess.session_id, svc.now_iso(), consent_notice=notice,
                          device_id=device_id, pending=pending)
    # the photos are not deleted here: the sessions stream's consumer deletes them once the
    # session is marked used (sessions.delete_used_frames; the lifecycle rule is the fallback)
    metrics.add_metric(name="Enrolled", unit="Count", value=1)
    logger.info("enrolled", extra={"nip": nip, "model_version": result.template.model_version,
                                   "previous_model_version": outdated.model_version if outdated else None})
    return EnrolmentOut(model_version=result.template.model_version,
                        status="pending_approval" if pending else "enrolled",
                        photos=[PhotoResult(index=p.index, ok=p.ok, checks=p.checks) for p in result.photos],
                        liveness=liveness.for_employee(result.liveness.to_dict()) if result.liveness else None)


def _old_model_match(svc: Services, nip: str, outdated: SealedTemplate, front: bytes) -> MatchResult:
    """The front enrolment photo against the outdated template, under its own (previous) model;
    Forbidden ``reenrolment_mismatch`` (nothing written) unless it matches."""
    old = Template.from_dict(svc.vault.unseal(nip, outdated))
    match = svc.face_engine().match_previous(old, front)
    if not match.is_match:
        logger.warning("re-enrolment refused", extra={"nip": nip, "model_version": old.model_version,
                                                     "score": match.score, "threshold": match.threshold})
        raise Forbidden("The new photos do not match the face you enrolled before; "
                        "ask an admin to allow a new enrolment",
                        code=REENROLMENT_MISMATCH, details={"template_model_version": old.model_version,
                                                            "engine_model_version": svc.face_engine().model_version})
    return match


def _renewal(previous_version: str, version: str, match: MatchResult) -> JsonObject:
    """The audit of a re-enrolment: both versions, the old model's match as its reason."""
    return {"template_model_version": previous_version, "engine_model_version": version,
            "reasons": [{"code": "previous_model_match", "model_version": previous_version, "photo": 0,
                         "score": round(match.score, 4), "threshold": round(match.threshold, 4)}]}
