"""Absence detection per time zone (one notice per supervisor, twice changes nothing), the e-mail
consumer, the daily export and GET /audit/exports."""

import json

import boto3
import pytest

from tests.api.helpers import AYU, KETUT, MADE, check_in, checkin_session, enrol

REGION = "ap-southeast-3"


def run(handler_name):
    from chalicelib.api.events import HANDLERS
    return HANDLERS[handler_name]({})


def given_ayu_checked_in(api, set_now):
    set_now("2026-03-03T07:45:00+08:00")
    assert enrol(api, AYU).status_code == 201
    assert check_in(api, AYU, checkin_session(api, AYU)).status_code == 201


def test_absence_detection_marks_absentees_and_notifies_each_supervisor_once(api, set_now, tap):
    given_ayu_checked_in(api, set_now)
    set_now("2026-03-03T10:30:00+08:00")
    # When
    report = run("detect_absence_wita")
    # Then: Made (no check-in) and Ketut (supervisor, also staff) are absent; Ayu is not
    assert report["absent"] == 2 and report["notices"] == 1
    notices = tap()
    assert len(notices) == 1
    assert notices[0]["supervisor_nip"] == KETUT
    assert [a["nip"] for a in notices[0]["absentees"]] == [MADE]
    team = {s["nip"]: s["status"] for s in api.get("/team/attendance?date=2026-03-03", user=KETUT).json["staff"]}
    assert team == {AYU: "present", MADE: "absent"}


def test_running_absence_detection_twice_changes_nothing(api, set_now, tap):
    given_ayu_checked_in(api, set_now)
    set_now("2026-03-03T10:30:00+08:00")
    run("detect_absence_wita")
    tap()
    # When
    again = run("detect_absence_wita")
    # Then
    assert again["absent"] == 0 and again["notices"] == 0
    assert tap() == []


def test_absence_detection_waits_for_the_window_to_close(api, set_now, tap):
    set_now("2026-03-03T07:30:00+08:00")
    report = run("detect_absence_wita")
    assert report["absent"] == 0 and report["skipped_offices"][0]["reason"] == "window_open"


def test_no_absences_on_a_weekend(api, set_now, tap):
    set_now("2026-03-07T10:30:00+08:00")
    assert run("detect_absence_wita")["absent"] == 0


def test_other_zones_are_not_touched(api, set_now):
    set_now("2026-03-03T10:30:00+08:00")  # 09:30 WIB: Jakarta's window still open
    report = run("detect_absence_wib")
    assert report["absent"] == 0


def test_email_consumer_sends_one_ses_mail_per_notice(api, set_now):
    from chalice.test import Client

    import app as app_module
    from chalicelib.services import jobs
    from chalicelib.wiring import get_services
    set_now("2026-03-03T10:30:00+08:00")
    jobs.detect_absence(get_services(), "WITA")
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName="hadir-pemkab-demo-test-email-outbox")["QueueUrl"]
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    assert len(bodies) == 1
    with Client(app_module.app, stage_name="test") as client:
        event = client.events.generate_sqs_event(message_bodies=bodies * 2, queue_name="hadir-pemkab-demo-test-email-outbox")
        client.lambda_.invoke("send_supervisor_email", event)
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends
    sent = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    assert len(sent) == 1 and sent[0].destinations["ToAddresses"] == ["ketut.wirawan@denpasar.example.go.id"]


def test_export_writes_csv_and_manifest_and_auditors_can_download(api, set_now):
    import hashlib

    import requests
    given_ayu_checked_in(api, set_now)
    set_now("2026-03-03T10:30:00+08:00")
    run("detect_absence_wita")
    assert api.get("/audit/exports?date=2026-03-03", user="auditor").status_code == 404
    set_now("2026-03-04T00:31:00+08:00")
    # When
    out = run("export_wita")
    # Then
    assert out["date"] == "2026-03-03" and out["rows"] == 3
    r = api.get("/audit/exports?date=2026-03-03", user="auditor")
    assert r.status_code == 200, r.json
    files = {f["key"].rsplit("/", 1)[-1]: f["url"] for f in r.json["files"]}
    assert set(files) == {"records.csv", "audit.csv", "manifest.json"}
    assert "agency=pemkab-demo" in r.json["files"][0]["key"]
    csv_bytes = requests.get(files["records.csv"], timeout=5).content
    manifest = requests.get(files["manifest.json"], timeout=5).json()
    assert manifest["sha256"] == hashlib.sha256(csv_bytes).hexdigest() and manifest["rows"] == 3
    assert b"absent" in csv_bytes and AYU.encode() in csv_bytes
    # And Ayu's check-in row carries its evidence: face score, distance and GPS accuracy
    import csv
    import io
    rows = list(csv.DictReader(io.StringIO(csv_bytes.decode())))
    ayu = next(r for r in rows if r["nip"] == AYU and r["kind"] == "in")
    assert ayu["decision"] == "accepted" and float(ayu["face_score"]) > 0
    assert float(ayu["distance_m"]) < 5 and float(ayu["accuracy_m"]) == 8.0
    # And the audit file has its own checksum and row count in the manifest, and holds the day's
    # privileged actions (Ayu's consent to her enrolment among them)
    audit_bytes = requests.get(files["audit.csv"], timeout=5).content
    entries = list(csv.DictReader(io.StringIO(audit_bytes.decode())))
    assert manifest["audit"]["sha256"] == hashlib.sha256(audit_bytes).hexdigest()
    assert manifest["audit"]["rows"] == len(entries) == out["audit_rows"]
    consent = next(e for e in entries if e["action"] == "biometric_consent_given")
    assert consent["subject"] == f"employee#{AYU}" and json.loads(consent["after"])["enrolled"] is True


