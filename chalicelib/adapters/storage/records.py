"""The ``AttendanceRecords`` port over DynamoDB (PynamoDB): typed records in, typed records out.

No PynamoDB model leaves this module, and every failed condition becomes the service's own error
(Conflict, NotFound); any other AWS failure propagates. Writes that belong together are one
transaction; which item cancelled it is read from the cancellation reasons (see :func:`_commit`).
The item layout is documented on the models (``models.py``).
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable, Iterable, Iterator, Literal, Sequence

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import audit_state as audit
from chalicelib.adapters import record_errors as errs
from chalicelib.adapters.storage.failures import condition_failed, translate_failures
from chalicelib.adapters.storage import batch_days
from chalicelib.adapters.storage.pings import DynamoPings, episode_sk
from chalicelib.adapters.storage.work import DynamoWork
from chalicelib.adapters.storage.models import (
    AgencyConfigModel,
    AttendanceModel,
    AuditModel,
    BiometricModel,
    EmployeeModel,
    EmployeeSitesModel,
    JobRunModel,
    NotificationModel,
    OfficeModel,
    PingModel,
    RecentModel,
    RequestLedgerModel,
    RequestModel,
    RosterModel,
    SessionModel,
    SiteModel,
    bind,
    share_client,
)
from chalicelib.common import resources
from chalicelib.common.errors import HadirError, JsonObject, NotFound
from chalicelib.common.settings import Settings
from chalicelib.policy.day import day_from_dict, day_to_dict
from chalicelib.policy.requests import MAX_SPAN_DAYS
from chalicelib.services.records import (
    APPROVED,
    PENDING_APPROVAL,
    AuditCursor,
    AuditEntry,
    AuditPage,
    CheckinReads,
    CheckinRecord,
    DayRecord,
    Employee,
    Episode,
    Notification,
    Office,
    PersonalSite,
    PublishedRoster,
    RecentAttempt,
    RecentAttempts,
    Review,
    RequestLedger,
    RequestRecord,
    SealedTemplate,
    StoredConfig,
    UploadSession,
    utc_iso,
)


# --- transactions ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Write:
    """One item of a transaction, labelled so a cancellation can say whose condition failed."""

    label: str
    op: Literal["delete", "put", "update"]
    model: Model
    condition: Condition | None = None
    actions: list[Action] = field(default_factory=list)


# PynamoDB's TransactWrite sends condition checks, then deletes, puts and updates, whatever order
# they were added in (transactions.py, Connection.transact_write_items).
_SEND_ORDER = ("check", "delete", "put", "update")


def _failed_labels(exc: TransactWriteError, writes: list[_Write]) -> list[str]:
    """The labels of ``writes`` whose condition failed, the reasons (one per item, in the order
    sent) matched against the items in that same order."""
    sent = sorted(writes, key=lambda w: _SEND_ORDER.index(w.op))
    reasons = exc.cancellation_reasons or []
    if len(reasons) != len(sent):
        return []
    return [w.label for w, r in zip(sent, reasons) if r is not None and r.code == "ConditionalCheckFailed"]


def _commit(conn: Connection, writes: list[_Write], errors: dict[str, HadirError]) -> None:
    """Write all of ``writes`` or none; on a failed condition raise the first of ``errors`` (in
    their order: the most telling first) whose label failed. Anything else propagates. An audit
    entry is only ever added, never put over another."""
    try:
        with TransactWrite(connection=conn) as tx:
            for w in writes:
                if w.op == "delete":
                    tx.delete(w.model, condition=w.condition)
                elif w.op == "put" and isinstance(w.model, AuditModel):
                    tx.save(w.model, condition=AuditModel.sk.does_not_exist())  # appended, never over one
                elif w.op == "put":
                    tx.save(w.model, condition=w.condition)
                else:
                    tx.update(w.model, actions=w.actions, condition=w.condition)
    except TransactWriteError as exc:
        failed = _failed_labels(exc, writes)
        for label, error in errors.items():
            if label in failed:
                raise error from exc
        raise


def _condition_failed(exc: PutError) -> bool:
    return condition_failed(exc)




@translate_failures  # a throttle, timeout or 5xx: Unavailable storage_unavailable (503)
class DynamoRecords(DynamoPings, DynamoWork):
    """Offices, employees, sites, templates, sessions, attendance, audit and job markers."""

    page_size: int | None = None  # items a Query page of the jobs' walks (None: DynamoDB's 1 MB pages)

    def __init__(self, settings: Settings, client: Callable[[], Any] | None = None):
        """``client`` provides the process's DynamoDB client, shared by every table (one session
        and service model at cold start instead of one per table)."""
        bind(settings)
        self._agency = settings.agency_id
        self._conn = Connection(region=settings.region, host=settings.aws_endpoint_url)
        if client is not None:
            share_client(client())
            self._conn._client = client()

    # --- offices -------------------------------------------------------------------------------
    def put_office(self, office: Office, now: str, actor: str = "system") -> None:
        """Create or replace the office and audit it with the office as read before, all or
        nothing: a change since that read cancels both (``concurrent_update``)."""
        try:
            old: OfficeModel | None = OfficeModel.get(office.office_id, consistent_read=True)
        except DoesNotExist:
            old = None
        unchanged = (OfficeModel.office_id.does_not_exist() if old is None
                     else OfficeModel.updated_at == old.updated_at)
        m = OfficeModel(office.office_id, name=office.name, timezone=office.timezone, geofence=office.geofence,
                        rules=office.rules, work_mode=office.work_mode, agency_id=self._agency,
                        updated_at=now, province=office.province, zone=resources.zone_of(office.timezone))
        entry = _audit(None, "office_created" if old is None else "office_replaced", actor, {}, now,
                       subject=audit.office_subject(office.office_id),
                       before=audit.office_state(_office(old) if old else None), after=audit.office_state(office))
        _commit(self._conn, [_Write("office", "put", m, unchanged), _Write("audit", "put", entry)],
                {"office": errs.concurrent("office")})

    # --- agency configuration ------------------------------------------------------------------
    def agency_config(self, kind: str) -> StoredConfig | None:
        try:
            return _config(AgencyConfigModel.get(kind, consistent_read=True))
        except DoesNotExist:
            return None

    def agency_configs(self, kinds: Sequence[str]) -> dict[str, StoredConfig]:
        """One BatchGetItem (PynamoDB asks again for unprocessed keys), strongly consistent."""
        return {m.kind: _config(m) for m in AgencyConfigModel.batch_get(list(kinds), consistent_read=True)}

    def put_agency_config(self, kind: str, document: JsonObject, expected_version: int | None,
                          actor: str, now: str, details: JsonObject | None = None) -> StoredConfig:
        """The next version, conditioned on the version read (none: the kind must not exist),
        with its audit entry in the same transaction."""
        unchanged = (AgencyConfigModel.kind.does_not_exist() if expected_version is None
                     else AgencyConfigModel.version == expected_version)
        version = (expected_version or 0) + 1
        m = AgencyConfigModel(kind, version=version, document=document, updated_at=now, updated_by=actor)
        entry = _audit(None, "config_changed", actor, {"kind": kind, **(details or {})}, now, subject=audit.config_subject(kind),
                       before={"version": expected_version}, after={"version": version})
        try:
            _commit(self._conn, [_Write("config", "put", m, unchanged), _Write("audit", "put", entry)],
                    {"config": errs.config_changed(kind, expected_version, None)})
        except HadirError as e:
            stored = self.agency_config(kind)
            raise errs.config_changed(kind, expected_version, stored.version if stored else None) from e
        return _config(m)

    # --- published rosters ---------------------------------------------------------------------
    def roster(self, unit: str, month: str) -> PublishedRoster | None:
        try:
            return _roster(RosterModel.get(unit, month, consistent_read=True))
        except DoesNotExist:
            return None

    def publish_roster(self, roster: PublishedRoster, expected_version: int | None, actor: str,
                       now: str, details: JsonObject | None = None) -> PublishedRoster:
        """The next version, conditioned on the version read (none: the item must not exist),
        with its audit entry in the same transaction."""
        unchanged = (RosterModel.unit.does_not_exist() if expected_version is None
                     else RosterModel.version == expected_version)
        version = (expected_version or 0) + 1
        m = RosterModel(roster.unit, roster.month, version=version, days=list(roster.days),
                        statuses=roster.statuses, document=roster.document, published_at=now, published_by=actor)
        entry = _audit(None, "roster_published", actor, {**(details or {}), "version": version}, now,
                       subject=audit.roster_subject(roster.unit, roster.month),
                       before={"version": expected_version}, after={"version": version})
        try:
            _commit(self._conn, [_Write("roster", "put", m, unchanged), _Write("audit", "put", entry)],
                    {"roster": errs.roster_changed(roster.unit, roster.month, expected_version, None)})
        except HadirError as e:
            stored = self.roster(roster.unit, roster.month)
            raise errs.roster_changed(roster.unit, roster.month, expected_version,
                                      stored.version if stored else None) from e
        return _roster(m)

    def get_office(self, office_id: str) -> Office | None:
        try:
            return _office(OfficeModel.get(office_id))
        except DoesNotExist:
            return None

    def offices(self) -> list[Office]:
        """By id (a scan has no order of its own). A Scan on purpose: the admin's office list and
        the admin screens that name offices; an agency has a handful to a few thousand offices (a
        few MB at most), never one per employee. The jobs read :meth:`offices_in_zone`."""
        return sorted((_office(m) for m in OfficeModel.scan()), key=lambda o: o.office_id)

    def offices_in_zone(self, zone: str) -> Iterator[Office]:
        """The offices of one time zone by id (the by_zone index), page by page."""
        return (_office(m) for m in OfficeModel.by_zone.query(zone, page_size=self.page_size))

    # --- employees -----------------------------------------------------------------------------
    def put_employee(self, employee: Employee, now: str, actor: str = "system",
                     password_set: bool = False) -> None:
        """Create or update the directory fields (enrolment and ``created_at`` stay as stored)
        and audit the change, all or nothing."""
        stored = self._employee_model(employee.nip)
        before = _employee(stored) if stored else None
        m = stored or EmployeeModel(employee.nip, created_at=now, agency_id=self._agency,
                                    sites=[x.model_dump(mode="json") for x in self.sites_of(employee.nip)])
        m.name = employee.name
        m.unit = employee.unit or None  # an empty string cannot key by_unit
        m.group = employee.group
        m.echelon = employee.echelon
        m.office_ids = list(employee.office_ids)
        m.primary_office = employee.office_ids[0] if employee.office_ids else None
        m.supervisor_nip = employee.supervisor_nip or None
        m.roles = set(employee.roles)
        m.email = employee.email
        action, details, old, new = audit.employee_change(before, _employee(m), password_set)
        _commit(self._conn, [  # the put is conditioned on the version read above
            _Write("employee", "put", m),
            _Write("audit", "put", _audit(employee.nip, action, actor, details, now, before=old, after=new)),
        ], {"employee": errs.concurrent("employee")})

    @staticmethod
    def _employee_model(nip: str) -> EmployeeModel | None:
        try:
            return EmployeeModel.get(nip, consistent_read=True)
        except DoesNotExist:
            return None

    def get_employee(self, nip: str) -> Employee | None:
        m = self._employee_model(nip)
        return _employee(m) if m else None

    def staff_of(self, supervisor_nip: str) -> list[Employee]:
        return [_employee(m) for m in EmployeeModel.by_supervisor.query(supervisor_nip)]

    def employees(self) -> list[Employee]:
        """By NIP (a scan has no order of its own). Admin screens only (docs/capacity.md lists
        them); the jobs walk :meth:`staff_in_office`."""
        return sorted((_employee(m) for m in EmployeeModel.scan()), key=lambda e: e.nip)

    def staff_in_office(self, office_id: str) -> Iterator[Employee]:
        """The employees whose first office is ``office_id``, by NIP (the by_office index), page
        by page: only one page is held at a time."""
        q = EmployeeModel.by_office.query(office_id, page_size=self.page_size)
        return (_employee(m) for m in q)

    def staff_in_unit(self, unit: str) -> Iterator[Employee]:
        """The employees of ``unit``, by NIP (the by_unit index), page by page."""
        q = EmployeeModel.by_unit.query(unit, page_size=self.page_size)
        return (_employee(m) for m in q)

    def _existing_employee(self, nip: str) -> EmployeeModel:
        m = self._employee_model(nip)
        if m is None:
            raise errs.employee_not_found(nip)
        return m

    # --- face templates ------------------------------------------------------------------------
    def enrol(self, nip: str, sealed: SealedTemplate, session_id: str, now: str,
              consent_notice: str, device_id: str | None = None, pending: bool = False) -> None:
        """Store the template, mark the employee enrolled, use the session and audit the consent
        (UU 27/2022), all or nothing."""
        emp = self._existing_employee(nip)
        bio = BiometricModel(nip, ciphertext=sealed.ciphertext, encrypted_key=sealed.encrypted_key,
                             nonce=sealed.nonce, key_id=sealed.key_id, model_version=sealed.model_version,
                             created_at=now, consent_notice=consent_notice)
        consent = {"notice_version": consent_notice, "model_version": sealed.model_version,
                   "device_id": device_id}
        device = EmployeeModel.device_id.set(device_id) if device_id else EmployeeModel.device_id.remove()
        _commit(self._conn, [
            _Write("template", "put", bio, BiometricModel.nip.does_not_exist()),
            _Write("employee", "update", emp, EmployeeModel.enrolled == False,  # noqa: E712
                   [EmployeeModel.enrolled.set(True), EmployeeModel.enrolled_at.set(now), device,
                    EmployeeModel.enrolment_status.set(PENDING_APPROVAL if pending else APPROVED),
                    EmployeeModel.enrolment_id.set(session_id)]),
            _use_session(session_id, now),
            _Write("audit", "put", _audit(nip, "biometric_consent_given", nip, consent, now,
                                          before={"enrolled": False},
                                          after={"enrolled": True, "enrolled_at": now, "device_id": device_id})),
        ], {"template": errs.already_enrolled(),
            "session": errs.session_used(), "employee": errs.concurrent("employee")})

    def decide_enrolment(self, review: Review, enrolment_id: str, now: str) -> None:
        emp = self._existing_employee(review.nip)
        pending = ((EmployeeModel.enrolment_status == PENDING_APPROVAL)
                   & (EmployeeModel.enrolment_id == enrolment_id))
        if review.decision == APPROVED:
            writes = [_Write("employee", "update", emp, pending, [EmployeeModel.enrolment_status.set(APPROVED)])]
        else:
            writes = [_Write("template", "delete", BiometricModel(review.nip), BiometricModel.nip.exists()),
                      _Write("employee", "update", emp, pending, [
                          EmployeeModel.enrolled.set(False), EmployeeModel.enrolled_at.remove(),
                          EmployeeModel.enrolment_status.remove()])]
        _commit(self._conn, [*writes, self._review_write(review, now), _Write("audit", "put", _audit(
            review.nip, f"enrolment_{review.decision}", review.reviewer, errs.review_audit(review), now))],
            {"employee": errs.review_not_pending(review.review_id),
             "template": errs.review_not_pending(review.review_id),
             "review": errs.already_reviewed(review.review_id)})

    def bind_device(self, nip: str, device_id: str, actor: str, reason: str | None, now: str) -> None:
        emp = self._existing_employee(nip)
        details = {"device_id": device_id, "previous": emp.device_id, **({"reason": reason} if reason else {})}
        _commit(self._conn, [
            _Write("employee", "update", emp, EmployeeModel.nip.exists(), [EmployeeModel.device_id.set(device_id)]),
            _Write("audit", "put", _audit(nip, "device_bound", actor, details, now,
                                          before={"device_id": emp.device_id}, after={"device_id": device_id})),
        ], {"employee": errs.concurrent("employee")})

    def use_device(self, device_id: str, local_date: str, nip: str, now: datetime) -> list[str]:
        w = _device_use(device_id, local_date, nip, now)
        w.model.update(actions=w.actions)
        return sorted(w.model.nips or [])

    def sealed_template(self, nip: str) -> SealedTemplate | None:
        try:
            return _sealed(BiometricModel.get(nip, consistent_read=True))
        except DoesNotExist:
            return None

    def reenrol(self, nip: str, sealed: SealedTemplate, previous_version: str, session_id: str, now: str,
                consent_notice: str, renewal: JsonObject, device_id: str | None = None,
                pending: bool = False) -> None:
        emp = self._existing_employee(nip)
        bio = BiometricModel(nip, ciphertext=sealed.ciphertext, encrypted_key=sealed.encrypted_key,
                             nonce=sealed.nonce, key_id=sealed.key_id, model_version=sealed.model_version,
                             created_at=now, consent_notice=consent_notice)
        consent = {"notice_version": consent_notice, "model_version": sealed.model_version, "device_id": device_id}
        device = EmployeeModel.device_id.set(device_id) if device_id else EmployeeModel.device_id.remove()
        before = {"model_version": previous_version, "enrolled_at": emp.enrolled_at}
        after = {"model_version": sealed.model_version, "enrolled_at": now}
        _commit(self._conn, [
            _Write("template", "put", bio, BiometricModel.model_version == previous_version),
            _Write("employee", "update", emp, EmployeeModel.enrolled == True,  # noqa: E712
                   [EmployeeModel.enrolled_at.set(now), device,
                    EmployeeModel.enrolment_status.set(PENDING_APPROVAL if pending else APPROVED),
                    EmployeeModel.enrolment_id.set(session_id)]),
            _use_session(session_id, now),
            _Write("consent", "put", _audit(nip, "biometric_consent_given", nip, consent, now)),
            _Write("audit", "put", _audit(nip, "enrolment_renewed", nip, renewal, now, before=before, after=after)),
        ], {"template": errs.concurrent("template"), "session": errs.session_used(),
            "employee": errs.concurrent("employee")})

    def template_versions(self) -> dict[str, str]:
        """A Scan of the templates' keys and versions: the admin's outdated-enrolment report only,
        run rarely (after a model upgrade); docs/capacity.md gives its cost at national scale."""
        return {b.nip: b.model_version
                for b in BiometricModel.scan(attributes_to_get=["nip", "model_version"])}

    def reset_enrolment(self, nip: str, actor: str, reason: str | None, now: str) -> None:
        """Delete the template and audit who allowed a new enrolment, all or nothing."""
        emp = self._existing_employee(nip)
        _commit(self._conn, [
            _Write("template", "delete", BiometricModel(nip), BiometricModel.nip.exists()),
            _Write("employee", "update", emp, None,
                   [EmployeeModel.enrolled.set(False), EmployeeModel.enrolled_at.remove(),
                    EmployeeModel.enrolment_status.remove()]),
            _Write("audit", "put", _audit(nip, "enrolment_reset", actor,
                                          {"reason": reason} if reason else {}, now,
                                          before={"enrolled": True, "enrolled_at": emp.enrolled_at},
                                          after={"enrolled": False})),
        ], {"template": errs.not_enrolled(),
            "employee": errs.concurrent("employee")})

    # --- personal sites ------------------------------------------------------------------------
    def add_site(self, site: PersonalSite, actor: str, now: str) -> None:
        """Store a new site (stamped with ``actor`` and ``now``) and its audit entry."""
        m = self._site_model(site, actor, now)
        details = audit.site_state(site)
        _commit(self._conn, [
            _Write("site", "put", m, SiteModel.site_id.does_not_exist()),
            _Write("audit", "put", _audit(site.nip, "site_assigned", actor, details, now, after=details)),
            *self._sites_copy(site.nip, add=_site(m)),
        ], {"site": errs.site_exists(site.site_id), "sites_copy": errs.concurrent("employee")})

    def _sites_copy(self, nip: str, add: PersonalSite | None = None, remove: str | None = None) -> list[_Write]:
        """The employee item's copy of their sites as the transaction leaves them (read from the
        sites table, conditioned on the employee's version read); none without an employee."""
        emp = self._employee_model(nip)
        if emp is None:
            return []
        sites = [x for x in self.sites_of(nip) if x.site_id != remove and (add is None or x.site_id != add.site_id)]
        sites = sorted([*sites, *([add] if add else [])], key=lambda x: x.site_id)
        return [_Write("sites_copy", "update", emp, EmployeeModel.nip.exists(),
                       [EmployeeModel.sites.set([x.model_dump(mode="json") for x in sites])])]

    def _site_model(self, site: PersonalSite, actor: str, now: str) -> SiteModel:
        return SiteModel(site.nip, site.site_id, kind=site.kind, work_mode=site.work_mode,
                         geofence=site.geofence, valid_from=site.valid_from, valid_to=site.valid_to,
                         note=site.note, agency_id=self._agency, created_by=actor, created_at=now)

    def sites_of(self, nip: str) -> list[PersonalSite]:
        return [_site(m) for m in SiteModel.query(nip)]

    def remove_site(self, nip: str, site_id: str, actor: str, now: str) -> PersonalSite:
        """Delete a site and audit who did; returns the removed site."""
        def missing() -> NotFound:
            return errs.site_not_found(nip, site_id)
        try:
            m = SiteModel.get(nip, site_id, consistent_read=True)
        except DoesNotExist:
            raise missing() from None
        site = _site(m)
        details = audit.site_state(site)
        _commit(self._conn, [
            _Write("site", "delete", m, SiteModel.site_id.exists()),
            _Write("audit", "put", _audit(nip, "site_removed", actor, details, now, before=details)),
            *self._sites_copy(nip, remove=site_id),
        ], {"site": missing(), "sites_copy": errs.concurrent("employee")})
        return site

    # --- audit (append-only) -------------------------------------------------------------------
    def audit_trail(self, nip: str) -> list[AuditEntry]:
        """Oldest first."""
        return [_audit_entry(a) for a in AuditModel.query(audit.employee_subject(nip))]

    def append_audit(self, entry: AuditEntry) -> AuditEntry:
        m = _audit(None, entry.action, entry.actor, entry.details, entry.at, subject=entry.subject,
                   before=entry.before, after=entry.after)
        m.save(condition=AuditModel.sk.does_not_exist())  # never over another entry
        return _audit_entry(m)

    def audit_log(self, start: str, end: str, *, actor: str | None = None, subject: str | None = None,
                  limit: int = 50, after: AuditCursor | None = None) -> AuditPage:
        """One Query of the by_utc_date index per day (never a Scan), the filters applied by
        DynamoDB, until a page and one more entry are found."""
        wanted = [c for c in (AuditModel.actor == actor if actor is not None else None,
                              AuditModel.subject == subject if subject is not None else None) if c is not None]
        condition = wanted[0] & wanted[1] if len(wanted) == 2 else (wanted[0] if wanted else None)
        found: list[AuditEntry] = []
        for day in audit.utc_dates(max(start, after.utc_date) if after else start, end):
            resume = after if after and after.utc_date == day else None
            q = AuditModel.by_utc_date.query(day, filter_condition=condition, limit=limit + 1 - len(found),
                                             last_evaluated_key=_audit_key(resume) if resume else None)
            found += [_audit_entry(m) for m in q]
            if len(found) > limit:
                break
        return audit.page_of(found, limit)

    # --- upload sessions -----------------------------------------------------------------------
    def put_session(self, session: UploadSession, expires: datetime) -> None:
        """Store a new session; DynamoDB deletes it some time after ``expires`` (reads do not
        check: ``expires_at`` does). Conflict ``session_exists`` if the id is taken."""
        m = SessionModel(session.session_id, nip=session.nip, purpose=session.purpose, nonce=session.nonce,
                         keys=list(session.keys), expires_at=session.expires_at, used=session.used,
                         used_at=session.used_at, ttl=expires,
                         challenge=session.challenge.model_dump() if session.challenge else None)
        try:
            m.save(condition=SessionModel.session_id.does_not_exist())
        except PutError as exc:
            if _condition_failed(exc):
                raise errs.session_exists() from exc
            raise

    def get_session(self, session_id: str) -> UploadSession | None:
        try:
            return _session(SessionModel.get(session_id, consistent_read=True))
        except DoesNotExist:
            return None

    def checkin_reads(self, nip: str, session_id: str, dates: Sequence[str],
                      device_id: str | None = None) -> CheckinReads:
        """One consistent BatchGetItem across the employees (with the sites' copy), sessions,
        biometrics, attendance (days, recent attempts) and job runs (device use) tables (at most
        4 + 2 * len(dates) keys, well under its 100)."""
        tables = {m: m.Meta.table_name for m in (EmployeeModel, SessionModel, BiometricModel, AttendanceModel,
                                                  JobRunModel)}
        s = lambda v: {"S": v}  # noqa: E731
        pending: dict[str, Any] = {
            tables[EmployeeModel]: {"Keys": [{"nip": s(nip)}], "ConsistentRead": True},
            tables[SessionModel]: {"Keys": [{"session_id": s(session_id)}], "ConsistentRead": True},
            tables[BiometricModel]: {"Keys": [{"nip": s(nip)}], "ConsistentRead": True},
            tables[AttendanceModel]: {"Keys": [{"nip": s(nip), "sk": s(sk)}
                                               for sk in [RECENT_SK, *(f"DAY#{d}" for d in dates)]],
                                      "ConsistentRead": True},
        }
        if device_id and dates:
            pending[tables[JobRunModel]] = {"Keys": [{"job_key": s(_device_key(device_id, d))} for d in dates],
                                            "ConsistentRead": True}
        found = batch_days.get_items(self._conn.client, pending)
        one = lambda m: next((m.from_raw_data(i) for i in found.get(tables[m], [])), None)  # noqa: E731
        emp, sess, bio = one(EmployeeModel), one(SessionModel), one(BiometricModel)
        items = found.get(tables[AttendanceModel], [])
        recent = next((RecentModel.from_raw_data(i) for i in items if i["sk"]["S"] == RECENT_SK), None)
        days = {d.date: d for d in (_day_record(AttendanceModel.from_raw_data(i))
                                    for i in items if i["sk"]["S"] != RECENT_SK)}
        used = {m.job_key: sorted(m.nips or []) for m in map(JobRunModel.from_raw_data, found.get(tables[JobRunModel], []))}
        return CheckinReads(employee=_employee(emp) if emp else None, session=_session(sess) if sess else None,
                            sealed=_sealed(bio) if bio else None, days={d: days.get(d) for d in dates},
                            recent=_recent(recent) if recent else None,
                            sites=[PersonalSite.model_validate(x) for x in emp.sites]
                            if emp is not None and emp.sites is not None else None,
                            device_users={d: used.get(_device_key(device_id, d), []) for d in dates}
                            if device_id else {})

    # --- attendance ----------------------------------------------------------------------------
    def record_checkin(self, attempt: CheckinRecord, day: DayRecord | None, session_id: str,
                       now: str, recent: RecentAttempts | None = None,
                       sites: Sequence[PersonalSite] | None = None) -> None:
        """Write the attempt, the day (unless None), ``recent`` and the device's use, and use the
        session, all or nothing. The day and ``recent`` are written only if their stored version
        is still the one read (None: not stored). ``sites`` (as read from the sites table) are
        copied onto an employee item that has no copy yet (written before the copy existed)."""
        sk = f"CHECKIN#{attempt.local_date}#{attempt.at}#{attempt.checkin_id}"
        item = self._item(attempt.nip, sk, attempt.local_date, "checkin", attempt.office_id,
                          attempt.decision, attempt.model_dump(mode="json"), now)
        writes = [_use_session(session_id, now),
                  _Write("attempt", "put", item, AttendanceModel.sk.does_not_exist())]
        if day is not None:
            writes.append(self._day_write(day, now))
        if recent is not None:
            m = RecentModel(attempt.nip, RECENT_SK, updated_at=now, entries=[  # compact: ~60 bytes each
                [e.at, e.local_date, e.lat, e.lon, e.face_failed] for e in recent.entries])
            if recent.version is not None:
                m.version = recent.version
            writes.append(_Write("recent", "put", m))  # PynamoDB conditions it on the version
        if sites is not None:
            writes.append(_Write("sites_copy", "update", EmployeeSitesModel(attempt.nip),
                                 EmployeeSitesModel.sites.does_not_exist() & EmployeeSitesModel.nip.exists(),
                                 [EmployeeSitesModel.sites.set([x.model_dump(mode="json") for x in sites])]))
        if attempt.device_id:
            writes.append(_device_use(attempt.device_id, attempt.local_date, attempt.nip,
                                      datetime.fromisoformat(attempt.at)))
        _commit(self._conn, writes, {
            "session": errs.session_used(), "day": errs.concurrent("day"),
            "attempt": errs.checkin_exists(attempt.checkin_id), "recent": errs.concurrent("check-in history"),
            "sites_copy": errs.concurrent("employee")})

    def _day_write(self, day: DayRecord, now: str) -> _Write:
        m = self._day_model(day, now)
        if day.version is None:
            return _Write("day", "put", m, AttendanceModel.sk.does_not_exist())
        m.version = day.version  # PynamoDB conditions the put on it and stores version + 1
        return _Write("day", "put", m)

    def day(self, nip: str, local_date: str) -> DayRecord | None:
        try:
            return _day_record(AttendanceModel.get(nip, f"DAY#{local_date}", consistent_read=True))
        except DoesNotExist:
            return None

    def days_between(self, nip: str, start: str, end: str) -> list[DayRecord]:
        """Both dates inclusive, by date."""
        q = AttendanceModel.query(nip, AttendanceModel.sk.between(f"DAY#{start}", f"DAY#{end}"))
        return [_day_record(m) for m in q]

    def checkins_between(self, nip: str, start: str, end: str) -> list[CheckinRecord]:
        """Both dates inclusive, by date then instant."""
        q = AttendanceModel.query(nip, AttendanceModel.sk.between(f"CHECKIN#{start}", f"CHECKIN#{end}#~"))
        return [CheckinRecord.model_validate(m.data) for m in q]

    def days_on(self, local_date: str) -> list[DayRecord]:
        """Every employee's day on ``local_date``, by NIP."""
        return [_day_record(m) for m in self._items_on(local_date, "day")]

    def days_of(self, nips: Sequence[str], dates: Sequence[str]) -> list[DayRecord]:
        """BatchGetItem on the table's own keys (``batch_days``): O(result) on DynamoDB and on moto
        alike (no index, no Query), the keys spread over the NIP partitions."""
        keys = sorted({(n, d) for n in nips for d in dates})
        found = batch_days.read(self._conn.client, AttendanceModel.Meta.table_name, keys) if keys else []
        return sorted(found, key=lambda d: (d.nip, d.date))

    def checkins_on(self, local_date: str) -> list[CheckinRecord]:
        """Every attempt on ``local_date``, by NIP then instant."""
        return [CheckinRecord.model_validate(m.data) for m in self._items_on(local_date, "checkin")]

    def _items_on(self, local_date: str, item_type: str) -> Iterator[AttendanceModel]:
        """Every item of ``item_type`` on ``local_date``, by ``nip#sk``: one paginated Query per
        shard of the by_date_shard index, merged lazily (one page per shard held at a time)."""
        queries = [AttendanceModel.by_date_shard.query(
            resources.date_shard_key(local_date, shard), page_size=self.page_size,
            filter_condition=AttendanceModel.item_type == item_type) for shard in range(resources.DATE_SHARDS)]
        return heapq.merge(*queries, key=lambda m: m.nip_sk)

    def review_checkin(self, review: Review, day: DayRecord, now: str) -> None:
        details = {**errs.review_audit(review), "status": day.day.status}
        _commit(self._conn, [
            self._review_write(review, now), self._day_write(day, now),
            _Write("audit", "put", _audit(review.nip, f"checkin_review_{review.decision}", review.reviewer,
                                          details, now)),
        ], {"review": errs.already_reviewed(review.review_id), "day": errs.concurrent("day")})

    def decide_episode(self, review: Review, episode: Episode, now: str) -> None:
        item = PingModel(episode.nip, episode_sk(episode))
        decision = review.model_dump(mode="json")
        details = {**errs.review_audit(review), "episode_id": episode.episode_id, "episode_kind": episode.kind}
        _commit(self._conn, [
            _Write("episode", "update", item, PingModel.sk.exists() & PingModel.review.does_not_exist(),
                   [PingModel.review.set(decision)]),
            self._review_write(review, now),
            _Write("audit", "put", _audit(review.nip, f"episode_review_{review.decision}", review.reviewer,
                                          details, now)),
        ], {"review": errs.already_reviewed(review.review_id), "episode": errs.review_gone(review.review_id)})

    def _review_write(self, review: Review, now: str) -> _Write:
        item = self._item(review.nip, f"REVIEW#{review.review_id}", review.local_date or now[:10], "review",
                          None, review.decision, review.model_dump(mode="json"), now)
        return _Write("review", "put", item, AttendanceModel.sk.does_not_exist())

    def mark_absent(self, day: DayRecord, now: str) -> bool:
        """Write ``day`` (an absence) unless a day record exists, or over the stored day of
        ``day.version`` (a day without attendance); True if written."""
        m = self._day_model(day, now)
        try:
            if day.version is None:
                m.save(condition=AttendanceModel.sk.does_not_exist())
            else:
                m.version = day.version  # PynamoDB conditions the put on it
                m.save()
            return True
        except PutError as exc:
            if _condition_failed(exc):
                return False
            raise

    def _day_model(self, day: DayRecord, now: str) -> AttendanceModel:
        data = {**day_to_dict(day.day), **({"name": day.name} if day.name is not None else {})}
        return self._item(day.nip, f"DAY#{day.date}", day.date, "day", day.day.office_id, day.day.status,
                          data, now)

    def _item(self, nip: str, sk: str, local_date: str, item_type: str, office_id: str | None,
              status: str, data: JsonObject, now: str) -> AttendanceModel:
        return AttendanceModel(nip, sk, nip_sk=f"{nip}#{sk}", local_date=local_date, item_type=item_type,
                               date_shard=resources.date_shard_key(local_date, resources.date_shard_of(nip)),
                               office_id=office_id, agency_id=self._agency, status=status, data=data,
                               created_at=now)

    # --- what employees were told --------------------------------------------------------------
    def add_notification(self, notification: Notification, expires: datetime) -> None:
        NotificationModel(notification.nip, f"{notification.at}#{notification.notification_id}",
                          data=notification.model_dump(mode="json"), ttl=expires).save()

    def notifications(self, nip: str, limit: int) -> list[Notification]:
        q = NotificationModel.query(nip, scan_index_forward=False, limit=limit)
        return [Notification.model_validate(m.data) for m in q]
    # --- leave and permission requests ---------------------------------------------------------
    def request_ledger(self, nip: str) -> RequestLedger:
        try:
            m = RequestLedgerModel.get(_ledger_key(nip), consistent_read=True)
        except DoesNotExist:
            return RequestLedger(nip=nip)
        return RequestLedger(nip=nip, version=int(m.submissions), recent=list(m.recent or []))

    def create_request(self, request: RequestRecord, now: str, seen: RequestLedger | None = None) -> None:
        """The request, its audit entry and the ledger advanced from ``seen`` (its put conditioned
        on the count read), one transaction."""
        seen = seen or self.request_ledger(request.nip)
        after = seen.next(request.request_id)
        ledger = RequestLedgerModel(_ledger_key(request.nip), submissions=after.version, recent=after.recent,
                                    updated_at=now)
        unchanged = (RequestLedgerModel.request_id.does_not_exist() if seen.version == 0
                     else RequestLedgerModel.submissions == seen.version)
        m = self._request_model(request, now)
        _commit(self._conn, [
            _Write("request", "put", m, RequestModel.request_id.does_not_exist()),
            _Write("ledger", "put", ledger, unchanged),
            _Write("audit", "put", _audit(request.nip, "request_submitted", request.nip,
                                          request.audit_details(), now)),
        ], {"request": errs.request_exists(request.request_id),
            "ledger": errs.concurrent("employee's requests")})

    def get_request(self, request_id: str) -> RequestRecord | None:
        try:
            m = RequestModel.get(request_id, consistent_read=True)
        except DoesNotExist:
            return None
        return _request(m) if m.data else None  # a ledger item shares the table: not a request

    def requests_of(self, nip: str, start: str | None = None, end: str | None = None) -> list[RequestRecord]:
        q = RequestModel.by_employee.query(
            nip, RequestModel.start_date <= end if end else None,
            filter_condition=RequestModel.end_date >= start if start else None)
        return _by_start(_request(m) for m in q)

    def requests_with_status(self, status: str, on: str | None = None) -> list[RequestRecord]:
        """With ``on``: one range of the by_status index, the requests that started at most
        MAX_SPAN_DAYS - 1 days before it (none is longer), not every one ever in ``status``."""
        if on is not None:
            return self.requests_overlapping(status, on, on)
        return _by_start(_request(m) for m in RequestModel.by_status.query(status))

    def requests_overlapping(self, status: str, start: str, end: str) -> list[RequestRecord]:
        """The by_status range ``start - (MAX_SPAN_DAYS - 1)``..``end`` of start dates (a request
        spans at most MAX_SPAN_DAYS days), filtered on the end date: bounded by the window."""
        q = RequestModel.by_status.query(status, RequestModel.start_date.between(_earliest_start(start), end),
                                         filter_condition=RequestModel.end_date >= start)
        return _by_start(_request(m) for m in q)

    def decide_request(self, request: RequestRecord, action: str, actor: str, now: str,
                       site: PersonalSite | None = None, days: Iterable[DayRecord] = ()) -> None:
        writes = self._request_change(request, action, actor, now)
        if site is not None:
            m = self._site_model(site, actor, now)
            writes += [_Write("site", "put", m, SiteModel.site_id.does_not_exist()),
                       *self._sites_copy(site.nip, add=_site(m))]
        writes += [self._day_write(d, now) for d in days]
        _commit(self._conn, writes, {"request": errs.request_not_pending(request.request_id),
                                     "site": errs.site_exists(site.site_id if site else ""),
                                     "day": errs.concurrent("day"), "sites_copy": errs.concurrent("employee")})

    def amend_request(self, request: RequestRecord, action: str, actor: str, now: str) -> None:
        _commit(self._conn, self._request_change(request, action, actor, now),
                {"request": errs.request_not_pending(request.request_id)})

    def cancel_request(self, request: RequestRecord, actor: str, now: str) -> None:
        _commit(self._conn, self._request_change(request, "request_cancelled", actor, now),
                {"request": errs.request_not_pending(request.request_id)})

    def _request_change(self, request: RequestRecord, action: str, actor: str, now: str) -> list[_Write]:
        """The request's new state, written only over a pending one at the version read."""
        m = self._request_model(request, now)
        m.version = request.version  # PynamoDB conditions the put on it and stores version + 1
        return [_Write("request", "put", m, RequestModel.status == "pending"),
                _Write("audit", "put", _audit(request.nip, action, actor, request.audit_details(), now))]

    def _request_model(self, request: RequestRecord, now: str) -> RequestModel:
        request = request.model_copy(update={"created_at": request.created_at or now})
        return RequestModel(request.request_id, nip=request.nip, status=request.status,
                            start_date=request.start, end_date=request.end,
                            data=request.model_dump(mode="json", exclude={"version"}),
                            agency_id=self._agency, created_at=request.created_at)

    # --- once-only job markers -----------------------------------------------------------------
    def claim(self, key: str, details: JsonObject, now: datetime, ttl_days: int = 90) -> bool:
        """True the first time ``key`` is claimed, False while its marker exists."""
        m = JobRunModel(key, created_at=utc_iso(now), details=details, ttl=now + timedelta(days=ttl_days))
        try:
            m.save(condition=JobRunModel.job_key.does_not_exist())
            return True
        except PutError as exc:
            if _condition_failed(exc):
                return False
            raise

    def release(self, key: str) -> None:
        JobRunModel(key).delete()


