"""Every AWS resource the application uses, as plain data.

The single source of truth for both the local stack (``local/bootstrap.py`` creates these in moto)
and the CDK app (``infra/``). No boto3 here: only names, keys and schedules.

Physical names: each resource has a ``logical`` name; the deployed name is
``f"hadir-{agency}-{stage}-{logical}"`` (see :func:`physical_name`), so several agencies' stages live
side by side in one account, and reaches the application through the settings environment
variable ``env``.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

APP_NAME = "hadir"
AGENCY_ENV = "HADIR_AGENCY_ID"
DEFAULT_AGENCY = "agency"  # the settings' default agency id (HADIR_AGENCY_ID unset)


def stack_name(agency: str, stage: str) -> str:
    """The CloudFormation stack of an agency's stage, e.g. ``hadir-pemkab-sleman-prod``."""
    return f"{APP_NAME}-{agency}-{stage}"


def physical_name(agency: str, stage: str, logical: str) -> str:
    """The deployed name of a resource of an agency's stage, e.g. ``hadir-pemkab-demo-local-employees``."""
    return f"{stack_name(agency, stage)}-{logical}"


# --- DynamoDB -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Key:
    name: str
    type: str = "S"  # "S" | "N" | "B"


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: Key
    range_key: Key | None = None
    projection: str = "ALL"


@dataclass(frozen=True)
class Table:
    logical: str
    env: str
    hash_key: Key
    range_key: Key | None = None
    gsis: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    stream: bool = False
    purpose: str = ""


OFFICES = Table(
    logical="offices", env="HADIR_TABLE_OFFICES", hash_key=Key("office_id"),
    gsis=(Index("by_zone", Key("zone"), Key("office_id")),),
    purpose="Offices: name, time zone (and its zone, by_zone: the absence job's offices), geofence "
            "and time rules (one agency per deployment).",
)
EMPLOYEES = Table(
    logical="employees", env="HADIR_TABLE_EMPLOYEES", hash_key=Key("nip"),
    gsis=(Index("by_supervisor", Key("supervisor_nip"), Key("nip")),
          Index("by_office", Key("primary_office"), Key("nip")),
          Index("by_unit", Key("unit"), Key("nip"))),
    purpose="Employees by NIP: profile, offices, roles, supervisor, enrolment state; by_office "
            "(the first of office_ids) lists an office's staff for the jobs without a Scan; by_unit "
            "a unit's staff for the admins' screens (team view, review queue, rosters).",
)
SITES = Table(
    logical="sites", env="HADIR_TABLE_SITES", hash_key=Key("nip"), range_key=Key("site_id"),
    purpose="Personal sites of an employee besides the offices (home = WFH, assignment = DL, "
            "anywhere = WFA), each with an optional validity window; assigned by admins and supervisors.",
)
BIOMETRICS = Table(
    logical="biometrics", env="HADIR_TABLE_BIOMETRICS", hash_key=Key("nip"),
    purpose="KMS-envelope-encrypted face templates (specific personal data, UU 27/2022).",
)
ATTENDANCE = Table(
    logical="attendance", env="HADIR_TABLE_ATTENDANCE", hash_key=Key("nip"), range_key=Key("sk"),
    gsis=(Index("by_date_shard", Key("date_shard"), Key("nip_sk")),),
    purpose="Check-in attempts (sk=CHECKIN#...) and day records (sk=DAY#date), by NIP and, through "
            "by_date_shard (date_shard = <local_date>#<shard of the NIP>), by local date.",
)
# The by-date index is spread over DATE_SHARDS keys a day so that no partition key takes more than
# a small fraction of a national peak (docs/capacity.md: 2,400 check-ins/s at the WIB peak, about
# 3 WCU each into the index, 64 keys -> ~110 WCU/s a key against 1,000 a partition). Readers query
# every shard. Changing it re-keys the index: a backfill (docs/capacity.md, "Migration").
DATE_SHARDS = 64


def date_shard_of(nip: str, shards: int = DATE_SHARDS) -> int:
    """The NIP's shard: CRC-32 of the NIP mod ``shards`` (stable across processes, unlike hash())."""
    return zlib.crc32(nip.encode("utf-8")) % shards


