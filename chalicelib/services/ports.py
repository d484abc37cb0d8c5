"""What the use cases need from the outside world, as small interfaces (ports).

Each has a real adapter over AWS (``chalicelib.adapters``) and an in-memory one with the same
behaviour (``chalicelib.adapters.memory``); ``tests/contract`` runs one suite against both. The
composition root (``chalicelib.wiring``) decides which is used. Every method raises the service's
own errors (``chalicelib.common.errors``), never an AWS or PynamoDB exception.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable, Iterator, Protocol, Sequence

from chalicelib.common.errors import JsonObject
from chalicelib.policy.attachments import UploadedObject
from chalicelib.policy.login import LoginLimit, LoginTurn
from chalicelib.services.records import (
    AuditCursor,
    AuditEntry,
    AuditPage,
    CheckinReads,
    RecentAttempts,
    CheckinRecord,
    DayRecord,
    Employee,
    ExportObject,
    Notification,
    Office,
    PersonalSite,
    Review,
    RequestLedger,
    RequestRecord,
    TaskRecord,
    WorkReport,
    SealedTemplate,
    StoredConfig,
    UploadSession,
)
from chalicelib.services.records import Episode, ImportJob, Ping, PingContext, PingState, PublishedRoster
from chalicelib.services.schemas import ImportResult, ImportRow, RecapRun


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class AgencyConfigStore(Protocol):
    """The agency's configuration documents, one per kind, versioned (both records adapters
    implement it, so the change and its audit entry are one transaction)."""

    def agency_config(self, kind: str) -> StoredConfig | None:
        """The stored document of ``kind``, None when the agency never set one."""
        ...

    def agency_configs(self, kinds: Sequence[str]) -> dict[str, StoredConfig]:
        """The stored documents of ``kinds`` in one read, by kind (the kinds never set absent)."""
        ...

    def put_agency_config(self, kind: str, document: JsonObject, expected_version: int | None,
                          actor: str, now: str, details: JsonObject | None = None) -> StoredConfig:
        """Store ``document`` as the next version if ``expected_version`` is the stored one
        (None: there must be none yet), with an audit entry ``config_changed`` (subject
        ``config#<kind>``, before/after versions; ``details`` added to its details, e.g. the
        event a change sets), all or nothing; otherwise Conflict
        ``config_changed`` and nothing is written."""
        ...


class RosterStore(Protocol):
    """Published WFO/WFH rosters, one per unit and month (both records adapters implement it)."""

    def roster(self, unit: str, month: str) -> PublishedRoster | None:
        """The unit's published roster of ``month`` (``YYYY-MM``), None when none was published."""
        ...

    def publish_roster(self, roster: PublishedRoster, expected_version: int | None, actor: str,
                       now: str, details: JsonObject | None = None) -> PublishedRoster:
        """Store ``roster`` as the next version if ``expected_version`` is the stored one (None:
        there must be none yet), with an audit entry ``roster_published`` (subject
        ``roster#<month>#<unit>``, before/after versions, ``details``), all or nothing: one
        item and its audit entry in one transaction; otherwise Conflict ``roster_changed`` and
        nothing is written. Returns the roster as stored (its version)."""
        ...


