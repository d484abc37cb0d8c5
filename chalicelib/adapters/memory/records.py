"""The ``AttendanceRecords`` port in plain dictionaries, behaving as the DynamoDB adapter does.

Same conflicts and codes, same versions, same order (by the sort key DynamoDB would use), same
all-or-nothing writes: every condition of a multi-item write is checked before anything changes.
Records go in and come out as copies that went through the same JSON round trip the tables
impose, so no caller holds this store's state. Not durable, not shared between processes.
"""
from __future__ import annotations

import copy
import threading
from datetime import datetime
from typing import Iterable, Iterator, Sequence, TypeVar

from chalicelib.adapters import audit_state as audit
from chalicelib.adapters import record_errors as errs
from chalicelib.adapters.memory.pings import InMemoryPings
from chalicelib.adapters.memory.work import InMemoryWork
from chalicelib.common.errors import HadirError, JsonObject
from chalicelib.common.resources import zone_of
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
    RecentAttempts,
    Record,
    Review,
    RequestLedger,
    RequestRecord,
    SealedTemplate,
    StoredConfig,
    UploadSession,
)

R = TypeVar("R", bound=Record)


def _copy(record: R) -> R:
    """A fresh record, as if written to and read back from a table (JSON values normalised)."""
    if isinstance(record, SealedTemplate):
        return record.model_copy()  # bytes and strings only
    return type(record).model_validate(record.model_dump(mode="json"))


def _raise_first(failed: set[str], errors: dict[str, HadirError]) -> None:
    """Raise the first of ``errors`` (the most telling first) whose label failed, as
    ``DynamoRecords`` reads a cancelled transaction."""
    for label, error in errors.items():
        if label in failed:
            raise error




def _aware(dt: datetime) -> None:
    """DynamoDB's TTL attributes take an instant, never a wall-clock time."""
    if dt.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")



def _checkin_sk(c: CheckinRecord) -> str:
    return f"CHECKIN#{c.local_date}#{c.at}#{c.checkin_id}"


