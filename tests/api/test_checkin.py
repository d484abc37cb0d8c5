"""POST /checkins: face + geofence + time rules, every decision recorded with its reasons."""
from tests.api.helpers import AYU, DENPASAR, FACE, MADE, check_in, checkin_session, enrol, location
from tests.fakes import photo


def given_enrolled(api, set_now, at="2026-03-03T07:45:00+08:00"):
    clock = set_now(at)
    assert enrol(api, AYU).status_code == 201
    return clock


def test_inside_the_fence_on_time_is_accepted(api, set_now):
    given_enrolled(api, set_now)
    # When
    r = check_in(api, AYU, checkin_session(api, AYU))
    # Then
    assert r.status_code == 201, r.json
    assert r.json["decision"] == "accepted"
    assert r.json["local_date"] == "2026-03-03" and r.json["local_time"] == "07:45:00"
    assert r.json["work_mode"] == "WFO" and r.json["late_minutes"] == 0
    assert r.json["face"]["decision"] == "match" and r.json["face"]["checks"][0]["ok"]
    assert r.json["geo"]["site_id"] == "kantor-denpasar" and r.json["geo"]["distance_m"] < 5
    assert "face;dur=" in r.headers["Server-Timing"]


def test_late_checkin_counts_minutes_against_work_start(api, set_now):
    given_enrolled(api, set_now, "2026-03-03T08:20:30+08:00")
    r = check_in(api, AYU, checkin_session(api, AYU),
                 loc=location(captured_at="2026-03-03T08:20:00+08:00"))
    assert r.status_code == 201, r.json
    assert r.json["late_minutes"] == 20
    assert "late" in [x["code"] for x in r.json["reasons"]]


def test_outside_the_fence_is_rejected_and_recorded(api, set_now):
    given_enrolled(api, set_now)
    # When: 2 km away
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(lat=DENPASAR["lat"] + 0.018))
    # Then
    assert r.status_code == 422
    assert r.json["decision"] == "rejected"
    assert "outside_geofence" in [x["code"] for x in r.json["reasons"]]
    days = api.get("/me/attendance?from=2026-03-03&to=2026-03-03", user=AYU).json["days"]
    assert days[0]["checkins"][0]["decision"] == "rejected"
    assert days[0]["status"] == "no_record"


def test_poor_accuracy_at_the_edge_is_flagged_not_accepted(api, set_now):
    given_enrolled(api, set_now)
    r = check_in(api, AYU, checkin_session(api, AYU),
                 loc=location(lat=DENPASAR["lat"] + 0.0004, accuracy_m=60))
    assert r.status_code == 201, r.json
    assert r.json["decision"] == "flagged"
    assert "location_uncertain" in [x["code"] for x in r.json["reasons"]]


def test_mock_location_is_rejected(api, set_now):
    given_enrolled(api, set_now)
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(is_mock=True))
    assert r.status_code == 422
    assert "mock_location" in [x["code"] for x in r.json["reasons"]]


def test_another_persons_face_is_rejected(api, set_now):
    given_enrolled(api, set_now)
    r = check_in(api, AYU, checkin_session(api, AYU, photo((250, 250, 10), seed=3)))
    assert r.status_code == 422
    assert "face_mismatch" in [x["code"] for x in r.json["reasons"]]


def test_impossible_coordinates_are_a_422(api, set_now):
    given_enrolled(api, set_now)
    sid = checkin_session(api, AYU)
    for loc in (location(lat=123.0), location(lon="east"), location(accuracy_m=-1)):
        r = check_in(api, AYU, sid, loc=loc)
        assert r.status_code == 422, r.json
        assert r.json["error"]["code"] in ("invalid_coordinates", "invalid_accuracy"), r.json


def test_photo_without_a_face_is_rejected_with_its_code_and_recorded(api, set_now):
    given_enrolled(api, set_now)
    r = check_in(api, AYU, checkin_session(api, AYU, photo(FACE, faces=0)))
    assert r.status_code == 422
    assert r.json["error"]["code"] == "no_face"
    assert r.json["decision"] == "rejected"
    days = api.get("/me/attendance?from=2026-03-03&to=2026-03-03", user=AYU).json["days"]
    assert days[0]["checkins"][0]["reasons"][0]["code"] == "no_face"


def test_several_faces_are_rejected(api, set_now):
    given_enrolled(api, set_now)
    r = check_in(api, AYU, checkin_session(api, AYU, photo(FACE, faces=2)))
    assert r.status_code == 422 and r.json["error"]["code"] == "multiple_faces"


def test_corrupt_image_is_rejected(api, set_now):
    given_enrolled(api, set_now)
    r = check_in(api, AYU, checkin_session(api, AYU, b"\xff\xd8\xff" + b"garbage" * 400, "image/jpeg"))
    assert r.status_code == 422 and r.json["error"]["code"] == "corrupt_image"


