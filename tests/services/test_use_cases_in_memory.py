"""The use cases on the in-memory wiring: no AWS, no HTTP, milliseconds per test. The same
ports as production (tests/contract keeps the twins honest), the injected clock, the fake face
engine with real behaviour."""
from datetime import date, datetime

import pytest

from chalicelib.common.clock import FixedClock
from chalicelib.common.errors import Conflict, Gone
from chalicelib.common.settings import load_settings
from chalicelib.services import checkin, enrolment, jobs, queries
from chalicelib.services.schemas import CheckinRequest, EnrolRequest
from chalicelib.wiring import in_memory
from local.seed import seed
from tests.api.helpers import AYU, FACE, KETUT, MADE, location
from tests.fakes import FakeEngine, photo, posed


@pytest.fixture
def svc():
    settings = load_settings({"HADIR_STAGE": "test", "HADIR_AGENCY_ID": "pemkab-demo",
                              "HADIR_ENROLMENT_APPROVAL": "false"})
    services = in_memory(settings, clock=FixedClock(datetime.fromisoformat("2026-03-03T07:45:00+08:00")),
                         face_engine_provider=FakeEngine)
    seed(services)
    return services


def poses(out):
    return [s.pose for s in out.challenge.steps] if out.challenge else ["front"]


def upload_all(svc, out, photos):
    for target, data in zip(out.uploads, photos):
        svc.uploads.put(target.key, data, "image/png", target.fields["x-amz-meta-nonce"])


def given_enrolled(svc, nip=AYU):
    out = enrolment.open_uploads(svc, nip)  # (its nonce is not returned: read it through the port)
    nonce = svc.records.get_session(out.session_id).nonce
    for target, frame in zip(out.uploads, posed(poses(out), FACE)):
        svc.uploads.put(target.key, frame, "image/png", nonce)
    return enrolment.enrol(svc, nip, EnrolRequest(session_id=out.session_id, consent=True))


def check_in(svc, nip=AYU, kind="in", loc=None, data=None):
    out = checkin.open_uploads(svc, nip)
    upload_all(svc, out, posed(poses(out), FACE, seed=9, first=data))
    req = CheckinRequest.model_validate({"session_id": out.session_id, "type": kind,
                                         "location": loc or location()})
    return checkin.check_in(svc, nip, req, idempotency_key=None)


def test_an_on_time_check_in_is_accepted_and_the_day_says_why(svc):
    # Given Ayu enrolled
    assert given_enrolled(svc).status == "enrolled"
    # When she checks in at the office at 07:45 WITA
    result = check_in(svc)
    # Then accepted, and her day is present because of that check-in
    assert result.body.decision == "accepted" and result.error is None
    day = svc.records.day(AYU, "2026-03-03")
    assert day.day.status == "present" and day.version == 1
    assert [(r["code"], r["checkin_id"]) for r in day.day.reasons] == [("on_time", result.body.checkin_id)]
    assert set(result.timings_ms) >= {"storage", "upload_read", "kms", "face", "geo", "total"}


def test_a_photo_without_a_face_is_a_stored_rejection_with_the_error(svc):
    given_enrolled(svc)
    result = check_in(svc, data=photo(FACE, faces=0, seed=9))
    assert result.body.decision == "rejected" and result.error.code == "no_face"
    assert result.body.reasons[0]["code"] == "no_face"
    assert svc.records.day(AYU, "2026-03-03") is None  # a rejected attempt never makes a day
    assert [c.decision for c in svc.records.checkins_on("2026-03-03")] == ["rejected"]


def session(svc, kind="in"):
    out = checkin.open_uploads(svc, AYU)
    upload_all(svc, out, posed(poses(out), FACE, seed=9))
    return CheckinRequest.model_validate({"session_id": out.session_id, "type": kind, "location": location()})


def test_a_session_expires_on_the_injected_clock(svc):
    given_enrolled(svc)
    req = session(svc)
    svc.clock.advance(seconds=svc.settings.checkin_session_ttl_s)
    with pytest.raises(Gone) as err:
        checkin.check_in(svc, AYU, req, idempotency_key=None)
    assert err.value.code == "session_expired"


