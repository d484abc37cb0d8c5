"""Deployment choices an agency makes, read from CDK context (`-c key=value` or cdk.json)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from chalicelib.common import resources as r

STAGES = ("dev", "prod")
RETENTION_MODES = ("GOVERNANCE", "COMPLIANCE")
# The agency id is in the stack name and every physical name (hadir-<agency>-<stage>-<logical>):
# lowercase letters, digits and single hyphens, short enough for the tightest limit (a Lambda
# function name's 64 characters, with the longest function name and the longest stage).
AGENCY_MAX_LEN = 28
_AGENCY = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Throttle:
    rate: float  # requests per second, steady
    burst: int


# Abuse limits (API Gateway stage and per-route throttles, WAF, reserved concurrency): defaults.
API_THROTTLE = Throttle(rate=100, burst=200)  # the whole stage (every route but those below)
LOGIN_THROTTLE = Throttle(rate=5, burst=10)  # POST /auth/login: password guessing
WAF_RATE_LIMIT = 2000  # requests per client IP per 5 minutes (WAF's evaluation window)
JOB_CONCURRENCY = 2  # reserved per scheduled job, queue consumer and import function


class ConfigError(ValueError):
    """A context value is missing or invalid; synthesis stops with this message."""


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class DeployConfig:
    stage: str
    agency_id: str
    ses_sender: str
    raw_image_expiry_days: int
    evidence_expiry_days: int
    attachment_expiry_days: int
    export_retention_mode: str
    export_retention_days: int
    alarm_email: str | None
    personnel_email: str | None  # PP 94/2021 notices of the monthly recap (HADIR_PERSONNEL_EMAIL)
    cors_origins: tuple[str, ...]
    lambda_zip: Path
    lambda_memory_mb: int | None
    deletion_protection: bool
    log_retention_days: int
    web_dir: Path  # the PWA's files (deployed when it holds an index.html)
    map_tile_origins: tuple[str, ...] = ()  # the map's tile server (img-src), e.g. https://tile.example.go.id
    api_throttle: Throttle = API_THROTTLE
    login_throttle: Throttle = LOGIN_THROTTLE
    waf: bool = False  # a WAF v2 web ACL on the API stage (managed rules + a rate-based rule)
    waf_rate_limit: int = WAF_RATE_LIMIT
    job_concurrency: int = JOB_CONCURRENCY  # 0: no reservation (accounts with a low quota)
    api_concurrency: int | None = None  # a cap on the API function, none by default
    analytics_zip: Path | None = None  # the analytics function's package (scripts/package.sh)

    @property
    def stack_name(self) -> str:
        return r.stack_name(self.agency_id, self.stage)

    def name(self, logical: str) -> str:
        """The physical name of one of this stage's resources."""
        return r.physical_name(self.agency_id, self.stage, logical)

    @property
    def is_prod(self) -> bool:
        return self.stage == "prod"

    @classmethod
    def from_context(cls, get: Callable[[str], Any], repo_dir: Path) -> "DeployConfig":
        def ctx(key: str, default: Any = None) -> Any:
            value = get(key)
            return default if value is None or value == "" else value

        stage = str(ctx("stage", "dev"))
        if stage not in STAGES:
            raise ConfigError(f"context stage must be one of {STAGES}, got {stage!r}")
        prod = stage == "prod"
        mode = str(ctx("export_retention_mode", "COMPLIANCE" if prod else "GOVERNANCE")).upper()
        if mode not in RETENTION_MODES:
            raise ConfigError(f"export_retention_mode must be one of {RETENTION_MODES}")
        expiry = int(ctx("raw_image_expiry_days", r.UPLOADS_BUCKET.expire_days or 1))
        retention = int(ctx("export_retention_days", 1825 if prod else 1))
        evidence = int(ctx("evidence_expiry_days", r.EVIDENCE_DAYS))
        attachments = int(ctx("attachment_expiry_days", r.ATTACHMENT_DAYS))
        if min(expiry, retention, evidence, attachments) < 1:
            raise ConfigError("raw_image_expiry_days, evidence_expiry_days, attachment_expiry_days and "
                              "export_retention_days must be >= 1")
        origins = ctx("cors_origins", "*")
        if isinstance(origins, str):
            origins = [o.strip() for o in origins.split(",") if o.strip()]
        zip_path = Path(str(ctx("lambda_zip", repo_dir / "infra" / "dist" / "hadir-lambda.zip")))
        if not zip_path.is_absolute():
            zip_path = (Path.cwd() / zip_path).resolve()
        analytics_zip = Path(str(ctx("analytics_zip", repo_dir / "infra" / "dist" / "hadir-analytics.zip")))
        if not analytics_zip.is_absolute():
            analytics_zip = (Path.cwd() / analytics_zip).resolve()
        memory = ctx("lambda_memory_mb")
        tiles = ctx("map_tile_origins", "")
        tiles = tuple(o.strip() for o in str(tiles).split(",") if o.strip())
        if any(not o.startswith("https://") or any(c in o for c in " ;'*") for o in tiles):
            raise ConfigError("map_tile_origins must be https:// origins, comma separated")
        limits = _limits(ctx)
        return cls(
            stage=stage,
            agency_id=agency_id(str(ctx("agency_id", r.DEFAULT_AGENCY))),
            ses_sender=str(ctx("ses_sender", "noreply@example.go.id")),
            raw_image_expiry_days=expiry,
            evidence_expiry_days=evidence,
            attachment_expiry_days=attachments,
            export_retention_mode=mode,
            export_retention_days=retention,
            alarm_email=ctx("alarm_email"),
            personnel_email=ctx("personnel_email"),
            cors_origins=tuple(origins),
            lambda_zip=zip_path,
            analytics_zip=analytics_zip,
            lambda_memory_mb=int(memory) if memory else None,
            deletion_protection=_bool(ctx("deletion_protection", True)),
            log_retention_days=int(ctx("log_retention_days", 365 if prod else 30)),
            web_dir=Path(str(ctx("web_dir", repo_dir / "web"))).resolve(),
            map_tile_origins=tiles,
            **limits,
        )


