"""Configuration rules (HADIR_NOW only on local/test) and models matching resources.py."""
import pytest

from chalicelib.common import resources as r
from chalicelib.common.settings import SettingsError, load_settings


def test_hadir_now_freezes_the_clock_on_local():
    # Given a local stage frozen at 07:45 WITA
    s = load_settings({"HADIR_STAGE": "local", "HADIR_NOW": "2026-03-03T07:45:00+08:00"})
    # Then the frozen instant is kept, in UTC
    assert s.frozen_now is not None
    assert s.frozen_now.isoformat() == "2026-03-02T23:45:00+00:00"


def test_the_clock_is_not_frozen_without_hadir_now():
    assert load_settings({"HADIR_STAGE": "local"}).frozen_now is None


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_other_stages_refuse_to_start_with_hadir_now(stage):
    with pytest.raises(SettingsError) as e:
        load_settings({"HADIR_STAGE": stage, "HADIR_NOW": "2026-03-03T07:45:00+08:00"})
    assert e.value.code == "invalid_configuration"


def test_app_import_refuses_a_deployed_stage_with_hadir_now(monkeypatch):
    from chalicelib.common.settings import reset_settings, validate_at_startup
    monkeypatch.setenv("HADIR_STAGE", "prod")
    monkeypatch.setenv("HADIR_NOW", "2026-03-03T07:45:00+08:00")
    try:
        with pytest.raises(SettingsError):
            validate_at_startup()
    finally:
        monkeypatch.undo()
        reset_settings()


def test_hadir_now_needs_an_offset():
    with pytest.raises(SettingsError):
        load_settings({"HADIR_STAGE": "local", "HADIR_NOW": "2026-03-03T07:45:00"})


@pytest.mark.parametrize("env", [{}, {"HADIR_STAGE": ""}, {"HADIR_STAGE": "  "}])
def test_a_stage_is_required(env):
    # Given no (or a blank) HADIR_STAGE
    # When the settings load
    with pytest.raises(SettingsError) as e:
        load_settings(env)
    # Then the function refuses to start, naming the variable
    assert e.value.code == "invalid_configuration"
    assert [x["variable"] for x in e.value.details["errors"]] == ["HADIR_STAGE"]


def test_a_non_integer_upload_limit_refuses_to_start_naming_the_variable():
    # Given a deployment that wrote the upload limit with a unit
    env = {"HADIR_STAGE": "dev", "HADIR_UPLOAD_MAX_BYTES": "5MB"}
    # When the settings load
    with pytest.raises(SettingsError) as e:
        load_settings(env)
    # Then it is a configuration error (not pydantic's ValidationError) naming the variable and value
    assert e.value.code == "invalid_configuration"
    assert e.value.kind == "internal"
    [error] = e.value.details["errors"]
    assert error["variable"] == "HADIR_UPLOAD_MAX_BYTES" and error["value"] == "5MB"
    assert "HADIR_UPLOAD_MAX_BYTES" in e.value.message


def test_integer_settings_are_parsed():
    s = load_settings({"HADIR_STAGE": "dev", "HADIR_UPLOAD_MAX_BYTES": "2048",
                       "HADIR_CHECKIN_SESSION_TTL_S": "60"})
    assert (s.upload_max_bytes, s.checkin_session_ttl_s) == (2048, 60)


@pytest.mark.parametrize("var,value", [("HADIR_FACE_MAX_YAW_DEG", "wide"),
                                       ("HADIR_FACE_THREADS", "1.5"),
                                       ("HADIR_FACE_MAX_YAWDEG", "30")])  # misspelt
def test_a_bad_face_setting_refuses_to_start(var, value):
    # Given a HADIR_FACE_* value that is not a number of the field's type, or no field at all
    # When the settings load
    with pytest.raises(SettingsError) as e:
        load_settings({"HADIR_STAGE": "dev", var: value})
    # Then it is a configuration error pointing at the face settings
    assert e.value.code == "invalid_configuration"
    assert e.value.details["errors"][0]["variable"] == "HADIR_FACE_*"