def test_exports_are_encrypted_under_the_data_kms_key_not_s3_managed_keys(api, set_now, aws_env):
    from chalicelib.common import resources as r
    # Given a day with a check-in, exported after the WITA day ended
    given_ayu_checked_in(api, set_now)
    set_now("2026-03-04T00:31:00+08:00")
    out = run("export_wita")
    # When the objects' encryption is read back from S3
    s3 = boto3.client("s3", region_name=REGION)
    for name in ("records.csv", "audit.csv", "manifest.json"):
        head = s3.head_object(Bucket="hadir-pemkab-demo-test-exports", Key=out["key"].replace("records.csv", name))
        # Then both are SSE-KMS under the data key the stack gives the exports bucket
        assert head["ServerSideEncryption"] == "aws:kms", name
        assert head["SSEKMSKeyId"] == aws_env[r.DATA_KEY.env], name


def test_audit_exports_needs_a_valid_date(api):
    r = api.get("/audit/exports?date=03-03-2026", user="auditor")
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_date"
    assert api.get("/audit/exports", user="auditor").status_code == 422


def test_a_notice_lost_to_an_sns_failure_is_sent_by_the_next_run(api, set_now, tap, monkeypatch):
    from chalicelib.adapters.notify import SnsSesNotifier
    from chalicelib.common.errors import Unavailable
    given_ayu_checked_in(api, set_now)
    set_now("2026-03-03T10:30:00+08:00")
    # Given a run that wrote the absences but could not publish the notice (SNS down)
    real_publish = SnsSesNotifier.publish

    def down(self, notice, subject):
        raise Unavailable("The notice could not be published", code="notify_failure")

    monkeypatch.setattr(SnsSesNotifier, "publish", down)
    with pytest.raises(Unavailable):
        run("detect_absence_wita")
    assert tap() == []
    monkeypatch.setattr(SnsSesNotifier, "publish", real_publish)
    # When the job runs again
    again = run("detect_absence_wita")
    # Then nothing is marked twice but Ketut gets his notice, once
    assert again["absent"] == 0 and again["notices"] == 1
    notices = tap()
    assert [[a["nip"] for a in n["absentees"]] for n in notices] == [[MADE]]
    assert run("detect_absence_wita")["notices"] == 0 and tap() == []


def test_audit_exports_lists_only_this_agencys_files(api, aws_env):
    # Given an export of another agency in the same bucket
    from chalicelib.wiring import get_services
    bucket = get_services().settings.buckets["exports"]
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=bucket, Key="attendance/date=2026-03-03/agency=pemkab-lain/records.csv", Body=b"x")
    # When / Then: this deployment's auditor sees nothing for that date
    r = api.get("/audit/exports?date=2026-03-03", user="auditor")
    assert r.status_code == 404 and r.json["error"]["code"] == "export_not_found"


def test_a_late_check_in_after_the_absence_mark_replaces_it(api, set_now, tap):
    # Given Made was marked absent when the WITA check-in window closed
    set_now("2026-03-03T10:30:00+08:00")
    assert enrol(api, MADE).status_code == 201
    run("detect_absence_wita")
    team = {s["nip"]: s for s in api.get("/team/attendance?date=2026-03-03", user=KETUT).json["staff"]}
    assert team[MADE]["status"] == "absent" and team[MADE]["reasons"]
    # When he checks in late, at 10:45
    set_now("2026-03-03T10:45:00+08:00")
    from tests.api.helpers import location
    r = check_in(api, MADE, checkin_session(api, MADE), loc=location(captured_at="2026-03-03T10:44:50+08:00"))
    assert r.status_code == 201, r.json
    # Then his day is late for the reason of that check-in, none of the absence's left on it
    team = {s["nip"]: s for s in api.get("/team/attendance?date=2026-03-03", user=KETUT).json["staff"]}
    assert team[MADE]["status"] == "late" and team[MADE]["late_minutes"] > 0
    assert [(x["code"], x["checkin_id"]) for x in team[MADE]["reasons"]] == [("late", r.json["checkin_id"])]
    assert team[MADE]["first_in"].startswith("10:45")
    from chalicelib.wiring import get_services
    day = get_services().records.day(MADE, "2026-03-03").day
    assert day.absence_replaced[0]["code"] == "no_checkin"  # why it was first marked absent stays on record


