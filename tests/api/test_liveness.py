"""Challenge-response liveness over the API (the fake engine's photos carry a head pose and
whether they are a flat picture; the checks themselves are the real face.liveness)."""
from tests.api.helpers import AYU, FACE, MADE, check_in, checkin_session, enrol, steps_of
from tests.fakes import photo, posed

STRANGER = (250, 10, 10)


def given_enrolled(api, set_now):
    set_now("2026-03-03T07:45:00+08:00")
    r = enrol(api, AYU)
    assert r.status_code == 201, r.json
    return r


def open_session(api):
    s = api.post("/checkins/uploads", user=AYU)
    assert s.status_code == 201, s.json
    return s.json


def send(api, session, frames):
    for target, frame in zip(session["uploads"], frames):
        api.upload(target, frame)
    return check_in(api, AYU, session["session_id"])


def codes(r):
    return [x["code"] for x in r.json["reasons"]]


def test_a_check_in_that_follows_its_challenge_is_accepted_with_each_check_shown(api, set_now):
    given_enrolled(api, set_now)
    # When Ayu turns her head as each step asks, one frame per step
    s = open_session(api)
    r = send(api, s, posed(steps_of(s), FACE, seed=20))
    # Then accepted, and the liveness object lists each step's pose and every check with its numbers
    assert r.status_code == 201 and r.json["decision"] == "accepted", r.json
    lv = r.json["liveness"]
    assert lv["passed"] and [x["pose"] for x in lv["steps"]] == steps_of(s)
    assert {c["check"] for c in lv["checks"]} == {"identity", "fresh", "distinct", "direction", "depth"}
    assert all(c["ok"] for c in lv["checks"])
    # And the identity checks' face scores are not shown to her
    assert all(c["value"] is None and c["limit"] is None for c in lv["checks"] if c["check"] == "identity")
    assert "liveness_passed" in codes(r)


def test_one_photo_uploaded_for_every_step_is_rejected(api, set_now):
    given_enrolled(api, set_now)
    s = open_session(api)
    one = photo(FACE, seed=30)
    r = send(api, s, [one] * len(s["uploads"]))
    assert r.status_code == 422 and r.json["decision"] == "rejected"
    assert {"liveness_duplicate_frames", "liveness_too_small", "liveness_flat_motion"} <= set(codes(r))


def test_turning_the_wrong_way_is_rejected_as_the_wrong_direction(api, set_now):
    given_enrolled(api, set_now)
    s = open_session(api)
    opposite = {"left": "right", "right": "left", "up": "down", "down": "up"}
    steps = steps_of(s)
    r = send(api, s, posed(["front", *[opposite[x] for x in steps[1:]]], FACE, seed=40))
    wrong = [x for x in r.json["reasons"] if x["code"] == "liveness_wrong_direction"]
    assert r.status_code == 422 and len(wrong) == len(steps) - 1
    assert all(x["value"] < 0 and x["limit"] > 0 and x["pose"] == steps[x["step"]] for x in wrong)


def test_a_flat_picture_tilted_as_asked_is_rejected_as_flat_motion(api, set_now):
    given_enrolled(api, set_now)
    s = open_session(api)
    frames = [photo(FACE, seed=50 + i, pose=p, flat=True) for i, p in enumerate(steps_of(s))]
    r = send(api, s, frames)
    assert r.status_code == 422 and "liveness_flat_motion" in codes(r)


def test_another_face_in_a_later_step_is_an_identity_change_without_its_score(api, set_now):
    given_enrolled(api, set_now)
    s = open_session(api)
    steps = steps_of(s)
    frames = posed(steps, FACE, seed=60)
    frames[-1] = photo(STRANGER, seed=69, pose=steps[-1])
    r = send(api, s, frames)
    [changed] = [x for x in r.json["reasons"] if x["code"] == "liveness_identity_changed"]
    assert r.status_code == 422 and changed["step"] == len(steps) - 1
    assert "score" not in changed and "threshold" not in changed
    # And supervisors and auditors see the number in the stored record
    from chalicelib.wiring import get_services
    [stored] = get_services().records.checkins_on("2026-03-03")
    identity = [c for c in stored.face.liveness["checks"] if c["check"] == "identity"]
    assert identity[-1]["ok"] is False and identity[-1]["value"] is not None