def test_oversized_image_is_a_413_even_though_s3_accepted_it(api, set_now, setting):
    given_enrolled(api, set_now)
    setting("HADIR_UPLOAD_MAX_BYTES", "2048")
    r = check_in(api, AYU, checkin_session(api, AYU, photo(FACE, size=(256, 256))))
    assert r.status_code == 413 and r.json["error"]["code"] == "image_too_large"


def test_unsupported_content_type_is_a_415(api, set_now):
    given_enrolled(api, set_now)
    r = check_in(api, AYU, checkin_session(api, AYU, photo(FACE), "image/gif"))
    assert r.status_code == 415 and r.json["error"]["code"] == "unsupported_image"


def test_missing_upload_is_a_422(api, set_now):
    given_enrolled(api, set_now)
    r = check_in(api, AYU, checkin_session(api, AYU, data=False))
    assert r.status_code == 422 and r.json["error"]["code"] == "upload_missing"


def test_replayed_session_is_a_409(api, set_now):
    given_enrolled(api, set_now)
    sid = checkin_session(api, AYU)
    assert check_in(api, AYU, sid).status_code == 201
    r = check_in(api, AYU, sid, kind="out")
    assert r.status_code == 409 and r.json["error"]["code"] == "session_used"


def test_expired_session_is_a_410(api, set_now):
    clock = given_enrolled(api, set_now)
    sid = checkin_session(api, AYU)
    clock.advance(minutes=10)
    r = check_in(api, AYU, sid)
    assert r.status_code == 410 and r.json["error"]["code"] == "session_expired"


def test_someone_elses_session_is_not_found(api, set_now):
    given_enrolled(api, set_now)
    assert enrol(api, MADE).status_code == 201  # so the session check, not enrolment, decides
    sid = checkin_session(api, AYU)
    r = check_in(api, MADE, sid)
    assert r.status_code == 404 and r.json["error"]["code"] == "session_not_found"
    assert check_in(api, AYU, sid).status_code == 201  # and Ayu's session is still hers to use


def test_same_idempotency_key_returns_the_same_result_and_writes_once(api, set_now):
    given_enrolled(api, set_now)
    sid = checkin_session(api, AYU)
    first = check_in(api, AYU, sid, key="tap-1")
    again = check_in(api, AYU, sid, key="tap-1")
    assert first.status_code == again.status_code == 201
    assert first.json["checkin_id"] == again.json["checkin_id"]
    days = api.get("/me/attendance?from=2026-03-03&to=2026-03-03", user=AYU).json["days"]
    assert len(days[0]["checkins"]) == 1


def test_idempotency_key_reused_with_another_body_is_a_422(api, set_now):
    given_enrolled(api, set_now)
    sid = checkin_session(api, AYU)
    assert check_in(api, AYU, sid, key="tap-2").status_code == 201
    r = check_in(api, AYU, sid, kind="out", key="tap-2")
    assert r.status_code == 422 and r.json["error"]["code"] == "idempotency_key_reused"


def test_second_checkin_the_same_day_is_rejected(api, set_now):
    given_enrolled(api, set_now)
    assert check_in(api, AYU, checkin_session(api, AYU)).status_code == 201
    r = check_in(api, AYU, checkin_session(api, AYU))
    assert r.status_code == 422
    assert "already_checked_in" in [x["code"] for x in r.json["reasons"]]


def test_checkout_after_checkin_completes_the_day(api, set_now):
    given_enrolled(api, set_now)
    assert check_in(api, AYU, checkin_session(api, AYU)).status_code == 201
    set_now("2026-03-03T15:40:00+08:00")
    r = check_in(api, AYU, checkin_session(api, AYU), kind="out",
                 loc=location(captured_at="2026-03-03T15:39:50+08:00"))
    assert r.status_code == 201, r.json
    day = api.get("/me/attendance?from=2026-03-03&to=2026-03-03", user=AYU).json["days"][0]
    assert day["first_in"] == "07:45:00" and day["last_out"] == "15:40:00"
    assert day["status"] == "present"


def test_checkin_before_enrolment_is_a_409(api, set_now):
    set_now("2026-03-03T07:45:00+08:00")
    r = check_in(api, AYU, "whatever")
    assert r.status_code == 409 and r.json["error"]["code"] == "not_enrolled"


def test_bad_type_is_a_422(api, set_now):
    given_enrolled(api, set_now)
    r = check_in(api, AYU, checkin_session(api, AYU), kind="lunch")
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_type"


