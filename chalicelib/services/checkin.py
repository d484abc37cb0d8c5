"""Selfie + GPS check-in: verify the face, locate the position, apply the time rules, store the
explainable decision (accepted, flagged or rejected alike) in one transaction.

Retries with the same ``Idempotency-Key`` return the stored result (Powertools idempotency with
its DynamoDB persistence layer); without the header the single-use session still prevents a
second write.
"""
from __future__ import annotations

import time
import uuid
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (DynamoDBPersistenceLayer, IdempotencyConfig,
                                                         idempotent_function)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError, IdempotencyValidationError)

from chalicelib.adapters import aws, vault as biometrics
from chalicelib.common.errors import Malformed, InvalidInput, Conflict
from chalicelib.face.types import FaceError, Template
from chalicelib.geo import locate, parse_position
from chalicelib.common.logs import logger, metrics
from chalicelib.policy.decision import decide_checkin
from chalicelib.policy.time_rules import OfficeRules
from chalicelib.services import Services
from chalicelib.services.enrolment import _employee
from chalicelib.services.sites import candidate_sites
from chalicelib.adapters.storage.repos import utc_iso

KINDS = ("in", "out")


def open_uploads(svc: Services, nip: str) -> dict[str, Any]:
    _employee(svc, nip)
    return svc.uploads.open(nip, "checkin", 1, svc.settings.checkin_session_ttl_s)


def check_in(svc: Services, nip: str, body: Any, idempotency_key: str | None,
             lambda_context: Any = None) -> dict[str, Any]:
    """Returns ``{"status": 201|422, "body": {...}, "timings_ms": {...}}``."""
    if not isinstance(body, dict):
        raise Malformed("A JSON object is expected", code="invalid_body")
    if idempotency_key is None:
        return _check_in(svc, nip, body)
    key = idempotency_key.strip()
    if not key or len(key) > 128:
        raise Malformed("Idempotency-Key must be 1-128 characters", code="invalid_idempotency_key")
    persistence = DynamoDBPersistenceLayer(table_name=svc.settings.tables["idempotency"],
                                           boto3_client=aws.client("dynamodb"))
    config = IdempotencyConfig(event_key_jmespath="[nip, key]", payload_validation_jmespath="body",
                               expires_after_seconds=svc.settings.idempotency_ttl_s,
                               raise_on_no_idempotency_key=True)
    if hasattr(lambda_context, "get_remaining_time_in_millis"):
        config.register_lambda_context(lambda_context)  # in-progress records expire with the Lambda

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=config)
    def run(request: dict[str, Any]) -> dict[str, Any]:
        return _check_in(svc, request["nip"], request["body"])

    try:
        result = run(request={"nip": nip, "key": key, "body": body})
    except IdempotencyValidationError as exc:
        raise InvalidInput("This Idempotency-Key was used with a different request",
                         code="idempotency_key_reused") from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise Conflict("The same request is still being processed", code="request_in_progress") from exc
    return result


