"""AWS faults (throttling, timeouts, 5xx left after botocore's retries) injected by local/faults.py
at rate 1.0 on chosen operations: the check-in answers 503 with a code and Retry-After, writes
nothing, and a retry with the same Idempotency-Key performs it once (issue 14)."""
import pathlib

import pytest

from local.faults import Faults
from tests.api.helpers import AYU, check_in, checkin_session, enrol

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATE = "2026-03-03"


def given_enrolled_with_a_session(api, set_now):
    set_now("2026-03-03T07:45:00+08:00")
    assert enrol(api, AYU).status_code == 201
    return checkin_session(api, AYU)


def stored(nip=AYU):
    from chalicelib.wiring import get_services
    records = get_services().records
    return records.checkins_between(nip, DATE, DATE), records.day(nip, DATE)


def assert_retryable_503(r, code):
    assert r.status_code == 503, r.json
    assert r.json["error"]["code"] == code
    assert int(r.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("operation, code", [
    ("dynamodb:TransactWriteItems", "storage_unavailable"),
    ("dynamodb:BatchGetItem", "storage_unavailable"),
    ("s3:GetObject", "storage_failure"),
    ("kms:Decrypt", "biometric_vault_error"),
])
def test_a_faulted_call_is_a_503_with_nothing_written_and_the_retry_checks_in_once(api, set_now, operation, code):
    # Given an enrolled employee with her frames uploaded
    sid = given_enrolled_with_a_session(api, set_now)
    # When every call of that operation fails (throttled, timed out or a 5xx)
    with Faults(1.0, seed=1, operations={operation}) as faults:
        r = check_in(api, AYU, sid, key="k-1")
    # Then a retryable 503 with its code and Retry-After, and nothing half-written
    assert sum(n for k, n in faults.counts.items() if k.endswith(":" + operation)) >= 1
    assert_retryable_503(r, code)
    assert stored() == ([], None)
    # When she retries with the same key once the fault has passed
    again = check_in(api, AYU, sid, key="k-1")
    # Then it is performed, once; a further retry returns the same decision
    assert again.status_code == 201, again.json
    assert check_in(api, AYU, sid, key="k-1").json["checkin_id"] == again.json["checkin_id"]
    checkins, day = stored()
    assert [c.checkin_id for c in checkins] == [again.json["checkin_id"]]
    assert day is not None and day.day.has_checkin


def test_a_failed_attempt_whose_clean_up_failed_answers_in_progress(api, set_now):
    # Given the check-in's transaction and the idempotency record's clean-up both fail
    sid = given_enrolled_with_a_session(api, set_now)
    with Faults(1.0, operations={"dynamodb:TransactWriteItems", "dynamodb:DeleteItem"}):
        first = check_in(api, AYU, sid, key="k-2")
    assert_retryable_503(first, "idempotency_unavailable")
    # When she retries at once: the record left in progress answers 503 with Retry-After
    assert_retryable_503(check_in(api, AYU, sid, key="k-2"), "request_in_progress")
    assert stored() == ([], None)


def test_an_in_progress_record_left_behind_expires_and_the_retry_performs_it_once(api, set_now, setting):
    # Given in-progress records that expire at once (by default within API Gateway's 29 s)
    setting("HADIR_IDEMPOTENCY_IN_PROGRESS_S", "0")
    sid = given_enrolled_with_a_session(api, set_now)
    with Faults(1.0, operations={"dynamodb:TransactWriteItems", "dynamodb:DeleteItem"}):
        assert check_in(api, AYU, sid, key="k-3").status_code == 503
    # When she retries with the same key
    again = check_in(api, AYU, sid, key="k-3")
    # Then it runs, once
    assert again.status_code == 201, again.json
    assert len(stored()[0]) == 1


def test_a_checkin_whose_result_could_not_be_stored_still_answers_its_decision(api, set_now):
    # Given storing the idempotent result fails (the check-in itself is written)
    sid = given_enrolled_with_a_session(api, set_now)
    with Faults(1.0, operations={"dynamodb:UpdateItem"}) as faults:
        r = check_in(api, AYU, sid, key="k-4")
    # Then the client still gets its decision, and exactly one record exists
    assert faults.counts["throttle"] + faults.counts["read_timeout"] + faults.counts["connect_timeout"] \
        + faults.counts["server_error"] >= 1
    assert r.status_code == 201, r.json
    assert [c.checkin_id for c in stored()[0]] == [r.json["checkin_id"]]


def test_chalicelib_never_imports_the_fault_layer():
    # Given every production module; Then none imports local (faults, stack, seed)
    sources = [*ROOT.joinpath("chalicelib").rglob("*.py"), ROOT / "app.py"]
    offenders = [str(p.relative_to(ROOT)) for p in sources
                 if any(line.strip().startswith(("from local", "import local"))
                        for line in p.read_text().splitlines())]
    assert offenders == []


@pytest.mark.parametrize("seed", range(6))
def test_a_conditional_put_that_failed_without_a_response_is_unavailable(api, seed):
    # Given a job marker's conditional put throttled, timed out or failed on the server's side
    from chalicelib.common.errors import HadirError, Kind
    from chalicelib.wiring import get_services
    from datetime import datetime, timezone
    records = get_services().records
    # When it is claimed; Then a retryable Unavailable (never an AttributeError: a timeout has no response)
    with Faults(1.0, seed=seed, operations={"dynamodb:PutItem"}), pytest.raises(HadirError) as err:
        records.claim(f"marker-{seed}", {}, now=datetime(2026, 3, 3, tzinfo=timezone.utc))
    assert err.value.kind is Kind.UNAVAILABLE and err.value.code == "storage_unavailable"
