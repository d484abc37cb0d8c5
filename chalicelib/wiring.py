"""The composition root: the one place that builds the adapters from the settings and hands them,
with the clock, to the use cases. Built lazily, once per process (importing the app costs
nothing); tests replace parts with ``configure(...)`` or build a whole in-memory set with
``in_memory(...)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable

from chalicelib.common.clock import FixedClock, SystemClock
from chalicelib.common.settings import Settings, get_settings
from chalicelib.face.liveness import LivenessRules
from chalicelib.policy.attempts import AttemptLimit
from chalicelib.policy.calendar import WorkCalendar  # noqa: F401  (the field's type)
from chalicelib.policy.signals import SignalRules
from chalicelib.policy.time_rules import LatenessTable
from chalicelib.services.ports import (
    AnalyticsRunner,
    AttendanceRecords,
    Clock,
    Directory,
    ExportStore,
    ImportRunner,
    LoginAttempts,
    Notifier,
    TemplateVault,
    UploadStore,
)


@dataclass
class Services:
    """Everything a use case may use. ``calendar`` and ``lateness`` are the agency's configured
    calendar and TL/PSW table (``services/agency_config.py``: read from ``records`` at most once
    per ``HADIR_CONFIG_TTL_S`` per container, the decrees' cuti bersama and Permentan 68/2012
    when nothing is stored), unless given fixed ones."""

    settings: Settings
    clock: Clock
    records: AttendanceRecords
    uploads: UploadStore
    vault: TemplateVault
    notifier: Notifier
    exports: ExportStore
    directory: Directory
    face_engine_provider: Callable[[], Any]
    login_attempts: LoginAttempts
    imports: ImportRunner  # the employee import: its own function, or in process (imports.py)
    # the recap and the daily export (Parquet: pyarrow): the analytics function, else in process
    analytics: AnalyticsRunner = None  # type: ignore[assignment]
    calendar: WorkCalendar = None  # type: ignore[assignment]  # None: the configured one (see above)
    lateness: LatenessTable = None  # type: ignore[assignment]
    policy_cache: Any = None  # agency_config.PolicyCache over ``records``, made in __post_init__
    attempt_limit: AttemptLimit = field(default_factory=AttemptLimit)
    signal_rules: SignalRules = field(default_factory=SignalRules)
    liveness: LivenessRules = field(default_factory=LivenessRules)
    idempotency_client: Callable[[], Any] | None = None  # the Powertools persistence layer's
    import_jobs: Any = None  # ports.ImportJobs: the import jobs and their rows' results
    import_queue: Any = None  # ports.ImportQueue: the import jobs' steps (queue import-jobs)

    def __post_init__(self) -> None:
        from chalicelib.adapters.analytics import InProcessAnalytics
        from chalicelib.services.agency_config import LiveCalendar, LiveLateness, PolicyCache
        if self.analytics is None or getattr(self.analytics, "local", False):
            self.analytics = InProcessAnalytics(lambda: self)  # these services, overrides included
        if self.policy_cache is None or self.policy_cache.store is not self.records:
            self.policy_cache = PolicyCache(self.records, self.settings.config_ttl_s)
        if self.calendar is None or isinstance(self.calendar, LiveCalendar):
            self.calendar = LiveCalendar(self.policy_cache)  # type: ignore[assignment]
        if self.lateness is None or isinstance(self.lateness, LiveLateness):
            self.lateness = LiveLateness(self.policy_cache)  # type: ignore[assignment]

    def face_engine(self) -> Any:
        return self.face_engine_provider()

    def now_iso(self) -> str:
        from chalicelib.services.records import utc_iso
        return utc_iso(self.clock.now())


def _real_face_engine(settings: Settings) -> Callable[[], Any]:
    def provider() -> Any:
        from chalicelib.face import get_engine
        return get_engine(settings.face)
    return provider


def attempt_limit(settings: Settings) -> AttemptLimit:
    return AttemptLimit(settings.attempt_max_failures, settings.attempt_window_s, settings.attempt_cooldown_s)


def signal_rules(settings: Settings) -> SignalRules:
    return SignalRules(min_accuracy_m=settings.gps_min_accuracy_m, max_speed_kmh=settings.gps_max_speed_kmh)


def liveness_rules(settings: Settings) -> LivenessRules:
    return LivenessRules(required=settings.liveness_required, turns=settings.liveness_turns,
                         directions=tuple(settings.liveness_directions),
                         min_turn_deg=settings.liveness_min_turn_deg, min_residual=settings.liveness_min_residual)


def clock_for(settings: Settings) -> Clock:
    return FixedClock(settings.frozen_now) if settings.frozen_now else SystemClock()


def _use_log_key(settings: Settings) -> None:
    """NIPs in logs are pseudonymised under the Secrets Manager key (read when first needed)."""
    from chalicelib.adapters import aws
    from chalicelib.adapters.secrets import SecretsLogKey
    from chalicelib.common import logs

    logs.use_key_source(SecretsLogKey(aws.provider("secretsmanager", settings), settings.log_key_secret),
                        f"{settings.aws_endpoint_url}|{settings.log_key_secret}")


def build(settings: Settings) -> Services:
    """The AWS adapters, each creating its client on first use."""
    from chalicelib.adapters import aws
    from chalicelib.adapters.auth import CognitoDirectory
    from chalicelib.adapters.analytics import LambdaAnalytics
    from chalicelib.adapters.import_queue import SqsImportQueue
    from chalicelib.adapters.imports import InProcessImports, LambdaImports
    from chalicelib.adapters.storage.import_jobs import DynamoImportJobs
    from chalicelib.adapters.storage.login_attempts import DynamoLoginAttempts
    from chalicelib.adapters.notify import SnsSesNotifier
    from chalicelib.adapters.s3 import S3Exports, S3Uploads
    from chalicelib.adapters.storage.records import DynamoRecords
    from chalicelib.adapters.vault import DataKeyCache, KmsVault

    _use_log_key(settings)
    s3 = aws.provider("s3", settings)
    return Services(
        settings=settings, clock=clock_for(settings), records=DynamoRecords(settings, aws.provider("dynamodb", settings)),
        uploads=S3Uploads(s3, settings.buckets["uploads"], settings.upload_max_bytes,
                          settings.upload_min_bytes, settings.upload_content_types),
        vault=KmsVault(aws.provider("kms", settings), settings.kms_key_id,
                       DataKeyCache(settings.template_key_cache_s, settings.template_key_cache_max)),
        notifier=SnsSesNotifier(aws.provider("sns", settings), aws.provider("ses", settings), settings.topic_arn,
                                settings.ses_sender),
        exports=S3Exports(s3, settings.buckets["exports"], settings.exports_kms_key_id),
        directory=CognitoDirectory(aws.provider("cognito-idp", settings), settings.user_pool_id,
                                   settings.user_pool_client_id, settings.agency_id),
        face_engine_provider=_real_face_engine(settings), attempt_limit=attempt_limit(settings),
        signal_rules=signal_rules(settings), liveness=liveness_rules(settings),
        idempotency_client=aws.provider("dynamodb", settings),
        login_attempts=DynamoLoginAttempts(settings, aws.provider("dynamodb", settings)),
        imports=(LambdaImports(aws.provider("lambda", settings), settings.import_function)
                 if settings.import_function else InProcessImports(get_services)),
        analytics=(LambdaAnalytics(aws.provider("lambda", settings), settings.analytics_function)
                   if settings.analytics_function else None),
        import_jobs=DynamoImportJobs(settings, aws.provider("dynamodb", settings)),
        import_queue=SqsImportQueue(aws.provider("sqs", settings), settings.queues["import-jobs"]),
    )


def in_memory(settings: Settings, **overrides: Any) -> Services:
    """Every port in memory, with the same behaviour as the AWS adapters (tests/contract)."""
    from chalicelib.adapters.memory.blobs import (
        InMemoryDirectory,
        InMemoryExports,
        InMemoryNotifier,
        InMemoryUploads,
        InMemoryVault,
    )
    from chalicelib.adapters.imports import InProcessImports
    from chalicelib.adapters.memory.import_jobs import InMemoryImportJobs, InMemoryImportQueue
    from chalicelib.adapters.memory.login_attempts import InMemoryLoginAttempts
    from chalicelib.adapters.memory.records import InMemoryRecords

    svc = Services(settings=settings, clock=clock_for(settings), records=InMemoryRecords(),
                   uploads=InMemoryUploads(settings.upload_max_bytes, settings.upload_min_bytes,
                                           settings.upload_content_types),
                   vault=InMemoryVault(), notifier=InMemoryNotifier(), exports=InMemoryExports(),
                   directory=InMemoryDirectory(settings.agency_id), face_engine_provider=_real_face_engine(settings),
                   attempt_limit=attempt_limit(settings), signal_rules=signal_rules(settings),
                   liveness=liveness_rules(settings), login_attempts=InMemoryLoginAttempts(),
                   imports=InProcessImports(lambda: svc), import_jobs=InMemoryImportJobs(),
                   import_queue=InMemoryImportQueue())
    svc = replace(svc, **overrides)  # the in-process import sees the overrides too
    return svc


_services: Services | None = None
_overrides: dict[str, Any] = {}


def get_services() -> Services:
    global _services
    if _services is None:
        _services = replace(build(get_settings()), **_overrides)
    return _services


def configure(**overrides: Any) -> None:
    """Replace parts of the wiring (``face_engine_provider=``, ``clock=``...); rebuilt lazily."""
    global _services
    _overrides.clear()
    _overrides.update(overrides)
    _services = None


def reset() -> None:
    configure()
