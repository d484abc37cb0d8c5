"""PynamoDB models, one per table in :mod:`chalicelib.common.resources` (a test asserts they match).

Table names and the endpoint are bound from the settings by :func:`bind` (not at import), so
importing the app costs nothing and tests can point the models anywhere.
"""
from __future__ import annotations

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.common import resources as r


class _Base(Model):
    class Meta:
        abstract = True
        region = "ap-southeast-3"


class ByZone(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_zone"
        projection = AllProjection()

    zone = UnicodeAttribute(hash_key=True)
    office_id = UnicodeAttribute(range_key=True)


class OfficeModel(_Base):
    class Meta(_Base.Meta):
        table_name = r.OFFICES.logical

    office_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    timezone = UnicodeAttribute()
    geofence = JSONAttribute()
    rules = JSONAttribute()
    work_mode = UnicodeAttribute(default="WFO")
    province = UnicodeAttribute(null=True)  # BPS two-digit code: its regional holidays apply
    agency_id = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    zone = UnicodeAttribute(null=True)  # resources.zone_of(timezone): keys by_zone
    by_zone = ByZone()


class BySupervisor(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_supervisor"
        projection = AllProjection()

    supervisor_nip = UnicodeAttribute(hash_key=True)
    nip = UnicodeAttribute(range_key=True)


class ByOffice(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_office"
        projection = AllProjection()

    primary_office = UnicodeAttribute(hash_key=True)
    nip = UnicodeAttribute(range_key=True)


class ByUnit(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_unit"
        projection = AllProjection()

    unit = UnicodeAttribute(hash_key=True)
    nip = UnicodeAttribute(range_key=True)


class EmployeeModel(_Base):
    class Meta(_Base.Meta):
        table_name = r.EMPLOYEES.logical

    nip = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    unit = UnicodeAttribute(null=True)  # keys by_unit (none: in no unit's staff)
    group = UnicodeAttribute(null=True)  # employee group (teachers, shift workers): its schedule
    echelon = UnicodeAttribute(null=True)  # structural level "II.a" (policy/echelon.py): the roster's rule
    office_ids = ListAttribute(of=UnicodeAttribute, default=list)
    supervisor_nip = UnicodeAttribute(null=True)
    roles = UnicodeSetAttribute(default=set)
    email = UnicodeAttribute(null=True)
    enrolled = BooleanAttribute(default=False)
    enrolled_at = UnicodeAttribute(null=True)
    device_id = UnicodeAttribute(null=True)  # X-Device-Id bound at enrolment
    enrolment_status = UnicodeAttribute(null=True)  # pending_approval | approved
    enrolment_id = UnicodeAttribute(null=True)  # the enrolment's upload session id
    agency_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    version = VersionAttribute()
    primary_office = UnicodeAttribute(null=True)  # office_ids[0] (none: in no office's staff)
    # a copy of the personal sites (SiteModel items, as PersonalSite dicts), written in the site
    # writes' transactions so that a check-in reads them with the employee; absent on items
    # written before it (the check-in then queries the sites table)
    sites = JSONAttribute(null=True)
    by_supervisor = BySupervisor()
    by_office = ByOffice()
    by_unit = ByUnit()


class SiteModel(_Base):
    """A personal site of an employee (home, assignment, anywhere); dates are office-local."""

    class Meta(_Base.Meta):
        table_name = r.SITES.logical

    nip = UnicodeAttribute(hash_key=True)
    site_id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()  # home | assignment | anywhere
    work_mode = UnicodeAttribute()  # WFH | DL | WFA
    geofence = JSONAttribute()
    valid_from = UnicodeAttribute(null=True)  # YYYY-MM-DD, inclusive
    valid_to = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    agency_id = UnicodeAttribute()
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()


class BiometricModel(_Base):
    class Meta(_Base.Meta):
        table_name = r.BIOMETRICS.logical

    nip = UnicodeAttribute(hash_key=True)
    ciphertext = BinaryAttribute(legacy_encoding=False)
    encrypted_key = BinaryAttribute(legacy_encoding=False)
    nonce = BinaryAttribute(legacy_encoding=False)
    key_id = UnicodeAttribute()
    model_version = UnicodeAttribute()
    created_at = UnicodeAttribute()
    consent_notice = UnicodeAttribute(null=True)  # the consent notice version the employee accepted


class ByDateShard(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_date_shard"
        projection = AllProjection()

    date_shard = UnicodeAttribute(hash_key=True)
    nip_sk = UnicodeAttribute(range_key=True)


class AttendanceModel(_Base):
    """Three item kinds share the table: ``CHECKIN#<local_date>#<utc>#<id>`` attempts (accepted,
    flagged or rejected, with their reasons), ``DAY#<local_date>`` day records and
    ``REVIEW#<review_id>`` a supervisor's decisions (on a flagged check-in or an enrolment).
    ``date_shard`` (``<local_date>#<resources.date_shard_of(nip)>``) keys by_date_shard."""

    class Meta(_Base.Meta):
        table_name = r.ATTENDANCE.logical

    nip = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    nip_sk = UnicodeAttribute()
    local_date = UnicodeAttribute()
    date_shard = UnicodeAttribute()
    item_type = UnicodeAttribute()  # "checkin" | "day" | "review"
    office_id = UnicodeAttribute(null=True)
    agency_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)  # day: present | late | flagged | absent
    data = JSONAttribute(default=dict)
    created_at = UnicodeAttribute()
    version = VersionAttribute(null=True)  # optimistic lock on day records (attempts: always 1)
    by_date_shard = ByDateShard()


class EmployeeSitesModel(_Base):
    """The ``sites`` copy of an employee item alone, without its version: what a check-in writes
    onto an item that has no copy yet (a later directory put may drop it: then it is copied again;
    it is never left stale, since the site writes bump the version)."""

    class Meta(_Base.Meta):
        table_name = r.EMPLOYEES.logical

    nip = UnicodeAttribute(hash_key=True)
    sites = JSONAttribute(null=True)


class RecentModel(_Base):
    """The employee's recent attempts (``RecentAttempts``: at, local date, fix, face failed),
    the item ``RECENT`` of the attendance table (no ``date_shard``: no index lists it), put by
    each check-in's transaction at the version read; bounded (services/checkin.py)."""

    class Meta(_Base.Meta):
        table_name = r.ATTENDANCE.logical

    nip = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # "RECENT"
    entries = JSONAttribute(default=list)  # [[at, local_date, lat, lon, face_failed], ...] oldest first
    updated_at = UnicodeAttribute(null=True)
    version = VersionAttribute(null=True)


class SessionModel(_Base):
    class Meta(_Base.Meta):
        table_name = r.SESSIONS.logical

    session_id = UnicodeAttribute(hash_key=True)
    nip = UnicodeAttribute()
    purpose = UnicodeAttribute()  # "enrolment" | "checkin"
    nonce = UnicodeAttribute()
    keys = ListAttribute(of=UnicodeAttribute)
    expires_at = UnicodeAttribute()
    used = BooleanAttribute(default=False)
    used_at = UnicodeAttribute(null=True)
    challenge = JSONAttribute(null=True)  # {"id", "steps"}
    ttl = TTLAttribute()


class ByUtcDate(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_utc_date"
        projection = AllProjection()

    utc_date = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class AuditModel(_Base):
    """Append-only (the application's role may put and query, never update or delete):
    ``subject`` is ``employee#<nip>``, ``office#<id>`` or ``export#<date>``; ``sk`` is
    ``<utc instant>#<random suffix>``; ``utc_date`` (the instant's UTC date) keys the by_utc_date
    index the audit log is read from. ``before``/``after``: the state around the action."""

    class Meta(_Base.Meta):
        table_name = r.AUDIT.logical

    subject = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    utc_date = UnicodeAttribute(null=True)  # null only on entries written before the index existed
    action = UnicodeAttribute()
    actor = UnicodeAttribute()
    details = JSONAttribute(default=dict)
    before = JSONAttribute(null=True)
    after = JSONAttribute(null=True)
    by_utc_date = ByUtcDate()


class ByEmployee(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_employee"
        projection = AllProjection()

    nip = UnicodeAttribute(hash_key=True)
    start_date = UnicodeAttribute(range_key=True)


class ByStatus(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    start_date = UnicodeAttribute(range_key=True)


class RequestModel(_Base):
    """A leave or permission request: the keys the indexes need, the record in ``data``."""

    class Meta(_Base.Meta):
        table_name = r.REQUESTS.logical

    request_id = UnicodeAttribute(hash_key=True)
    nip = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | approved | rejected | cancelled
    start_date = UnicodeAttribute()  # YYYY-MM-DD, office-local
    end_date = UnicodeAttribute()
    data = JSONAttribute(default=dict)  # services.records.RequestRecord without its version
    agency_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    version = VersionAttribute()  # optimistic lock: two decisions, one wins
    by_employee = ByEmployee()
    by_status = ByStatus()


class RequestLedgerModel(_Base):
    """The employee's submission counter, an item of the requests table keyed ``ledger#<nip>``
    (no ``nip``, ``status`` nor dates: no index lists it; no request id looks like it)."""

    class Meta(_Base.Meta):
        table_name = r.REQUESTS.logical

    request_id = UnicodeAttribute(hash_key=True)
    submissions = NumberAttribute(default=0)
    recent = ListAttribute(of=UnicodeAttribute, default=list)  # the last ids created
    updated_at = UnicodeAttribute(null=True)


class JobRunModel(_Base):
    class Meta(_Base.Meta):
        table_name = r.JOB_RUNS.logical

    job_key = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute()
    details = JSONAttribute(default=dict)
    nips = UnicodeSetAttribute(null=True)  # device#<id>#<date>: who used the device that day
    ttl = TTLAttribute(null=True)


class NotificationModel(_Base):
    class Meta(_Base.Meta):
        table_name = r.NOTIFICATIONS.logical

    nip = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)  # <utc>#<id>: newest last
    data = JSONAttribute(default=dict)  # records.Notification
    ttl = TTLAttribute()


class ByEpisodeDate(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_episode_date"
        projection = AllProjection()

    episode_date = UnicodeAttribute(hash_key=True)
    nip_sk = UnicodeAttribute(range_key=True)


class PingModel(_Base):
    """``sk``: ``PING#<utc>#<id>`` (data: records.Ping), ``EPISODE#<utc>#<id>`` (data: the
    episode as opened; ``last_at``, ``pings``, ``closed_at`` updated in place, ``review`` set once; ``episode_date``
    and ``nip_sk`` key by_episode_date) and ``STATE#LAST``, the employee's state: the latest fix
    (``at``, ``data``: the rate limit's condition) and the open episode's marker (``ref``: its sk;
    set only if absent, so one episode and one alert however many pings race), each attribute
    written by its own conditional UpdateItem. Every item has a TTL."""

    class Meta(_Base.Meta):
        table_name = r.PINGS.logical

    nip = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = JSONAttribute(null=True)
    at = UnicodeAttribute(null=True)
    ref = UnicodeAttribute(null=True)
    episode_date = UnicodeAttribute(null=True)
    nip_sk = UnicodeAttribute(null=True)
    last_at = UnicodeAttribute(null=True)
    closed_at = UnicodeAttribute(null=True)
    pings = NumberAttribute(null=True)
    review = JSONAttribute(null=True)  # an episode's decision (records.Review), set once
    ttl = TTLAttribute()
    by_episode_date = ByEpisodeDate()


class LoginAttemptModel(_Base):
    """Sign-in attempts of one normalised username in the current window (epoch seconds)."""

    class Meta(_Base.Meta):
        table_name = r.LOGIN_ATTEMPTS.logical

    username = UnicodeAttribute(hash_key=True)
    failures = NumberAttribute(default=0)
    window_start = NumberAttribute()
    locked_until = NumberAttribute(null=True)
    ttl = TTLAttribute()


class AgencyConfigModel(_Base):
    """One configuration document of the agency per ``kind`` (``calendar``, ``lateness``):
    ``document`` as the admin API took it, ``version`` counted up by each put (a put names the
    version it read: optimistic concurrency), and who set it when."""

    class Meta(_Base.Meta):
        table_name = r.AGENCY_CONFIG.logical

    kind = UnicodeAttribute(hash_key=True)
    version = NumberAttribute()
    document = JSONAttribute()
    updated_at = UnicodeAttribute()
    updated_by = UnicodeAttribute()


class ImportModel(_Base):
    """An import job (sk ``JOB``) or one row's result (sk ``ROW#<n>``, zero-padded)."""

    class Meta(_Base.Meta):
        table_name = r.IMPORTS.logical

    import_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    ttl = TTLAttribute(null=True)
    # the job
    state = UnicodeAttribute(null=True)
    actor = UnicodeAttribute(null=True)
    content_type = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    total = NumberAttribute(null=True)
    done = NumberAttribute(null=True)
    failed = NumberAttribute(null=True)
    counted = UnicodeSetAttribute(null=True)  # the batches whose rows are in done/failed
    plan = JSONAttribute(null=True)  # the file's header, delimiter and unknown supervisors
    error = JSONAttribute(null=True)  # the job's failure (a file that cannot be read), or a row's
    # a row
    row = NumberAttribute(null=True)
    nip = UnicodeAttribute(null=True)
    ok = BooleanAttribute(null=True)


class RosterModel(_Base):
    """The published roster of a unit for a month: ``statuses`` nip -> one status per day of
    ``days`` (WFO, WFH, leave, official_travel, off), ``document`` the roster as published (rows,
    quota, rotation), ``version`` counted up by each publish (a publish names the version it
    replaces: optimistic concurrency)."""

    class Meta(_Base.Meta):
        table_name = r.ROSTERS.logical

    unit = UnicodeAttribute(hash_key=True)
    month = UnicodeAttribute(range_key=True)
    version = NumberAttribute()
    days = ListAttribute(of=UnicodeAttribute)
    statuses = JSONAttribute()
    document = JSONAttribute()
    published_at = UnicodeAttribute()
    published_by = UnicodeAttribute()


class BySupervisor(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_supervisor"
        projection = AllProjection()

    supervisor_nip = UnicodeAttribute(hash_key=True)
    team_sk = UnicodeAttribute(range_key=True)


class ByMonth(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_month"
        projection = AllProjection()

    month_key = UnicodeAttribute(hash_key=True)
    day_key = UnicodeAttribute(range_key=True)


class WorkModel(_Base):
    """A task (sk ``task#<id>``) or a daily work report (sk ``report#<date>``) of one employee:
    the keys the indexes need, the record in ``data``. Without a supervisor on file an item has
    no ``supervisor_nip`` and only by_month lists it."""

    class Meta(_Base.Meta):
        table_name = r.WORK.logical

    nip = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    supervisor_nip = UnicodeAttribute(null=True)
    team_sk = UnicodeAttribute()  # <kind>#<date>#<nip>[#<task id>]: date = due date or report date
    month_key = UnicodeAttribute()  # <kind>#YYYY-MM of that date
    day_key = UnicodeAttribute()  # <date>#<nip>[#<task id>]
    data = JSONAttribute(default=dict)
    agency_id = UnicodeAttribute()
    version = VersionAttribute()
    by_supervisor = BySupervisor()
    by_month = ByMonth()


MODELS: dict[str, type[Model]] = {
    r.OFFICES.logical: OfficeModel, r.EMPLOYEES.logical: EmployeeModel, r.SITES.logical: SiteModel,
    r.BIOMETRICS.logical: BiometricModel, r.ATTENDANCE.logical: AttendanceModel,
    r.SESSIONS.logical: SessionModel, r.AUDIT.logical: AuditModel, r.JOB_RUNS.logical: JobRunModel,
    r.NOTIFICATIONS.logical: NotificationModel,
    r.REQUESTS.logical: RequestModel,
    r.LOGIN_ATTEMPTS.logical: LoginAttemptModel,
    r.AGENCY_CONFIG.logical: AgencyConfigModel,
    r.PINGS.logical: PingModel,
    r.IMPORTS.logical: ImportModel,
    r.ROSTERS.logical: RosterModel,
    r.WORK.logical: WorkModel,
}  # the idempotency table belongs to Powertools' persistence layer (hash key "id")
# Further models of a table already above: (logical, model).
SHARED_TABLE_MODELS: tuple[tuple[str, type[Model]], ...] = ((r.REQUESTS.logical, RequestLedgerModel),
                                                            (r.ATTENDANCE.logical, RecentModel),
                                                            (r.EMPLOYEES.logical, EmployeeSitesModel))

_bound: tuple | None = None


def share_client(client) -> None:
    """Let every model (and so every table connection) use one botocore DynamoDB client: each
    PynamoDB connection would otherwise make its own session and client on first use, reloading
    the service model each time (about 30 ms apiece at cold start)."""
    for model in [*MODELS.values(), *(m for _, m in SHARED_TABLE_MODELS)]:
        model._get_connection().connection._client = client


def bind(settings) -> None:
    """Point every model at the stage's physical tables, region and endpoint (idempotent)."""
    global _bound
    key = (tuple(sorted(settings.tables.items())), settings.region, settings.aws_endpoint_url)
    if _bound == key:
        return
    for logical, model in [*MODELS.items(), *SHARED_TABLE_MODELS]:
        model.Meta.table_name = settings.tables[logical]
        model.Meta.region = settings.region
        model.Meta.host = settings.aws_endpoint_url
        model._connection = None
    _bound = key
