"""The one settings object. Nothing else in the application reads ``os.environ``.

Loaded lazily (``get_settings()``) so importing the app costs nothing; tests call
``reset_settings()`` after changing the environment.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Callable, Mapping

from chalicelib.common import resources as r
from chalicelib.common.errors import Internal
from chalicelib.face.config import FaceConfig

CLOCK_STAGES = frozenset({"local", "test"})  # stages where HADIR_NOW may freeze the clock


class SettingsError(Internal):
    """The configuration is invalid; the function refuses to start."""

    code = "invalid_configuration"


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    agency_id: str
    aws_endpoint_url: str | None
    tables: Mapping[str, str]  # logical -> physical
    buckets: Mapping[str, str]
    queues: Mapping[str, str]
    topic_arn: str
    kms_key_id: str
    ses_sender: str
    user_pool_id: str
    user_pool_client_id: str
    jwt_issuer: str
    jwks_url: str
    frozen_now: datetime | None = None
    upload_max_bytes: int = 5 * 1024 * 1024
    upload_min_bytes: int = 1024
    upload_content_types: tuple[str, ...] = ("image/jpeg", "image/png")
    enrolment_session_ttl_s: int = 900
    checkin_session_ttl_s: int = 120
    max_position_age_s: int = 120
    idempotency_ttl_s: int = 24 * 3600
    consent_notice_version: str = "biometric-consent-v1"
    face: FaceConfig = field(default_factory=FaceConfig)  # HADIR_FACE_<FIELD>, e.g. HADIR_FACE_MIN_SHARPNESS
    extra: Mapping[str, str] = field(default_factory=dict)

    def now(self) -> datetime:
        """The clock the attendance rules use (frozen by HADIR_NOW on local/test stages only)."""
        return self.frozen_now or datetime.now(timezone.utc)

    def table(self, logical: str) -> str:
        return self.tables[logical]


def _parse_now(raw: str) -> datetime:
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise SettingsError("HADIR_NOW is not ISO 8601", details={"value": raw}) from exc
    if dt.tzinfo is None:
        raise SettingsError("HADIR_NOW needs a UTC offset, e.g. 2025-03-03T07:45:00+08:00",
                            details={"value": raw})
    return dt.astimezone(timezone.utc)


def load_settings(env: Mapping[str, str]) -> Settings:
    """Parse and validate the environment. Raises SettingsError (refusing to start)."""
    stage = env.get("HADIR_STAGE", "").strip()
    if not stage:
        raise SettingsError("HADIR_STAGE is not set")
    frozen = None
    if env.get("HADIR_NOW"):
        if stage not in CLOCK_STAGES:
            raise SettingsError(f"HADIR_NOW is only allowed on stages {sorted(CLOCK_STAGES)}",
                                details={"stage": stage})
        frozen = _parse_now(env["HADIR_NOW"])
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "ap-southeast-3"
    endpoint = env.get("HADIR_AWS_ENDPOINT_URL") or env.get("AWS_ENDPOINT_URL") or None

    def name(var: str, logical: str) -> str:
        return env.get(var) or r.physical_name(stage, logical)

    pool_id = env.get(r.USER_POOL.pool_id_env, "")
    issuer = env.get(r.ISSUER_ENV) or (
        f"https://cognito-idp.{region}.amazonaws.com/{pool_id}" if pool_id else "")
    jwks = env.get(r.JWKS_URL_ENV) or (f"{issuer}/.well-known/jwks.json" if issuer else "")
    if endpoint and pool_id and not env.get(r.JWKS_URL_ENV):
        jwks = f"{endpoint.rstrip('/')}/{pool_id}/.well-known/jwks.json"  # moto serves it here
    account_topic = env.get(r.SUPERVISOR_TOPIC.env, "")
    try:
        face = FaceConfig.from_mapping({k.removeprefix("HADIR_FACE_").lower(): v
                                        for k, v in env.items() if k.startswith("HADIR_FACE_")})
    except ValueError as exc:
        raise SettingsError("A HADIR_FACE_* setting is invalid", details={"error": str(exc)}) from exc
    return Settings(
        stage=stage, region=region, agency_id=env.get("HADIR_AGENCY_ID", "agency"),
        aws_endpoint_url=endpoint,
        tables={t.logical: name(t.env, t.logical) for t in r.TABLES},
        buckets={b.logical: name(b.env, b.logical) for b in r.BUCKETS},
        queues={q.logical: name(q.env, q.logical) for q in r.QUEUES},
        topic_arn=account_topic,
        kms_key_id=env.get(r.BIOMETRIC_KEY.env) or f"alias/{r.physical_name(stage, r.BIOMETRIC_KEY.alias)}",
        ses_sender=env.get(r.SES_SENDER_ENV, ""),
        user_pool_id=pool_id, user_pool_client_id=env.get(r.USER_POOL.client_id_env, ""),
        jwt_issuer=issuer, jwks_url=jwks, frozen_now=frozen,
        upload_max_bytes=_int(env, "HADIR_UPLOAD_MAX_BYTES", 5 * 1024 * 1024),
        checkin_session_ttl_s=_int(env, "HADIR_CHECKIN_SESSION_TTL_S", 120),
        face=face,
        consent_notice_version=env.get("HADIR_CONSENT_NOTICE_VERSION", "biometric-consent-v1"),
    )


def _int(env: Mapping[str, str], var: str, default: int) -> int:
    raw = env.get(var)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{var} must be an integer", details={"value": raw}) from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings(os.environ)


def reset_settings() -> None:
    get_settings.cache_clear()


def queue_name(logical: str, env: Mapping[str, str] | None = None) -> str:
    """A queue's physical name, for decorators evaluated at import (before settings load)."""
    env = os.environ if env is None else env
    q = next(q for q in r.QUEUES if q.logical == logical)
    return env.get(q.env) or r.physical_name(env.get("HADIR_STAGE", "local"), logical)


Clock = Callable[[], datetime]


def validate_at_startup() -> None:
    """Load the settings at import when a stage is configured, so bad configuration (e.g.
    HADIR_NOW on a deployed stage) fails the cold start instead of the first request."""
    if os.environ.get("HADIR_STAGE"):
        reset_settings()
        get_settings()
