"""The records that cross layers: what the use cases read and write through the ports.

Typed (pydantic v2, frozen) so an adapter cannot hand a use case a half-filled dictionary and a
use case cannot store one. Dates are office-local ISO dates (``YYYY-MM-DD``), instants are UTC ISO
8601 strings with milliseconds (``utc_iso``), as stored.
"""

from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.common.errors import JsonObject
from chalicelib.policy.attempts import failed_face_check
from chalicelib.policy.day import Day


def utc_iso(dt: datetime) -> str:
    """An instant as stored: UTC, ISO 8601, milliseconds."""
    return dt.astimezone(timezone.utc).isoformat(timespec="milliseconds")


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)  # built on first use


class Office(Record):
    office_id: str
    name: str
    timezone: str
    geofence: JsonObject  # parsed by geo.parse_geofence
    rules: JsonObject  # parsed by policy.OfficeRules.from_dict
    work_mode: str = "WFO"
    province: str | None = None  # BPS two-digit code ("51" Bali): its regional holidays are not working days


PENDING_APPROVAL, APPROVED = "pending_approval", "approved"


class Employee(Record):
    nip: str
    name: str
    unit: str | None = None
    group: str | None = None  # employee group (e.g. "guru"): schedules may apply to it
    echelon: str | None = None  # structural level, canonical "II.a" (policy/echelon.py); None: no structural position
    office_ids: list[str] = Field(default_factory=list)
    supervisor_nip: str | None = None
    roles: list[str] = Field(default_factory=lambda: ["employee"])
    email: str | None = None
    enrolled: bool = False
    enrolled_at: str | None = None
    device_id: str | None = None  # the app's X-Device-Id bound at enrolment (or by a supervisor)
    enrolment_status: str | None = None  # pending_approval | approved (None: not enrolled, or before approval existed)
    enrolment_id: str | None = None  # the enrolment's upload session: names its review and its kept photos

    @property
    def awaiting_approval(self) -> bool:
        return self.enrolled and self.enrolment_status == PENDING_APPROVAL


class PersonalSite(Record):
    """A place an employee may attend besides their offices (home, assignment, anywhere)."""

    nip: str
    site_id: str
    kind: str  # home | assignment | anywhere
    work_mode: str  # WFH | DL | WFA
    geofence: JsonObject
    valid_from: str | None = None  # office-local dates, both inclusive
    valid_to: str | None = None
    note: str | None = None
    created_by: str = ""
    created_at: str = ""

    def valid_on(self, day: str) -> bool:
        return (not self.valid_from or self.valid_from <= day) and (
            not self.valid_to or day <= self.valid_to)


class SealedTemplate(Record):
    """A face template encrypted under a KMS data key (see adapters.vault)."""

    ciphertext: bytes
    encrypted_key: bytes
    nonce: bytes
    key_id: str
    model_version: str = ""


class Challenge(Record):
    id: str
    steps: list[str]
    offline: bool = False  # the client's own steps (a capture made offline): always reviewed


class UploadSession(Record):
    session_id: str
    nip: str
    purpose: str  # enrolment | checkin
    nonce: str
    keys: list[str]
    expires_at: str
    used: bool = False
    used_at: str | None = None
    challenge: Challenge | None = None  # the liveness challenge: keys[i] is the frame of steps[i]



class RecentAttempt(Record):
    """One earlier attempt as the GPS signals (its fix) and the attempt limit (a failed face
    check) look back on it."""

    at: str  # UTC instant of the attempt
    local_date: str
    lat: float
    lon: float
    face_failed: bool = False


class RecentAttempts(Record):
    """An employee's attempts of the last days, oldest first, kept on one keyed item written by
    each check-in's transaction at the version read (``version`` None: not stored yet)."""

    entries: list[RecentAttempt] = Field(default_factory=list)
    version: int | None = None


class CheckinReads(Record):
    """What a check-in reads by key, in one round trip (``AttendanceRecords.checkin_reads``):
    None where nothing is stored; ``days`` has every date asked for. ``recent`` None: no recent
    attempts item (data written before it: read the history instead); ``sites`` None: the
    personal sites not copied onto the employee (read them instead); ``device_users`` who used
    the device asked for, by date asked for."""

    employee: Employee | None
    session: UploadSession | None
    sealed: SealedTemplate | None
    days: dict[str, "DayRecord | None"]  # defined below
    recent: RecentAttempts | None = None
    sites: list[PersonalSite] | None = None
    device_users: dict[str, list[str]] = Field(default_factory=dict)