def date_shard_key(local_date: str, shard: int) -> str:
    """The by_date_shard index's hash key, e.g. ``2026-03-03#07``."""
    return f"{local_date}#{shard:02d}"
SESSIONS = Table(
    logical="sessions", env="HADIR_TABLE_SESSIONS", hash_key=Key("session_id"),
    ttl_attribute="ttl", stream=True,
    purpose="Single-use, short-lived upload sessions (enrolment, check-in) with a nonce; its stream "
            "tells delete_used_frames when a session is used, so its raw frames go within seconds.",
)
# The function consuming the sessions table's stream (api/events.py; infra: an event source mapping
# filtered to the MODIFY that marks a session used): deletes that session's raw uploads.
FRAMES_HANDLER = "delete_used_frames"
FRAME_PREFIXES = ("checkin/", "enrolment/")  # the only keys it deletes (upload sessions' frames)
IDEMPOTENCY = Table(
    logical="idempotency", env="HADIR_TABLE_IDEMPOTENCY", hash_key=Key("id"),
    ttl_attribute="expiration",
    purpose="Powertools idempotency persistence layer for POST /checkins (Idempotency-Key).",
)
AUDIT = Table(
    logical="audit", env="HADIR_TABLE_AUDIT", hash_key=Key("subject"), range_key=Key("sk"),
    gsis=(Index("by_utc_date", Key("utc_date"), Key("sk")),),
    purpose="Append-only audit log of privileged actions (who, when, subject, before and after), "
            "by subject and, through by_utc_date, by UTC date; the app role may only put and query.",
)
REQUESTS = Table(
    logical="requests", env="HADIR_TABLE_REQUESTS", hash_key=Key("request_id"),
    gsis=(Index("by_employee", Key("nip"), Key("start_date")),
          Index("by_status", Key("status"), Key("start_date"))),
    purpose="Leave and permission requests (excuse, leave, dinas luar, WFH, leaving the region) "
            "with their decisions, by id, employee and status.",
)
JOB_RUNS = Table(
    logical="job-runs", env="HADIR_TABLE_JOB_RUNS", hash_key=Key("job_key"),
    ttl_attribute="ttl",
    purpose="Once-only markers for scheduled work (one notification per supervisor per day).",
)

NOTIFICATIONS = Table(
    logical="notifications", env="HADIR_TABLE_NOTIFICATIONS", hash_key=Key("nip"), range_key=Key("sk"),
    ttl_attribute="ttl",
    purpose="What each employee was told (decisions on their reviews and requests), newest first; "
            "kept NOTIFICATION_DAYS.",
)
NOTIFICATION_DAYS = 90
LOGIN_ATTEMPTS = Table(
    logical="login-attempts", env="HADIR_TABLE_LOGIN_ATTEMPTS", hash_key=Key("username"),
    ttl_attribute="ttl",
    purpose="Failed sign-ins per normalised username (known or not) and its lock; counted with "
            "conditional ADDs before Cognito is asked (services/auth.py), expiring by TTL.",
)

AGENCY_CONFIG = Table(
    logical="agency-config", env="HADIR_TABLE_AGENCY_CONFIG", hash_key=Key("kind"),
    purpose="The agency's configuration documents, one versioned JSON document per kind "
            "(calendar: cuti bersama and holidays; lateness: the TL/PSW table), set by admins.",
)

PINGS = Table(
    logical="pings", env="HADIR_TABLE_PINGS", hash_key=Key("nip"), range_key=Key("sk"),
    gsis=(Index("by_episode_date", Key("episode_date"), Key("nip_sk")),),
    ttl_attribute="ttl",
    purpose="Location pings taken in working hours (sk=PING#...), out-of-region episodes "
            "(sk=EPISODE#..., by_episode_date) and per employee the latest fix and open episode "
            "(sk=STATE#...); every item expires by TTL (HADIR_PING_RETENTION_DAYS).",
)

IMPORTS = Table(
    logical="imports", env="HADIR_TABLE_IMPORTS", hash_key=Key("import_id"), range_key=Key("sk"),
    ttl_attribute="ttl",
    purpose="Employee import jobs (sk=JOB: state, progress, the file's header) and each row's "
            "result (sk=ROW#<n>), written before the row's batch is acknowledged; kept IMPORT_DAYS.",
)
IMPORT_DAYS = 30