def test_checkin_upload_session_is_a_short_lived_challenge_with_one_upload_per_step(api):
    r = api.post("/checkins/uploads", user=AYU)
    assert r.status_code == 201
    steps = [s["pose"] for s in r.json["challenge"]["steps"]]
    assert steps[0] == "front" and len(set(steps[1:])) == 2 and set(steps[1:]) <= {"left", "right", "up", "down"}
    assert len(r.json["uploads"]) == len(steps) and r.json["nonce"] and r.json["challenge"]["id"]
    assert all(u["fields"]["x-amz-meta-nonce"] == r.json["nonce"] for u in r.json["uploads"])
    from datetime import datetime, timezone
    ttl = (datetime.fromisoformat(r.json["expires_at"]) - datetime.now(timezone.utc)).total_seconds()
    assert 0 < ttl <= 120


def test_a_day_written_concurrently_is_a_409_not_a_lost_update(api, set_now, monkeypatch):
    from chalicelib.adapters.storage.records import DynamoRecords
    given_enrolled(api, set_now)
    assert check_in(api, AYU, checkin_session(api, AYU)).status_code == 201
    # Given a check-out that read the day before the check-in above was written (a race)
    set_now("2026-03-03T15:40:00+08:00")
    sid = checkin_session(api, AYU)
    read = DynamoRecords.checkin_reads
    monkeypatch.setattr(DynamoRecords, "checkin_reads", lambda self, nip, sid, dates, device_id=None: read(
        self, nip, sid, dates, device_id).model_copy(update={"days": {d: None for d in dates}}))
    # When
    r = check_in(api, AYU, sid, kind="out", loc=location(captured_at="2026-03-03T15:39:50+08:00"))
    # Then it is refused, the check-in's day survives and the session may be retried
    assert r.status_code == 409 and r.json["error"]["code"] == "concurrent_update", r.json
    day = api.get("/me/attendance?from=2026-03-03&to=2026-03-03", user=AYU).json["days"][0]
    assert day["first_in"] == "07:45:00" and day["last_out"] is None
    monkeypatch.undo()
    set_now("2026-03-03T15:40:00+08:00")
    r = check_in(api, AYU, sid, kind="out", loc=location(captured_at="2026-03-03T15:39:50+08:00"))
    assert r.status_code == 201, r.json



def test_a_session_replayed_concurrently_is_a_409_from_the_transaction(api, set_now, monkeypatch):
    from chalicelib.adapters.s3 import S3Uploads
    from chalicelib.services import sessions
    given_enrolled(api, set_now)
    monkeypatch.setattr(S3Uploads, "discard", lambda self, keys: None)  # the photo is still there
    sid = checkin_session(api, AYU)
    assert check_in(api, AYU, sid).status_code == 201
    # Given replays that read the session before the first request marked it used (a race)
    monkeypatch.setattr(sessions, "usable", lambda svc, sess, nip, purpose: sess.model_copy(update={"used": False}))
    # When / Then: the transaction refuses them with the same 409 as the early check
    for kind, loc in (("in", location()), ("out", location(lat=DENPASAR["lat"] + 0.018))):
        r = check_in(api, AYU, sid, kind=kind, loc=loc)
        assert r.status_code == 409 and r.json["error"]["code"] == "session_used", r.json


def test_the_employee_never_sees_the_exact_face_score_but_the_record_keeps_it(api, set_now):
    from chalicelib.wiring import get_services
    given_enrolled(api, set_now)
    # When someone else's face is used
    r = check_in(api, AYU, checkin_session(api, AYU, photo((200, 40, 40), seed=9)))
    # Then the employee sees the mismatch and its code, not the numbers to tune a photo against
    assert r.status_code == 422 and r.json["face"] == {"decision": "no_match", "error": None,
                                                       "checks": r.json["face"]["checks"]}
    mismatch = next(x for x in r.json["reasons"] if x["code"] == "face_mismatch")
    assert "score" not in mismatch and "threshold" not in mismatch
    days = api.get("/me/attendance?from=2026-03-03&to=2026-03-03", user=AYU).json["days"]
    assert all("score" not in x for c in days[0]["checkins"] for x in c["reasons"])
    # And the stored attempt keeps them for supervisors and auditors (and the export)
    [stored] = get_services().records.checkins_on("2026-03-03")
    assert stored.face.score is not None and stored.face.threshold is not None
    assert next(x for x in stored.reasons if x["code"] == "face_mismatch")["threshold"] > 0