RECENT_SK = "RECENT"  # the attendance item of an employee's recent attempts (RecentModel)


def _device_key(device_id: str, local_date: str) -> str:
    return f"device#{device_id}#{local_date}"


def _device_use(device_id: str, local_date: str, nip: str, now: datetime) -> _Write:
    """Add ``nip`` to who used the device on ``local_date`` (kept 35 days); no condition."""
    return _Write("device", "update", JobRunModel(_device_key(device_id, local_date)), None,
                  [JobRunModel.nips.add({nip}), JobRunModel.created_at.set(utc_iso(now)),
                   JobRunModel.ttl.set(now + timedelta(days=35))])


def _recent(m: RecentModel) -> RecentAttempts:
    return RecentAttempts(entries=[RecentAttempt(at=at, local_date=d, lat=lat, lon=lon, face_failed=failed)
                                   for at, d, lat, lon, failed in m.entries or []],
                          version=int(m.version) if m.version is not None else None)


def _use_session(session_id: str, now: str) -> _Write:
    return _Write("session", "update", SessionModel(session_id),
                  SessionModel.session_id.exists() & (SessionModel.used == False),  # noqa: E712
                  [SessionModel.used.set(True), SessionModel.used_at.set(now)])


def _audit(nip: str | None, action: str, actor: str, details: JsonObject, now: str, *,
           before: JsonObject | None = None, after: JsonObject | None = None,
           subject: str | None = None) -> AuditModel:
    """An audit entry about employee ``nip`` (or ``subject``, e.g. ``office#<id>``), sorted by
    time; the suffix keeps two entries of the same instant apart. ``now`` is a UTC instant."""
    if subject is None:
        assert nip is not None
        subject = audit.employee_subject(nip)
    return AuditModel(subject, audit.new_entry_id(now), utc_date=now[:10], action=action,
                      actor=actor, details=details, before=before, after=after)