def test_a_missing_frame_is_a_clear_error_and_nothing_is_written(api, set_now):
    given_enrolled(api, set_now)
    s = open_session(api)
    r = send(api, s, posed(steps_of(s), FACE, seed=70)[:1])  # only the front frame
    assert r.status_code == 422 and r.json["error"]["code"] == "upload_missing"
    from chalicelib.wiring import get_services
    assert get_services().records.checkins_on("2026-03-03") == []


def test_failed_liveness_counts_against_the_attempt_limit(api, set_now, setting):
    setting("HADIR_ATTEMPT_MAX_FAILURES", "2")
    given_enrolled(api, set_now)
    for i in range(2):
        s = open_session(api)
        assert send(api, s, [photo(FACE, seed=80 + i)] * len(s["uploads"])).status_code == 422
    r = api.post("/checkins/uploads", user=AYU)
    s = r.json
    r = send(api, s, posed(steps_of(s), FACE, seed=90))
    assert r.status_code == 429 and r.json["error"]["code"] == "too_many_attempts"


def test_enrolment_follows_front_left_right_and_a_flat_print_cannot_be_enrolled(api):
    # Given the enrolment session's challenge: front, then left and right in random order
    s = api.post("/me/enrollment/uploads", user=MADE).json
    assert steps_of(s)[0] == "front" and sorted(steps_of(s)[1:]) == ["left", "right"]
    # When three photos of a print tilted as asked are uploaded
    for i, (target, pose) in enumerate(zip(s["uploads"], steps_of(s))):
        api.upload(target, photo(FACE, seed=i, pose=pose, flat=True))
    r = api.post("/me/enrollment", {"session_id": s["session_id"], "consent": True}, user=MADE)
    # Then refused with the failed check, and the photos' reports name it
    assert r.status_code == 422 and r.json["error"]["code"].startswith("liveness_")
    failed = {c["code"] for c in r.json["error"]["details"]["liveness"]["checks"] if not c["ok"]}
    assert {"liveness_flat_motion", "liveness_too_small"} <= failed
    assert api.get("/me", user=MADE).json["enrollment"]["status"] == "not_enrolled"
    # And a live head enrols, the response showing the checks
    r = enrol(api, MADE)
    assert r.status_code == 201 and r.json["liveness"]["passed"]


def test_without_required_liveness_a_session_is_one_photo_and_has_no_challenge(api, set_now, setting):
    setting("HADIR_LIVENESS_REQUIRED", "false")
    given_enrolled(api, set_now)
    s = open_session(api)
    assert "challenge" not in s and len(s["uploads"]) == 1
    r = check_in(api, AYU, checkin_session(api, AYU))
    assert r.status_code == 201 and "liveness" not in r.json


def test_a_checkin_replaying_a_turned_enrolment_photo_as_its_step_is_a_replayed_image(api, set_now, setting):
    setting("HADIR_LIVENESS_DIRECTIONS", "left,right")
    # Given Ayu's enrolment photos (front, left, right) in the attacker's hands
    s = api.post("/me/enrollment/uploads", user=AYU).json
    set_now("2026-03-03T07:45:00+08:00")
    enrolled = dict(zip(steps_of(s), posed(steps_of(s), FACE)))
    for target, pose in zip(s["uploads"], steps_of(s)):
        api.upload(target, enrolled[pose])
    assert api.post("/me/enrollment", {"session_id": s["session_id"], "consent": True}, user=AYU).status_code == 201
    # When a challenge is answered with them (a new front frame, the enrolment photos for the turns)
    c = open_session(api)
    r = send(api, c, [photo(FACE, seed=99)] + [enrolled[p] for p in steps_of(c)[1:]])
    # Then both replayed steps are rejected as replayed images
    replayed = [x for x in r.json["reasons"] if x["code"] == "replayed_image"]
    assert r.status_code == 422 and sorted(x["step"] for x in replayed) == [1, 2]
    assert all(x["check"] == "fresh" and x["value"] <= x["limit"] for x in replayed)