class FaceEvidence(Record):
    score: float | None = None
    threshold: float | None = None
    decision: str | None = None
    model_version: str | None = None
    error: str | None = None  # the image or face error code when there is no score
    replay_of: int | None = None  # the enrolment photo the selfie copies (replayed_image)
    liveness: JsonObject | None = None  # face.liveness.Liveness.to_dict(): steps, poses, checks

    @property
    def failed(self) -> bool:
        """Whether the attempt counts against the attempt limit (policy.attempts)."""
        return failed_face_check(self.decision, self.error, self.replay_of,
                                 None if self.liveness is None else bool(self.liveness.get("passed")))


class GeoEvidence(Record):
    status: str
    site_id: str | None = None
    distance_m: float | None = None
    accuracy_m: float | None = None
    margin_m: float | None = None


class PositionEvidence(Record):
    lat: float
    lon: float
    captured_at: str
    is_mock: bool = False


class CheckinRecord(Record):
    """One attempt (accepted, flagged or rejected alike) with every reason behind its decision."""

    checkin_id: str
    record_id: str
    nip: str
    name: str
    office_id: str
    at: str
    decision: str
    kind: str
    local_date: str
    local_time: str
    timezone: str
    work_mode: str | None = None
    site_id: str | None = None
    late_minutes: int = 0
    early_leave_minutes: int = 0
    tier: str | None = None
    reasons: list[JsonObject] = Field(default_factory=list)
    face: FaceEvidence
    geo: GeoEvidence
    position: PositionEvidence
    device_id: str | None = None
    evidence_key: str | None = None  # the selfie kept (encrypted) for the review of a flagged check-in


class Review(Record):
    """A supervisor's decision on a flagged check-in or a pending enrolment."""

    review_id: str  # services.reviews ids: c.<nip>.<date>.<checkin_id> | e.<nip>.<enrolment_id>
    #                 | w.<nip>.<date>.<episode_id>
    kind: str  # checkin | enrolment | episode
    nip: str
    decision: str  # approved | rejected
    reviewer: str
    at: str
    comment: str | None = None
    local_date: str | None = None  # the check-in's / episode's date, the decision's (enrolment)
    checkin_id: str | None = None


class DayRecord(Record):
    """An employee's day as stored: the policy's folded ``Day`` and the version it was read at
    (None: not stored yet). Writing it back fails if someone else wrote it meanwhile."""

    nip: str
    date: str
    day: Day
    name: str | None = None
    version: int | None = None


class StoredConfig(Record):
    """One of the agency's configuration documents (``kind``: calendar | lateness) as stored:
    ``version`` 1 on creation, one more on each change."""

    kind: str
    version: int
    document: JsonObject
    updated_at: str
    updated_by: str


class PublishedRoster(Record):
    """A unit's published WFO/WFH roster for a month (``YYYY-MM``): ``days`` its working days
    (ISO, within the month), ``statuses`` nip -> one of WFO, WFH, leave, official_travel, off per
    day, ``document`` the roster as published (rows, quota, rotation); ``version`` 1 on the first
    publish, one more on each re-publish."""

    unit: str
    month: str
    version: int = 0
    days: list[str]
    statuses: dict[str, list[str]]
    document: JsonObject
    published_at: str
    published_by: str

    @property
    def roster_id(self) -> str:
        return f"{self.month}#{self.unit}"

    def status_on(self, nip: str, day: str) -> str | None:
        """The member's status on ``day``, None when the roster does not cover them that day."""
        row = self.statuses.get(nip)
        if row is None or day not in self.days:
            return None
        return row[self.days.index(day)]


