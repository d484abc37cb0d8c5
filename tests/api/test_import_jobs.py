"""The employee import as a job: presigned upload, start, the queue's consumer in batches, the
job's progress and per-row results; throttled Cognito, redelivered batches and re-runs change
nothing and never leave a user without an employee record or the reverse."""
from __future__ import annotations

import json

import boto3
import pytest

from bench.simpeg import csv_bytes, nip, rows
from local.cognito_throttle import ThrottlingCognito, throttled_directory
from tests.api.helpers import AYU, KETUT

REGION = "ap-southeast-3"


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    from chalicelib.services import import_jobs
    monkeypatch.setattr(import_jobs, "SLEEP", lambda s: None)


@pytest.fixture
def small_batches(setting):
    setting("HADIR_IMPORT_BATCH_ROWS", "4")


def _sqs():
    return boto3.client("sqs", region_name=REGION)


def run_queue(max_rounds: int = 200) -> tuple[int, int]:
    """What the import queue's event source does: every step through the consumer."""
    from chalicelib.wiring import get_services
    from local.queues import drain
    return drain(_sqs(), get_services().settings.queues["import-jobs"], "process_import", max_rounds=max_rounds)


def upload(api, data: bytes, content_type: str = "text/csv", user: str = "admin") -> str:
    r = api.post("/admin/imports", {"content_type": content_type}, user=user)
    assert r.status_code == 201, r.json
    assert r.json["state"] == "uploaded" and r.json["upload"]["fields"]["Content-Type"] == content_type
    assert api.upload(r.json["upload"], data, content_type) in (200, 204)
    return r.json["import_id"]


def import_file(api, data: bytes, content_type: str = "text/csv") -> dict:
    import_id = upload(api, data, content_type)
    r = api.post(f"/admin/imports/{import_id}/start", user="admin")
    assert r.status_code == 200, r.json
    assert r.json["state"] == "queued"
    run_queue()
    return status(api, import_id)


def status(api, import_id: str, **query) -> dict:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    r = api.get(f"/admin/imports/{import_id}" + (f"?{qs}" if qs else ""), user="admin")
    assert r.status_code == 200, r.json
    return r.json


def cognito_users() -> set[str]:
    from chalicelib.wiring import get_services
    idp = boto3.client("cognito-idp", region_name=REGION)
    pages = idp.get_paginator("list_users").paginate(UserPoolId=get_services().settings.user_pool_id)
    return {u["Username"] for p in pages for u in p["Users"] if u["Username"].isdigit()}


def employees() -> set[str]:
    from chalicelib.adapters.storage.models import EmployeeModel
    return {m.nip for m in EmployeeModel.scan()}


def no_partial_state() -> bool:
    return cognito_users() == employees()


def throttle(**kw) -> ThrottlingCognito:
    from chalicelib import wiring
    from chalicelib.wiring import get_services
    cognito = ThrottlingCognito(boto3.client("cognito-idp", region_name=REGION), **kw)
    wiring.configure(**{**wiring._overrides, "directory": throttled_directory(get_services().settings, cognito)})
    return cognito


GOOD = rows(10)


def test_a_csv_is_imported_through_the_job_in_batches_with_every_rows_result(api, small_batches):
    # Given a Simpeg CSV of 10 good rows (supervisors earlier in the file) and 3 bad ones
    bad = [{"nip": "123", "nama": "Short"},
           {"nip": nip(100), "nama": "Nowhere", "kantor": "kantor-atlantis"},
           {"nip": nip(101), "nama": "Orphan", "kantor": "kantor-denpasar", "nip_atasan": nip(999)}]
    # When an admin uploads it, starts it and the queue's consumer runs its steps
    out = import_file(api, csv_bytes(GOOD + bad))
    # Then the job is done: 13 rows, 10 saved, 3 refused, each with its problems' codes
    assert (out["state"], out["total"], out["done"], out["failed"]) == ("done", 13, 10, 3)
    results = {r["row"]: r for r in out["rows"]}
    assert [results[n]["ok"] for n in range(1, 11)] == [True] * 10
    assert results[11]["error"]["code"] == "invalid_nip"
    assert results[12]["error"]["details"]["problems"] == [
        {"field": "office_ids", "code": "unknown_office", "office_ids": ["kantor-atlantis"]}]
    assert results[13]["error"]["details"]["problems"][0]["code"] == "unknown_supervisor"
    # And the imported people exist in the records (with their supervisor) and in Cognito
    from chalicelib.wiring import get_services
    emp = get_services().records.get_employee(nip(3))
    assert emp.supervisor_nip == nip(0) and emp.office_ids == ["kantor-denpasar"]
    assert {nip(i) for i in range(10)} <= cognito_users() and no_partial_state()


