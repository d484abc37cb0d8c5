"""Deployment context: an agency's choices become a validated DeployConfig (no synthesis)."""
from __future__ import annotations

from pathlib import Path

import pytest

from hadir_infra.config import ConfigError, DeployConfig

REPO = Path("/repo")


def config(**context) -> DeployConfig:
    return DeployConfig.from_context(context.get, repo_dir=REPO)


def test_dev_defaults_are_reversible():
    c = config()
    assert (c.stage, c.export_retention_mode, c.export_retention_days) == ("dev", "GOVERNANCE", 1)
    assert c.raw_image_expiry_days == 1 and c.log_retention_days == 30
    assert c.attachment_expiry_days == 400  # requests' documents outlive the raw photos
    assert c.lambda_zip == REPO / "infra" / "dist" / "hadir-lambda.zip"


def test_prod_defaults_lock_exports_in_compliance_mode_for_five_years():
    c = config(stage="prod")
    assert (c.export_retention_mode, c.export_retention_days) == ("COMPLIANCE", 1825)
    assert c.deletion_protection and c.log_retention_days == 365


def test_context_strings_are_parsed():
    c = config(stage="prod", raw_image_expiry_days="3", cors_origins="https://a.go.id, https://b.go.id",
               deletion_protection="false", export_retention_mode="governance")
    assert c.raw_image_expiry_days == 3 and c.export_retention_mode == "GOVERNANCE"
    assert c.cors_origins == ("https://a.go.id", "https://b.go.id") and not c.deletion_protection


@pytest.mark.parametrize("context", [{"stage": "staging"}, {"export_retention_mode": "LEGAL"},
                                     {"raw_image_expiry_days": "0"}, {"attachment_expiry_days": "0"}])
def test_invalid_context_stops_synthesis(context):
    with pytest.raises(ConfigError):
        config(**context)