def _audit_entry(a: AuditModel) -> AuditEntry:
    return AuditEntry(subject=a.subject, at=a.sk.rsplit("#", 1)[0], action=a.action, actor=a.actor,
                      details=a.details or {}, before=a.before, after=a.after, entry_id=a.sk)


def _audit_key(c: AuditCursor) -> dict[str, dict[str, str]]:
    """The by_utc_date index's ExclusiveStartKey for the entry ``c`` (index and table keys)."""
    return {"utc_date": {"S": c.utc_date}, "sk": {"S": c.entry_id}, "subject": {"S": c.subject}}



def _config(m: AgencyConfigModel) -> StoredConfig:
    return StoredConfig(kind=m.kind, version=int(m.version), document=m.document or {},
                        updated_at=m.updated_at, updated_by=m.updated_by)


def _roster(m: RosterModel) -> PublishedRoster:
    return PublishedRoster(unit=m.unit, month=m.month, version=int(m.version), days=list(m.days or []),
                           statuses=m.statuses or {}, document=m.document or {}, published_at=m.published_at,
                           published_by=m.published_by)


def _office(m: OfficeModel) -> Office:
    return Office(office_id=m.office_id, name=m.name, timezone=m.timezone, geofence=m.geofence,
                  rules=m.rules, work_mode=m.work_mode, province=m.province)