def test_the_results_are_paginated_in_row_order(api, small_batches):
    import_id = upload(api, csv_bytes(GOOD))
    api.post(f"/admin/imports/{import_id}/start", user="admin")
    run_queue()
    first = status(api, import_id, limit=4)
    assert [r["row"] for r in first["rows"]] == [1, 2, 3, 4] and first["next_after"] == 4
    rest = status(api, import_id, after=8, limit=4)
    assert [r["row"] for r in rest["rows"]] == [9, 10] and rest["next_after"] is None


def test_a_json_list_is_imported_too(api):
    data = json.dumps([{"nip": nip(1), "name": "Json Satu", "office_ids": ["kantor-jakarta"]}]).encode()
    out = import_file(api, data, "application/json")
    assert (out["state"], out["done"], out["failed"]) == ("done", 1, 0)


def test_a_throttle_mid_way_is_retried_with_back_off_and_every_row_lands(api, small_batches):
    # Given Cognito refusing 6 admin calls in a row once the import is under way
    cognito = throttle(burst_after=5, burst=6)
    # When the import runs
    out = import_file(api, csv_bytes(GOOD))
    # Then every row landed, after retries, and no user lacks its record or the reverse
    assert cognito.throttled == 6
    assert (out["state"], out["done"], out["failed"]) == ("done", 10, 0)
    assert no_partial_state()


def test_retries_exhausted_the_batch_is_redelivered_and_completes_without_partial_state(api, small_batches,
                                                                                          setting):
    # Given retries that give up quickly and a long throttle mid-way (the step fails; SQS redelivers)
    setting("HADIR_IMPORT_RETRIES", "1")
    cognito = throttle(burst_after=7, burst=3)
    import_id = upload(api, csv_bytes(GOOD))
    api.post(f"/admin/imports/{import_id}/start", user="admin")
    handled, failed = run_queue()
    # Then a step failed and was redelivered, and the job still finished with every row once
    assert failed >= 1 and cognito.throttled == 3
    out = status(api, import_id)
    assert (out["state"], out["done"], out["failed"]) == ("done", 10, 0)
    assert sorted(r["row"] for r in out["rows"]) == list(range(1, 11))
    assert no_partial_state()


def _audit_count(nips) -> int:
    from chalicelib.wiring import get_services
    return sum(len(get_services().records.audit_trail(n)) for n in nips)


def test_a_redelivered_batch_changes_nothing(api, small_batches):
    # Given a finished import, and the messages its batches were
    import_id = upload(api, csv_bytes(GOOD))
    api.post(f"/admin/imports/{import_id}/start", user="admin")
    from chalicelib.services import import_jobs
    from chalicelib.wiring import get_services
    sent = []
    queue = get_services().import_queue
    original = queue.send
    queue.send = lambda msgs: (sent.extend(msgs), original(msgs))
    run_queue()
    before, audits = status(api, import_id), _audit_count(nip(i) for i in range(10))
    # When a batch is delivered again
    [batch] = [m for m in sent if m.get("step") == "batch" and m["first_row"] == 5]
    import_jobs.handle(get_services(), batch)
    # Then nothing changed: counts, results, records, audit
    after = status(api, import_id)
    assert (after["done"], after["failed"], after["rows"]) == (before["done"], before["failed"], before["rows"])
    assert _audit_count(nip(i) for i in range(10)) == audits


def test_a_rerun_of_a_whole_import_changes_nothing(api, small_batches):
    # Given a finished import
    import_id = upload(api, csv_bytes(GOOD))
    api.post(f"/admin/imports/{import_id}/start", user="admin")
    run_queue()
    before, audits = status(api, import_id), _audit_count(nip(i) for i in range(10))
    # When it is started again, and the same file is imported as a new job
    r = api.post(f"/admin/imports/{import_id}/start", user="admin")
    assert r.status_code == 200 and r.json["state"] == "done"
    run_queue()
    again = import_file(api, csv_bytes(GOOD))
    # Then the re-run recorded nothing new and the new job saved every row as it was: no change audited
    after = status(api, import_id)
    assert (after["state"], after["done"], after["failed"]) == ("done", before["done"], before["failed"])
    assert (again["done"], again["failed"]) == (10, 0)
    assert _audit_count(nip(i) for i in range(10)) == audits