ROSTERS = Table(
    logical="rosters", env="HADIR_TABLE_ROSTERS", hash_key=Key("unit"), range_key=Key("month"),
    purpose="Published WFO/WFH rosters, one item per unit and month (YYYY-MM): every member's day "
            "statuses, the quota and who published which version; a check-in reads its employee's "
            "day with one GetItem (unit, month).",
)

WORK = Table(
    logical="work", env="HADIR_TABLE_WORK", hash_key=Key("nip"), range_key=Key("sk"),
    gsis=(Index("by_supervisor", Key("supervisor_nip"), Key("team_sk")),
          Index("by_month", Key("month_key"), Key("day_key"))),
    purpose="Tasks assigned by supervisors (sk=task#<id>) and daily work reports (sk=report#<date>) "
            "by employee; by_supervisor (team_sk = <kind>#<date>#<nip>...) lists a supervisor's "
            "staff's over dates, by_month (month_key = <kind>#YYYY-MM) an admin's view of a month.",
)

TABLES: tuple[Table, ...] = (OFFICES, EMPLOYEES, SITES, BIOMETRICS, ATTENDANCE, SESSIONS,
                             IDEMPOTENCY, AUDIT, JOB_RUNS, REQUESTS, NOTIFICATIONS, LOGIN_ATTEMPTS,
                             AGENCY_CONFIG, PINGS, IMPORTS, ROSTERS, WORK)


# --- S3 -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bucket:
    logical: str
    env: str
    expire_days: int | None = None
    purpose: str = ""
    object_lock: bool = False  # versioned with Object Lock: objects are write-once


UPLOADS_BUCKET = Bucket("uploads", "HADIR_BUCKET_UPLOADS", expire_days=1,
                        purpose="Selfies uploaded with presigned POSTs; deleted after processing, "
                                "lifecycle expiry as a backstop. Never exported. The photos a "
                                "supervisor must see (flagged check-ins, enrolments awaiting "
                                "approval) are copied under evidence/ and deleted when decided, "
                                "at the latest after EVIDENCE_DAYS.")
ATTACHMENT_UPLOAD_PREFIX = "attachment-uploads/"  # a request's attachment before it is checked
UPLOAD_PREFIXES = (*FRAME_PREFIXES, ATTACHMENT_UPLOAD_PREFIX)  # what phones upload: raw,
# expiring after a day (services/sessions.py keys; services/requests.py)
ATTACHMENT_PREFIX = "attachments/"  # a request's checked attachment, kept for the audit
ATTACHMENT_DAYS = 400  # its default keep (the infra context attachment_expiry_days)
WORK_ATTACHMENT_PREFIX = "work-attachments/"  # a task's or daily report's checked attachment
WORK_ATTACHMENT_DAYS = 730  # its keep: two yearly performance appraisals (SKP)
IMPORT_PREFIX = "imports/"  # an admin's Simpeg file for an import job (services/import_jobs.py)
EVIDENCE_PREFIX = "evidence/"
EVIDENCE_DAYS = 7  # the default keep of review evidence (HADIR_REVIEW_EVIDENCE_DAYS, infra context)


@dataclass(frozen=True)
class Expiry:
    rule_id: str
    prefix: str
    days: int


def uploads_expiry(raw_days: int = 1, evidence_days: int = EVIDENCE_DAYS,
                   attachment_days: int = ATTACHMENT_DAYS,
                   work_days: int = WORK_ATTACHMENT_DAYS) -> tuple[Expiry, ...]:
    """The uploads bucket's lifecycle, one rule per prefix (the CDK stack and local bootstrap):
    raw uploads after ``raw_days``, review evidence after ``evidence_days``, requests' checked
    documents after ``attachment_days``, tasks' and work reports' after ``work_days``."""
    return (*(Expiry(f"expire-raw-images-{p.strip('/')}", p, raw_days) for p in UPLOAD_PREFIXES),
            Expiry("expire-import-files", IMPORT_PREFIX, raw_days),
            Expiry("expire-review-evidence", EVIDENCE_PREFIX, evidence_days),
            Expiry("expire-request-attachments", ATTACHMENT_PREFIX, attachment_days),
            Expiry("expire-work-attachments", WORK_ATTACHMENT_PREFIX, work_days))