def test_five_failed_face_checks_in_ten_minutes_cool_the_account_down(api, set_now, tap):
    from chalicelib.wiring import get_services
    clock = given_enrolled(api, set_now)
    stranger = photo((200, 40, 40), seed=9)
    # Given five check-ins with someone else's face, a minute apart
    for _ in range(5):
        assert check_in(api, AYU, checkin_session(api, AYU, stranger)).status_code == 422
        clock.advance(minutes=1)
    # When a sixth is tried, even with her own face
    r = check_in(api, AYU, checkin_session(api, AYU))
    # Then it is refused before any photo is read, with when to retry
    assert r.status_code == 429 and r.json["error"]["code"] == "too_many_attempts", r.json
    d = r.json["error"]["details"]
    assert (d["failures"], d["max_failures"], d["window_s"]) == (5, 5, 600)
    assert r.headers["Retry-After"] == str(d["retry_after_s"]) and 0 < d["retry_after_s"] <= 600
    assert len(get_services().records.checkins_on("2026-03-03")) == 5  # nothing written
    # And her supervisor was told once, with the numbers
    again = check_in(api, AYU, checkin_session(api, AYU))
    assert again.status_code == 429
    [notice] = tap()
    assert (notice["kind"], notice["nip"], notice["supervisor_nip"], notice["failures"]) == (
        "checkin_lockout", AYU, "197805122005011002", 5)
    # When the cool-down has passed she checks in
    clock.advance(seconds=d["retry_after_s"])
    assert check_in(api, AYU, checkin_session(api, AYU)).status_code == 201


def test_an_enrolment_photo_sent_again_is_a_rejected_replay_that_counts_against_the_limit(api, set_now):
    from chalicelib.wiring import get_services
    given_enrolled(api, set_now)
    # When the selfie is the enrolment photo itself, byte for byte
    r = check_in(api, AYU, checkin_session(api, AYU, photo(FACE, seed=0)))
    # Then it is rejected as a replay of that photo, without the numbers to tune against
    replay = next(x for x in r.json["reasons"] if x["code"] == "replayed_image")
    assert r.status_code == 422 and r.json["decision"] == "rejected"
    assert replay["photo"] == 0 and "score" not in replay and "threshold" not in replay
    # And the record says which photo it copied (a failed face check for the attempt limit)
    [stored] = get_services().records.checkins_on("2026-03-03")
    assert stored.face.replay_of == 0


def test_three_copies_of_one_photo_cannot_be_enrolled(api):
    r = enrol(api, AYU, photos=[photo(FACE, seed=0)] * 3)
    assert r.status_code == 422 and r.json["error"]["code"] == "duplicate_enrolment_photos", r.json
    assert api.get("/me", user=AYU).json["enrollment"]["status"] == "not_enrolled"


def test_a_fix_whose_accuracy_radius_exceeds_the_maximum_is_rejected_not_flagged(api, set_now):
    given_enrolled(api, set_now)
    # When the phone reports a 20,000 km accuracy radius (as a careless or spoofing client may)
    r = check_in(api, AYU, checkin_session(api, AYU), loc=location(accuracy_m=20_000_000))
    # Then rejected: such a fix cannot prove presence, and the day is not made
    reason = next(x for x in r.json["reasons"] if x["code"] == "accuracy_too_low")
    assert r.status_code == 422 and r.json["decision"] == "rejected"
    assert reason["effect"] == "reject" and reason["max_accuracy_m"] == 100.0
    assert api.get("/me/attendance?from=2026-03-03&to=2026-03-03", user=AYU).json["days"][0]["status"] != "pending_review"


def test_a_photo_over_the_pixel_limit_is_a_413_before_any_face_work(api, set_now):
    # Given an enrolled employee whose selfie is a small PNG declaring 5000 x 4000 pixels
    from chalicelib.wiring import get_services
    from bench.images import chunk
    from tests.face.test_decode import png_header_only
    given_enrolled(api, set_now)
    header = png_header_only(5000, 4000)
    data = header[:33] + chunk(b"tEXt", b"note\0" + b"x" * 2000) + header[33:]  # over the 1 KiB minimum
    # When she checks in with it
    r = check_in(api, AYU, checkin_session(api, AYU, data))
    # Then it is refused as too large, from its header, and no attempt is written
    assert r.status_code == 413 and r.json["error"]["code"] == "image_too_large"
    assert r.json["error"]["details"]["width"] == 5000
    assert get_services().records.checkins_on("2026-03-03") == []


def test_a_photo_whose_bytes_are_not_its_declared_type_is_a_415(api, set_now):
    # Given an enrolled employee whose selfie is a PNG uploaded as image/jpeg
    from chalicelib.wiring import get_services
    given_enrolled(api, set_now)
    # When she checks in with it
    r = check_in(api, AYU, checkin_session(api, AYU, photo(FACE), "image/jpeg"))
    # Then it is refused as unsupported, naming both types, and no attempt is written
    assert r.status_code == 415 and r.json["error"]["code"] == "unsupported_image"
    assert r.json["error"]["details"] == {"content_type": "image/jpeg", "detected": "PNG"}
    assert get_services().records.checkins_on("2026-03-03") == []