class WorkStore(Protocol):
    """Tasks and daily work reports (the ``work`` table; both records adapters implement it).
    Dates are office-local ``YYYY-MM-DD``, ranges inclusive; lists by date (due date for tasks),
    then NIP. Every write is one item and its audit entry, all or nothing."""

    def create_tasks(self, tasks: list[TaskRecord], actor: str, now: str) -> None:
        """Store new tasks (one per assignee), each audited ``task_assigned``; Conflict
        ``concurrent_update`` (nothing written) if one exists."""
        ...

    def get_task(self, nip: str, task_id: str) -> TaskRecord | None: ...

    def tasks_of(self, nip: str) -> list[TaskRecord]:
        """The employee's tasks."""
        ...

    def tasks_of_supervisor(self, supervisor_nip: str, start: str, end: str) -> list[TaskRecord]:
        """Tasks due ``start``..``end`` filed under ``supervisor_nip`` (the by_supervisor index)."""
        ...

    def tasks_due(self, start: str, end: str) -> list[TaskRecord]:
        """Every task due ``start``..``end`` (by_month, one query a month)."""
        ...

    def change_task(self, task: TaskRecord, expected_status: str, action: str, actor: str, now: str) -> None:
        """Write the task's new state if the stored one is ``expected_status`` at ``task.version``,
        audited ``action``; Conflict ``task_transition_invalid`` otherwise."""
        ...

    def get_report(self, nip: str, day: str) -> WorkReport | None: ...

    def reports_of(self, nip: str, start: str, end: str) -> list[WorkReport]:
        """The employee's reports of ``start``..``end``."""
        ...

    def reports_of_supervisor(self, supervisor_nip: str, start: str, end: str) -> list[WorkReport]:
        """The reports of ``start``..``end`` filed under ``supervisor_nip`` at their last write
        (the recap's and team view's read of a supervisor's staff over a period)."""
        ...

    def reports_between(self, start: str, end: str) -> list[WorkReport]:
        """Every report of ``start``..``end`` (by_month, one query a month)."""
        ...

    def reports_on(self, nips: Sequence[str], dates: Sequence[str]) -> list[WorkReport]:
        """The reports of these employees on these dates that exist, by (date, nip): read by their
        own keys in bulk (BatchGetItem), whoever supervised them when written."""
        ...

    def save_report(self, report: WorkReport, expected_status: str | None, action: str, actor: str,
                    now: str) -> None:
        """Create the report (``expected_status`` None: none stored yet) or replace the stored one
        if it is ``expected_status`` at ``report.version``, audited ``action``; Conflict
        ``report_changed`` otherwise."""
        ...