EXPORTS_BUCKET = Bucket("exports", "HADIR_BUCKET_EXPORTS", object_lock=True,
                        purpose="Daily attendance CSV, audit CSV + manifest for auditors: each run "
                                "writes new objects (attendance/date=<d>/agency=<a>/run=<run_id>/), "
                                "never overwritten (IfNoneMatch, versioned, Object Lock), the "
                                "manifests chained by SHA-256.")
BUCKETS: tuple[Bucket, ...] = (UPLOADS_BUCKET, EXPORTS_BUCKET)


# --- SNS / SQS / SES ------------------------------------------------------------------------

@dataclass(frozen=True)
class Topic:
    logical: str
    env: str
    purpose: str = ""


@dataclass(frozen=True)
class Queue:
    logical: str
    env: str
    handler: str | None = None  # Chalice @app.on_sqs_message function name consuming it
    dlq: str | None = None  # logical name of its dead-letter queue
    max_receive_count: int = 3
    visibility_timeout_s: int = 60
    subscribes_to: str | None = None  # logical topic name (raw message delivery)
    purpose: str = ""


SUPERVISOR_TOPIC = Topic("supervisor-alerts", "HADIR_TOPIC_SUPERVISOR_ALERTS",
                         purpose="One message per supervisor per day listing absent staff.")
TOPICS: tuple[Topic, ...] = (SUPERVISOR_TOPIC,)

EMAIL_DLQ = Queue("email-outbox-dlq", "HADIR_QUEUE_EMAIL_DLQ", purpose="Failed e-mails.")
EMAIL_QUEUE = Queue("email-outbox", "HADIR_QUEUE_EMAIL", handler="send_supervisor_email",
                    dlq="email-outbox-dlq", subscribes_to="supervisor-alerts",
                    purpose="SNS -> SQS fan-out; the consumer sends the SES e-mail.")
IMPORT_DLQ = Queue("import-jobs-dlq", "HADIR_QUEUE_IMPORT_DLQ",
                   purpose="Import steps that failed max_receive_count times (a re-start resumes).")
IMPORT_QUEUE = Queue("import-jobs", "HADIR_QUEUE_IMPORT", handler="process_import",
                     dlq="import-jobs-dlq", max_receive_count=5, visibility_timeout_s=960,
                     purpose="Employee import steps (plan the file, then one message per batch "
                             "of rows); the consumer holds the Cognito admin rights.")
QUEUES: tuple[Queue, ...] = (EMAIL_DLQ, EMAIL_QUEUE, IMPORT_DLQ, IMPORT_QUEUE)

SES_SENDER_ENV = "HADIR_SES_SENDER"  # a verified SES identity (e-mail address)


# --- Cognito --------------------------------------------------------------------------------

@dataclass(frozen=True)
class UserPool:
    logical: str
    pool_id_env: str
    client_id_env: str
    groups: tuple[str, ...]
    custom_attributes: tuple[str, ...]  # without the "custom:" prefix; all strings
    auth_flows: tuple[str, ...]
    password_min_length: int = 8
    # ID and access tokens last a working day and the refresh token a month, so a national
    # morning asks Cognito for no token (its sign-in quota: docs/capacity.md)
    token_hours: int = 24
    refresh_token_days: int = 30
    # What a user may change about themselves with their own access token. Never a custom
    # attribute: custom:nip is the caller's identity. Cognito reads an absent or empty list as
    # "every attribute", so the list names one harmless standard attribute.
    client_write_attributes: tuple[str, ...] = ("locale",)


USER_POOL = UserPool(
    logical="users", pool_id_env="HADIR_USER_POOL_ID", client_id_env="HADIR_USER_POOL_CLIENT_ID",
    groups=("employee", "supervisor", "admin", "auditor"),
    custom_attributes=("nip", "agency_id"),
    auth_flows=("ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"),
)
JWKS_URL_ENV = "HADIR_JWKS_URL"  # defaults to the issuer's /.well-known/jwks.json
ISSUER_ENV = "HADIR_JWT_ISSUER"  # defaults to https://cognito-idp.<region>.amazonaws.com/<pool>


# --- KMS ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KmsKey:
    logical: str
    alias: str  # without "alias/" and stage: physical alias is alias/hadir-<agency>-<stage>-<alias>
    env: str
    purpose: str = ""