def _check_in(svc: Services, nip: str, body: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    kind = body.get("type")
    if kind not in KINDS:
        raise InvalidInput("type must be 'in' or 'out'", code="invalid_type",
                         details={"allowed": list(KINDS)})
    if not isinstance(body.get("location"), dict):
        raise InvalidInput("location is required", code="missing_fields",
                         details={"fields": ["location"]})
    position = parse_position(body["location"])  # 422 invalid_coordinates etc.
    t = time.perf_counter()
    emp = _employee(svc, nip)
    if not emp["enrolled"]:
        raise Conflict("Enrol your face before checking in", code="not_enrolled")
    sess = svc.uploads.claimable(body.get("session_id"), nip, "checkin")
    offices = [o for o in (svc.store.get_office(i) for i in emp["office_ids"]) if o]
    if not offices:
        raise Conflict("No office is assigned to this employee", code="no_office")
    sealed = svc.store.sealed_template(nip)
    personal_sites = svc.store.sites_of(nip)
    timings["storage_read"] = _ms(t)
    if sealed is None:
        raise Conflict("Enrol your face before checking in", code="not_enrolled")

    checkin_id = uuid.uuid4().hex
    now = svc.settings.now()
    t = time.perf_counter()
    photo = svc.uploads.read(sess["keys"][0], sess["nonce"])
    timings["upload_read"] = _ms(t)
    t = time.perf_counter()
    face_error: FaceError | None = None
    face: dict[str, Any] | None = None
    try:
        template = Template.from_dict(biometrics.unseal(nip, sealed))
        timings["kms"] = _ms(t)
        t = time.perf_counter()
        verification = svc.face_engine().verify(template, photo)
        face = verification.match.to_dict()
    except FaceError as exc:
        face_error = exc
    finally:
        del photo
    timings["face"] = _ms(t)

    t = time.perf_counter()
    first_day = OfficeRules.from_dict(offices[0]["rules"]).local_moment(now)[0]
    geo = locate(position, candidate_sites(offices, personal_sites, first_day))
    office = next((o for o in offices if o["office_id"] == geo.site_id), offices[0])
    timings["geo"] = _ms(t)

    rules = OfficeRules.from_dict(office["rules"])
    local_date = rules.local_moment(now)[0].isoformat()
    t = time.perf_counter()
    day, day_version = svc.store.day_for_update(nip, local_date)
    timings["storage_read"] += _ms(t)
    decision = decide_checkin(
        kind=kind, now_utc=now, rules=rules, calendar=svc.calendar(), face=face, geo=geo,
        position=position, lateness=svc.lateness(),
        max_position_age_s=svc.settings.max_position_age_s,
        already_checked_in=bool(day and day.get("first_in")),
    ).to_dict()
    if face_error is not None:
        decision["decision"] = "rejected"
        decision["reasons"] = [{"code": face_error.code, "effect": "reject",
                                "message": face_error.message},
                               *[r for r in decision["reasons"] if r["code"] != "face_not_verified"]]

    attempt = {
        "checkin_id": checkin_id, "record_id": checkin_id, "nip": nip, "name": emp["name"],
        "office_id": office["office_id"], "at": utc_iso(now), **decision,
        "face": {"score": face.get("score"), "threshold": face.get("threshold"),
                 "decision": face.get("decision"), "model_version": face.get("model_version")}
        if face else {"score": None, "threshold": None, "error": face_error.code if face_error else None},
        "geo": {"status": geo.status, "site_id": geo.site_id, "distance_m": _round(geo.distance_m),
                "accuracy_m": _round(geo.accuracy_m), "margin_m": _round(geo.margin_m)},
        "position": {"lat": position.lat, "lon": position.lon,
                     "captured_at": position.captured_at.isoformat(), "is_mock": position.is_mock},
    }
    new_day = _next_day(day, attempt, office["office_id"]) if decision["decision"] != "rejected" else None

    t = time.perf_counter()
    svc.store.record_checkin(attempt, new_day, sess["session_id"], utc_iso(), day_version)
    svc.uploads.discard(sess["keys"])
    timings["storage_write"] = _ms(t)
    timings["storage"] = round(timings.pop("storage_read") + timings.pop("storage_write"), 2)
    timings["total"] = _ms(t0)

    metrics.add_metric(name=f"Checkin_{decision['decision']}", unit="Count", value=1)
    logger.info("checkin decided", extra={"nip": nip, "checkin_id": checkin_id, "kind": kind,
                                          "decision": decision["decision"],
                                          "codes": [r["code"] for r in decision["reasons"]],
                                          "timings_ms": timings})
    public = {k: attempt[k] for k in ("checkin_id", "decision", "kind", "work_mode", "local_date",
                                      "local_time", "timezone", "late_minutes", "early_leave_minutes",
                                      "tier", "reasons", "office_id")}
    public["face"] = {"score": attempt["face"]["score"], "threshold": attempt["face"]["threshold"]}
    public["geo"] = {k: attempt["geo"][k] for k in ("status", "site_id", "distance_m", "accuracy_m")}
    if face_error is not None:
        err = face_error.to_dict()
        err["details"] = {**err["details"], "checkin": public}
        return {"error": face_error, "body": {"error": err, **public}, "timings_ms": timings}
    status = 422 if decision["decision"] == "rejected" else 201
    return {"status": status, "body": public, "timings_ms": timings}


def _next_day(day: dict[str, Any] | None, attempt: dict[str, Any], office_id: str) -> dict[str, Any]:
    day = day or {}
    if day.get("status") == "absent":
        # Marked absent when the window closed, then checked in late: the absence no longer holds.
        # Its reasons are kept apart, so the day shows why it was first marked absent.
        day = {"office_id": day.get("office_id"), "absence_replaced": day.get("reasons", [])}
    d = {k: v for k, v in day.items() if k not in ("date",)}
    d.setdefault("office_id", office_id)
    d.setdefault("checkin_ids", [])
    d["checkin_ids"] = [*d["checkin_ids"], attempt["checkin_id"]]
    flagged = attempt["decision"] == "flagged"
    if attempt["kind"] == "in" and not d.get("first_in"):
        d.update(first_in=attempt["local_time"], late_minutes=attempt["late_minutes"],
                 tier=attempt["tier"], work_mode=attempt["work_mode"],
                 status="flagged" if flagged else ("late" if attempt["late_minutes"] else "present"))
    elif attempt["kind"] == "out":
        d.update(last_out=attempt["local_time"], early_leave_minutes=attempt["early_leave_minutes"],
                 early_leave_tier=attempt["tier"])
        d.setdefault("status", "flagged")
        if flagged:
            d["out_flagged"] = True
    d.setdefault("status", "flagged" if flagged else "present")
    return d


def _ms(t: float) -> float:
    return round((time.perf_counter() - t) * 1000, 2)


def _round(x: float | None) -> float | None:
    return None if x is None else round(float(x), 1)
