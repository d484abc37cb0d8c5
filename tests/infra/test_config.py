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


# --- abuse limits and the agency id -------------------------------------------------------------

def test_abuse_limits_default_to_a_throttled_stage_a_tighter_login_and_no_waf():
    from hadir_infra.config import API_THROTTLE, JOB_CONCURRENCY, LOGIN_THROTTLE
    c = config()
    assert (c.api_throttle, c.login_throttle) == (API_THROTTLE, LOGIN_THROTTLE)
    assert LOGIN_THROTTLE.rate < API_THROTTLE.rate and LOGIN_THROTTLE.burst < API_THROTTLE.burst
    assert not c.waf and c.job_concurrency == JOB_CONCURRENCY and c.api_concurrency is None


def test_abuse_limits_come_from_context_strings():
    c = config(api_rate_limit="50", api_burst_limit="80", login_rate_limit="2", login_burst_limit="4",
               waf="true", waf_rate_limit="500", job_reserved_concurrency="0",
               api_reserved_concurrency="40")
    assert (c.api_throttle.rate, c.api_throttle.burst) == (50, 80)
    assert (c.login_throttle.rate, c.login_throttle.burst) == (2, 4)
    assert c.waf and c.waf_rate_limit == 500
    assert c.job_concurrency == 0 and c.api_concurrency == 40


@pytest.mark.parametrize("context", [{"api_rate_limit": "fast"}, {"api_burst_limit": "0"},
                                     {"login_rate_limit": "500"},  # looser than the stage
                                     {"waf_rate_limit": "5"}, {"job_reserved_concurrency": "-1"},
                                     {"job_reserved_concurrency": "1"},
                                     {"api_reserved_concurrency": "0"}])
def test_invalid_abuse_limits_stop_synthesis(context):
    with pytest.raises(ConfigError):
        config(**context)


def test_the_agency_is_in_the_stack_name_and_every_name():
    c = config(stage="prod", agency_id="pemkab-sleman")
    assert c.stack_name == "hadir-pemkab-sleman-prod"
    assert c.name("employees") == "hadir-pemkab-sleman-prod-employees"


@pytest.mark.parametrize("agency", ["Pemkab", "pemkab_sleman", "pemkab--x", "-pemkab", "pemkab-",
                                    "1pemkab", "pemkab sleman", "a" * 29, ""])
def test_a_malformed_agency_id_stops_synthesis(agency):
    if agency == "":
        assert config(agency_id="").agency_id == "agency"  # unset: the settings' default
        return
    with pytest.raises(ConfigError):
        config(agency_id=agency)


def test_the_longest_agency_id_fits_every_named_resource():
    """Lambda names (64), SQS queue names (80), Cognito pool names (128), WAF ACL names (128)."""
    from chalicelib.common import resources as r
    from hadir_infra.access import classify
    from hadir_infra.config import AGENCY_MAX_LEN
    c = config(stage="prod", agency_id="a" * AGENCY_MAX_LEN)
    ids = ["APIHandler", *(to_id(s.handler) for s in r.SCHEDULES),
           *(to_id(q.handler) for q in r.QUEUES if q.handler), to_id("import_employees")]
    assert max(len(c.name(f.short_name)) for f in classify(ids)) <= 64
    queues = [q.logical for q in r.QUEUES] + ["jobs-dlq"]
    assert max(len(c.name(q)) for q in queues) <= 80
    assert len(c.name(r.USER_POOL.logical)) <= 128 and len(c.name("api")) <= 128


def to_id(name: str) -> str:
    from chalice.utils import to_cfn_resource_name
    return to_cfn_resource_name(name)