def test_a_session_is_used_once(svc):
    given_enrolled(svc)
    req = session(svc)
    checkin.check_in(svc, AYU, req, idempotency_key=None)
    with pytest.raises(Conflict) as err:
        checkin.check_in(svc, AYU, req.model_copy(update={"type": "out"}), idempotency_key=None)
    assert err.value.code == "session_used"


def test_an_idempotent_retry_returns_the_stored_result(svc):
    given_enrolled(svc)
    req = session(svc)
    first = checkin.check_in(svc, AYU, req, idempotency_key="k-1")
    again = checkin.check_in(svc, AYU, req, idempotency_key="k-1")
    assert again.body.checkin_id == first.body.checkin_id
    assert len(svc.records.checkins_on("2026-03-03")) == 1


def test_absence_detection_marks_who_has_no_day_and_notifies_the_supervisor_once(svc):
    # Given Ayu checked in and Made did not
    given_enrolled(svc)
    check_in(svc)
    # When the WITA check-in window has closed and the job runs twice
    svc.clock.set(datetime.fromisoformat("2026-03-03T10:30:00+08:00"))
    first, second = jobs.detect_absence(svc, "WITA"), jobs.detect_absence(svc, "WITA")
    # Then Made and Ketut himself are absent (Ketut has no supervisor on file: no notice for him),
    # and Ketut got one notice listing Made; the second run changes nothing
    assert (first["absent"], first["notices"], second["absent"], second["notices"]) == (2, 1, 0, 0)
    assert svc.records.day(KETUT, "2026-03-03").day.reasons[0]["code"] == "no_checkin"
    assert svc.records.day(MADE, "2026-03-03").day.status == "absent"
    [notice] = svc.notifier.published
    assert notice["notice"]["supervisor_nip"] == KETUT
    assert [a["nip"] for a in notice["notice"]["absentees"]] == [MADE]
    team = queries.team_attendance(svc, KETUT, date(2026, 3, 3))
    assert {s.nip: s.status for s in team.staff} == {AYU: "present", MADE: "absent"}


def test_the_export_writes_the_days_records_and_manifest(svc):
    given_enrolled(svc)
    check_in(svc)
    svc.clock.set(datetime.fromisoformat("2026-03-04T00:31:00+08:00"))
    out = jobs.export_day(svc, zone="WITA")
    assert out["rows"] == 1
    keys = [o.key for o in svc.exports.list("attendance/date=2026-03-03/")]
    assert [k.rsplit("/", 1)[-1] for k in keys] == ["audit.csv", "manifest.json", "records.csv"]
    # And the CSV holds Ayu's accepted check-in, the manifest vouches for exactly those bytes
    import hashlib
    import json
    csv_bytes = svc.exports.get(out["key"])
    manifest = json.loads(svc.exports.get(out["key"].replace("records.csv", "manifest.json")))
    assert AYU.encode() in csv_bytes and b"accepted" in csv_bytes
    assert manifest["sha256"] == hashlib.sha256(csv_bytes).hexdigest() == out["sha256"]
    # And the audit file holds the day's privileged actions (in WIB), vouched for by its own checksum
    audit_bytes = svc.exports.get(out["audit_key"])
    assert manifest["audit"]["sha256"] == hashlib.sha256(audit_bytes).hexdigest()
    assert manifest["audit"]["rows"] == out["audit_rows"] == audit_bytes.count(b"\r\n") - 1 > 0
    assert (manifest["audit"]["from"], manifest["audit"]["to"]) == ("2026-03-03T00:00:00+07:00",
                                                                    "2026-03-04T00:00:00+07:00")
    assert b"biometric_consent_given" in audit_bytes and b"office_created" in audit_bytes
    # And the run itself is audited with what it wrote
    [run] = svc.records.audit_log("2026-03-03", "2026-03-04", subject="export#2026-03-03").entries
    assert (run.action, run.actor) == ("export_written", "scheduler")
    assert run.after["files"][out["audit_key"]] == manifest["audit"]["sha256"]
    assert run.after["files"][out["key"]] == out["sha256"]