class AuditEntry(Record):
    """One privileged action, appended and never changed: who (``actor``) did what (``action``)
    to whom or what (``subject``: ``employee#<nip>``, ``office#<id>``, ``export#<date>``) and when
    (``at``, UTC), with the state before and after (None: it did not exist, or nothing to show)."""

    subject: str
    at: str
    action: str
    actor: str
    details: JsonObject = Field(default_factory=dict)
    before: JsonObject | None = None
    after: JsonObject | None = None
    entry_id: str | None = None  # "<at>#<suffix>", given by the store when appended

    @property
    def utc_date(self) -> str:
        """The UTC date of ``at`` (what the audit log is queried by)."""
        return self.at[:10]


class AuditCursor(Record):
    """Where a page of the audit log ended: the last entry returned (entries after it come next)."""

    subject: str
    entry_id: str

    @property
    def utc_date(self) -> str:
        return self.entry_id[:10]


class AuditPage(Record):
    """Entries oldest first; ``next`` is None when there are no more."""

    entries: list[AuditEntry]
    next: AuditCursor | None = None


class Notification(Record):
    """Something an employee was told: a decision on their review or request."""

    notification_id: str
    nip: str
    at: str
    topic: str  # review_decided | request_decided
    ref: str  # the review or request id
    message: str
    details: JsonObject = Field(default_factory=dict)


class ExportObject(Record):
    key: str
    bytes: int
    version_id: str | None = None  # the object's (only) version; listed on request


class RequestDecision(Record):
    """One decision on a request: who (username and NIP), at which level, when, and why."""

    level: int
    decision: str  # approved | rejected
    by: str
    by_nip: str | None = None
    at: str
    comment: str | None = None


class Attachment(Record):
    """The document kept with a request (a medical certificate...): its type as its bytes say."""

    key: str  # in the uploads bucket, under attachments/ (kept as long as the audit needs)
    content_type: str  # application/pdf | image/jpeg | image/png, from the magic bytes
    bytes: int
    upload_id: str
    uploaded_at: str


LEDGER_RECENT = 5


class RequestLedger(Record):
    """An employee's submissions as a counter: read before a new request's checks, written with it
    only if unchanged, so two racing submissions cannot both pass on the same read. ``recent``: the
    last ids created (a read of the by-employee index may not show them yet)."""

    nip: str
    version: int = 0  # submissions so far (0: none)
    recent: list[str] = Field(default_factory=list)

    def next(self, request_id: str) -> "RequestLedger":
        """The ledger once ``request_id`` is created."""
        return RequestLedger(nip=self.nip, version=self.version + 1,
                             recent=[*self.recent, request_id][-LEDGER_RECENT:])


class RequestRecord(Record):
    """A leave or permission request (policy/requests.py) and every decision on it, as stored;
    ``version`` is the one it was read at (None: not stored yet)."""

    request_id: str
    nip: str
    name: str = ""
    type: str  # excuse | leave | official_travel | wfh | leave_region
    subtype: str | None = None
    start: str  # office-local dates, both inclusive
    end: str
    status: str = "pending"  # pending | approved | rejected | cancelled
    reason: str = ""
    working_days: int = 0
    destination: JsonObject | None = None  # official_travel: the geofence of the assignment site
    destination_name: str | None = None
    home_site_id: str | None = None  # wfh: the registered home site
    site_id: str | None = None  # official_travel, once approved: the assignment site created
    levels_required: int = 1
    decisions: list[RequestDecision] = Field(default_factory=list)
    attachment: Attachment | None = None
    created_at: str = ""
    updated_at: str = ""
    version: int | None = None

    @property
    def approvals(self) -> int:
        return sum(1 for d in self.decisions if d.decision == "approved")

    def audit_details(self) -> JsonObject:
        """What the audit trail keeps of a request's change (the last decision, if any)."""
        last = self.decisions[-1].model_dump(mode="json") if self.decisions else None
        return {"request_id": self.request_id, "type": self.type, "subtype": self.subtype,
                "start": self.start, "end": self.end, "status": self.status, "decision": last,
                **({"site_id": self.site_id} if self.site_id else {}),
                **({"attachment": self.attachment.model_dump(mode="json", exclude={"upload_id"})}
                   if self.attachment else {})}


