"""The one settings object. Nothing else in the application reads ``os.environ``.

``Settings`` is a frozen pydantic-settings model. Each field that one environment variable sets
names that variable as its ``validation_alias`` (the names come from ``resources.py``); the
defaults that depend on other settings (physical names from the stage, the JWT issuer and JWKS
URL from the user pool, the KMS alias) are ``default_factory`` functions of the fields declared
before them. The only source is a mapping of environment variables: no ``.env`` file, no secrets
directory, no CLI.

Loaded lazily (``get_settings()``) so importing this module reads nothing; tests call
``reset_settings()`` after changing the environment. Invalid configuration raises
``SettingsError``, never pydantic's ``ValidationError``.
"""

import os
from datetime import datetime, timezone
from functools import lru_cache
from typing import Annotated, Any, Callable, Literal, Mapping

from pydantic import (
    AliasChoices,
    BeforeValidator,
    Field,
    InstanceOf,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings import SettingsError as _SourceError

from chalicelib.common import resources as r
from chalicelib.common.errors import Internal, JsonObject
from chalicelib.face.config import FaceConfig

CLOCK_STAGES = frozenset({"local", "test"})  # stages where HADIR_NOW may freeze the clock
NOW_ENV = "HADIR_NOW"
STAGE_ENV = "HADIR_STAGE"
FACE_ENV_PREFIX = "HADIR_FACE_"  # HADIR_FACE_<FIELD>, e.g. HADIR_FACE_MIN_SHARPNESS
EXPORTS_KMS_KEY_ENV = r.DATA_KEY.env  # the exports bucket's KMS key (id, ARN or alias)

# Fields filled from a group of variables rather than one: what an error names instead.
_GROUP_VARS = {
    "tables": "HADIR_TABLE_*", "buckets": "HADIR_BUCKET_*", "queues": "HADIR_QUEUE_*",
    "face": f"{FACE_ENV_PREFIX}*",
}
_GROUPS = {"tables": r.TABLES, "buckets": r.BUCKETS, "queues": r.QUEUES}


class SettingsError(Internal):
    """The configuration is invalid; the function refuses to start."""

    code = "invalid_configuration"


def _env(var: str | AliasChoices, default: Any = None) -> Any:
    """A field set by the variable ``var`` (or the first set of several)."""
    return Field(default, validation_alias=var)


def _derived(var: str, factory: Callable[[JsonObject], Any]) -> Any:
    """A field set by ``var``, else ``factory(the fields declared above it)``; pydantic calls the
    factory only when those fields are valid."""
    return Field(default_factory=factory, validation_alias=var)


def _comma_list(raw: Any) -> Any:
    """``left,right`` (a variable's value) -> ("left", "right")."""
    return tuple(p.strip() for p in raw.split(",") if p.strip()) if isinstance(raw, str) else raw


def _biometric_key(d: JsonObject) -> str:
    return f"alias/{r.physical_name(d['agency_id'], d['stage'], r.BIOMETRIC_KEY.alias)}"


def _log_key_secret(d: JsonObject) -> str:
    return r.physical_name(d["agency_id"], d["stage"], r.LOG_KEY.logical)


def _issuer(d: JsonObject) -> str:
    pool = d["user_pool_id"]
    return f"https://cognito-idp.{d['region']}.amazonaws.com/{pool}" if pool else ""


def _jwks_url(d: JsonObject) -> str:
    endpoint, pool, issuer = d["aws_endpoint_url"], d["user_pool_id"], d["jwt_issuer"]
    if endpoint and pool:
        return f"{endpoint.rstrip('/')}/{pool}/.well-known/jwks.json"  # moto serves it here
    return f"{issuer}/.well-known/jwks.json" if issuer else ""


class Settings(BaseSettings):
    # Fields are set by their variables' names only (HADIR_STAGE=..., not stage=...); derived
    # copies for tests: settings.model_copy(update={"frozen_now": ...}).
    model_config = SettingsConfigDict(frozen=True, case_sensitive=True, env_ignore_empty=True)

    # Declaration order matters: a default_factory sees only the fields declared above it.
    stage: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = Field(
        validation_alias=STAGE_ENV)
    region: str = _env(AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"), "ap-southeast-3")
    agency_id: str = _env(r.AGENCY_ENV, r.DEFAULT_AGENCY)
    aws_endpoint_url: str | None = _env(AliasChoices("HADIR_AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL"))
    # logical -> physical; each entry from the resource's own variable, else hadir-<agency>-<stage>-<logical>
    tables: Mapping[str, str] = Field(default_factory=dict, validate_default=True)
    buckets: Mapping[str, str] = Field(default_factory=dict, validate_default=True)
    queues: Mapping[str, str] = Field(default_factory=dict, validate_default=True)
    topic_arn: str = _env(r.SUPERVISOR_TOPIC.env, "")
    kms_key_id: str = _derived(r.BIOMETRIC_KEY.env, _biometric_key)
    exports_kms_key_id: str | None = _env(EXPORTS_KMS_KEY_ENV)
    ses_sender: str = _env(r.SES_SENDER_ENV, "")
    log_key_secret: str = _derived(r.LOG_KEY.env, _log_key_secret)  # name or ARN (common/logs.py)
    user_pool_id: str = _env(r.USER_POOL.pool_id_env, "")
    user_pool_client_id: str = _env(r.USER_POOL.client_id_env, "")
    jwt_issuer: str = _derived(r.ISSUER_ENV, _issuer)
    jwks_url: str = _derived(r.JWKS_URL_ENV, _jwks_url)
    frozen_now: datetime | None = _env(NOW_ENV)  # HADIR_NOW, in UTC; local/test stages only
    upload_max_bytes: int = _env("HADIR_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
    checkin_session_ttl_s: int = _env("HADIR_CHECKIN_SESSION_TTL_S", 120)
    # A check-in captured offline (policy.offline) is refused when sent more than so many hours later.
    offline_max_age_h: int = Field(default=12, ge=1, le=72, validation_alias="HADIR_OFFLINE_MAX_AGE_H")
    consent_notice_version: str = _env("HADIR_CONSENT_NOTICE_VERSION", "biometric-consent-v1")
    # Failed face checks before a cool-down (policy.attempts): so many within the window.
    attempt_max_failures: int = _env("HADIR_ATTEMPT_MAX_FAILURES", 5)
    attempt_window_s: int = _env("HADIR_ATTEMPT_WINDOW_S", 600)
    attempt_cooldown_s: int = _env("HADIR_ATTEMPT_COOLDOWN_S", 600)
    # Sign-in lockout (policy.login): so many failed sign-ins of a username within the window
    # lock it for lock_s (fixed), before Cognito is asked; unknown usernames count alike.
    login_max_failures: int = Field(default=5, ge=1, le=100, validation_alias="HADIR_LOGIN_MAX_FAILURES")
    login_window_s: int = Field(default=900, ge=1, le=86400, validation_alias="HADIR_LOGIN_WINDOW_S")
    login_lock_s: int = Field(default=900, ge=1, le=86400, validation_alias="HADIR_LOGIN_LOCK_S")
    # The employee import's own function (api/events.py import_employees, the only one with
    # Cognito admin rights); empty (local stack, tests): the import runs in the API's process.
    import_function: str = _env("HADIR_IMPORT_FUNCTION", "")
    # The analytics function (analytics.py: the recap and the daily export, with pyarrow); empty
    # (local stack, tests, admin CLI): they run in this process.
    analytics_function: str = _env("HADIR_ANALYTICS_FUNCTION", "")
    # The agency's calendar and TL/PSW table (services/agency_config.py) are read from the store
    # at most once per this many seconds per container; 0: on every use.
    config_ttl_s: int = Field(default=60, ge=0, le=3600, validation_alias="HADIR_CONFIG_TTL_S")
    # The API function's warm-up (app.py): from the start of its import, background threads build
    # the face models' sessions (onnxruntime releases the GIL while it builds one) and fetch the
    # user pool's key set, overlapping the rest of the import: a cold start's first requests find
    # them ready.
    warm_up: bool = Field(default=False, validation_alias="HADIR_WARM_UP")
    # A template's decrypted data key is kept in the container's memory this many seconds (at
    # most template_key_cache_max keys), so a warm check-in needs no KMS Decrypt; 0: never kept
    # (docs/architecture.md, "Template data keys in memory").
    template_key_cache_s: int = Field(default=300, ge=0, le=3600, validation_alias="HADIR_TEMPLATE_KEY_CACHE_S")
    template_key_cache_max: int = Field(default=1000, ge=1, le=100_000,
                                        validation_alias="HADIR_TEMPLATE_KEY_CACHE_MAX")
    # Whereabouts (services/pings.py): at most one ping per employee per this many seconds (429
    # ping_too_soon, Retry-After); pings kept this many days (DynamoDB TTL), episodes (the
    # supervisor's evidence) EPISODE_RETENTION_DAYS; "online" = a ping or check-in within ONLINE_MINUTES.
    ping_min_interval_s: int = Field(default=60, ge=0, le=3600, validation_alias="HADIR_PING_MIN_INTERVAL_S")
    ping_retention_days: int = Field(default=7, ge=1, le=90, validation_alias="HADIR_PING_RETENTION_DAYS")
    episode_retention_days: int = Field(default=90, ge=1, le=400, validation_alias="HADIR_EPISODE_RETENTION_DAYS")
    online_minutes: int = Field(default=15, ge=1, le=240, validation_alias="HADIR_ONLINE_MINUTES")
    # GPS-spoof signals (policy.signals): a fix more precise than this is implausible; faster is travel.
    gps_min_accuracy_m: float = _env("HADIR_GPS_MIN_ACCURACY_M", 1.0)
    gps_max_speed_kmh: float = _env("HADIR_GPS_MAX_SPEED_KMH", 300.0)
    # Challenge-response liveness (face.liveness): required, how many turns, the limits.
    liveness_required: bool = _env("HADIR_LIVENESS_REQUIRED", True)
    liveness_turns: int = Field(default=2, ge=1, le=4, validation_alias="HADIR_LIVENESS_TURNS")
    liveness_directions: Annotated[tuple[Literal["left", "right", "up", "down"], ...], NoDecode,
                                   BeforeValidator(_comma_list)] = Field(
        default=("left", "right", "up", "down"), min_length=1, validation_alias="HADIR_LIVENESS_DIRECTIONS")
    liveness_min_turn_deg: float = Field(default=13.5, gt=0, le=45,
                                         validation_alias="HADIR_LIVENESS_MIN_TURN_DEG")
    liveness_min_residual: float = Field(default=0.0325, ge=0, validation_alias="HADIR_LIVENESS_MIN_RESIDUAL")
    # PP 94/2021: the unexcused-absence counts (days in a year) at which the monthly recap sends the
    # personnel agency one notice (per employee, threshold and year), and where it is e-mailed.
    discipline_thresholds: Annotated[tuple[Annotated[int, Field(ge=1, le=366)], ...], NoDecode,
                                     BeforeValidator(_comma_list)] = Field(
        default=(3, 4, 7, 11, 14, 17, 21, 25, 28),  # the levels of policy.recap.DISCIPLINE_LEVELS
        validation_alias="HADIR_DISCIPLINE_THRESHOLDS")
    personnel_email: str = _env("HADIR_PERSONNEL_EMAIL", "")
    # The supervisor's loop: a new enrolment waits for approval; review evidence (the selfie of a
    # flagged check-in, the enrolment photos) is kept encrypted until decided, at most so many days.
    enrolment_approval: bool = _env("HADIR_ENROLMENT_APPROVAL", True)
    review_evidence_days: int = Field(default=r.EVIDENCE_DAYS, ge=1, le=30,
                                      validation_alias="HADIR_REVIEW_EVIDENCE_DAYS")
    evidence_url_ttl_s: int = Field(default=300, ge=30, le=3600, validation_alias="HADIR_EVIDENCE_URL_TTL_S")
    # Leave and permission requests (policy.requests): approval levels, how far back and ahead.
    request_approval_levels: int = Field(default=1, ge=1, le=2, validation_alias="HADIR_REQUEST_APPROVAL_LEVELS")
    request_retroactive_days: int = Field(default=14, ge=0, le=90,
                                          validation_alias="HADIR_REQUEST_RETROACTIVE_DAYS")
    request_future_days: int = Field(default=365, ge=1, le=730, validation_alias="HADIR_REQUEST_FUTURE_DAYS")
    # A request's attachment (policy.attachments): PDF, JPEG or PNG of at most so many bytes, its
    # links valid so long (kept as the uploads bucket's attachments/ rule says: infra context).
    attachment_max_bytes: int = Field(default=2 * 1024 * 1024, ge=1024, le=20 * 1024 * 1024,
                                      validation_alias="HADIR_ATTACHMENT_MAX_BYTES")
    attachment_url_ttl_s: int = Field(default=300, ge=30, le=3600, validation_alias="HADIR_ATTACHMENT_URL_TTL_S")
    # Tasks and daily work reports (policy/work.py): a report of day D is written until the
    # cut-off "+<days> HH:MM" after D, office-local; required on the days of these work modes
    # (the recap and team view count the missing ones); attachments (PDF, images, office
    # documents) of at most so many bytes each.
    report_cutoff: str = Field(default="+1 09:00", pattern=r"^\+([0-7]) ([01]\d|2[0-3]):([0-5]\d)$",
                               validation_alias="HADIR_REPORT_CUTOFF")
    report_required_on: Annotated[tuple[Literal["WFO", "WFH", "WFA", "DL"], ...], NoDecode,
                                  BeforeValidator(_comma_list)] = Field(
        default=("WFH", "WFA"), validation_alias="HADIR_REPORT_REQUIRED_ON")
    work_attachment_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=20 * 1024 * 1024,
                                           validation_alias="HADIR_WORK_ATTACHMENT_MAX_BYTES")
    # Employee import jobs (services/import_jobs.py): the file's size limit (presigned POST), rows
    # per queued batch, and the retries with exponential back-off (full jitter) on a throttle.
    import_max_bytes: int = Field(default=100 * 1024 * 1024, ge=1024, le=5 * 1024 ** 3,
                                  validation_alias="HADIR_IMPORT_MAX_BYTES")
    import_batch_rows: int = Field(default=100, ge=1, le=1000, validation_alias="HADIR_IMPORT_BATCH_ROWS")
    import_retries: int = Field(default=8, ge=0, le=20, validation_alias="HADIR_IMPORT_RETRIES")
    import_backoff_base_s: float = Field(default=0.1, ge=0, le=10, validation_alias="HADIR_IMPORT_BACKOFF_BASE_S")
    import_backoff_cap_s: float = Field(default=10.0, ge=0, le=300, validation_alias="HADIR_IMPORT_BACKOFF_CAP_S")
    face: InstanceOf[FaceConfig] = Field(default_factory=FaceConfig)  # from HADIR_FACE_<FIELD>
    # Constants (no variable sets them).
    upload_min_bytes: int = 1024
    upload_content_types: tuple[str, ...] = ("image/jpeg", "image/png")
    enrolment_session_ttl_s: int = 900
    attachment_upload_ttl_s: int = 900
    import_upload_ttl_s: int = 900
    max_position_age_s: int = 120
    idempotency_ttl_s: int = 24 * 3600
    # an in-progress idempotency record left by a failed attempt expires after at most this (API
    # Gateway's 29 s: no client waits longer); a retry then runs the request
    idempotency_in_progress_s: int = Field(default=29, ge=0, le=29, validation_alias="HADIR_IDEMPOTENCY_IN_PROGRESS_S")

    def __init__(__pydantic_self__, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise _settings_error(exc) from exc
        except _SourceError as exc:
            raise SettingsError(str(exc)) from exc

    @classmethod
    def settings_customise_sources(
            cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
            **_: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        """``Settings()`` reads ``os.environ`` only (no .env file, no secrets directory)."""
        return init_settings, _Environment(settings_cls, os.environ)

    @field_validator("tables", "buckets", "queues")
    @classmethod
    def _physical_names(cls, overrides: Mapping[str, str], info: ValidationInfo) -> dict[str, str]:
        stage = info.data.get("stage", "")  # absent if HADIR_STAGE failed (reported already)
        agency = info.data.get("agency_id", r.DEFAULT_AGENCY)
        return {x.logical: overrides.get(x.logical) or r.physical_name(agency, stage, x.logical)
                for x in _GROUPS[info.field_name or ""]}

    @field_validator("frozen_now", mode="before")
    @classmethod
    def _frozen_now(cls, raw: Any, info: ValidationInfo) -> Any:
        stage = info.data.get("stage")
        if raw is not None and stage is not None and stage not in CLOCK_STAGES:
            raise PydanticCustomError(
                "clock_not_allowed", "HADIR_NOW is only allowed on stages {allowed}, not on {stage}",
                {"allowed": ", ".join(sorted(CLOCK_STAGES)), "stage": stage})
        if not isinstance(raw, str):
            return raw
        try:
            dt = datetime.fromisoformat(raw)
        except ValueError:
            raise PydanticCustomError("not_iso8601", "HADIR_NOW is not ISO 8601") from None
        if dt.tzinfo is None:
            raise PydanticCustomError(
                "no_utc_offset", "HADIR_NOW needs a UTC offset, e.g. 2025-03-03T07:45:00+08:00")
        return dt.astimezone(timezone.utc)

    @field_validator("face", mode="before")
    @classmethod
    def _face(cls, raw: Any) -> Any:
        if isinstance(raw, Mapping):
            try:
                face = FaceConfig.from_mapping(raw)
                if face.previous_calibrations:  # each file read and checked now, its models never
                    from chalicelib.face import models, previous
                    previous.versions(face.previous_calibrations, models.MODELS_DIR)
                return face
            except (TypeError, ValueError) as exc:
                raise PydanticCustomError("invalid_face_setting", "{error}",
                                          {"error": str(exc)}) from None
        return raw


class _Environment(EnvSettingsSource):
    """Environment variables from an explicit mapping. Reads only the variable a field names as
    its alias, plus the per-resource physical-name variables and HADIR_FACE_* in groups."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]):
        self._environ = environ
        super().__init__(settings_cls, case_sensitive=True, env_ignore_empty=True)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k: v for k, v in self._environ.items() if v != ""}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if field.validation_alias is None:  # a constant or a group, never "a variable named like it"
            return None, field_name, False
        return super().get_field_value(field, field_name)

    def __call__(self) -> JsonObject:
        data = super().__call__()
        env = self.env_vars
        for name, group in _GROUPS.items():
            data[name] = {x.logical: env[x.env] for x in group if x.env in env}
        face = {k.removeprefix(FACE_ENV_PREFIX).lower(): v for k, v in env.items()
                if k.startswith(FACE_ENV_PREFIX)}
        if face:
            data["face"] = face
        return data


def _settings_error(exc: ValidationError) -> SettingsError:
    """pydantic's errors as one SettingsError naming each offending variable and its value."""
    errors: list[JsonObject] = []
    for e in exc.errors(include_url=False, include_context=False):
        if e["type"] == "default_factory_not_called":  # a default derived from a field that failed
            continue
        where = str(e["loc"][0]) if e["loc"] else ""
        entry: JsonObject = {"variable": _GROUP_VARS.get(where, where),
                                 "error": "is not set" if e["type"] == "missing" else e["msg"]}
        if e["type"] != "missing":
            value = e["input"]
            entry["value"] = value if isinstance(value, (str, int, float, dict)) else repr(value)
        errors.append(entry)
    if not errors:
        return SettingsError(str(exc))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return SettingsError(f"{errors[0]['variable']}: {errors[0]['error']}{more}",
                         details={"errors": errors})


def load_settings(env: Mapping[str, str]) -> Settings:
    """Parse and validate the environment. Raises SettingsError (refusing to start)."""
    return Settings(_build_sources=((_Environment(Settings, env),), {}))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings(os.environ)


def reset_settings() -> None:
    get_settings.cache_clear()


def queue_name(logical: str, env: Mapping[str, str] | None = None) -> str:
    """A queue's physical name, for decorators evaluated at import (before settings load)."""
    env = os.environ if env is None else env
    q = next(q for q in r.QUEUES if q.logical == logical)
    return env.get(q.env) or r.physical_name(env.get(r.AGENCY_ENV) or r.DEFAULT_AGENCY,
                                             env.get(STAGE_ENV, "local"), logical)


def validate_at_startup() -> Settings | None:
    """Load the settings at import when a stage is configured, so bad configuration (e.g.
    HADIR_NOW on a deployed stage) fails the cold start instead of the first request."""
    if os.environ.get(STAGE_ENV):
        reset_settings()
        return get_settings()
    return None
