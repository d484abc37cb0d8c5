"""Sign-in lockout and the in-process import on the in-memory wiring (no AWS, no HTTP)."""
from datetime import datetime

import pytest

from chalicelib.common.clock import FixedClock
from chalicelib.common.errors import TooManyAttempts, Unauthenticated
from chalicelib.common.settings import load_settings
from chalicelib.services import admin, auth
from chalicelib.services.schemas import LoginRequest
from chalicelib.wiring import in_memory
from local.seed import PASSWORD, seed
from tests.api.helpers import AYU


@pytest.fixture
def svc():
    settings = load_settings({"HADIR_STAGE": "test", "HADIR_AGENCY_ID": "pemkab-demo",
                              "HADIR_LOGIN_MAX_FAILURES": "3", "HADIR_LOGIN_LOCK_S": "120"})
    services = in_memory(settings, clock=FixedClock(datetime.fromisoformat("2026-03-03T07:45:00+08:00")))
    seed(services)
    return services


def _login(svc, username, password):
    return auth.login(svc, LoginRequest(username=username, password=password))


def test_three_failures_lock_for_the_lock_period_then_the_password_works(svc):
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            _login(svc, AYU, "wrong-password")
    with pytest.raises(TooManyAttempts) as exc:
        _login(svc, AYU, PASSWORD)
    assert exc.value.details["retry_after_s"] == 120
    svc.clock.advance(seconds=120)
    assert _login(svc, AYU, PASSWORD).id_token


def test_the_in_process_import_sees_the_wiring_overrides(svc):
    # Given the in-memory wiring's clock (an override): the import's audit uses it
    result = admin.run_import(svc, [{"nip": "198702142011012003", "name": "Komang Sari",
                                     "office_ids": ["kantor-denpasar"]}], actor="admin")
    assert result.created == 1
    [entry] = [e for e in svc.records.audit_trail("198702142011012003")]
    assert entry.actor == "admin" and entry.at.startswith("2026-03-02T23:45")