class AttendanceRecords(RosterStore, WorkStore, Protocol):
    """Offices, employees, personal sites, templates, sessions, check-ins, days, audit, job markers.

    Writes that must happen together are one call (one DynamoDB transaction): a replayed session,
    a day changed since it was read, or a taken id cancels everything.
    """

    # offices
    def put_office(self, office: Office, now: str, actor: str = "system") -> None:
        """Create or replace, audited (``office_created`` / ``office_replaced``, before and after)
        in the same write. Conflict ``concurrent_update`` if it changed since read."""
        ...

    def get_office(self, office_id: str) -> Office | None: ...
    def offices(self) -> list[Office]:
        """Every office by id: a Scan, for admin screens only (an agency's offices: a handful)."""
        ...

    def offices_in_zone(self, zone: str) -> Iterator[Office]:
        """The offices of ``zone`` (WIB, WITA, WIT; by their time zone's offset) by id, streamed
        through an index (the jobs' read: never a Scan)."""
        ...

    # employees
    def put_employee(self, employee: Employee, now: str, actor: str = "system",
                     password_set: bool = False) -> None:
        """Create or update (name, unit, offices, supervisor, roles, e-mail); keeps enrolment.
        Audited in the same write (``employee_created`` / ``employee_updated``: the directory
        fields before and after, whether a password was set, never the password)."""
        ...

    def get_employee(self, nip: str) -> Employee | None: ...
    def staff_of(self, supervisor_nip: str) -> list[Employee]: ...
    def employees(self) -> list[Employee]:
        """Every employee by NIP: a Scan, for admin screens only (docs/capacity.md)."""
        ...

    def staff_in_office(self, office_id: str) -> Iterator[Employee]:
        """The employees whose first office is ``office_id``, by NIP, streamed page by page
        through an index (the jobs' read: never a Scan)."""
        ...

    def staff_in_unit(self, unit: str) -> Iterator[Employee]:
        """The employees of ``unit``, by NIP, streamed page by page through an index (the admins'
        screens of one unit: never a Scan)."""
        ...

    # face templates
    def enrol(self, nip: str, sealed: SealedTemplate, session_id: str, now: str,
              consent_notice: str, device_id: str | None = None, pending: bool = False) -> None:
        """Store the template, mark the employee enrolled (bound to ``device_id``; awaiting
        approval when ``pending``, the session's id naming the enrolment), use the session and
        audit the consent. Conflict ``already_enrolled`` / ``session_used`` / ``concurrent_update``."""
        ...

    def decide_enrolment(self, review: Review, enrolment_id: str, now: str) -> None:
        """Approve (the employee's enrolment becomes approved) or reject (the template is deleted:
        the employee may enrol again) the pending enrolment ``enrolment_id``, store the review and
        audit it, all or nothing. Conflict ``review_not_pending`` if it is not pending any more."""
        ...

    def bind_device(self, nip: str, device_id: str, actor: str, reason: str | None, now: str) -> None:
        """Bind the employee to another device and audit who approved it. NotFound."""
        ...

    def use_device(self, device_id: str, local_date: str, nip: str, now: datetime) -> list[str]:
        """Record that ``nip`` used the device on ``local_date``; every NIP that did, sorted."""
        ...

    def sealed_template(self, nip: str) -> SealedTemplate | None: ...

    def reenrol(self, nip: str, sealed: SealedTemplate, previous_version: str, session_id: str, now: str,
                consent_notice: str, renewal: JsonObject, device_id: str | None = None,
                pending: bool = False) -> None:
        """Replace an enrolled employee's template of model ``previous_version`` by ``sealed``
        (a model upgrade's self re-enrolment): the employee's enrolment renewed as ``enrol``
        sets it, the session used, the consent audited again and ``enrolment_renewed`` audited
        with ``renewal`` (both versions, the old model's match as reasons), all or nothing.
        Conflict ``concurrent_update`` if the template is not of ``previous_version`` any more,
        ``session_used``."""
        ...

    def template_versions(self) -> dict[str, str]:
        """NIP -> model version of every stored template (no template is decrypted)."""
        ...

    def reset_enrolment(self, nip: str, actor: str, reason: str | None, now: str) -> None:
        """Delete the template and audit who allowed a new enrolment. Conflict ``not_enrolled``."""
        ...

    # personal sites
    def add_site(self, site: PersonalSite, actor: str, now: str) -> None:
        """Conflict ``site_exists`` if the employee has a site with this id."""
        ...

    def sites_of(self, nip: str) -> list[PersonalSite]: ...

    def remove_site(self, nip: str, site_id: str, actor: str, now: str) -> PersonalSite:
        """NotFound ``site_not_found``."""
        ...

    # audit (append-only: nothing here changes or deletes an entry)
    def audit_trail(self, nip: str) -> list[AuditEntry]:
        """An employee's entries, oldest first."""
        ...

    def append_audit(self, entry: AuditEntry) -> AuditEntry:
        """Append an entry for an action that is not itself a write here (an export run);
        returns it with its ``entry_id``."""
        ...

    def audit_log(self, start: str, end: str, *, actor: str | None = None, subject: str | None = None,
                  limit: int = 50, after: AuditCursor | None = None) -> AuditPage:
        """Entries whose UTC date is from ``start`` to ``end`` (ISO dates, inclusive), oldest
        first (by ``entry_id``, then subject), only ``actor``'s and ``subject``'s if given, at most
        ``limit``, after the entry ``after`` if given. ``next`` is None when nothing follows."""
        ...

    # upload sessions
    def put_session(self, session: UploadSession, expires: datetime) -> None: ...
    def get_session(self, session_id: str) -> UploadSession | None: ...
    def checkin_reads(self, nip: str, session_id: str, dates: Sequence[str],
                      device_id: str | None = None) -> CheckinReads:
        """The employee, the session, the sealed template, the day records of ``dates``, the
        recent attempts, the personal sites and who used ``device_id`` on ``dates``, read
        consistently in one request where the store allows."""
        ...

    # attendance
    def record_checkin(self, attempt: CheckinRecord, day: DayRecord | None, session_id: str,
                       now: str, recent: RecentAttempts | None = None,
                       sites: Sequence[PersonalSite] | None = None) -> None:
        """Write the attempt, the day (if it changed), ``recent`` (at its version read) and the
        attempt's device use (``attempt.device_id`` on its local date), and use the session, all
        or nothing; ``sites``: the personal sites read without the employee (data written before
        their copy), to copy onto it. Conflict ``session_used``; ``concurrent_update`` if the day's or the recent
        attempts' version moved since read."""
        ...

    def day(self, nip: str, local_date: str) -> DayRecord | None: ...
    def days_between(self, nip: str, start: str, end: str) -> list[DayRecord]: ...
    def checkins_between(self, nip: str, start: str, end: str) -> list[CheckinRecord]: ...
    def days_on(self, local_date: str) -> list[DayRecord]: ...

    def days_of(self, nips: Sequence[str], dates: Sequence[str]) -> list[DayRecord]:
        """The stored day records of each of ``nips`` on each of ``dates`` (those that exist), by
        NIP then date: each (NIP, date) read by its key, in batches (the monthly recap's read: no
        index, no query per employee)."""
        ...
    def checkins_on(self, local_date: str) -> list[CheckinRecord]: ...

    def review_checkin(self, review: Review, day: DayRecord, now: str) -> None:
        """Store the review of a flagged check-in with the day it recomputed (at the version read)
        and its audit entry, all or nothing. Conflict ``already_reviewed`` / ``concurrent_update``."""
        ...

    def mark_absent(self, day: DayRecord, now: str) -> bool:
        """Write an absent day (or the status an approved request gives it) unless a day record
        exists, or over the stored one at ``day.version``; True if written."""
        ...

    # leave and permission requests
    def request_ledger(self, nip: str) -> RequestLedger:
        """The employee's submission counter as stored now (version 0 before the first)."""
        ...

    def create_request(self, request: RequestRecord, now: str, seen: RequestLedger | None = None) -> None:
        """Store a new request, audit its submission (``request_submitted``) and advance the
        employee's ledger, all or nothing, only if the ledger is still at ``seen`` (the one read
        before the checks the request passed; None: as stored now). Conflict ``request_exists`` if
        the id is taken, ``concurrent_update`` if another submission came in between."""
        ...

    def get_request(self, request_id: str) -> RequestRecord | None: ...

    def requests_of(self, nip: str, start: str | None = None, end: str | None = None) -> list[RequestRecord]:
        """The employee's requests overlapping ``start``..``end`` (all without), by start then id."""
        ...

    def requests_with_status(self, status: str, on: str | None = None) -> list[RequestRecord]:
        """Every employee's requests in ``status`` (covering the date ``on`` if given), by start
        then id."""
        ...

    def requests_overlapping(self, status: str, start: str, end: str) -> list[RequestRecord]:
        """Every employee's requests in ``status`` overlapping ``start``..``end`` (both inclusive),
        by start then id (the monthly recap's excuses, in one query)."""
        ...

    def decide_request(self, request: RequestRecord, action: str, actor: str, now: str,
                       site: PersonalSite | None = None, days: Iterable[DayRecord] = ()) -> None:
        """Write the request's new state if the stored one is still pending at ``request.version``,
        its audit entry (``action``), the assignment site and the days it changes (each at its
        version), all or nothing. Conflict ``request_not_pending`` (decided, cancelled or changed
        meanwhile: one of two concurrent decisions wins), ``site_exists``, ``concurrent_update``."""
        ...

    def amend_request(self, request: RequestRecord, action: str, actor: str, now: str) -> None:
        """Write a pending request's new particulars (its attachment) if still pending at its
        version, audited (``action``). Conflict ``request_not_pending``."""
        ...

    def cancel_request(self, request: RequestRecord, actor: str, now: str) -> None:
        """Write the cancelled request if still pending at its version, audited
        (``request_cancelled``). Conflict ``request_not_pending``."""
        ...

    # what employees were told
    def add_notification(self, notification: Notification, expires: datetime) -> None: ...

    def notifications(self, nip: str, limit: int) -> list[Notification]:
        """Newest first, at most ``limit``."""
        ...

    # once-only job markers
    def claim(self, key: str, details: JsonObject, now: datetime, ttl_days: int = 90) -> bool: ...
    def release(self, key: str) -> None: ...

    # whereabouts (services/pings.py): pings, episodes, the latest fix and open episode
    def record_ping(self, ping: "Ping", expires: datetime, not_before: str) -> bool:
        """Store the ping as the latest fix unless the latest is after ``not_before``: False
        (rate limited) and nothing written."""
        ...

    def ping_state(self, nip: str) -> "PingState": ...

    def ping_states(self, nips: Sequence[str]) -> dict[str, "PingState"]:
        """``ping_state`` of each of ``nips`` (every one a key), read in bulk (GET /team/now)."""

    def ping_context(self, nip: str) -> "PingContext":
        """The employee, their ping state and whether they ever submitted a request (none: no
        approved request to look up), read together before a ping."""
        ...

    def open_episode(self, episode: "Episode", expires: datetime) -> bool:
        """Open it unless one is open for the employee: False and nothing written."""
        ...

    def extend_episode(self, episode: "Episode", at: str) -> None: ...

    def close_episode(self, episode: "Episode", at: str) -> bool:
        """Close it if it is the open one; False when closed meanwhile."""
        ...

    def episodes_on(self, local_date: str) -> list["Episode"]: ...

    def pings_between(self, nip: str, start: str, end: str, limit: int = 200) -> list["Ping"]: ...

    def episode(self, nip: str, local_date: str, episode_id: str) -> "Episode | None":
        """``nip``'s episode ``episode_id`` opened on ``local_date``, if kept."""
        ...

    def decide_episode(self, review: Review, episode: "Episode", now: str) -> None:
        """Store the supervisor's ``review`` on ``episode`` and as a review, audited, all or
        nothing. Conflict ``already_reviewed`` if it was decided; NotFound ``review_not_found``
        if the episode is gone."""
        ...