def test_every_error_is_reported_at_once():
    with pytest.raises(SettingsError) as e:
        load_settings({"HADIR_STAGE": "prod", "HADIR_NOW": "2026-03-03T07:45:00+08:00",
                       "HADIR_CHECKIN_SESSION_TTL_S": "two minutes"})
    assert {x["variable"] for x in e.value.details["errors"]} == {"HADIR_NOW",
                                                                  "HADIR_CHECKIN_SESSION_TTL_S"}


def test_physical_names_default_from_the_agency_and_stage():
    # Given an agency's stage and no resource variables
    s = load_settings({"HADIR_STAGE": "dev", "HADIR_AGENCY_ID": "pemkab-sleman"})
    # Then every table, bucket and queue is named hadir-<agency>-<stage>-<logical>, the KMS alias too
    assert s.tables == {t.logical: f"hadir-pemkab-sleman-dev-{t.logical}" for t in r.TABLES}
    assert s.buckets == {b.logical: r.physical_name("pemkab-sleman", "dev", b.logical) for b in r.BUCKETS}
    assert s.queues == {q.logical: r.physical_name("pemkab-sleman", "dev", q.logical) for q in r.QUEUES}
    assert s.tables["job-runs"] == "hadir-pemkab-sleman-dev-job-runs"
    assert s.kms_key_id == "alias/hadir-pemkab-sleman-dev-biometrics"
    assert s.region == "ap-southeast-3" and s.aws_endpoint_url is None


def test_without_an_agency_id_the_names_carry_the_default_agency():
    s = load_settings({"HADIR_STAGE": "dev"})
    assert s.agency_id == r.DEFAULT_AGENCY
    assert s.tables["offices"] == f"hadir-{r.DEFAULT_AGENCY}-dev-offices"


def test_two_agencies_share_no_default_name():
    a = load_settings({"HADIR_STAGE": "prod", "HADIR_AGENCY_ID": "pemkab-a"})
    b = load_settings({"HADIR_STAGE": "prod", "HADIR_AGENCY_ID": "pemkab-b"})
    names = lambda s: {*s.tables.values(), *s.buckets.values(), *s.queues.values(), s.kms_key_id}  # noqa: E731
    assert not names(a) & names(b)


def test_queue_names_for_decorators_carry_the_agency():
    from chalicelib.common.settings import queue_name
    env = {"HADIR_STAGE": "prod", "HADIR_AGENCY_ID": "pemkab-a"}
    assert queue_name(r.EMAIL_QUEUE.logical, env) == "hadir-pemkab-a-prod-email-outbox"


def test_table_names_come_from_their_variables_when_set():
    # Given a stack that named two tables itself (CloudFormation-generated names)
    s = load_settings({"HADIR_STAGE": "prod", r.EMPLOYEES.env: "Hadir-Employees-1A2B",
                       r.ATTENDANCE.env: "Hadir-Attendance-3C4D", r.OFFICES.env: ""})
    # Then those two are used, and the others (including one set empty) keep the stage default
    assert s.tables["employees"] == "Hadir-Employees-1A2B"
    assert s.tables["attendance"] == "Hadir-Attendance-3C4D"
    assert s.tables["offices"] == r.physical_name(r.DEFAULT_AGENCY, "prod", "offices")
    assert s.tables["audit"] == r.physical_name(r.DEFAULT_AGENCY, "prod", "audit")


def test_only_the_named_variables_are_read():
    # Given variables named like the fields rather than like the configuration
    s = load_settings({"HADIR_STAGE": "dev", "stage": "other", "upload_min_bytes": "1",
                       "HADIR_UPLOAD_MIN_BYTES": "1"})
    # Then they are ignored
    assert s.stage == "dev" and s.upload_min_bytes == 1024


