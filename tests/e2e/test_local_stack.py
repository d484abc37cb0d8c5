"""The real local stack (moto server + chalice local + scheduler) started as a subprocess on free
ports and driven over HTTP like the mobile app: login, presigned uploads, enrolment with real faces
and its approval, a flagged check-in reviewed from the queue, check-outs rejected, absence
detection and the supervisor's notification, an excuse request approved, the auditors' export and
the audit log."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import pathlib
import subprocess
import sys
import time

import boto3
import pyarrow
import pyarrow.parquet
import pytest
import requests

from tests.faces import POSED_CHECKIN, POSED_ENROLMENT, available, following
from tests.local_stack import running_stack

ROOT = pathlib.Path(__file__).resolve().parents[2]
PASSWORD = "Hadir-Demo-2025"
AYU, KETUT, MADE = "199001152015032001", "197805122005011002", "199208202019021003"
DENPASAR = (-8.67052, 115.21263)  # 4 m from the office's centre
PHONE, NEW_PHONE = "e2e-phone-0a1b2c3d", "e2e-phone-new-4e5f"  # the app's X-Device-Id

pytestmark = [pytest.mark.skipif(not available(), reason="real face photos (../shared/faces/dev) absent"),
              pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("stack") / "stack.log") as urls:
        yield urls


def login(stack, user):
    r = requests.post(f"{stack['api']}/auth/login", json={"username": user, "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['id_token']}"}


def upload(target, data):
    r = requests.post(target["url"], data={**target["fields"], "Content-Type": "image/jpeg"},
                      files={"file": ("selfie.jpg", data, "image/jpeg")}, timeout=10)
    assert r.status_code in (200, 201, 204), r.text


def location(lat, lon, at="2026-03-03T07:44:55+08:00"):
    return {"lat": lat, "lon": lon, "accuracy_m": 6, "captured_at": at, "is_mock": False}


def test_the_api_publishes_its_contract(stack):
    # When a client fetches the contract, without a token
    r = requests.get(f"{stack['api']}/openapi.json", timeout=10)
    # Then it is the committed OpenAPI 3.1 document, every route with its roles
    assert r.status_code == 200, r.text
    doc = r.json()
    committed = json.loads((pathlib.Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text())
    assert doc == committed and doc["openapi"] == "3.1.0"
    assert doc["paths"]["/checkins"]["post"]["x-roles"] == ["employee"]


def test_a_day_in_the_life(stack, tmp_path):
    api = stack["api"]
    # Given: an employee logged in on her phone
    me = login(stack, AYU)
    assert requests.get(f"{api}/me", headers=me, timeout=10).json()["enrollment"]["status"] == "not_enrolled"

    # When: she enrols with three real photos, turning her head as the session asks (front, then
    # left and right in the order given; one presigned POST each)
    s = requests.post(f"{api}/me/enrollment/uploads", headers=me, timeout=10).json()
    steps = [x["pose"] for x in s["challenge"]["steps"]]
    assert steps[0] == "front" and sorted(steps[1:]) == ["left", "right"]
    enrolled = following(steps, POSED_ENROLMENT)
    for target, data in zip(s["uploads"], enrolled):
        upload(target, data)
    r = requests.post(f"{api}/me/enrollment", json={"session_id": s["session_id"], "consent": True},
                      headers={**me, "X-Device-Id": PHONE}, timeout=60)
    assert r.status_code == 201, r.text
    assert [p["ok"] for p in r.json()["photos"]] == [True, True, True] and r.json()["liveness"]["passed"]
    # Then: her enrolment waits for her supervisor's approval
    assert r.json()["status"] == "pending_approval"
    assert requests.get(f"{api}/me", headers=me, timeout=10).json()["enrollment"]["status"] == "pending_approval"

    # And: subscribe a tap to the supervisor topic, to read what SNS delivers
    moto = dict(endpoint_url=stack["moto"], region_name="ap-southeast-3",
                aws_access_key_id="testing", aws_secret_access_key="testing")
    env = requests.get(f"{stack['control']}/env", timeout=5).json()
    sqs, sns = boto3.client("sqs", **moto), boto3.client("sns", **moto)
    tap = sqs.create_queue(QueueName="e2e-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=env["HADIR_TOPIC_SUPERVISOR_ALERTS"], Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "true"})

    # When: she checks in at the Denpasar office at 07:45 WITA, following the session's challenge
    s = requests.post(f"{api}/checkins/uploads", headers=me, timeout=10).json()
    for target, data in zip(s["uploads"], following([x["pose"] for x in s["challenge"]["steps"]], POSED_CHECKIN)):
        upload(target, data)
    body = {"session_id": s["session_id"], "type": "in", "location": location(*DENPASAR)}
    r = requests.post(f"{api}/checkins", json=body, headers={**me, "Idempotency-Key": "e2e-in-1",
                                                             "X-Device-Id": PHONE}, timeout=60)
    # Then: flagged only because her enrolment awaits approval; WFO, on time, from the phone she enrolled on
    assert r.status_code == 201, r.text
    assert r.json()["decision"] == "flagged" and r.json()["work_mode"] == "WFO"
    assert [x["code"] for x in r.json()["reasons"] if x["effect"] == "flag"] == ["enrolment_pending"]
    assert r.json()["local_time"] == "07:45:00" and r.json()["late_minutes"] == 0
    assert r.json()["liveness"]["passed"] and all(c["ok"] for c in r.json()["liveness"]["checks"])
    # And a retried request returns the same record
    again = requests.post(f"{api}/checkins", json=body, headers={**me, "Idempotency-Key": "e2e-in-1",
                                                                 "X-Device-Id": PHONE}, timeout=60)
    assert again.json()["checkin_id"] == r.json()["checkin_id"]
    # And the session cannot be replayed
    replay = requests.post(f"{api}/checkins", json=body, headers=me, timeout=60)
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "session_used"
    # And seconds later her raw frames are gone (the sessions stream's deleter), enrolment's too
    s3 = boto3.client("s3", **moto)
    requests.post(f"{stack['control']}/drain", timeout=60).raise_for_status()
    raw = [o["Key"] for prefix in (f"checkin/{AYU}/", f"enrolment/{AYU}/")
           for o in s3.list_objects_v2(Bucket=env["HADIR_BUCKET_UPLOADS"], Prefix=prefix).get("Contents", [])]
    assert raw == []

    # When: her supervisor opens the queue: her enrolment (three photos) and the flagged check-in
    sup = login(stack, KETUT)
    items = {i["kind"]: i for i in requests.get(f"{api}/team/reviews", headers=sup, timeout=10).json()["items"]}
    assert set(items) == {"enrolment", "checkin"} and len(items["enrolment"]["photos"]) == 3
    assert requests.get(items["enrolment"]["photos"][0], timeout=10).content == enrolled[0]  # from evidence/
    selfie = items["checkin"]["checkin"]["selfie_url"]
    assert requests.get(selfie, timeout=10).status_code == 200
    assert items["checkin"]["checkin"]["geo"]["distance_m"] is not None
    # And approves both
    for kind in ("enrolment", "checkin"):
        decided = requests.post(f"{api}/team/reviews/{items[kind]['review_id']}", json={"decision": "approve"},
                                headers=sup, timeout=10)
        assert decided.status_code == 200 and decided.json()["decision"] == "approved", decided.text
    # Then: she is enrolled, her day is present because of the review, the photos are deleted
    assert requests.get(f"{api}/me", headers=me, timeout=10).json()["enrollment"]["status"] == "enrolled"
    assert decided.json()["day_status"] == "present"
    assert requests.get(items["enrolment"]["photos"][0], timeout=10).status_code == 404
    assert requests.get(selfie, timeout=10).status_code == 404
    # And she is told, in the app
    told = requests.get(f"{api}/me/notifications", headers=me, timeout=10).json()["items"]
    assert sorted(n["ref"] for n in told) == sorted(items[k]["review_id"] for k in items)

    # When: someone checks out with one photo of her uploaded for every step of the challenge
    s = requests.post(f"{api}/checkins/uploads", headers=me, timeout=10).json()
    for target in s["uploads"]:
        upload(target, following(["front"], POSED_CHECKIN)[0])
    flat = requests.post(f"{api}/checkins", json={"session_id": s["session_id"], "type": "out",
                                                   "location": location(*DENPASAR, at="2026-03-03T07:44:58+08:00")},
                         headers={**me, "X-Device-Id": PHONE}, timeout=60)
    # Then: rejected by liveness: one capture again, and no head turn
    assert flat.status_code == 422, flat.text
    assert {"liveness_duplicate_frames", "liveness_too_small"} <= {x["code"] for x in flat.json()["reasons"]}

    # When: someone checks out with her enrolment photos (a replay) answering the challenge
    s = requests.post(f"{api}/checkins/uploads", headers=me, timeout=10).json()
    for target, data in zip(s["uploads"], following([x["pose"] for x in s["challenge"]["steps"]], POSED_ENROLMENT)):
        upload(target, data)
    copied = requests.post(f"{api}/checkins", json={"session_id": s["session_id"], "type": "out",
                                                     "location": location(*DENPASAR, at="2026-03-03T07:44:58+08:00")},
                           headers={**me, "X-Device-Id": PHONE}, timeout=60)
    # Then: rejected as a replayed image, and stored with the day's other attempts
    assert copied.status_code == 422, copied.text
    assert "replayed_image" in [x["code"] for x in copied.json()["reasons"]]

    # When: her supervisor allows her new phone
    allowed = requests.put(f"{api}/admin/employees/{AYU}/device", json={"device_id": NEW_PHONE},
                           headers=login(stack, KETUT), timeout=10)
    assert allowed.status_code == 200, allowed.text

    # When: she checks out 3 km away from the office, on the new phone
    s = requests.post(f"{api}/checkins/uploads", headers=me, timeout=10).json()
    for target, data in zip(s["uploads"], following([x["pose"] for x in s["challenge"]["steps"]], POSED_CHECKIN)):
        upload(target, data)
    out = requests.post(f"{api}/checkins", json={"session_id": s["session_id"], "type": "out",
                                                  "location": location(DENPASAR[0] + 0.027, DENPASAR[1])},
                        headers={**me, "X-Device-Id": NEW_PHONE}, timeout=60)
    # Then: rejected (outside the fence), and recorded
    assert out.status_code == 422, out.text
    assert "outside_geofence" in [x["code"] for x in out.json()["reasons"]]
    assert "new_device" not in [x["code"] for x in out.json()["reasons"]]  # allowed above
    assert "score" not in out.json()["face"]  # the exact face score is for supervisors and auditors
    days = requests.get(f"{api}/me/attendance?from=2026-03-03&to=2026-03-03", headers=me, timeout=10).json()
    assert sorted(c["decision"] for c in days["days"][0]["checkins"]) == ["flagged"] + ["rejected"] * 3  # as made

    # When: absence detection for WITA runs after the window closed (the e-mails queued so far,
    # the reviews' notices, delivered first: the scheduler's tick may not have come yet)
    requests.post(f"{stack['control']}/drain", timeout=60)
    job = requests.post(f"{stack['control']}/jobs/detect_absence_wita?now=2026-03-03T10:30:00%2B08:00",
                        timeout=60).json()
    assert job["result"]["notices"] == 1 and job["emails_delivered"] == 1, job
    # Then: the supervisor got one notification listing Made, not Ayu
    delivered = [json.loads(m["Body"]) for m in
                 sqs.receive_message(QueueUrl=tap, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])]
    notices = [n for n in delivered if n["kind"] == "absence_notice"]
    assert len(notices) == 1 and notices[0]["supervisor_nip"] == KETUT
    # (besides the two decisions Ayu was told about, on the same topic)
    assert sorted(n["topic"] for n in delivered if n["kind"] == "employee_notice") == ["review_decided"] * 2
    assert [a["nip"] for a in notices[0]["absentees"]] == [MADE]
    team = requests.get(f"{api}/team/attendance?date=2026-03-03", headers=login(stack, KETUT), timeout=10).json()
    assert {x["nip"]: x["status"] for x in team["staff"]} == {AYU: "present", MADE: "absent"}
    # And each day says why: Ayu's on_time names her check-in, Made's absence the missing one
    why = {x["nip"]: x["reasons"] for x in team["staff"]}
    assert [(x["code"], x["checkin_id"]) for x in why[AYU]] == [("on_time", r.json()["checkin_id"]),
                                                                ("review_approved", r.json()["checkin_id"])]
    assert [x["code"] for x in why[MADE]] == ["no_checkin", "schedule"]  # and the day's hours, as data
    # And running it again sends nothing
    again = requests.post(f"{stack['control']}/jobs/detect_absence_wita?now=2026-03-03T10:35:00%2B08:00",
                          timeout=60).json()
    assert again["result"]["notices"] == 0 and again["emails_delivered"] == 0

    # When: Made, absent, tries to enrol with three copies of one photo
    made = login(stack, MADE)
    s = requests.post(f"{api}/me/enrollment/uploads", headers=made, timeout=10).json()
    one = following(["front"], POSED_ENROLMENT)[0]
    for target in s["uploads"]:
        upload(target, one)
    copies = requests.post(f"{api}/me/enrollment", json={"session_id": s["session_id"], "consent": True},
                           headers=made, timeout=60)
    # Then: refused, and he is not enrolled
    assert copies.status_code == 422, copies.text
    assert copies.json()["error"]["code"] == "duplicate_enrolment_photos", copies.text
    assert requests.get(f"{api}/me", headers=made, timeout=10).json()["enrollment"]["status"] == "not_enrolled"

    # When: he enrols properly and checks out without having checked in
    s = requests.post(f"{api}/me/enrollment/uploads", headers=made, timeout=10).json()
    for target, data in zip(s["uploads"], following([x["pose"] for x in s["challenge"]["steps"]], POSED_ENROLMENT)):
        upload(target, data)
    assert requests.post(f"{api}/me/enrollment", json={"session_id": s["session_id"], "consent": True},
                         headers=made, timeout=60).status_code == 201
    s = requests.post(f"{api}/checkins/uploads", headers=made, timeout=10).json()
    for target, data in zip(s["uploads"], following([x["pose"] for x in s["challenge"]["steps"]], POSED_CHECKIN)):
        upload(target, data)
    alone = requests.post(f"{api}/checkins", json={"session_id": s["session_id"], "type": "out",
                                                    "location": location(*DENPASAR)}, headers=made, timeout=60)
    assert alone.status_code == 201 and alone.json()["decision"] == "flagged", alone.text
    assert "no_checkin" in [x["code"] for x in alone.json()["reasons"]]
    # Then: his day stays absent
    team = requests.get(f"{api}/team/attendance?date=2026-03-03", headers=sup, timeout=10).json()
    assert {x["nip"]: x["status"] for x in team["staff"]}[MADE] == "absent"

    # When: he asks for a sick excuse for the day and Ketut approves it
    asked = requests.post(f"{api}/me/requests", json={"type": "excuse", "subtype": "sick", "start": "2026-03-03",
                                                      "end": "2026-03-03", "reason": "Demam, surat dokter menyusul"},
                          headers=made, timeout=10)
    assert asked.status_code == 201, asked.text
    # And attaches the doctor's note (a PDF, uploaded straight to S3, checked by its bytes)
    rid = asked.json()["request_id"]
    note = b"%PDF-1.4\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 20 + b"%%EOF\n"
    slot = requests.post(f"{api}/me/requests/{rid}/attachment", json={"content_type": "application/pdf"},
                         headers=made, timeout=10).json()
    sent = requests.post(slot["upload"]["url"], data={**slot["upload"]["fields"], "Content-Type": "application/pdf"},
                         files={"file": ("surat.pdf", note, "application/pdf")}, timeout=10)
    assert sent.status_code in (200, 201, 204), sent.text
    kept = requests.put(f"{api}/me/requests/{rid}/attachment", json={"upload_id": slot["upload_id"]},
                        headers=made, timeout=10)
    assert kept.status_code == 200, kept.text
    [waiting] = requests.get(f"{api}/team/requests", headers=sup, timeout=10).json()["requests"]
    assert waiting["request_id"] == rid
    assert requests.get(waiting["attachment"]["url"], timeout=10).content == note  # what Ketut reads
    ok = requests.post(f"{api}/team/requests/{waiting['request_id']}", json={"decision": "approve",
                                                                            "comment": "Semoga lekas sembuh"},
                       headers=sup, timeout=10)
    assert ok.status_code == 200 and ok.json()["status"] == "approved", ok.text
    # Then: his day is excused, naming the request, and he is told
    team = requests.get(f"{api}/team/attendance?date=2026-03-03", headers=sup, timeout=10).json()
    made_day = {x["nip"]: x for x in team["staff"]}[MADE]
    assert made_day["status"] == "excused"
    assert [x["request_id"] for x in made_day["reasons"] if x["code"] == "request_approved"] == [waiting["request_id"]]
    told = requests.get(f"{api}/me/notifications", headers=made, timeout=10).json()["items"]
    assert [(n["topic"], n["ref"]) for n in told] == [("request_decided", waiting["request_id"])]

    # When: the day has ended in WITA and the export runs
    exp = requests.post(f"{stack['control']}/jobs/export_wita?now=2026-03-04T00:31:00%2B08:00", timeout=60).json()
    assert exp["result"]["date"] == "2026-03-03"
    # Then: an auditor downloads the CSV and its manifest, and the hash matches
    files = requests.get(f"{api}/audit/exports?date=2026-03-03", headers=login(stack, "auditor"), timeout=10)
    assert files.status_code == 200, files.text
    urls = {f["key"].rsplit("/", 1)[-1]: f["url"] for f in files.json()["files"]}
    csv_bytes = requests.get(urls["records.csv"], timeout=10).content
    manifest = requests.get(urls["manifest.json"], timeout=10).json()
    assert manifest["sha256"] == hashlib.sha256(csv_bytes).hexdigest()
    assert manifest["rows"] == len(csv_bytes.decode().strip().splitlines()) - 1 >= 3
    assert AYU in csv_bytes.decode() and "excused" in csv_bytes.decode()
    # And the day's audit entries come with it, under their own checksum
    audit_csv = requests.get(urls["audit.csv"], timeout=10).content
    assert manifest["audit"]["sha256"] == hashlib.sha256(audit_csv).hexdigest()

    # When: the WIB run exports the same date again, later
    again = requests.post(f"{stack['control']}/jobs/export_wib?now=2026-03-04T00:31:00%2B07:00", timeout=60).json()
    assert again["result"]["previous_manifest_sha256"] == exp["result"]["manifest_sha256"]
    # Then: both runs are listed, chained, each file pinned to its version, nothing overwritten
    runs = requests.get(f"{api}/audit/exports?date=2026-03-03", headers=login(stack, "auditor"), timeout=10).json()["runs"]
    assert len(runs) == 2 and runs[1]["previous_manifest_sha256"] == runs[0]["manifest_sha256"]
    assert all(f["version_id"] for run in runs for f in run["files"])
    # And an auditor verifies the downloaded runs offline with the documented command
    folder = tmp_path / "exports"
    for run in runs:
        (folder / run["run_id"]).mkdir(parents=True)
        for f in run["files"]:
            (folder / run["run_id"] / f["key"].rsplit("/", 1)[-1]).write_bytes(requests.get(f["url"], timeout=10).content)
    verify = [sys.executable, "-I", str(ROOT / "tools" / "verify_exports.py"), str(folder), "--head", runs[-1]["manifest_sha256"]]
    checked = subprocess.run(verify, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and "OK: 2 runs" in checked.stdout, checked.stdout + checked.stderr
    first_csv = folder / runs[0]["run_id"] / "records.csv"
    first_csv.write_bytes(first_csv.read_bytes().replace(b"excused", b"present", 1))  # tampered after download
    assert subprocess.run(verify, capture_output=True, text=True, timeout=60).returncode == 1

    # And: nobody needs the previous face model (every template is of the shipped one)
    outdated = requests.get(f"{api}/admin/enrolments/outdated", headers=login(stack, "admin"), timeout=10)
    assert outdated.status_code == 200, outdated.text
    assert outdated.json()["outdated"] == 0 and outdated.json()["previous_model_versions"] == []

    # And: the audit log shows each privileged step of the day, oldest first, page by page
    auditor, entries, cursor = login(stack, "auditor"), [], None
    while True:
        page = requests.get(f"{api}/audit/log", params={"from": "2026-03-02", "to": "2026-03-03", "limit": 5,
                                                        **({"cursor": cursor} if cursor else {})},
                            headers=auditor, timeout=10)
        assert page.status_code == 200, page.text
        entries += page.json()["entries"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    steps = [(e["action"], e["actor"]) for e in entries if e["actor"] != "seed"]
    for step in [("biometric_consent_given", AYU), ("enrolment_approved", KETUT),
                 ("checkin_review_approved", KETUT), ("device_bound", KETUT), ("request_submitted", MADE),
                 ("request_approved", KETUT), ("export_written", "scheduler")]:
        assert step in steps, (step, steps)
    assert steps.index(("enrolment_approved", KETUT)) < steps.index(("request_approved", KETUT))
    # (an employee may not read it)
    assert requests.get(f"{api}/audit/log", headers=me, timeout=10).status_code == 403


def test_password_guessing_locks_the_username_not_the_service(stack):
    api, nobody = stack["api"], "199912312099121999"  # a NIP nobody has: answered like a real one
    # Given: five wrong passwords for one username
    for _ in range(5):
        r = requests.post(f"{api}/auth/login", json={"username": nobody, "password": "tebak-tebak"}, timeout=10)
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials", r.text
    # When: the sixth guess comes, even spelled another way
    r = requests.post(f"{api}/auth/login", json={"username": f"  {nobody} ", "password": "tebak-lagi"}, timeout=10)
    # Then: it is refused without asking Cognito, saying when to retry
    assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_attempts", r.text
    assert int(r.headers["Retry-After"]) == r.json()["error"]["details"]["retry_after_s"] > 0
    # And: everyone else still signs in
    assert "Authorization" in login(stack, "auditor")


def test_an_app_refreshes_its_tokens_without_a_password(stack):
    api = stack["api"]
    # Given Ayu's tokens from signing in
    tokens = requests.post(f"{api}/auth/login", json={"username": AYU, "password": PASSWORD}, timeout=10).json()
    # When the app refreshes them (off-peak, no password)
    fresh = requests.post(f"{api}/auth/refresh", json={"refresh_token": tokens["refresh_token"]}, timeout=10)
    # Then the new ID token is hers and the API takes it
    assert fresh.status_code == 200, fresh.text
    me = requests.get(f"{api}/me", headers={"Authorization": f"Bearer {fresh.json()['id_token']}"}, timeout=10)
    assert me.status_code == 200 and me.json()["nip"] == AYU, me.text
    # And a forged refresh token is refused
    bad = requests.post(f"{api}/auth/refresh", json={"refresh_token": "forged.refresh.token"}, timeout=10)
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_refresh_token", bad.text


def test_bad_input_gets_a_clear_4xx_and_changes_nothing(stack):
    api, me, admin = stack["api"], login(stack, AYU), login(stack, "admin")
    days = f"{api}/me/attendance?from=2026-03-01&to=2026-03-04"
    before = requests.get(days, headers=me, timeout=10).json()
    deep = "[" * 5000 + "]" * 5000
    cases = [  # (what a careless or hostile client sends, the status and code it gets)
        (requests.post(f"{api}/checkins", data='{"session_id": "x", "location": {"lat": ' + "9" * 400 + ', "lon": 1}}',
                       headers={**me, "Content-Type": "application/json"}, timeout=10), 422, "invalid_number"),
        (requests.post(f"{api}/admin/employees", data=deep, headers={**admin, "Content-Type": "application/json"},
                       timeout=10), 400, "body_too_deep"),
        (requests.post(f"{api}/admin/employees", data="nip,name\n199001152015032001,Ni Luh \xe9\n".encode("latin-1"),
                       headers={**admin, "Content-Type": "text/csv"}, timeout=10), 422, "invalid_csv"),
        (requests.get(f"{api}/me/attendance?from=2026-03-01&to=9999-12-31", headers=me, timeout=10), 422, "invalid_date"),
        (requests.get(f"{api}/me", headers={"Authorization": "Bearer " + "e" * 9000}, timeout=10), 401, "invalid_token"),
        (requests.post(f"{api}/me/requests", data="kind=leave", headers={**me, "Content-Type": "text/plain"},
                       timeout=10), 415, "unsupported_media_type"),
        (requests.put(f"{api}/checkins", json={}, headers=me, timeout=10), 405, "method_not_allowed"),
    ]
    for r, status, code in cases:
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
        assert "Error" not in r.text and "Exception" not in r.text  # no class names, no AWS codes
    assert requests.get(days, headers=me, timeout=10).json() == before


def test_the_agency_sets_its_calendar_and_lateness_table(stack):
    api, admin = stack["api"], login(stack, "admin")
    # Given the demo calendar as seeded (the decrees' cuti bersama, version 1)
    cal = requests.get(f"{api}/admin/config/calendar", headers=admin, timeout=10).json()
    assert cal["version"] == 1 and cal["stored"] is True
    # When the admin saves it at the version read, and again with that stale version
    saved = requests.put(f"{api}/admin/config/calendar", json={"version": 1, "document": cal["document"]},
                         headers=admin, timeout=10)
    stale = requests.put(f"{api}/admin/config/calendar", json={"version": 1, "document": cal["document"]},
                         headers=admin, timeout=10)
    # Then the first is version 2 and the second is refused, nothing written
    assert saved.status_code == 200 and saved.json()["version"] == 2, saved.text
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "config_changed", stale.text
    # And the TL/PSW table, the national default until stored, is created with a grace period
    table = requests.get(f"{api}/admin/config/lateness", headers=admin, timeout=10).json()
    assert table["version"] is None and table["stored"] is False
    created = requests.put(f"{api}/admin/config/lateness", json={
        "version": None, "document": {**table["document"], "grace_minutes": 5}}, headers=admin, timeout=10)
    assert created.status_code == 200 and created.json()["version"] == 1, created.text
    # And the decrees' 8 cuti bersama days of 2026 are taken from every employee's annual leave
    balance = requests.get(f"{api}/me/requests", headers=login(stack, AYU), timeout=10).json()["leave_balance"]
    assert balance["year"] == 2026 and balance["cuti_bersama_days"] == 8
    assert balance["remaining"] <= balance["total"] - 8
    # And an employee may not read it; the audit log keeps both changes of the calendar
    assert requests.get(f"{api}/admin/config/calendar", headers=login(stack, AYU), timeout=10).status_code == 403
    log = requests.get(f"{api}/audit/log", params={"subject": "config#calendar", "from": "2026-03-01", "to": "2026-03-31"},
                       headers=login(stack, "auditor"), timeout=10)
    assert log.status_code == 200, log.text
    assert [e["action"] for e in log.json()["entries"]].count("config_changed") == 2


def test_the_month_is_recapped_for_the_allowance_and_audited(stack):
    api, admin, auditor = stack["api"], login(stack, "admin"), login(stack, "auditor")
    # When the admin produces March's recap (the month so far) and an employee tries to
    made = requests.post(f"{api}/admin/recaps", json={"month": "2026-03"}, headers=admin, timeout=60)
    assert made.status_code == 201, made.text
    assert requests.post(f"{api}/admin/recaps", json={"month": "2026-03"}, headers=login(stack, AYU),
                         timeout=10).status_code == 403
    bad = requests.post(f"{api}/admin/recaps", json={"month": "2100-12"}, headers=admin, timeout=10)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_month", bad.text
    # Then an auditor downloads the run's recap.csv, vouched for by its manifest
    listing = requests.get(f"{api}/audit/recaps", params={"month": "2026-03"}, headers=auditor, timeout=10)
    assert listing.status_code == 200, listing.text
    [run] = listing.json()["runs"]
    urls = {f["key"].rsplit("/", 1)[-1]: f["url"] for f in run["files"]}
    manifest = requests.get(urls["manifest.json"], timeout=10).json()
    recap_csv = requests.get(urls["recap.csv"], timeout=10).content
    vouched = {f["name"]: f["sha256"] for f in manifest["files"]}
    assert vouched["recap.csv"] == hashlib.sha256(recap_csv).hexdigest()
    rows = recap_csv.decode().strip().splitlines()
    assert rows[0].startswith("nip,") and len(rows) - 1 == made.json()["employees"] >= 3
    assert "consecutive_absent_days" in rows[0].split(",")
    # And the same rows as typed Parquet (the Athena table's file), vouched for by the same manifest
    [parquet] = [f for f in run["parquet"] if f["key"].startswith("analytics/recap/")]
    body = requests.get(parquet["url"], timeout=10).content
    assert hashlib.sha256(body).hexdigest() == {p["table"]: p["sha256"] for p in manifest["parquet"]}["recap"]
    table = pyarrow.parquet.read_table(io.BytesIO(body))
    assert table.num_rows == made.json()["employees"]
    assert pyarrow.types.is_integer(table.schema.field("working_days").type)
    assert pyarrow.types.is_date(table.schema.field("period_through").type)
    assert any(r.startswith(AYU) for r in rows[1:])


def test_the_agency_sets_schedules_and_moves_an_office_for_an_event_day(stack):
    api, admin, supervisor = stack["api"], login(stack, "admin"), login(stack, KETUT)
    # Given the defaults: no schedule (every office keeps its own hours), the Ramadan seasons
    got = requests.get(f"{api}/admin/config/schedules", headers=admin, timeout=10).json()
    assert got["version"] is None and got["document"]["schedules"] == []
    assert [s["id"] for s in got["document"]["seasons"]] == ["ramadan-2026", "ramadan-2027"]
    # When the admin adds the teachers' six-day week (nobody of the demo is a teacher)
    teachers = {"id": "guru", "name": "Guru", "applies_to": {"groups": ["guru"]}, "weekdays": [0, 1, 2, 3, 4, 5]}
    saved = requests.put(f"{api}/admin/config/schedules", json={"version": None, "document": {
        **got["document"], "schedules": [teachers]}}, headers=admin, timeout=10)
    # Then it is version 1; a supervisor may not set schedules, and a bad one is refused with its problem
    assert saved.status_code == 200 and saved.json()["version"] == 1, saved.text
    assert requests.put(f"{api}/admin/config/schedules", json={"version": 1, "document": {"schedules": []}},
                        headers=supervisor, timeout=10).status_code == 403
    bad = requests.put(f"{api}/admin/config/schedules", json={"version": 1, "document": {
        "schedules": [{**teachers, "weekdays": [7]}]}}, headers=admin, timeout=10)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_schedules", bad.text
    # When the admin moves Denpasar's check-in to the town square for a ceremony next week
    square = {"type": "circle", "lat": -8.6572, "lon": 115.2177, "radius_m": 150}
    event = requests.post(f"{api}/admin/events", json={
        "office_id": "kantor-denpasar", "date": "2026-03-10", "name": "Apel Gabungan", "geofence": square},
        headers=admin, timeout=10)
    # Then it is listed for that office; a past date, a forged office and a supervisor are refused
    assert event.status_code == 201, event.text
    listed = requests.get(f"{api}/admin/events", params={"office_id": "kantor-denpasar"}, headers=admin, timeout=10)
    assert [(e["date"], e["name"]) for e in listed.json()["events"]] == [("2026-03-10", "Apel Gabungan")]
    past = requests.post(f"{api}/admin/events", json={
        "office_id": "kantor-denpasar", "date": "2026-03-01", "name": "Late", "geofence": square},
        headers=admin, timeout=10)
    assert past.status_code == 422 and past.json()["error"]["code"] == "invalid_event", past.text
    forged = requests.post(f"{api}/admin/events", json={
        "office_id": "kantor-atlantis", "date": "2026-03-10", "name": "X", "geofence": square},
        headers=admin, timeout=10)
    assert forged.status_code == 404 and forged.json()["error"]["code"] == "office_not_found", forged.text
    assert requests.get(f"{api}/admin/events", headers=supervisor, timeout=10).status_code == 403
    # And both changes are in the audit log
    log = requests.get(f"{api}/audit/log", params={"subject": "config#events", "from": "2026-03-01",
                                                   "to": "2026-03-31"}, headers=login(stack, "auditor"), timeout=10)
    assert [e["action"] for e in log.json()["entries"]] == ["config_changed"], log.text


YOHANES, MARIA = "197907072004051001", "199406062018082001"  # Jayapura (WIT): 08:45 local on the stack's clock
JAYAPURA_CITY = {"type": "Polygon", "coordinates": [[[140.55, -2.75], [140.85, -2.75], [140.85, -2.45],
                                                     [140.55, -2.45], [140.55, -2.75]]]}


def ping(stack, user, lat, lon, device_id=None):
    return requests.post(f"{stack['api']}/me/pings", json={"location": location(lat, lon, "2026-03-03T08:44:50+09:00")},
                         headers={**login(stack, user), **({"X-Device-Id": device_id} if device_id else {})},
                         timeout=10)


def test_whereabouts_are_watched_in_working_hours_only_and_a_roster_is_published(stack):
    api, admin, head = stack["api"], login(stack, "admin"), login(stack, YOHANES)
    # Given the agency's region: Kota Jayapura
    region = requests.put(f"{api}/admin/config/region", json={"version": None, "document": {
        "name": "Kota Jayapura", "boundary": JAYAPURA_CITY}}, headers=admin, timeout=10)
    assert region.status_code == 200 and region.json()["version"] == 1, region.text
    # When Yohanes pings from his office, and Maria from Jakarta, both in Jayapura's working hours
    inside, outside = ping(stack, YOHANES, -2.5336, 140.7181), ping(stack, MARIA, -6.1754, 106.8272)
    # Then his is inside; hers opens an episode that alerts her supervisor once
    assert inside.status_code == 201 and inside.json()["outside"] is False, inside.text
    assert outside.status_code == 201 and outside.json()["episode"]["opened"] is True, outside.text
    # And a second ping within the minute is refused; Ayu's, before Denpasar's 08:00 start, too, stored nowhere
    again = ping(stack, MARIA, -6.1754, 106.8272)
    assert again.status_code == 429 and again.json()["error"]["code"] == "ping_too_soon", again.text
    bad_device = ping(stack, YOHANES, -2.5336, 140.7181, device_id="x")
    assert bad_device.status_code == 400 and bad_device.json()["error"]["code"] == "invalid_device_id", bad_device.text
    early = ping(stack, AYU, *DENPASAR)
    assert early.status_code == 409 and early.json()["error"]["code"] == "outside_working_hours", early.text
    # And her supervisor sees the episode and, now, her state; Ayu's supervisor does not see her
    episodes = requests.get(f"{api}/team/episodes", params={"date": "2026-03-03"}, headers=head, timeout=10).json()
    assert [(e["nip"], e["kind"], e["closed_at"]) for e in episodes["episodes"]] == [(MARIA, "outside_region", None)]
    now = {s["nip"]: s for s in requests.get(f"{api}/team/now", headers=head, timeout=10).json()["staff"]}
    assert now[MARIA]["state"] == "outside_region" and now[MARIA]["online"] is True
    assert MARIA not in {s["nip"] for s in requests.get(f"{api}/team/now", headers=login(stack, KETUT),
                                                         timeout=10).json()["staff"]}
    assert requests.get(f"{api}/team/now", headers=login(stack, MARIA), timeout=10).status_code == 403
    # And an admin looks at one unit at a time (a whole agency's staff is no screen)
    bare = requests.get(f"{api}/team/now", headers=admin, timeout=10)
    assert bare.status_code == 422 and bare.json()["error"]["code"] == "unit_required", bare.text
    unit = requests.get(f"{api}/team/now", params={"unit": "Perwakilan Jayapura"}, headers=admin, timeout=10)
    assert unit.status_code == 200 and {s["unit"] for s in unit.json()["staff"]} == {"Perwakilan Jayapura"}, unit.text
    assert MARIA in {s["nip"] for s in unit.json()["staff"]}
    queue_bare = requests.get(f"{api}/team/reviews", headers=admin, timeout=10)
    assert queue_bare.status_code == 422 and queue_bare.json()["error"]["code"] == "unit_required", queue_bare.text
    # And the episode, with its pings as evidence, waits in her supervisor's review queue, not in Ketut's
    rid = f"w.{MARIA}.2026-03-03.{outside.json()['episode']['episode_id']}"
    queue = requests.get(f"{api}/team/reviews", params={"from": "2026-03-02", "to": "2026-03-04"}, headers=head,
                         timeout=10).json()["items"]
    item = next(i for i in queue if i["review_id"] == rid)
    assert item["kind"] == "episode" and item["episode"]["first"]["reasons"][0]["code"] == "outside_region"
    assert item["episode"]["evidence"][0]["lat"] == -6.1754
    ketut = login(stack, KETUT)
    assert rid not in {i["review_id"] for i in requests.get(f"{api}/team/reviews", headers=ketut,
                                                            timeout=10).json()["items"]}
    refused = requests.post(f"{api}/team/reviews/{rid}", json={"decision": "approve"}, headers=ketut, timeout=10)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_your_staff", refused.text
    # When her supervisor judges it unjustified (a reject needs a comment)
    bare = requests.post(f"{api}/team/reviews/{rid}", json={"decision": "reject"}, headers=head, timeout=10)
    assert bare.status_code == 422 and bare.json()["error"]["code"] == "comment_required", bare.text
    decided = requests.post(f"{api}/team/reviews/{rid}", json={"decision": "reject",
                                                               "comment": "Tidak ada izin keluar daerah"},
                            headers=head, timeout=10)
    assert decided.status_code == 200 and decided.json()["decision"] == "rejected", decided.text
    # Then it is decided once, gone from the queue, shown on the episode, and Maria is told
    again = requests.post(f"{api}/team/reviews/{rid}", json={"decision": "approve"}, headers=head, timeout=10)
    assert again.status_code == 409 and again.json()["error"]["code"] == "review_not_pending", again.text
    assert rid not in {i["review_id"] for i in requests.get(f"{api}/team/reviews", headers=head,
                                                            timeout=10).json()["items"]}
    shown = requests.get(f"{api}/team/episodes", params={"date": "2026-03-03"}, headers=head, timeout=10).json()
    assert shown["episodes"][0]["review"]["decision"] == "rejected"
    told = requests.get(f"{api}/me/notifications", headers=login(stack, MARIA), timeout=10).json()["items"]
    assert [n["details"]["decision"] for n in told if n["ref"] == rid] == ["rejected"]
    # When the admin asks for next week's WFO/WFH roster of Denpasar's unit at half the staff in the office
    roster = requests.post(f"{api}/admin/rosters", json={"unit": "Bagian Umum Denpasar", "first": "2026-03-09",
                                                         "through": "2026-03-13", "max_share": 0.5},
                           headers=admin, timeout=30)
    # Then every day has at most one of the three in the office, and the rotation is fair
    assert roster.status_code == 200, roster.text
    body = roster.json()
    assert body["headcount"] == 3 and body["hi"] == 1 and body["published"] is False
    per_day = [sum(r["days"][i] == "WFO" for r in body["staff"]) for i in range(len(body["days"]))]
    assert per_day and max(per_day) <= 1
    office = [r["office_days"] for r in body["staff"]]
    assert max(office) - min(office) <= 1
    # When Ketut, their supervisor, publishes it (solved again on the server)
    week = {"unit": "Bagian Umum Denpasar", "first": "2026-03-09", "through": "2026-03-13", "max_share": 0.5}
    sup = login(stack, KETUT)
    published = requests.post(f"{api}/admin/rosters/publish", json=week, headers=sup, timeout=30)
    assert published.status_code == 201, published.text
    pub = published.json()
    assert pub["published"] is True and pub["version"] == 1 and pub["roster_id"] == "2026-03#Bagian Umum Denpasar"
    # Then publishing again without naming the version it replaces is refused, and the first stands
    twice = requests.post(f"{api}/admin/rosters/publish", json=week, headers=sup, timeout=30)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "roster_changed", twice.text
    # And Ayu sees her days, as published, and was told once
    ayu = login(stack, AYU)
    mine = requests.get(f"{api}/me/roster", params={"month": "2026-03"}, headers=ayu, timeout=10).json()
    row = next(r for r in pub["staff"] if r["nip"] == AYU)
    assert mine["version"] == 1 and [d["status"] for d in mine["days"]] == row["days"]
    told = requests.get(f"{api}/me/notifications", headers=ayu, timeout=10).json()["items"]
    assert [n["details"]["version"] for n in told if n["topic"] == "roster_published"] == [1]
    # And another unit's supervisor cannot read it
    other = requests.get(f"{api}/admin/rosters", params={"unit": "Bagian Umum Denpasar", "month": "2026-03"},
                         headers=head, timeout=10)
    assert other.status_code == 404 and other.json()["error"]["code"] == "unit_not_found", other.text


def test_the_admin_imports_staff_as_a_job_with_per_row_results(stack):
    api, admin = stack["api"], login(stack, "admin")
    csv_file = ("nip;nama;unit_kerja;kantor;nip_atasan;peran\r\n"
                "199501012020011001;Wayan Baru;Bidang Impor Denpasar;kantor-denpasar;;employee\r\n"
                "199501012020011002;Nyoman Baru;Bidang Impor Denpasar;kantor-denpasar;;employee\r\n"
                "199501012020011003;Komang Baru;Bidang Impor Denpasar;kantor-denpasar;;employee\r\n"
                "123;Salah NIP;Bidang Impor Denpasar;kantor-denpasar;;employee\r\n").encode()
    # Given an upload slot for a Simpeg CSV, and the file uploaded to it directly
    made = requests.post(f"{api}/admin/imports", json={"content_type": "text/csv"}, headers=admin, timeout=10)
    assert made.status_code == 201 and made.json()["state"] == "uploaded", made.text
    job, target = made.json()["import_id"], made.json()["upload"]
    sent = requests.post(target["url"], data=target["fields"], files={"file": ("pegawai.csv", csv_file, "text/csv")},
                         timeout=10)
    assert sent.status_code in (200, 201, 204), sent.text
    # When the admin starts it and the queue's consumer works through it
    started = requests.post(f"{api}/admin/imports/{job}/start", headers=admin, timeout=10)
    assert started.status_code == 200 and started.json()["state"] == "queued", started.text

    def finished() -> dict:
        for _ in range(30):
            requests.post(f"{stack['control']}/drain", timeout=60)
            body = requests.get(f"{api}/admin/imports/{job}", headers=admin, timeout=10).json()
            if body["state"] in ("done", "failed"):
                return body
            time.sleep(1)
        raise AssertionError(f"import {job} did not finish: {body}")
    # Then it is done, with each row's result: three imported, the bad NIP refused with its code
    body = finished()
    assert (body["state"], body["total"], body["done"], body["failed"]) == ("done", 4, 3, 1), body
    assert [r["error"]["code"] for r in body["rows"] if r.get("error")] == ["invalid_nip"]
    # And the employees exist; an employee may not look at imports; an unknown id is 404
    listed = requests.get(f"{api}/admin/employees/199501012020011002/sites", headers=admin, timeout=10)
    assert listed.status_code == 200 and listed.json()["nip"] == "199501012020011002", listed.text
    assert requests.get(f"{api}/admin/imports/{job}", headers=login(stack, AYU), timeout=10).status_code == 403
    unknown = requests.get(f"{api}/admin/imports/{'0' * 32}", headers=admin, timeout=10)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "import_not_found", unknown.text
    # When it is started again, nothing changes
    assert requests.post(f"{api}/admin/imports/{job}/start", headers=admin, timeout=10).status_code == 200
    again = finished()
    assert (again["total"], again["done"], again["failed"]) == (4, 3, 1), again


def test_a_task_is_assigned_and_a_daily_report_with_an_attachment_is_returned_then_accepted(stack):
    api, sup, ayu = stack["api"], login(stack, KETUT), login(stack, AYU)
    pdf = b"%PDF-1.4\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 40 + b"%%EOF\n"

    def attach(path, headers):
        slot = requests.post(f"{api}{path}", json={"content_type": "application/pdf"}, headers=headers, timeout=10)
        assert slot.status_code == 201, slot.text
        target = slot.json()["upload"]
        sent = requests.post(target["url"], data=target["fields"],
                             files={"file": ("laporan.pdf", pdf, "application/pdf")}, timeout=10)
        assert sent.status_code in (200, 201, 204), sent.text
        return slot.json()["upload_id"]
    admin = login(stack, "admin")
    # Given Ayu works from home today (her home site, a WFH request Ketut approves)
    site = requests.post(f"{api}/admin/employees/{AYU}/sites", json={
        "site_id": "rumah-ayu", "kind": "home", "valid_from": "2026-03-03", "valid_to": "2026-03-03",
        "geofence": {"type": "circle", "lat": -8.65, "lon": 115.22, "radius_m": 60}}, headers=admin, timeout=10)
    assert site.status_code == 201, site.text
    wfh = requests.post(f"{api}/me/requests", json={"type": "wfh", "start": "2026-03-03", "end": "2026-03-03",
                                                    "reason": "WFH atas penugasan"}, headers=ayu, timeout=10)
    assert wfh.status_code == 201, wfh.text
    assert requests.post(f"{api}/team/requests/{wfh.json()['request_id']}", json={"decision": "approve"},
                         headers=sup, timeout=10).status_code == 200

    def work_day():
        now = requests.get(f"{api}/team/now", headers=sup, timeout=10)
        assert now.status_code == 200, now.text
        [me] = [x for x in now.json()["staff"] if x["nip"] == AYU]
        return me["work_day"], {r["code"] for r in me["reasons"]}
    # Then Ketut's team view shows her WFH day with its report still due (until 09:00 WITA tomorrow)
    day, reasons = work_day()
    assert (day["work_mode"], day["source"], day["report"], day["report_due"]) == ("WFH", "request", "none", "due")
    assert day["cutoff"] == "2026-03-04T09:00:00+08:00" and "report_due" in reasons
    # Given Ketut assigns Ayu a task with a PDF brief
    made = requests.post(f"{api}/team/tasks", json={"assignees": [AYU], "title": "Rekap surat masuk",
                                                    "due": "2026-03-05",
                                                    "upload_id": attach("/team/tasks/uploads", sup)},
                         headers=sup, timeout=10)
    assert made.status_code == 201, made.text
    [task] = made.json()["tasks"]
    assert task["status"] == "open" and requests.get(task["attachment"]["url"], timeout=10).content == pdf
    # And Yohanes, another unit's supervisor, cannot decide it
    other = requests.post(f"{api}/team/tasks/{AYU}/{task['task_id']}", json={"decision": "accept"},
                          headers=login(stack, YOHANES), timeout=10)
    assert other.status_code == 403, other.text
    # When Ayu hands it in and writes today's report, linked to it, with a PDF attached
    handed = requests.post(f"{api}/me/tasks/{task['task_id']}/submit", json={"note": "Sudah direkap"}, headers=ayu,
                           timeout=10)
    assert handed.status_code == 200 and handed.json()["status"] == "submitted", handed.text
    upload_id = attach("/me/reports/2026-03-03/uploads", ayu)
    report = requests.put(f"{api}/me/reports/2026-03-03", json={"text": "Merekap surat masuk",
                                                                 "task_ids": [task["task_id"]],
                                                                 "attachments": [upload_id]}, headers=ayu, timeout=10)
    # Then it is submitted, editable until 09:00 WITA tomorrow
    assert report.status_code == 200, report.text
    assert (report.json()["status"], report.json()["editable_until"]) == ("submitted", "2026-03-04T09:00:00+08:00")
    # When Ketut sees it in his team's reports and returns it with a comment, she is told
    team = requests.get(f"{api}/team/reports", params={"date": "2026-03-03"}, headers=sup, timeout=10).json()
    [seen] = [r for r in team["reports"] if r["nip"] == AYU]
    assert requests.get(seen["attachments"][0]["url"], timeout=10).content == pdf
    back = requests.post(f"{api}/team/reports/{AYU}/2026-03-03", json={"decision": "return", "comment": "Lengkapi"},
                         headers=sup, timeout=10)
    assert back.status_code == 200 and back.json()["status"] == "returned", back.text
    assert work_day()[0]["report"] == "returned"
    told = requests.get(f"{api}/me/notifications", headers=ayu, timeout=10).json()["items"]
    assert any(n["topic"] == "report_decided" for n in told)
    # When she rewrites it and he accepts it, and the task too
    again = requests.put(f"{api}/me/reports/2026-03-03", json={"text": "Merekap 40 surat masuk",
                                                                "task_ids": [task["task_id"]],
                                                                "attachments": [upload_id]}, headers=ayu, timeout=10)
    assert again.status_code == 200 and again.json()["status"] == "submitted", again.text
    ok = requests.post(f"{api}/team/reports/{AYU}/2026-03-03", json={"decision": "accept"}, headers=sup, timeout=10)
    assert ok.status_code == 200 and ok.json()["status"] == "accepted", ok.text
    day, reasons = work_day()
    assert (day["report"], day["report_due"]) == ("accepted", None) and "report_due" not in reasons
    done = requests.post(f"{api}/team/tasks/{AYU}/{task['task_id']}", json={"decision": "accept"}, headers=sup,
                         timeout=10)
    assert done.status_code == 200 and done.json()["status"] == "accepted", done.text
    # Then an accepted report is never edited
    late = requests.put(f"{api}/me/reports/2026-03-03", json={"text": "ubah"}, headers=ayu, timeout=10)
    assert late.status_code == 409 and late.json()["error"]["code"] == "report_accepted", late.text
    # And the month's recap carries the required reports' counts for everyone
    made = requests.post(f"{api}/admin/recaps", json={"month": "2026-03"}, headers=admin, timeout=60)
    assert made.status_code == 201, made.text
    runs = requests.get(f"{api}/audit/recaps", params={"month": "2026-03"}, headers=login(stack, "auditor"),
                        timeout=10).json()["runs"]
    latest = max(runs, key=lambda run: run["run_id"])
    urls = {f["key"].rsplit("/", 1)[-1]: f["url"] for f in latest["files"]}
    rows = list(csv.DictReader(io.StringIO(requests.get(urls["recap.csv"], timeout=10).text)))
    # (the month so far ends yesterday, so today's report counts from tomorrow's recap on:
    # tests/api/test_work_seen.py counts a month's submitted, accepted and missing reports)
    [mine] = [r for r in rows if r["nip"] == AYU]
    assert {k: mine[k] for k in ("reports_required", "reports_submitted", "reports_accepted", "reports_missing")} == {
        "reports_required": "0", "reports_submitted": "0", "reports_accepted": "0", "reports_missing": "0"}
    assert all(r["reports_required"].isdigit() and r["reports_missing"].isdigit() for r in rows)