class UploadStore(Protocol):
    """Where phones upload photos (S3 presigned POST), read back with every limit re-checked."""

    def presign(self, key: str, nonce: str, ttl_s: int) -> JsonObject:
        """``{"url", "fields", "key"}`` for one POST of at most the configured size."""
        ...

    def read(self, key: str, nonce: str) -> bytes:
        """The bytes, after checking they exist, their size, type and nonce (InvalidInput
        ``upload_missing`` / ``nonce_mismatch``; FaceError ``image_too_large`` ...)."""
        ...

    def discard(self, keys: Iterable[str]) -> None: ...

    def keep(self, key: str, evidence_key: str) -> None:
        """Copy an uploaded photo to ``evidence_key`` (under ``evidence/``, kept encrypted for a
        supervisor's review until decided or the bucket's evidence expiry). InvalidInput
        ``upload_missing``."""
        ...

    # documents: a request's attachment (PDF, JPEG, PNG)
    def presign_document(self, key: str, nonce: str, content_type: str, max_bytes: int,
                         ttl_s: int) -> JsonObject:
        """``{"url", "fields", "key"}`` for one POST of 1 to ``max_bytes`` bytes of exactly
        ``content_type``, bound to ``nonce``."""
        ...

    def stream(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The object's bytes ``[start, end)`` in chunks; InvalidInput ``upload_missing``."""
        ...

    def probe(self, key: str, head_bytes: int) -> UploadedObject | None:
        """What is stored under ``key`` and its first bytes (None: nothing); nothing is checked
        here (``policy.attachments`` decides)."""
        ...

    def download_url(self, key: str, expires_in: int, content_type: str | None = None,
                     filename: str | None = None) -> str:
        """A short-lived presigned GET (an evidence photo, a document); with a ``filename``, served
        as ``content_type``, as a download of that name."""
        ...


class TemplateVault(Protocol):
    """Envelope encryption of face templates, bound to the employee."""

    def seal(self, nip: str, template: JsonObject) -> SealedTemplate: ...
    def unseal(self, nip: str, sealed: SealedTemplate) -> JsonObject: ...


class Notifier(Protocol):
    def publish(self, notice: JsonObject, subject: str) -> None:
        """Publish a supervisor notice (SNS topic, fanned out to the e-mail queue)."""
        ...

    def send_email(self, to: str, subject: str, body: str) -> None: ...


class ExportStore(Protocol):
    """The auditors' bucket: write-once objects under an agency's prefix, read by presigned URL
    naming the version. ``put`` returns the version id and refuses (Conflict ``export_exists``)
    a key already written."""

    def put(self, key: str, body: bytes, content_type: str) -> str | None: ...
    def list(self, prefix: str, versions: bool = False) -> list[ExportObject]: ...
    def get(self, key: str, version_id: str | None = None) -> bytes: ...
    def download_url(self, key: str, expires_in: int, version_id: str | None = None) -> str: ...


class Directory(Protocol):
    """The user directory (Cognito): sign-in and the accounts an import creates."""

    def login(self, username: str, password: str) -> JsonObject:
        """``{"id_token", "access_token", "refresh_token", "expires_in"}``; Unauthenticated
        ``invalid_credentials`` and friends."""
        ...

    def refresh(self, refresh_token: str) -> JsonObject:
        """New ID and access tokens (``refresh_token`` None: keep the one you have);
        Unauthenticated ``invalid_refresh_token``."""
        ...

    def upsert_user(self, username: str, password: str, *, nip: str | None, name: str,
                    groups: Iterable[str]) -> None:
        """Create or update so the role groups are exactly ``groups``; an existing user keeps
        their password unless one is given."""
        ...


class LoginAttempts(Protocol):
    """Sign-in counts per normalised username (``policy.login``), atomic under concurrency."""

    def take(self, key: str, now: datetime, limit: LoginLimit) -> LoginTurn:
        """Count one sign-in: allowed while fewer than ``limit.max_failures`` were counted in the
        window and no lock holds, else refused with when to retry. Starts a new window once the
        old one (or the lock) is over."""
        ...

    def lock(self, key: str, until: datetime, now: datetime, limit: LoginLimit) -> None:
        """Lock the username until ``until`` (if its count still exists: a success since wins)."""
        ...

    def clear(self, key: str) -> None:
        """Forget the count (a successful sign-in)."""
        ...


class AnalyticsRunner(Protocol):
    """Runs the writers of the exports bucket (the monthly recap, the daily export: Parquet needs
    pyarrow) where pyarrow is: their own function, or this process (adapters/analytics.py)."""

    def recap(self, month: str, actor: str) -> RecapRun:
        """The new run; the recap's own errors as raised; Unavailable ``analytics_unavailable``."""
        ...

    def export_day(self, zone: str, day: date | None = None) -> JsonObject:
        """The export run's summary (services/jobs.py export_day)."""
        ...


class ImportRunner(Protocol):
    """Runs an employee import where the directory's admin rights are (its own function)."""

    def run(self, rows: list[JsonObject], actor: str) -> ImportResult:
        """Every row's result; Unavailable ``import_unavailable`` when it could not run."""
        ...


class ImportJobs(Protocol):
    """Import jobs and their rows' results (table ``imports``; services/import_jobs.py)."""

    def create(self, job: ImportJob) -> None: ...

    def get(self, import_id: str) -> ImportJob | None: ...

    def update(self, import_id: str, now: str, *, expect: tuple[str, ...] | None = None,
               **fields: Any) -> bool:
        """Set ``fields`` (state, total, plan, error); only while the state is one of ``expect``
        (else False, nothing written)."""
        ...

    def record_row(self, import_id: str, row: ImportRow, now: str) -> bool:
        """The row's result, once (a conditional put): False if it was recorded."""
        ...

    def done_rows(self, import_id: str, first: int, last: int) -> dict[int, bool]:
        """The rows of ``first..last`` recorded, each with whether it was saved."""
        ...

    def count_batch(self, import_id: str, batch: str, done: int, failed: int, now: str) -> bool:
        """Add a batch's saved and refused rows to the job's counts, once per ``batch`` (one
        conditional update): False if it was counted."""
        ...

    def rows(self, import_id: str, after: int, limit: int) -> list[ImportRow]: ...

    def retryable(self, exc: Exception) -> bool:
        """Whether ``exc`` (from this store, the directory or the records) is a throttle or a
        transient failure worth a retry with back-off."""
        ...


class ImportQueue(Protocol):
    """The import job's steps (queue ``import-jobs``)."""

    def send(self, messages: list[JsonObject]) -> None: ...
