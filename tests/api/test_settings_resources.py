"""Configuration rules (HADIR_NOW only on local/test) and models matching resources.py."""
import pytest

from chalicelib.common import resources as r
from chalicelib.common.settings import SettingsError, load_settings


def test_hadir_now_freezes_the_clock_on_local():
    s = load_settings({"HADIR_STAGE": "local", "HADIR_NOW": "2026-03-03T07:45:00+08:00"})
    assert s.now().isoformat() == "2026-03-02T23:45:00+00:00"


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


def test_every_schedule_has_a_chalice_handler_and_cron():
    import app as app_module  # noqa: F401
    from chalicelib.api.events import HANDLERS
    assert set(HANDLERS) == {s.handler for s in r.SCHEDULES}
    assert {s.zone for s in r.SCHEDULES} == {"WIB", "WITA", "WIT"}
    wita = next(s for s in r.SCHEDULES if s.name == "absence-wita")
    assert (wita.hour + 8) % 24 == 10  # 10:30 WITA, after the default window closed