BIOMETRIC_KEY = KmsKey("biometric-key", "biometrics", "HADIR_KMS_KEY_ID",
                       purpose="Envelope encryption of face templates (AES-256-GCM data keys).")
DATA_KEY = KmsKey("data-key", "data", "HADIR_EXPORTS_KMS_KEY_ID",
                  purpose="S3 encryption of uploaded selfies and attendance exports")
KMS_KEYS: tuple[KmsKey, ...] = (BIOMETRIC_KEY, DATA_KEY)


# --- Secrets Manager ------------------------------------------------------------------------

@dataclass(frozen=True)
class Secret:
    logical: str  # physical name hadir-<agency>-<stage>-<logical>
    env: str  # the secret's name or ARN reaches the app through this variable
    purpose: str = ""


LOG_KEY = Secret("log-key", "HADIR_LOG_KEY_SECRET",
                 purpose="HMAC key pseudonymising NIPs in logs (common/logs.py); the app only "
                         "calls secretsmanager:GetSecretValue on it, once per container.")
SECRETS: tuple[Secret, ...] = (LOG_KEY,)


# --- Schedules ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Schedule:
    """A scheduled Chalice handler. ``minute``/``hour``/``day_of_week`` are UTC cron fields
    (EventBridge syntax, day_of_week as ``MON-FRI`` or ``*``)."""

    name: str
    handler: str  # the Chalice function name (@app.schedule(..., name=handler))
    zone: str  # WIB | WITA | WIT
    timezone: str
    minute: int
    hour: int
    day_of_week: str = "*"
    purpose: str = ""

    @property
    def cron(self) -> str:
        """EventBridge cron expression, e.g. ``cron(0 2 ? * MON-FRI *)``."""
        dom = "?" if self.day_of_week != "*" else "*"
        dow = self.day_of_week if self.day_of_week != "*" else "?"
        return f"cron({self.minute} {self.hour} {dom} * {dow} *)"


ZONES: dict[str, tuple[str, int]] = {  # zone -> (IANA time zone, UTC offset hours)
    "WIB": ("Asia/Jakarta", 7),
    "WITA": ("Asia/Makassar", 8),
    "WIT": ("Asia/Jayapura", 9),
}


def zone_of(timezone: str) -> str | None:
    """WIB, WITA or WIT: the zone whose UTC offset ``timezone`` has (None for any other, or an
    unknown name)."""
    try:
        offset = ZoneInfo(timezone).utcoffset(datetime(2025, 1, 1))
    except (ValueError, ZoneInfoNotFoundError):
        return None
    hours = int(offset.total_seconds() // 3600) if offset is not None else None
    return next((z for z, (_, off) in ZONES.items() if off == hours), None)


ABSENCE_LOCAL_TIME = (10, 30)  # after every office's check-in window (default 06:00-10:00) has closed
EXPORT_LOCAL_TIME = (0, 30)  # 00:30 local: the previous local day has ended


def _utc(local_hour: int, offset: int) -> int:
    return (local_hour - offset) % 24


SCHEDULES: tuple[Schedule, ...] = tuple(
    [Schedule(f"absence-{z.lower()}", f"detect_absence_{z.lower()}", z, tz, ABSENCE_LOCAL_TIME[1],
              _utc(ABSENCE_LOCAL_TIME[0], off), "MON-FRI",
              purpose=f"Absence detection for {z} offices after their check-in window closed.")
     for z, (tz, off) in ZONES.items()]
    + [Schedule(f"export-{z.lower()}", f"export_{z.lower()}", z, tz, EXPORT_LOCAL_TIME[1],
                _utc(EXPORT_LOCAL_TIME[0], off), "*",
                purpose=f"Daily export of the local day that just ended in {z}.")
       for z, (tz, off) in ZONES.items()]
)


def all_env_vars(agency: str, stage: str) -> dict[str, str]:
    """Environment variables carrying physical names (what a stage's config must provide)."""
    env = {t.env: physical_name(agency, stage, t.logical) for t in TABLES}
    env.update({b.env: physical_name(agency, stage, b.logical) for b in BUCKETS})
    env.update({q.env: physical_name(agency, stage, q.logical) for q in QUEUES})
    return env