def test_malformed_rows_are_refused_one_by_one_and_an_unreadable_file_fails_the_job(api):
    # Given a CSV with a cell far too long and a row with too few cells
    data = ("nip;nama;kantor\r\n"
            f"{nip(1)};{'x' * 2000};kantor-denpasar\r\n"
            f"{nip(2)}\r\n"
            f"{nip(3)};Baik;kantor-denpasar\r\n").encode()
    out = import_file(api, data)
    # Then each bad row says why, and the good one is saved
    codes = {r["row"]: (r["ok"], (r.get("error") or {}).get("code")) for r in out["rows"]}
    assert codes == {1: (False, "invalid_csv"), 2: (False, "invalid_employee"), 3: (True, None)}
    problems = {p["field"]: p["code"] for p in out["rows"][1]["error"]["details"]["problems"]}
    assert problems == {"name": "required", "office_ids": "required"}
    # And a file that is not UTF-8 past its header fails the job as a whole, saying where
    broken = import_file(api, b"nip;nama\r\n" + nip(4).encode() + b";\xff\xfe\r\n")
    assert broken["state"] == "failed" and broken["error"]["code"] == "invalid_csv"
    assert broken["error"]["details"]["problem"] == "not_utf8"


def test_a_file_without_a_nip_header_is_refused_at_start(api):
    import_id = upload(api, b"nama;kantor\r\nA;B\r\n")
    r = api.post(f"/admin/imports/{import_id}/start", user="admin")
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_csv"


def test_an_oversize_upload_is_refused(api, setting):
    # Given a 2 KiB limit
    setting("HADIR_IMPORT_MAX_BYTES", "2048")
    r = api.post("/admin/imports", {"content_type": "text/csv"}, user="admin")
    # Then the presigned POST's policy carries it
    import base64
    policy = json.loads(base64.b64decode(r.json["upload"]["fields"]["policy"]))
    assert ["content-length-range", 1, 2048] in policy["conditions"] and r.json["max_bytes"] == 2048
    # And a larger file put there anyway (around the policy) is refused when started
    import_id, key = r.json["import_id"], r.json["upload"]["key"]
    from chalicelib.wiring import get_services
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=get_services().settings.buckets["uploads"], Key=key, Body=csv_bytes(rows(60)),
        ContentType="text/csv", Metadata={"nonce": import_id})
    r = api.post(f"/admin/imports/{import_id}/start", user="admin")
    assert r.status_code == 413 and r.json["error"]["code"] == "import_too_large"


def test_starting_before_the_upload_or_with_another_type_is_refused(api):
    r = api.post("/admin/imports", {"content_type": "text/csv"}, user="admin")
    start = api.post(f"/admin/imports/{r.json['import_id']}/start", user="admin")
    assert start.status_code == 409 and start.json["error"]["code"] == "import_not_uploaded"
    r = api.post("/admin/imports", {"content_type": "text/csv"}, user="admin")
    # S3 refuses another type (the policy pins it; moto does not check): one put there is 415 at start
    api.upload(r.json["upload"], b"nip\r\n", "application/json")
    start = api.post(f"/admin/imports/{r.json['import_id']}/start", user="admin")
    assert start.status_code == 415 and start.json["error"]["code"] == "unsupported_import"
    bad = api.post("/admin/imports", {"content_type": "application/pdf"}, user="admin")
    assert bad.status_code == 422 and bad.json["error"]["code"] == "unsupported_import"


@pytest.mark.parametrize("user", [AYU, KETUT])
def test_employees_and_supervisors_may_not_import_nor_see_imports(api, user):
    import_id = upload(api, csv_bytes(GOOD[:1]))
    for method, path in [("POST", "/admin/imports"), ("POST", f"/admin/imports/{import_id}/start"),
                         ("GET", f"/admin/imports/{import_id}")]:
        r = api.call(method, path, {"content_type": "text/csv"} if method == "POST" else None, user=user)
        assert r.status_code == 403, (method, path)


@pytest.mark.parametrize("forged", ["0f" * 16, "..%2F..%2Fetc", "JOB", "a" * 64])
def test_an_unknown_or_forged_id_is_404(api, forged):
    r = api.get(f"/admin/imports/{forged}", user="admin")
    assert (r.status_code, r.json["error"]["code"]) == (404, "import_not_found"), r.json
    started = api.post(f"/admin/imports/{forged}/start", user="admin")
    assert (started.status_code, started.json["error"]["code"]) == (404, "import_not_found"), started.json


def test_another_admin_sees_the_import(api):
    # Given a second admin, imported, and the first admin's import
    from local.seed import PASSWORD
    second = {"nip": nip(42), "name": "Admin Dua", "office_ids": ["kantor-denpasar"], "roles": ["admin"],
              "password": PASSWORD}
    assert api.post("/admin/employees", [second], user="admin").status_code == 200
    import_id = upload(api, csv_bytes(GOOD[:2]))
    # Then the second admin reads it (admins share the import screen)
    r = api.get(f"/admin/imports/{import_id}", user=nip(42))
    assert r.status_code == 200 and r.json["created_by"] == "admin"
