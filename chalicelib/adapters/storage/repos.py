"""DynamoDB repositories: the only code touching PynamoDB models. AWS failures become HadirErrors."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterator

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, DeleteError
from pynamodb.transactions import TransactWrite

from chalicelib.common.errors import Conflict, NotFound
from chalicelib.common.settings import Settings
from chalicelib.adapters.storage.models import (AttendanceModel, AuditModel, BiometricModel, EmployeeModel,
                                       JobRunModel, OfficeModel, SessionModel, SiteModel, bind)


def utc_iso(dt: datetime | None = None) -> str:
    return (dt or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="milliseconds")


def _create(item: Any, condition: Any) -> bool:
    """Put ``item`` if ``condition`` holds (it does not exist yet): True if written, False if not."""
    try:
        item.save(condition=condition)
        return True
    except PutError as exc:
        if _conditional_failed(exc):
            return False
        raise


def _conditional_failed(exc: Exception) -> bool:
    cause = getattr(exc, "cause_response_code", None)
    if cause == "ConditionalCheckFailedException":
        return True
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons)


def _failed_conditions(exc: TransactWriteError) -> list[bool]:
    """Per transaction item, whether its condition failed. PynamoDB sends the items grouped as
    condition checks, deletes, puts, then updates, whatever order they were added in."""
    return [r is not None and r.code == "ConditionalCheckFailed" for r in exc.cancellation_reasons or []]


class Store:
    """All repositories over one set of bound tables."""

    def __init__(self, settings: Settings):
        bind(settings)
        self.settings = settings
        self._conn = Connection(region=settings.region, host=settings.aws_endpoint_url)

    def transaction(self) -> TransactWrite:
        return TransactWrite(connection=self._conn)

    # --- offices ---------------------------------------------------------------------------
    def put_office(self, office: dict[str, Any]) -> None:
        OfficeModel(office["office_id"], name=office["name"], timezone=office["timezone"],
                    geofence=office["geofence"], rules=office["rules"],
                    work_mode=office.get("work_mode", "WFO"), agency_id=self.settings.agency_id,
                    updated_at=utc_iso()).save()

    def get_office(self, office_id: str) -> dict[str, Any] | None:
        try:
            return _office(OfficeModel.get(office_id))
        except DoesNotExist:
            return None

    def offices(self) -> list[dict[str, Any]]:
        return [_office(o) for o in OfficeModel.scan()]

    # --- employees -------------------------------------------------------------------------
    def put_employee(self, e: dict[str, Any]) -> None:
        existing = self._employee_model(e["nip"])
        m = existing or EmployeeModel(e["nip"], created_at=utc_iso(), agency_id=self.settings.agency_id)
        m.name = e["name"]
        m.unit = e.get("unit")
        m.office_ids = list(e["office_ids"])
        m.supervisor_nip = e.get("supervisor_nip") or None
        m.roles = set(e["roles"])
        m.email = e.get("email")
        try:
            m.save()
        except PutError as exc:
            if _conditional_failed(exc):
                raise Conflict("The employee changed concurrently, retry", code="concurrent_update") from exc
            raise

    def _employee_model(self, nip: str) -> EmployeeModel | None:
        try:
            return EmployeeModel.get(nip)
        except DoesNotExist:
            return None

    def get_employee(self, nip: str) -> dict[str, Any] | None:
        m = self._employee_model(nip)
        return _employee(m) if m else None

    def staff_of(self, supervisor_nip: str) -> list[dict[str, Any]]:
        return [_employee(m) for m in EmployeeModel.by_supervisor.query(supervisor_nip)]

    def employees(self) -> list[dict[str, Any]]:
        return [_employee(m) for m in EmployeeModel.scan()]

    # --- biometrics ------------------------------------------------------------------------
    def enrol(self, nip: str, sealed: dict[str, Any], model_version: str, session_id: str,
              now: str, consent_notice: str) -> None:
        """Store the template, mark the employee enrolled, the session used and the employee's
        consent in the audit trail (UU 27/2022): all or nothing."""
        bio = BiometricModel(nip, ciphertext=sealed["ciphertext"], encrypted_key=sealed["encrypted_key"],
                             nonce=sealed["nonce"], key_id=sealed["key_id"],
                             model_version=model_version, created_at=now, consent_notice=consent_notice)
        emp = self._employee_model(nip)
        if emp is None:
            raise NotFound("No employee record", code="employee_not_found")
        try:
            with self.transaction() as tx:
                tx.save(bio, condition=BiometricModel.nip.does_not_exist())
                tx.update(emp, actions=[EmployeeModel.enrolled.set(True), EmployeeModel.enrolled_at.set(now)],
                          condition=EmployeeModel.enrolled == False)  # noqa: E712 - optimistic lock on version too
                self._use_session(tx, session_id, now)
                tx.save(_audit(nip, "biometric_consent_given", nip,
                               {"notice_version": consent_notice, "model_version": model_version}, now))
        except TransactWriteError as exc:
            failed = _failed_conditions(exc) + [False] * 4  # puts: template, audit; updates: employee, session
            if failed[0]:
                raise Conflict("Already enrolled", code="already_enrolled") from exc
            if failed[3]:
                raise Conflict("The upload session was already used", code="session_used") from exc
            if failed[2]:
                raise Conflict("The employee changed concurrently, retry", code="concurrent_update") from exc
            raise

    def sealed_template(self, nip: str) -> dict[str, Any] | None:
        try:
            b = BiometricModel.get(nip)
        except DoesNotExist:
            return None
        return {"ciphertext": b.ciphertext, "encrypted_key": b.encrypted_key, "nonce": b.nonce,
                "key_id": b.key_id, "model_version": b.model_version}

    def reset_enrolment(self, nip: str, actor: str, reason: str | None, now: str) -> None:
        """Delete the template and record who allowed a new enrolment, atomically."""
        emp = self._employee_model(nip)
        if emp is None:
            raise NotFound("No employee record", code="employee_not_found")
        try:
            with self.transaction() as tx:
                tx.delete(BiometricModel(nip), condition=BiometricModel.nip.exists())
                tx.update(emp, actions=[EmployeeModel.enrolled.set(False),
                                        EmployeeModel.enrolled_at.remove()])
                tx.save(_audit(nip, "enrollment_reset", actor, {"reason": reason} if reason else {},
                               now))
        except TransactWriteError as exc:
            if _conditional_failed(exc):
                raise Conflict("The employee is not enrolled", code="not_enrolled") from exc
            raise

    # --- personal sites --------------------------------------------------------------------
    def add_site(self, site: dict[str, Any], actor: str, now: str) -> None:
        """Store a new personal site and its audit record, atomically; 409 if the id is taken."""
        m = SiteModel(site["nip"], site["site_id"], kind=site["kind"], work_mode=site["work_mode"],
                      geofence=site["geofence"], valid_from=site.get("valid_from"),
                      valid_to=site.get("valid_to"), note=site.get("note"),
                      agency_id=self.settings.agency_id, created_by=actor, created_at=now)
        details = {k: site.get(k) for k in ("site_id", "kind", "work_mode", "valid_from", "valid_to")}
        try:
            with self.transaction() as tx:
                tx.save(m, condition=SiteModel.site_id.does_not_exist())
                tx.save(_audit(site["nip"], "site_assigned", actor, details, now))
        except TransactWriteError as exc:
            if _conditional_failed(exc):
                raise Conflict("The employee already has a site with this id", code="site_exists",
                               details={"site_id": site["site_id"]}) from exc
            raise

    def sites_of(self, nip: str) -> list[dict[str, Any]]:
        return [_site(m) for m in SiteModel.query(nip)]

    def remove_site(self, nip: str, site_id: str, actor: str, now: str) -> dict[str, Any]:
        """Delete a personal site and record who did, atomically; returns the removed site."""
        missing = NotFound("No such site for this employee", code="site_not_found",
                           details={"nip": nip, "site_id": site_id})
        try:
            m = SiteModel.get(nip, site_id, consistent_read=True)
        except DoesNotExist:
            raise missing from None
        site = _site(m)
        details = {k: site[k] for k in ("site_id", "kind", "work_mode", "valid_from", "valid_to")}
        try:
            with self.transaction() as tx:
                tx.delete(m, condition=SiteModel.site_id.exists())
                tx.save(_audit(nip, "site_removed", actor, details, now))
        except TransactWriteError as exc:
            if _conditional_failed(exc):
                raise missing from exc
            raise
        return site

    def audit_trail(self, subject: str) -> list[dict[str, Any]]:
        return [{"sk": a.sk, "action": a.action, "actor": a.actor, "details": a.details}
                for a in AuditModel.query(subject)]

    # --- sessions --------------------------------------------------------------------------
    def put_session(self, s: dict[str, Any]) -> None:
        SessionModel(s["session_id"], nip=s["nip"], purpose=s["purpose"], nonce=s["nonce"],
                     keys=s["keys"], expires_at=s["expires_at"],
                     ttl=s["expires_dt"]).save(
            condition=SessionModel.session_id.does_not_exist())

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        try:
            m = SessionModel.get(session_id, consistent_read=True)
        except DoesNotExist:
            return None
        return {"session_id": m.session_id, "nip": m.nip, "purpose": m.purpose, "nonce": m.nonce,
                "keys": list(m.keys), "expires_at": m.expires_at, "used": m.used, "used_at": m.used_at}

    @staticmethod
    def _use_session(tx: TransactWrite, session_id: str, now: str) -> None:
        tx.update(SessionModel(session_id),
                  actions=[SessionModel.used.set(True), SessionModel.used_at.set(now)],
                  condition=SessionModel.session_id.exists() & (SessionModel.used == False))  # noqa: E712

    # --- attendance ------------------------------------------------------------------------
    def record_checkin(self, attempt: dict[str, Any], day: dict[str, Any] | None, session_id: str,
                       now: str, day_version: int | None = None) -> None:
        """Write the attempt, update the day record (if the attempt counts) and use the session,
        in one transaction: a replayed session writes nothing. ``day_version`` is what
        :meth:`day_for_update` returned; a day record written since then cancels everything
        (409 ``concurrent_update``, the session stays usable) instead of losing that write."""
        nip, d = attempt["nip"], attempt["local_date"]
        sk = f"CHECKIN#{d}#{attempt['at']}#{attempt['checkin_id']}"
        item = AttendanceModel(nip, sk, nip_sk=f"{nip}#{sk}", local_date=d, item_type="checkin",
                               office_id=attempt.get("office_id"), agency_id=self.settings.agency_id,
                               status=attempt["decision"], data=attempt, created_at=now)
        try:
            with self.transaction() as tx:
                self._use_session(tx, session_id, now)
                tx.save(item, condition=AttendanceModel.sk.does_not_exist())
                if day is not None:
                    dsk = f"DAY#{d}"
                    m = AttendanceModel(nip, dsk, nip_sk=f"{nip}#{dsk}", local_date=d,
                                        item_type="day", office_id=day.get("office_id"),
                                        agency_id=self.settings.agency_id, status=day["status"],
                                        data=day, created_at=now)
                    if day_version is not None:
                        m.version = day_version  # PynamoDB conditions the put on it (else: absent)
                    tx.save(m, condition=AttendanceModel.sk.does_not_exist() if day_version is None else None)
        except TransactWriteError as exc:
            failed = _failed_conditions(exc) + [False] * 3  # puts: attempt, day (if any); update: session
            if failed[1 if day is None else 2]:
                raise Conflict("The upload session was already used", code="session_used") from exc
            if day is not None and failed[1]:
                raise Conflict("The day changed concurrently, retry", code="concurrent_update") from exc
            raise

    def day(self, nip: str, d: str) -> dict[str, Any] | None:
        try:
            m = AttendanceModel.get(nip, f"DAY#{d}", consistent_read=True)
        except DoesNotExist:
            return None
        return _day(m)

    def day_for_update(self, nip: str, d: str) -> tuple[dict[str, Any] | None, int | None]:
        """The day record and its version, for :meth:`record_checkin`."""
        try:
            m = AttendanceModel.get(nip, f"DAY#{d}", consistent_read=True)
        except DoesNotExist:
            return None, None
        return _day(m), m.version

    def days_between(self, nip: str, start: date, end: date) -> list[dict[str, Any]]:
        q = AttendanceModel.query(nip, AttendanceModel.sk.between(f"DAY#{start.isoformat()}",
                                                                 f"DAY#{end.isoformat()}"))
        return [_day(m) for m in q]

    def checkins_between(self, nip: str, start: date, end: date) -> list[dict[str, Any]]:
        q = AttendanceModel.query(nip, AttendanceModel.sk.between(f"CHECKIN#{start.isoformat()}",
                                                                 f"CHECKIN#{end.isoformat()}#~"))
        return [m.data for m in q]

    def items_on(self, d: str) -> Iterator[AttendanceModel]:
        return AttendanceModel.by_date.query(d)

    def mark_absent(self, nip: str, d: str, record: dict[str, Any], now: str) -> bool:
        """Write an ``absent`` day record unless any day record exists; True if written."""
        dsk = f"DAY#{d}"
        return _create(AttendanceModel(nip, dsk, nip_sk=f"{nip}#{dsk}", local_date=d, item_type="day",
                                       office_id=record.get("office_id"), agency_id=self.settings.agency_id,
                                       status="absent", data=record, created_at=now),
                       AttendanceModel.sk.does_not_exist())

    # --- job runs --------------------------------------------------------------------------
    def claim(self, job_key: str, details: dict[str, Any], ttl_days: int = 90) -> bool:
        """A once-only marker: True the first time ``job_key`` is claimed, False afterwards."""
        return _create(JobRunModel(job_key, created_at=utc_iso(), details=details,
                                   ttl=datetime.now(timezone.utc) + timedelta(days=ttl_days)),
                       JobRunModel.job_key.does_not_exist())

    def release(self, job_key: str) -> None:
        try:
            JobRunModel(job_key).delete()
        except DeleteError:
            pass


def _office(o: OfficeModel) -> dict[str, Any]:
    return {"office_id": o.office_id, "name": o.name, "timezone": o.timezone, "geofence": o.geofence,
            "rules": o.rules, "work_mode": o.work_mode}


def _audit(nip: str, action: str, actor: str, details: dict[str, Any], now: str) -> AuditModel:
    return AuditModel(f"employee#{nip}", f"{now}#{uuid.uuid4().hex[:8]}", action=action, actor=actor,
                      details=details)


def _site(m: SiteModel) -> dict[str, Any]:
    return {"nip": m.nip, "site_id": m.site_id, "kind": m.kind, "work_mode": m.work_mode,
            "geofence": m.geofence, "valid_from": m.valid_from, "valid_to": m.valid_to,
            "note": m.note, "created_by": m.created_by, "created_at": m.created_at}


def _employee(m: EmployeeModel) -> dict[str, Any]:
    return {"nip": m.nip, "name": m.name, "unit": m.unit, "office_ids": list(m.office_ids or []),
            "supervisor_nip": m.supervisor_nip, "roles": sorted(m.roles or []), "email": m.email,
            "enrolled": bool(m.enrolled), "enrolled_at": m.enrolled_at}


def _day(m: AttendanceModel) -> dict[str, Any]:
    return {"date": m.local_date, "status": m.status, **(m.data or {})}