class InMemoryRecords(InMemoryPings, InMemoryWork):
    """Offices, employees, sites, templates, sessions, attendance, audit and job markers."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._offices: dict[str, Office] = {}
        self._employees: dict[str, Employee] = {}
        self._created_at: dict[str, str] = {}  # per NIP, kept by the table but not on Employee
        self._templates: dict[str, SealedTemplate] = {}
        self._sites: dict[tuple[str, str], PersonalSite] = {}
        self._audit: dict[tuple[str, str], AuditEntry] = {}  # (subject, entry_id "<at>#<suffix>")
        self._sessions: dict[str, UploadSession] = {}
        self._checkins: dict[tuple[str, str], CheckinRecord] = {}  # (nip, CHECKIN#...)
        self._days: dict[tuple[str, str], DayRecord] = {}  # (nip, DAY#<date>)
        self._reviews: dict[tuple[str, str], Review] = {}  # (nip, REVIEW#<id>)
        self._notifications: dict[tuple[str, str], Notification] = {}  # (nip, "<at>#<id>")
        self._jobs: dict[str, JsonObject] = {}
        self._devices: dict[tuple[str, str], set[str]] = {}
        self._recent: dict[str, RecentAttempts] = {}  # by NIP, version as stored
        self._requests: dict[str, RequestRecord] = {}
        self._ledgers: dict[str, RequestLedger] = {}
        self._config: dict[str, StoredConfig] = {}
        self._rosters: dict[tuple[str, str], PublishedRoster] = {}  # (unit, month)

    # --- offices -------------------------------------------------------------------------------
    def put_office(self, office: Office, now: str, actor: str = "system") -> None:
        """Create or replace the office and audit it with the office as it was, together."""
        with self._lock:
            old = self._offices.get(office.office_id)
            self._offices[office.office_id] = _copy(office)
            self._add_audit(None, "office_created" if old is None else "office_replaced", actor, {}, now,
                            subject=audit.office_subject(office.office_id),
                            before=audit.office_state(old), after=audit.office_state(office))

    # --- agency configuration ------------------------------------------------------------------
    def agency_config(self, kind: str) -> StoredConfig | None:
        with self._lock:
            c = self._config.get(kind)
            return _copy(c) if c else None

    def agency_configs(self, kinds: Sequence[str]) -> dict[str, StoredConfig]:
        with self._lock:
            return {k: _copy(self._config[k]) for k in kinds if k in self._config}

    def put_agency_config(self, kind: str, document: JsonObject, expected_version: int | None,
                          actor: str, now: str, details: JsonObject | None = None) -> StoredConfig:
        with self._lock:
            stored = self._config.get(kind)
            if (stored.version if stored else None) != expected_version:
                raise errs.config_changed(kind, expected_version, stored.version if stored else None)
            new = _copy(StoredConfig(kind=kind, version=(expected_version or 0) + 1, document=document,
                                     updated_at=now, updated_by=actor))
            self._config[kind] = new
            self._add_audit(None, "config_changed", actor, {"kind": kind, **(details or {})}, now, subject=audit.config_subject(kind),
                            before={"version": expected_version}, after={"version": new.version})
            return _copy(new)

    # --- published rosters ---------------------------------------------------------------------
    def roster(self, unit: str, month: str) -> PublishedRoster | None:
        with self._lock:
            r = self._rosters.get((unit, month))
            return _copy(r) if r else None

    def publish_roster(self, roster: PublishedRoster, expected_version: int | None, actor: str,
                       now: str, details: JsonObject | None = None) -> PublishedRoster:
        with self._lock:
            stored = self._rosters.get((roster.unit, roster.month))
            if (stored.version if stored else None) != expected_version:
                raise errs.roster_changed(roster.unit, roster.month, expected_version,
                                          stored.version if stored else None)
            version = (expected_version or 0) + 1
            new = _copy(roster.model_copy(update={"version": version, "published_at": now, "published_by": actor}))
            self._rosters[(roster.unit, roster.month)] = new
            self._add_audit(None, "roster_published", actor, {**(details or {}), "version": version}, now,
                            subject=audit.roster_subject(roster.unit, roster.month),
                            before={"version": expected_version}, after={"version": version})
            return _copy(new)

    def get_office(self, office_id: str) -> Office | None:
        with self._lock:
            o = self._offices.get(office_id)
            return _copy(o) if o else None

    def offices(self) -> list[Office]:
        with self._lock:
            return [_copy(self._offices[k]) for k in sorted(self._offices)]

    def offices_in_zone(self, zone: str) -> Iterator[Office]:
        return iter([o for o in self.offices() if zone_of(o.timezone) == zone])

    # --- employees -----------------------------------------------------------------------------
    def put_employee(self, employee: Employee, now: str, actor: str = "system",
                     password_set: bool = False) -> None:
        """Create or update the directory fields (enrolment and ``created_at`` stay as stored)
        and audit the change, together."""
        with self._lock:
            old = self._employees.get(employee.nip)
            new = _copy(employee.model_copy(update={
                "supervisor_nip": employee.supervisor_nip or None,
                "roles": sorted(set(employee.roles)),
                **{k: getattr(old, k) if old else Employee.model_fields[k].default for k in (
                    "enrolled", "enrolled_at", "device_id", "enrolment_status", "enrolment_id")}}))
            self._employees[employee.nip] = new
            self._created_at.setdefault(employee.nip, now)
            action, details, before, after = audit.employee_change(old, new, password_set)
            self._add_audit(employee.nip, action, actor, details, now, before=before, after=after)

    def get_employee(self, nip: str) -> Employee | None:
        with self._lock:
            e = self._employees.get(nip)
            return _copy(e) if e else None

    def staff_of(self, supervisor_nip: str) -> list[Employee]:
        with self._lock:
            return [_copy(self._employees[k]) for k in sorted(self._employees)
                    if self._employees[k].supervisor_nip == supervisor_nip]

    def employees(self) -> list[Employee]:
        with self._lock:
            return [_copy(self._employees[k]) for k in sorted(self._employees)]

    def staff_in_office(self, office_id: str) -> Iterator[Employee]:
        """The employees whose first office is ``office_id``, by NIP (the by_office index)."""
        with self._lock:
            return iter([_copy(self._employees[k]) for k in sorted(self._employees)
                         if self._employees[k].office_ids[:1] == [office_id]])

    def staff_in_unit(self, unit: str) -> Iterator[Employee]:
        """The employees of ``unit``, by NIP (the by_unit index)."""
        with self._lock:
            return iter([_copy(self._employees[k]) for k in sorted(self._employees)
                         if self._employees[k].unit == unit])

    def created_at(self, nip: str) -> str | None:
        """When the employee was first stored (the table keeps it; ``Employee`` does not)."""
        with self._lock:
            return self._created_at.get(nip)

    def _existing_employee(self, nip: str) -> Employee:
        e = self._employees.get(nip)
        if e is None:
            raise errs.employee_not_found(nip)
        return e

    # --- face templates ------------------------------------------------------------------------
    def enrol(self, nip: str, sealed: SealedTemplate, session_id: str, now: str,
              consent_notice: str, device_id: str | None = None, pending: bool = False) -> None:
        """Store the template, mark the employee enrolled, use the session and audit the consent,
        all or nothing."""
        with self._lock:
            emp = self._existing_employee(nip)
            failed = {label for label, bad in (("template", nip in self._templates),
                                               ("employee", emp.enrolled),
                                               ("session", not self._session_usable(session_id))) if bad}
            _raise_first(failed, {"template": errs.already_enrolled(),
                                  "session": errs.session_used(), "employee": errs.concurrent("employee")})
            self._templates[nip] = _copy(sealed)
            self._employees[nip] = emp.model_copy(update={
                "enrolled": True, "enrolled_at": now, "device_id": device_id, "enrolment_id": session_id,
                "enrolment_status": PENDING_APPROVAL if pending else APPROVED})
            self._use_session(session_id, now)
            self._add_audit(nip, "biometric_consent_given", nip,
                            {"notice_version": consent_notice, "model_version": sealed.model_version,
                             "device_id": device_id}, now, before={"enrolled": False},
                            after={"enrolled": True, "enrolled_at": now, "device_id": device_id})

    def decide_enrolment(self, review: Review, enrolment_id: str, now: str) -> None:
        with self._lock:
            emp = self._existing_employee(review.nip)
            pending = emp.enrolment_status == PENDING_APPROVAL and emp.enrolment_id == enrolment_id
            failed = {label for label, bad in (
                ("employee", not pending), ("review", self._review_key(review) in self._reviews)) if bad}
            _raise_first(failed, {"employee": errs.review_not_pending(review.review_id),
                                  "review": errs.already_reviewed(review.review_id)})
            if review.decision == APPROVED:
                self._employees[review.nip] = emp.model_copy(update={"enrolment_status": APPROVED})
            else:
                self._templates.pop(review.nip, None)
                self._employees[review.nip] = emp.model_copy(update={
                    "enrolled": False, "enrolled_at": None, "enrolment_status": None})
            self._reviews[self._review_key(review)] = _copy(review)
            self._add_audit(review.nip, f"enrolment_{review.decision}", review.reviewer, errs.review_audit(review), now)

    @staticmethod
    def _review_key(review: Review) -> tuple[str, str]:
        return review.nip, f"REVIEW#{review.review_id}"

    def bind_device(self, nip: str, device_id: str, actor: str, reason: str | None, now: str) -> None:
        with self._lock:
            emp = self._existing_employee(nip)
            self._employees[nip] = emp.model_copy(update={"device_id": device_id})
            self._add_audit(nip, "device_bound", actor, {"device_id": device_id, "previous": emp.device_id,
                                                         **({"reason": reason} if reason else {})}, now,
                            before={"device_id": emp.device_id}, after={"device_id": device_id})

    def use_device(self, device_id: str, local_date: str, nip: str, now: datetime) -> list[str]:
        _aware(now)
        with self._lock:
            users = self._devices.setdefault((device_id, local_date), set())
            users.add(nip)
            return sorted(users)

    def sealed_template(self, nip: str) -> SealedTemplate | None:
        with self._lock:
            t = self._templates.get(nip)
            return _copy(t) if t else None

    def reenrol(self, nip: str, sealed: SealedTemplate, previous_version: str, session_id: str, now: str,
                consent_notice: str, renewal: JsonObject, device_id: str | None = None,
                pending: bool = False) -> None:
        with self._lock:
            emp = self._existing_employee(nip)
            old = self._templates.get(nip)
            failed = {label for label, bad in (("template", old is None or old.model_version != previous_version),
                                               ("employee", not emp.enrolled),
                                               ("session", not self._session_usable(session_id))) if bad}
            _raise_first(failed, {"template": errs.concurrent("template"),
                                  "session": errs.session_used(), "employee": errs.concurrent("employee")})
            self._templates[nip] = _copy(sealed)
            self._employees[nip] = emp.model_copy(update={
                "enrolled_at": now, "device_id": device_id, "enrolment_id": session_id,
                "enrolment_status": PENDING_APPROVAL if pending else APPROVED})
            self._use_session(session_id, now)
            self._add_audit(nip, "biometric_consent_given", nip,
                            {"notice_version": consent_notice, "model_version": sealed.model_version,
                             "device_id": device_id}, now)
            self._add_audit(nip, "enrolment_renewed", nip, renewal, now,
                            before={"model_version": previous_version, "enrolled_at": emp.enrolled_at},
                            after={"model_version": sealed.model_version, "enrolled_at": now})

    def template_versions(self) -> dict[str, str]:
        with self._lock:
            return {nip: t.model_version for nip, t in self._templates.items()}

    def reset_enrolment(self, nip: str, actor: str, reason: str | None, now: str) -> None:
        """Delete the template and audit who allowed a new enrolment, all or nothing."""
        with self._lock:
            emp = self._existing_employee(nip)
            if nip not in self._templates:
                raise errs.not_enrolled()
            del self._templates[nip]
            self._employees[nip] = emp.model_copy(update={"enrolled": False, "enrolled_at": None,
                                                          "enrolment_status": None})
            self._add_audit(nip, "enrolment_reset", actor, {"reason": reason} if reason else {}, now,
                            before={"enrolled": True, "enrolled_at": emp.enrolled_at}, after={"enrolled": False})

    # --- personal sites ------------------------------------------------------------------------
    def add_site(self, site: PersonalSite, actor: str, now: str) -> None:
        """Store a new site (stamped with ``actor`` and ``now``) and its audit entry."""
        with self._lock:
            if (site.nip, site.site_id) in self._sites:
                raise errs.site_exists(site.site_id)
            self._sites[(site.nip, site.site_id)] = _copy(
                site.model_copy(update={"created_by": actor, "created_at": now}))
            details = audit.site_state(site)
            self._add_audit(site.nip, "site_assigned", actor, details, now, after=details)

    def sites_of(self, nip: str) -> list[PersonalSite]:
        with self._lock:
            return [_copy(self._sites[k]) for k in sorted(self._sites) if k[0] == nip]

    def remove_site(self, nip: str, site_id: str, actor: str, now: str) -> PersonalSite:
        """Delete a site and audit who did; returns the removed site."""
        with self._lock:
            site = self._sites.pop((nip, site_id), None)
            if site is None:
                raise errs.site_not_found(nip, site_id)
            details = audit.site_state(site)
            self._add_audit(nip, "site_removed", actor, details, now, before=details)
            return _copy(site)

    # --- audit (append-only) -------------------------------------------------------------------
    def audit_trail(self, nip: str) -> list[AuditEntry]:
        """Oldest first."""
        with self._lock:
            subject = audit.employee_subject(nip)
            return [_copy(self._audit[k]) for k in sorted(self._audit) if k[0] == subject]

    def append_audit(self, entry: AuditEntry) -> AuditEntry:
        with self._lock:
            return _copy(self._add_audit(None, entry.action, entry.actor, entry.details, entry.at,
                                         subject=entry.subject, before=entry.before, after=entry.after))

    def audit_log(self, start: str, end: str, *, actor: str | None = None, subject: str | None = None,
                  limit: int = 50, after: AuditCursor | None = None) -> AuditPage:
        """In the by_utc_date index's order: by date, then ``entry_id``, then subject."""
        with self._lock:
            position = (after.entry_id, after.subject) if after else None
            found = [e for e in sorted(self._audit.values(), key=lambda e: (e.entry_id, e.subject))
                     if start <= e.utc_date <= end and (actor is None or e.actor == actor)
                     and (subject is None or e.subject == subject)
                     and (position is None or (e.entry_id, e.subject) > position)]
            return audit.page_of([_copy(e) for e in found[:limit + 1]], limit)

    def _add_audit(self, nip: str | None, action: str, actor: str, details: JsonObject, now: str, *,
                   before: JsonObject | None = None, after: JsonObject | None = None,
                   subject: str | None = None) -> AuditEntry:
        """Add an entry about employee ``nip`` (or ``subject``, e.g. ``office#<id>``)."""
        if subject is None:
            assert nip is not None
            subject = audit.employee_subject(nip)
        entry_id = audit.new_entry_id(now)
        entry = _copy(AuditEntry(subject=subject, at=now, action=action, actor=actor, details=details,
                                 before=before, after=after, entry_id=entry_id))
        self._audit[(subject, entry_id)] = entry
        return entry

    # --- upload sessions -----------------------------------------------------------------------
    def put_session(self, session: UploadSession, expires: datetime) -> None:
        """Store a new session; like DynamoDB's TTL, ``expires`` never hides it from a read.
        Conflict ``session_exists`` if the id is taken."""
        _aware(expires)
        with self._lock:
            if session.session_id in self._sessions:
                raise errs.session_exists()
            self._sessions[session.session_id] = _copy(session)

    def get_session(self, session_id: str) -> UploadSession | None:
        with self._lock:
            s = self._sessions.get(session_id)
            return _copy(s) if s else None

    def checkin_reads(self, nip: str, session_id: str, dates: Sequence[str],
                      device_id: str | None = None) -> CheckinReads:
        with self._lock:
            recent = self._recent.get(nip)
            users = {d: sorted(self._devices.get((device_id, d), set())) for d in dates} if device_id else {}
        emp = self.get_employee(nip)
        return CheckinReads(employee=emp, session=self.get_session(session_id),
                            sealed=self.sealed_template(nip), days={d: self.day(nip, d) for d in dates},
                            recent=_copy(recent) if recent else None,
                            sites=self.sites_of(nip) if emp else None, device_users=users)

    def _session_usable(self, session_id: str) -> bool:
        s = self._sessions.get(session_id)
        return s is not None and not s.used

    def _use_session(self, session_id: str, now: str) -> None:
        s = self._sessions[session_id]
        self._sessions[session_id] = s.model_copy(update={"used": True, "used_at": now})

    # --- attendance ----------------------------------------------------------------------------
    def record_checkin(self, attempt: CheckinRecord, day: DayRecord | None, session_id: str,
                       now: str, recent: RecentAttempts | None = None,
                       sites: Sequence[PersonalSite] | None = None) -> None:
        """Write the attempt, the day (unless None), ``recent`` and the device's use, and use the
        session, all or nothing. The day and ``recent`` are written only if their stored version
        is still the one read (None: not stored). The sites need no copy here (``sites`` unused)."""
        with self._lock:
            key = (attempt.nip, _checkin_sk(attempt))
            stored = self._recent.get(attempt.nip)
            failed = {label for label, bad in (
                ("session", not self._session_usable(session_id)),
                ("attempt", key in self._checkins),
                ("day", day is not None and self._stored_version(day) != day.version),
                ("recent", recent is not None and (stored.version if stored else None) != recent.version)) if bad}
            _raise_first(failed, {
                "session": errs.session_used(), "day": errs.concurrent("day"),
                "attempt": errs.checkin_exists(attempt.checkin_id), "recent": errs.concurrent("check-in history")})
            self._use_session(session_id, now)
            self._checkins[key] = _copy(attempt)
            if day is not None:
                self._put_day(day, (day.version or 0) + 1)
            if recent is not None:
                self._recent[attempt.nip] = _copy(recent.model_copy(update={"version": (recent.version or 0) + 1}))
            if attempt.device_id:
                self._devices.setdefault((attempt.device_id, attempt.local_date), set()).add(attempt.nip)

    def _stored_version(self, day: DayRecord) -> int | None:
        stored = self._days.get((day.nip, f"DAY#{day.date}"))
        return stored.version if stored else None

    def _put_day(self, day: DayRecord, version: int) -> None:
        self._days[(day.nip, f"DAY#{day.date}")] = _copy(day.model_copy(update={"version": version}))

    def day(self, nip: str, local_date: str) -> DayRecord | None:
        with self._lock:
            d = self._days.get((nip, f"DAY#{local_date}"))
            return _copy(d) if d else None

    def days_between(self, nip: str, start: str, end: str) -> list[DayRecord]:
        """Both dates inclusive, by date."""
        with self._lock:
            return [_copy(self._days[k]) for k in sorted(self._days)
                    if k[0] == nip and f"DAY#{start}" <= k[1] <= f"DAY#{end}"]

    def checkins_between(self, nip: str, start: str, end: str) -> list[CheckinRecord]:
        """Both dates inclusive, by date then instant."""
        with self._lock:
            return [_copy(self._checkins[k]) for k in sorted(self._checkins)
                    if k[0] == nip and f"CHECKIN#{start}" <= k[1] <= f"CHECKIN#{end}#~"]

    def days_on(self, local_date: str) -> list[DayRecord]:
        """Every employee's day on ``local_date``, by NIP (the by_date_shard index's ``nip#sk``, merged over its shards)."""
        with self._lock:
            keys = sorted((k for k, d in self._days.items() if d.date == local_date), key="#".join)
            return [_copy(self._days[k]) for k in keys]

    def days_of(self, nips: Sequence[str], dates: Sequence[str]) -> list[DayRecord]:
        with self._lock:
            return [_copy(d) for n in sorted(set(nips)) for dt in sorted(set(dates))
                    if (d := self._days.get((n, f"DAY#{dt}"))) is not None]

    def checkins_on(self, local_date: str) -> list[CheckinRecord]:
        """Every attempt on ``local_date``, by NIP then instant (the by_date_shard index's ``nip#sk``, merged over its shards)."""
        with self._lock:
            keys = sorted((k for k, c in self._checkins.items() if c.local_date == local_date),
                          key="#".join)
            return [_copy(self._checkins[k]) for k in keys]

    def review_checkin(self, review: Review, day: DayRecord, now: str) -> None:
        with self._lock:
            failed = {label for label, bad in (
                ("review", self._review_key(review) in self._reviews),
                ("day", self._stored_version(day) != day.version)) if bad}
            _raise_first(failed, {"review": errs.already_reviewed(review.review_id),
                                  "day": errs.concurrent("day")})
            self._reviews[self._review_key(review)] = _copy(review)
            self._put_day(day, (day.version or 0) + 1)
            self._add_audit(review.nip, f"checkin_review_{review.decision}", review.reviewer,
                            {**errs.review_audit(review), "status": day.day.status}, now)

    def decide_episode(self, review: Review, episode: Episode, now: str) -> None:
        with self._lock:
            if self._review_key(review) in self._reviews:
                raise errs.already_reviewed(review.review_id)
            if not self._set_episode_review(episode, review.model_dump(mode="json")):
                raise errs.review_gone(review.review_id)
            self._reviews[self._review_key(review)] = _copy(review)
            self._add_audit(review.nip, f"episode_review_{review.decision}", review.reviewer,
                            {**errs.review_audit(review), "episode_id": episode.episode_id,
                             "episode_kind": episode.kind}, now)

    def mark_absent(self, day: DayRecord, now: str) -> bool:
        """Write ``day`` (an absence) unless a day record exists, or over the stored day of
        ``day.version`` (a day without attendance); True if written."""
        with self._lock:
            if self._stored_version(day) != day.version:
                return False
            self._put_day(day, (day.version or 0) + 1)
            return True

    # --- what employees were told --------------------------------------------------------------
    def add_notification(self, notification: Notification, expires: datetime) -> None:
        _aware(expires)
        with self._lock:
            self._notifications[(notification.nip, f"{notification.at}#{notification.notification_id}")] = \
                _copy(notification)

    def notifications(self, nip: str, limit: int) -> list[Notification]:
        with self._lock:
            keys = sorted((k for k in self._notifications if k[0] == nip), reverse=True)[:limit]
            return [_copy(self._notifications[k]) for k in keys]
    # --- leave and permission requests ---------------------------------------------------------
    def request_ledger(self, nip: str) -> RequestLedger:
        with self._lock:
            return _copy(self._ledgers.get(nip) or RequestLedger(nip=nip))

    def create_request(self, request: RequestRecord, now: str, seen: RequestLedger | None = None) -> None:
        with self._lock:
            seen = seen or self.request_ledger(request.nip)
            failed = {label for label, bad in (
                ("request", request.request_id in self._requests),
                ("ledger", self.request_ledger(request.nip).version != seen.version)) if bad}
            _raise_first(failed, {"request": errs.request_exists(request.request_id),
                                  "ledger": errs.concurrent("employee's requests")})
            self._ledgers[request.nip] = seen.next(request.request_id)
            self._put_request(request, 1, now)
            self._add_audit(request.nip, "request_submitted", request.nip, request.audit_details(), now)

    def get_request(self, request_id: str) -> RequestRecord | None:
        with self._lock:
            r = self._requests.get(request_id)
            return _copy(r) if r else None

    def requests_of(self, nip: str, start: str | None = None, end: str | None = None) -> list[RequestRecord]:
        with self._lock:
            return self._matching(lambda r: r.nip == nip and (not end or r.start <= end)
                                  and (not start or r.end >= start))

    def requests_with_status(self, status: str, on: str | None = None) -> list[RequestRecord]:
        with self._lock:
            return self._matching(lambda r: r.status == status and (not on or r.start <= on <= r.end))

    def requests_overlapping(self, status: str, start: str, end: str) -> list[RequestRecord]:
        with self._lock:
            return self._matching(lambda r: r.status == status and r.start <= end and r.end >= start)

    def _matching(self, keep) -> list[RequestRecord]:
        found = [r for r in self._requests.values() if keep(r)]
        return [_copy(r) for r in sorted(found, key=lambda r: (r.start, r.request_id))]

    def decide_request(self, request: RequestRecord, action: str, actor: str, now: str,
                       site: PersonalSite | None = None, days: Iterable[DayRecord] = ()) -> None:
        days = list(days)
        with self._lock:
            failed = {label for label, bad in (
                ("request", not self._request_pending_at(request)),
                ("site", site is not None and (site.nip, site.site_id) in self._sites),
                ("day", any(self._stored_version(d) != d.version for d in days))) if bad}
            _raise_first(failed, {"request": errs.request_not_pending(request.request_id),
                                  "site": errs.site_exists(site.site_id if site else ""),
                                  "day": errs.concurrent("day")})
            self._put_request(request, (request.version or 0) + 1, now)
            self._add_audit(request.nip, action, actor, request.audit_details(), now)
            if site is not None:
                self._sites[(site.nip, site.site_id)] = _copy(
                    site.model_copy(update={"created_by": actor, "created_at": now}))
            for d in days:
                self._put_day(d, (d.version or 0) + 1)

    def amend_request(self, request: RequestRecord, action: str, actor: str, now: str) -> None:
        with self._lock:
            if not self._request_pending_at(request):
                raise errs.request_not_pending(request.request_id)
            self._put_request(request, (request.version or 0) + 1, now)
            self._add_audit(request.nip, action, actor, request.audit_details(), now)

    def cancel_request(self, request: RequestRecord, actor: str, now: str) -> None:
        with self._lock:
            if not self._request_pending_at(request):
                raise errs.request_not_pending(request.request_id)
            self._put_request(request, (request.version or 0) + 1, now)
            self._add_audit(request.nip, "request_cancelled", actor, request.audit_details(), now)

    def _request_pending_at(self, request: RequestRecord) -> bool:
        stored = self._requests.get(request.request_id)
        return stored is not None and stored.status == "pending" and stored.version == request.version

    def _put_request(self, request: RequestRecord, version: int, now: str) -> None:
        self._requests[request.request_id] = _copy(request.model_copy(
            update={"version": version, "created_at": request.created_at or now}))

    # --- once-only job markers -----------------------------------------------------------------
    def claim(self, key: str, details: JsonObject, now: datetime, ttl_days: int = 90) -> bool:
        """True the first time ``key`` is claimed, False while its marker exists (like DynamoDB's
        TTL, the expiry never frees a marker by itself)."""
        _aware(now)
        with self._lock:
            if key in self._jobs:
                return False
            self._jobs[key] = {"created_at": now.isoformat(), "details": copy.deepcopy(details)}
            return True

    def release(self, key: str) -> None:
        with self._lock:
            self._jobs.pop(key, None)