def test_a_lockout_notice_becomes_one_email_to_the_supervisor(api, set_now):
    from chalice.test import Client

    import app as app_module
    from chalicelib.services import notices
    from chalicelib.wiring import get_services
    # Given a lockout notice as the check-in publishes it
    notice = {"kind": notices.LOCKOUT, "nip": AYU, "name": "Ni Luh Putu Ayu", "supervisor_nip": KETUT,
              "supervisor_email": "ketut.wirawan@denpasar.example.go.id", "failures": 5,
              "since": "2026-03-02T23:45:00+00:00", "until": "2026-03-03T00:00:00+00:00", "retry_after_s": 600}
    assert notices.publish_lockout(get_services(), notice)
    assert not notices.publish_lockout(get_services(), notice)  # once per lockout
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName="hadir-pemkab-demo-test-email-outbox")["QueueUrl"]
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    # When the e-mail consumer receives it (twice)
    with Client(app_module.app, stage_name="test") as client:
        event = client.events.generate_sqs_event(message_bodies=bodies * 2, queue_name="hadir-pemkab-demo-test-email-outbox")
        client.lambda_.invoke("send_supervisor_email", event)
    # Then the supervisor gets one e-mail naming the employee and the failures
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends
    [mail] = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
    assert mail.destinations["ToAddresses"] == ["ketut.wirawan@denpasar.example.go.id"]
    assert AYU in mail.body and "5 face checks" in mail.body


def test_a_flagged_check_in_is_pending_review_reported_in_the_digest_not_excused(api, set_now, tap):
    from tests.api.helpers import location
    set_now("2026-03-03T07:45:00+08:00")
    assert enrol(api, AYU).status_code == 201
    # Given Ayu's check-in flagged (the office's centre typed in as her position)
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(lat=-8.6705, lon=115.2126))
    assert r.json["decision"] == "flagged", r.json
    set_now("2026-03-03T10:30:00+08:00")
    # When absence detection runs
    report = run("detect_absence_wita")
    # Then her day is pending review: not absent, and in her supervisor's digest as such
    assert report["pending_review"] == 1
    [notice] = tap()
    assert [a["nip"] for a in notice["pending_review"]] == [AYU]
    assert AYU not in [a["nip"] for a in notice["absentees"]]
    # And the digest's review id opens the review in the queue (link-ready)
    review_id = notice["pending_review"][0]["review_id"]
    assert review_id == f"c.{AYU}.2026-03-03.{r.json['checkin_id']}"
    assert [i["review_id"] for i in api.get("/team/reviews", user=KETUT).json["items"]] == [review_id]
    team = {s["nip"]: s["status"] for s in api.get("/team/attendance?date=2026-03-03", user=KETUT).json["staff"]}
    assert team[AYU] == "pending_review"


def test_a_check_out_alone_leaves_the_day_absent(api, set_now, tap):
    from tests.api.helpers import location
    set_now("2026-03-03T07:45:00+08:00")
    assert enrol(api, AYU).status_code == 201
    # Given a check-out alone before absence detection, and another after it
    set_now("2026-03-03T08:00:00+08:00")
    out = check_in(api, AYU, checkin_session(api, AYU), kind="out", loc=location(captured_at="2026-03-03T07:59:50+08:00"))
    assert out.json["decision"] == "flagged" and "no_checkin" in [x["code"] for x in out.json["reasons"]]
    set_now("2026-03-03T10:30:00+08:00")
    report = run("detect_absence_wita")
    # Then the day is absent (its check-out kept), and the digest lists her
    day = api.get("/me/attendance?from=2026-03-03&to=2026-03-03", user=AYU).json["days"][0]
    assert day["status"] == "absent" and report["absent"] >= 1
    assert AYU in [a["nip"] for a in tap()[0]["absentees"]]
    # When she checks out again in the afternoon
    set_now("2026-03-03T16:30:00+08:00")
    again = check_in(api, AYU, checkin_session(api, AYU), kind="out",
                     loc=location(captured_at="2026-03-03T16:29:50+08:00"))
    assert again.status_code == 201, again.json
    # Then the day is still absent
    day = api.get("/me/attendance?from=2026-03-03&to=2026-03-03", user=AYU).json["days"][0]
    assert day["status"] == "absent"