class Ping(Record):
    """A location ping taken in working hours (``POST /me/pings``), kept HADIR_PING_RETENTION_DAYS."""

    ping_id: str
    nip: str
    at: str  # server time, UTC ISO
    local_date: str
    lat: float
    lon: float
    accuracy_m: float
    captured_at: str
    is_mock: bool = False
    outside: bool = False  # outside the region (or away from home) without a permission
    kind: str | None = None  # outside_region | away_from_home
    reasons: list[JsonObject] = Field(default_factory=list)


class Episode(Record):
    """A stretch of pings outside the region (or away from home) without a permission: opened by
    the first, extended by each further one, closed by one back inside; one alert when opened."""

    episode_id: str
    nip: str
    name: str = ""
    supervisor_nip: str | None = None
    unit: str | None = None
    kind: str  # outside_region | away_from_home
    local_date: str  # the office-local date it opened
    opened_at: str
    last_at: str
    closed_at: str | None = None
    pings: int = 1
    first: JsonObject = Field(default_factory=dict)  # the opening ping: lat, lon, accuracy_m, reasons
    review: Review | None = None  # the supervisor's decision (services/reviews.py): approved = justified


class LastFix(Record):
    lat: float
    lon: float
    at: str


class PingState(Record):
    """An employee's latest ping and open episode (one read before a ping)."""

    nip: str
    last: LastFix | None = None
    open_episode: Episode | None = None


class ImportJob(Record):
    """An employee import job (services/import_jobs.py): its file under the uploads bucket's
    ``imports/``, its state and progress; ``plan`` holds what planning the file found (header,
    delimiter, the supervisors named that exist nowhere), ``error`` why the whole file failed."""

    import_id: str
    state: str  # uploaded | queued | running | done | failed
    actor: str
    content_type: str
    created_at: str
    updated_at: str
    total: int | None = None
    done: int = 0
    failed: int = 0
    plan: JsonObject | None = None
    error: JsonObject | None = None


class PingContext(Record):
    """What a ping reads first, in one round trip: the employee (None: no record), their ping
    state, and whether they ever submitted a request (False: no approved request to look up)."""

    employee: Employee | None
    state: PingState
    has_requests: bool


class WorkEvent(Record):
    """One change of a task or a daily report: who (username and NIP), what, when, and why."""

    action: str  # assigned | submitted | accepted | returned
    by: str
    by_nip: str | None = None
    at: str
    comment: str | None = None


def _last_event(events: list[WorkEvent]) -> JsonObject | None:
    """The newest event of a task or report as audit details (None before any)."""
    return events[-1].model_dump(mode="json") if events else None


class TaskRecord(Record):
    """A task a supervisor assigned to one employee (policy/work.py), as stored; several
    assignees: one task each. ``version``: the one it was read at (None: not stored yet)."""

    task_id: str
    nip: str  # the owner
    supervisor_nip: str | None = None  # the owner's supervisor when assigned (the team index)
    title: str
    description: str = ""
    due: str  # office-local date
    status: str = "open"  # open | submitted | accepted | returned
    note: str | None = None  # the owner's last submission note
    attachment: Attachment | None = None
    events: list[WorkEvent] = Field(default_factory=list)
    created_at: str = ""
    updated_at: str = ""
    version: int | None = None

    def audit_details(self) -> JsonObject:
        last = _last_event(self.events)
        return {"task_id": self.task_id, "title": self.title, "due": self.due, "status": self.status,
                "event": last, **({"attachment": self.attachment.model_dump(mode="json", exclude={"upload_id"})}
                                  if self.attachment else {})}


class WorkReport(Record):
    """An employee's daily work report (laporan kinerja harian) of one local date, as stored."""

    nip: str
    date: str  # office-local
    supervisor_nip: str | None = None  # the employee's supervisor at the last write (the team index)
    text: str
    task_ids: list[str] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)
    status: str = "submitted"  # submitted | returned | accepted
    events: list[WorkEvent] = Field(default_factory=list)
    created_at: str = ""
    updated_at: str = ""
    version: int | None = None

    def audit_details(self) -> JsonObject:
        last = _last_event(self.events)
        return {"date": self.date, "status": self.status, "task_ids": self.task_ids, "event": last,
                "attachments": [a.model_dump(mode="json", exclude={"upload_id"}) for a in self.attachments]}