def _earliest_start(first: str) -> str:
    """The earliest start date of a request still running on ``first`` (policy/requests.py refuses
    spans of MAX_SPAN_DAYS days or more)."""
    return (date.fromisoformat(first) - timedelta(days=MAX_SPAN_DAYS - 1)).isoformat()


def _employee(m: EmployeeModel) -> Employee:
    return Employee(nip=m.nip, name=m.name, unit=m.unit, group=m.group, echelon=m.echelon,
                    office_ids=list(m.office_ids or []),
                    supervisor_nip=m.supervisor_nip, roles=sorted(m.roles or []), email=m.email,
                    enrolled=bool(m.enrolled), enrolled_at=m.enrolled_at, device_id=m.device_id,
                    enrolment_status=m.enrolment_status, enrolment_id=m.enrolment_id)


def _session(m: SessionModel) -> UploadSession:
    return UploadSession(session_id=m.session_id, nip=m.nip, purpose=m.purpose, nonce=m.nonce,
                         keys=list(m.keys), expires_at=m.expires_at, used=bool(m.used),
                         used_at=m.used_at, challenge=m.challenge)


def _sealed(b: BiometricModel) -> SealedTemplate:
    return SealedTemplate(ciphertext=b.ciphertext, encrypted_key=b.encrypted_key, nonce=b.nonce,
                          key_id=b.key_id, model_version=b.model_version)


def _site(m: SiteModel) -> PersonalSite:
    return PersonalSite(nip=m.nip, site_id=m.site_id, kind=m.kind, work_mode=m.work_mode, geofence=m.geofence,
                        valid_from=m.valid_from, valid_to=m.valid_to, note=m.note, created_by=m.created_by,
                        created_at=m.created_at)


def _ledger_key(nip: str) -> str:
    return f"ledger#{nip}"


def _request(m: RequestModel) -> RequestRecord:
    return RequestRecord.model_validate({**(m.data or {}), "version": m.version})


def _by_start(requests: Iterable[RequestRecord]) -> list[RequestRecord]:
    return sorted(requests, key=lambda r: (r.start, r.request_id))


def _day_record(m: AttendanceModel) -> DayRecord:
    data = m.data or {}
    return DayRecord(nip=m.nip, date=m.local_date, day=day_from_dict(data), name=data.get("name"),
                     version=m.version)