def agency_id(value: str) -> str:
    if len(value) > AGENCY_MAX_LEN or not _AGENCY.match(value):
        raise ConfigError(f"agency_id must be lowercase letters, digits and single hyphens, starting "
                          f"with a letter, at most {AGENCY_MAX_LEN} characters: got {value!r}")
    return value


def _limits(ctx: Callable[..., Any]) -> dict[str, Any]:
    """The abuse limits from context: throttles, the WAF flag and reserved concurrency."""
    def number(key: str, default: float, kind: type = int, low: float = 1) -> Any:
        try:
            value = kind(ctx(key, default))
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be a number, got {ctx(key)!r}") from None
        if value < low:
            raise ConfigError(f"{key} must be >= {low}, got {value}")
        return value

    api = Throttle(number("api_rate_limit", API_THROTTLE.rate, float),
                   number("api_burst_limit", API_THROTTLE.burst))
    login = Throttle(number("login_rate_limit", LOGIN_THROTTLE.rate, float),
                     number("login_burst_limit", LOGIN_THROTTLE.burst))
    if login.rate > api.rate or login.burst > api.burst:
        raise ConfigError("login_rate_limit/login_burst_limit must not exceed the API's limits")
    cap = ctx("api_reserved_concurrency")
    if number("job_reserved_concurrency", JOB_CONCURRENCY, low=0) == 1:
        raise ConfigError("job_reserved_concurrency must be 0 (none) or >= 2 (an SQS event source "
                          "polls with at least 2)")
    return dict(api_throttle=api, login_throttle=login, waf=_bool(ctx("waf", False)),
                waf_rate_limit=number("waf_rate_limit", WAF_RATE_LIMIT, low=10),
                job_concurrency=number("job_reserved_concurrency", JOB_CONCURRENCY, low=0),
                api_concurrency=number("api_reserved_concurrency", 0) if cap is not None else None)
