"""A used upload session's raw frames deleted seconds after the check-in or enrolment that read
them (api/events.py ``delete_used_frames``, fed by the sessions table's stream), not at the
lifecycle's day; what a review needs was copied to evidence/ first.

The stream records here are what DynamoDB Streams delivers for the session item as the app stored
it (its old image: the same item before it was used)."""
import boto3
import pytest

from tests.api.helpers import AYU, DENPASAR, KETUT, check_in, checkin_session, enrol, location

NOW = "2026-03-03T07:45:00+08:00"


def _stored_session(session_id: str) -> dict:
    from chalicelib.wiring import get_services
    table = get_services().settings.tables["sessions"]
    return boto3.client("dynamodb").get_item(TableName=table, Key={"session_id": {"S": session_id}})["Item"]


def _used_record(item: dict) -> dict:
    """The MODIFY that marked the session used: its old image is the item before."""
    before = {k: v for k, v in item.items() if k != "used_at"} | {"used": {"BOOL": False}}
    return {"eventName": "MODIFY", "eventSource": "aws:dynamodb",
            "dynamodb": {"Keys": {"session_id": item["session_id"]}, "OldImage": before, "NewImage": item,
                         "StreamViewType": "NEW_AND_OLD_IMAGES"}}


def _deliver(*records: dict) -> dict:
    from chalicelib.api.events import delete_used_frames
    return delete_used_frames({"Records": list(records)}, None)


def _bucket() -> str:
    from chalicelib.wiring import get_services
    return get_services().settings.buckets["uploads"]


def _keys(prefix: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=_bucket(), Prefix=prefix)
    return sorted(o["Key"] for o in listed.get("Contents", []))


@pytest.fixture
def checked_in(api, set_now):
    """Ayu enrolled and checked in with a liveness challenge's frames: the session now used."""
    set_now(NOW)
    assert enrol(api, AYU).status_code == 201
    session_id = checkin_session(api, AYU)
    frames = _keys(f"checkin/{AYU}/{session_id}/")
    assert frames, "the phone's uploads are in the bucket"
    assert check_in(api, AYU, session_id).status_code == 201
    return session_id, frames


def test_a_used_check_in_sessions_frames_are_deleted_when_its_stream_record_arrives(checked_in):
    session_id, frames = checked_in
    item = _stored_session(session_id)
    assert item["used"] == {"BOOL": True}
    # When the stream delivers the change that marked it used
    out = _deliver(_used_record(item))
    # Then every frame of that session is gone (tests/infra: with its role's one S3 call)
    assert out == {"frames": len(frames)} and _keys(f"checkin/{AYU}/{session_id}/") == []
    # And a redelivery of the same record is harmless
    assert _deliver(_used_record(item)) == {"frames": len(frames)}


def test_a_flagged_check_ins_kept_selfie_survives_the_deletion_of_its_frames(api, set_now):
    set_now(NOW)
    assert enrol(api, AYU).status_code == 201
    session_id = checkin_session(api, AYU)
    r = check_in(api, AYU, session_id, loc=location(lat=DENPASAR["lat"] + 0.0004, accuracy_m=60))
    assert r.json["decision"] == "flagged", r.json
    kept = _keys(f"evidence/checkin/{AYU}/{session_id}/")
    assert kept  # copied before the session was marked used
    _deliver(_used_record(_stored_session(session_id)))
    assert _keys(f"checkin/{AYU}/{session_id}/") == [] and _keys(f"evidence/checkin/{AYU}/{session_id}/") == kept


def test_records_that_do_not_mark_a_session_used_delete_nothing(api, set_now):
    set_now(NOW)
    assert enrol(api, AYU).status_code == 201
    session_id = checkin_session(api, AYU)
    frames = _keys(f"checkin/{AYU}/{session_id}/")
    opened = _stored_session(session_id)  # not used yet: the check-in is still to come
    used = opened | {"used": {"BOOL": True}}
    # Given the stream's other records for it: opened, rewritten unused, expired (TTL), and used twice
    out = _deliver({"eventName": "INSERT", "dynamodb": {"NewImage": opened}},
                   {"eventName": "MODIFY", "dynamodb": {"OldImage": opened, "NewImage": opened}},
                   {"eventName": "REMOVE", "dynamodb": {"OldImage": opened}},
                   {"eventName": "MODIFY", "dynamodb": {"OldImage": used, "NewImage": used}})
    # Then nothing was deleted: the check-in can still read its frames
    assert out == {"frames": 0} and _keys(f"checkin/{AYU}/{session_id}/") == frames
    assert check_in(api, AYU, session_id).status_code == 201


def test_a_forged_record_never_reaches_beyond_its_own_sessions_frames(checked_in, api):
    # Given another employee's frames, Ayu's evidence and an attachment in the same bucket
    session_id, _ = checked_in
    other = checkin_session(api, KETUT)
    others = _keys(f"checkin/{KETUT}/{other}/")
    s3 = boto3.client("s3")
    for key in ("evidence/checkin/x/y/0", "attachments/r-1/certificate", "exports-like/0"):
        s3.put_object(Bucket=_bucket(), Key=key, Body=b"kept")
    item = _stored_session(session_id)
    forged = item | {"keys": {"L": [{"S": k} for k in (
        f"checkin/{KETUT}/{other}/0", "evidence/checkin/x/y/0", "attachments/r-1/certificate", "exports-like/0",
        f"checkin/{AYU}/{session_id}/../../{KETUT}/{other}/0", f"checkin/{AYU}/{session_id}/")]}}
    forged_purpose = item | {"purpose": {"S": "attachments"},
                             "keys": {"L": [{"S": f"attachments/{AYU}/{session_id}/0"}]}}
    # When the deleter gets records naming them
    assert _deliver(_used_record(forged), _used_record(forged_purpose)) == {"frames": 0}
    # Then nothing outside a session's own frames was deleted
    assert _keys(f"checkin/{KETUT}/{other}/") == others
    assert _keys("evidence/checkin/x/") and _keys("attachments/r-1/") and _keys("exports-like/")


@pytest.mark.parametrize("event", [None, {}, {"Records": None}, {"Records": "x"}, {"Records": [None, 3, "x"]},
                                   {"Records": [{"eventName": "MODIFY", "dynamodb": {"NewImage": {"used": {"BOOL": True}}}}]}])
def test_malformed_events_delete_nothing_and_raise_nothing(aws_env, event):
    from chalicelib.api.events import delete_used_frames
    assert delete_used_frames(event, None) == {"frames": 0}