def test_region_and_endpoint_fall_back_in_order():
    s = load_settings({"HADIR_STAGE": "dev", "AWS_DEFAULT_REGION": "us-east-1",
                       "AWS_ENDPOINT_URL": "http://aws:4566", "HADIR_AWS_ENDPOINT_URL": "http://moto:5000"})
    assert s.region == "us-east-1" and s.aws_endpoint_url == "http://moto:5000"
    s = load_settings({"HADIR_STAGE": "dev", "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-1"})
    assert s.region == "eu-west-1"


def test_issuer_and_jwks_derive_from_the_user_pool_on_aws():
    s = load_settings({"HADIR_STAGE": "prod", "AWS_REGION": "ap-southeast-3",
                       "HADIR_USER_POOL_ID": "ap-southeast-3_xyz"})
    assert s.jwt_issuer == "https://cognito-idp.ap-southeast-3.amazonaws.com/ap-southeast-3_xyz"
    assert s.jwks_url == f"{s.jwt_issuer}/.well-known/jwks.json"
    assert load_settings({"HADIR_STAGE": "prod"}).jwks_url == ""


def test_the_exports_kms_key_is_optional():
    assert load_settings({"HADIR_STAGE": "dev"}).exports_kms_key_id is None
    s = load_settings({"HADIR_STAGE": "dev", "HADIR_EXPORTS_KMS_KEY_ID": "alias/hadir-dev-data"})
    assert s.exports_kms_key_id == "alias/hadir-dev-data"


def test_settings_are_frozen():
    s = load_settings({"HADIR_STAGE": "dev"})
    with pytest.raises(Exception):
        s.stage = "prod"  # type: ignore[misc]
    assert s.model_copy(update={"stage": "x"}).stage == "x" and s.stage == "dev"


def test_jwks_url_defaults_to_the_moto_endpoint_locally_and_issuer_stays_cognito():
    s = load_settings({"HADIR_STAGE": "local", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
                       "HADIR_USER_POOL_ID": "ap-southeast-3_abc", "AWS_DEFAULT_REGION": "ap-southeast-3"})
    assert s.jwks_url == "http://127.0.0.1:5000/ap-southeast-3_abc/.well-known/jwks.json"
    assert s.jwt_issuer == "https://cognito-idp.ap-southeast-3.amazonaws.com/ap-southeast-3_abc"


def test_pynamodb_models_match_resources():
    from chalicelib.adapters.storage.models import MODELS
    by_logical = {t.logical: t for t in r.TABLES}
    assert set(MODELS) | {"idempotency"} == set(by_logical)
    for logical, model in MODELS.items():
        t = by_logical[logical]
        attrs = model.get_attributes()
        hash_key = next(n for n, a in attrs.items() if a.is_hash_key)
        range_key = next((n for n, a in attrs.items() if a.is_range_key), None)
        assert hash_key == t.hash_key.name
        assert range_key == (t.range_key.name if t.range_key else None)
        ttl = [n for n, a in attrs.items() if type(a).__name__ == "TTLAttribute"]
        assert ttl == ([t.ttl_attribute] if t.ttl_attribute else [])
        indexes = {i.Meta.index_name: i for i in model._indexes.values()} if hasattr(model, "_indexes") else {}
        assert sorted(indexes) == sorted(g.name for g in t.gsis)
        for g in t.gsis:  # and each index is keyed as resources.py says
            index_attrs = indexes[g.name].Meta.attributes
            assert next(n for n, a in index_attrs.items() if a.is_hash_key) == g.hash_key.name
            assert next((n for n, a in index_attrs.items() if a.is_range_key), None) == (
                g.range_key.name if g.range_key else None)


def test_every_schedule_has_a_chalice_handler_and_cron():
    import app as app_module  # noqa: F401
    from chalicelib.api.events import HANDLERS
    assert set(HANDLERS) == {s.handler for s in r.SCHEDULES}
    assert {s.zone for s in r.SCHEDULES} == {"WIB", "WITA", "WIT"}
    wita = next(s for s in r.SCHEDULES if s.name == "absence-wita")
    assert (wita.hour + 8) % 24 == 10  # 10:30 WITA, after the default window closed
