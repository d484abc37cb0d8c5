"""What the jobs and the queue consumer really call, recorded against moto, is what their roles
grant (hadir_infra.access.REACHES, from which test_synth.py derives and checks each role).

Given the seeded agency in moto with a day's check-in, when a scheduled job or the consumer runs
its handler, then every AWS call it makes (DynamoDB aside: the table grants are the same for
every role) is an action its kind's role allows, and the calls only its kind makes are never made.
"""
from __future__ import annotations

import contextlib

import boto3
import pytest

from hadir_infra.access import ABSENCE, ANALYTICS, API, EMAIL, EXPORT, FRAMES, REACHES
from tests.api.helpers import AYU, check_in, checkin_session, enrol
from tests.infra.calls import OPERATION_ACTIONS, needed_actions

REGION = "ap-southeast-3"


@contextlib.contextmanager
def recorded():
    """(IAM action) of every botocore call made inside the block."""
    from botocore.client import BaseClient
    calls: set[str] = set()
    original = BaseClient._make_api_call

    def record(self, operation, params):
        service = self.meta.service_model.signing_name  # the IAM prefix here (SES: ses)
        calls.add(OPERATION_ACTIONS.get((service, operation), f"{service}:{operation}"))
        return original(self, operation, params)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(BaseClient, "_make_api_call", record)
        yield calls


def _outside_dynamodb(calls: set[str]) -> set[str]:
    return {c for c in calls if not c.startswith("dynamodb:")}


@pytest.fixture
def a_day_with_a_checkin(api, set_now):
    set_now("2026-03-03T07:45:00+08:00")
    assert enrol(api, AYU).status_code == 201
    assert check_in(api, AYU, checkin_session(api, AYU)).status_code == 201
    return api


def test_the_absence_job_calls_only_what_its_role_allows(a_day_with_a_checkin, set_now):
    from chalicelib.api.events import HANDLERS
    set_now("2026-03-03T10:30:00+08:00")
    with recorded() as calls:
        report = HANDLERS["detect_absence_wita"]({})
    assert report  # Made was absent: his supervisor was told (SNS)
    assert "sns:Publish" in calls
    assert _outside_dynamodb(calls) <= needed_actions(ABSENCE, REACHES[ABSENCE])


def test_the_export_calls_only_what_the_analytics_role_allows(a_day_with_a_checkin, set_now):
    # The scheduled export invokes the analytics function (here, without one, in process: what is
    # recorded is the function's work); the export job's own role may only invoke it
    from chalicelib.api.events import HANDLERS
    set_now("2026-03-04T00:31:00+08:00")
    with recorded() as calls:
        HANDLERS["export_wita"]({})
    assert "s3:PutObject" in calls
    assert not [a for a in needed_actions(EXPORT, REACHES[EXPORT]) if a.startswith(("s3:", "kms:"))]
    allowed = needed_actions(ANALYTICS, REACHES[ANALYTICS])
    assert _outside_dynamodb(calls) <= allowed, _outside_dynamodb(calls) - allowed
    assert "s3:ListBucket" in calls  # it looks for the run to chain to
    assert not {"s3:DeleteObject", "s3:DeleteObjectVersion"} & allowed  # and never deletes one


def test_the_email_consumer_calls_only_what_its_role_allows(a_day_with_a_checkin, set_now):
    from chalice.test import Client

    import app as app_module
    from chalicelib.services import jobs
    from chalicelib.wiring import get_services
    set_now("2026-03-03T10:30:00+08:00")
    jobs.detect_absence(get_services(), "WITA")
    sqs = boto3.client("sqs", region_name=REGION)
    queue = get_services().settings.queues["email-outbox"]
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    with Client(app_module.app, stage_name="test") as client:
        event = client.events.generate_sqs_event(message_bodies=bodies, queue_name=queue)
        with recorded() as calls:
            client.lambda_.invoke("send_supervisor_email", event)
    assert "ses:SendEmail" in calls
    allowed = needed_actions(EMAIL, REACHES[EMAIL])
    assert _outside_dynamodb(calls) <= allowed, _outside_dynamodb(calls) - allowed
    assert not [a for a in allowed if a.startswith(("s3:", "kms:", "cognito-idp:", "sns:"))]


def test_the_monthly_recap_calls_only_what_the_analytics_role_allows(a_day_with_a_checkin, set_now):
    # Given March 2026 over; When the admin produces its recap (the analytics function writes it;
    # in process here), then its calls are the analytics role's, and the API's role writes no export
    set_now("2026-04-02T09:00:00+08:00")
    a_day_with_a_checkin.token("admin")  # signed in before (the login is not the route's call)
    with recorded() as calls:
        r = a_day_with_a_checkin.post("/admin/recaps", {"month": "2026-03"}, user="admin")
    assert r.status_code == 201, r.json
    assert "s3:PutObject" in calls
    allowed = needed_actions(ANALYTICS, REACHES[ANALYTICS])
    assert _outside_dynamodb(calls) <= allowed, _outside_dynamodb(calls) - allowed
    assert "S3Exports.put" not in REACHES[API]  # (its PutObject is on the uploads: test_synth.py)
    assert "lambda:InvokeFunction" in needed_actions(API, REACHES[API])


def test_the_frame_deleter_calls_only_what_its_role_allows(api, set_now):
    from tests.api.test_used_frames import _deliver, _stored_session, _used_record
    set_now("2026-03-03T07:45:00+08:00")
    assert enrol(api, AYU).status_code == 201
    session_id = checkin_session(api, AYU)
    assert check_in(api, AYU, session_id).status_code == 201
    with recorded() as calls:
        assert _deliver(_used_record(_stored_session(session_id)))["frames"] >= 1
    assert _outside_dynamodb(calls) == {"s3:DeleteObject"}
    assert _outside_dynamodb(calls) <= needed_actions(FRAMES, REACHES[FRAMES])


def test_the_import_jobs_consumer_calls_only_what_the_import_role_allows(api, monkeypatch):
    # Given an uploaded and started import (the API queued its plan)
    from hadir_infra.access import IMPORT
    from chalicelib.services import import_jobs
    from tests.api.test_import_jobs import run_queue, upload
    from bench.simpeg import csv_bytes, rows
    monkeypatch.setattr(import_jobs, "SLEEP", lambda s: None)
    import_id = upload(api, csv_bytes(rows(3)))
    with recorded() as by_api:
        assert api.post(f"/admin/imports/{import_id}/start", user="admin").status_code == 200
    assert "sqs:SendMessageBatch" not in by_api and "sqs:SendMessage" in by_api
    assert _outside_dynamodb(by_api) <= needed_actions(API, REACHES[API])
    # When the consumer runs its steps, then it calls Cognito, S3 and its queue within its role
    with recorded() as calls:
        handled, failed = run_queue()
    assert handled >= 2 and not failed
    assert {"cognito-idp:AdminCreateUser", "s3:GetObject", "sqs:SendMessage"} <= calls
    consumer = {c for c in calls if not c.startswith("sqs:") or c in ("sqs:SendMessage", "sqs:GetQueueUrl")}
    allowed = needed_actions(IMPORT, REACHES[IMPORT])
    assert _outside_dynamodb(consumer) <= allowed, _outside_dynamodb(consumer) - allowed
