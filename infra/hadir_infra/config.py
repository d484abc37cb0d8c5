"""Deployment choices an agency makes, read from CDK context (`-c key=value` or cdk.json)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from chalicelib.common import resources as r

STAGES = ("dev", "prod")
RETENTION_MODES = ("GOVERNANCE", "COMPLIANCE")


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
    cors_origins: tuple[str, ...]
    lambda_zip: Path
    lambda_memory_mb: int | None
    deletion_protection: bool
    log_retention_days: int
    web_dir: Path  # the PWA's files (deployed when it holds an index.html)
    map_tile_origins: tuple[str, ...] = ()  # the map's tile server (img-src), e.g. https://tile.example.go.id

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
        memory = ctx("lambda_memory_mb")
        tiles = ctx("map_tile_origins", "")
        tiles = tuple(o.strip() for o in str(tiles).split(",") if o.strip())
        if any(not o.startswith("https://") or any(c in o for c in " ;'*") for o in tiles):
            raise ConfigError("map_tile_origins must be https:// origins, comma separated")
        return cls(
            stage=stage,
            agency_id=str(ctx("agency_id", "agency")),
            ses_sender=str(ctx("ses_sender", "noreply@example.go.id")),
            raw_image_expiry_days=expiry,
            evidence_expiry_days=evidence,
            attachment_expiry_days=attachments,
            export_retention_mode=mode,
            export_retention_days=retention,
            alarm_email=ctx("alarm_email"),
            cors_origins=tuple(origins),
            lambda_zip=zip_path,
            lambda_memory_mb=int(memory) if memory else None,
            deletion_protection=_bool(ctx("deletion_protection", True)),
            log_retention_days=int(ctx("log_retention_days", 365 if prod else 30)),
            web_dir=Path(str(ctx("web_dir", repo_dir / "web"))).resolve(),
            map_tile_origins=tiles,
        )
