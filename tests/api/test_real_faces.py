"""The real ONNX engine with real faces (read in place from ../shared/faces/dev) behind the routes,
liveness challenge included: the photos are chosen by their measured head pose (tests/faces.py)."""
from tests.api.helpers import AYU, check_in, location, steps_of
from tests.faces import OTHER_PERSON, POSED_CHECKIN, POSED_ENROLMENT, following, photos


def enrol_real(api):
    s = api.post("/me/enrollment/uploads", user=AYU).json
    for target, data in zip(s["uploads"], following(steps_of(s), POSED_ENROLMENT)):
        api.upload(target, data, "image/jpeg")
    r = api.post("/me/enrollment", {"session_id": s["session_id"], "consent": True}, user=AYU)
    assert r.status_code == 201, r.json
    return r


def session_with(api, frames=None, first=None):
    """A check-in session answered with the posed check-in photos (``first`` as the front frame)."""
    s = api.post("/checkins/uploads", user=AYU).json
    frames = frames or following(steps_of(s), POSED_CHECKIN)
    for target, data in zip(s["uploads"], [first or frames[0], *frames[1:]]):
        api.upload(target, data, "image/jpeg")
    return s["session_id"]


def test_real_face_enrols_and_the_same_person_checks_in_a_stranger_does_not(api, set_now, real_engine, setting):
    setting("HADIR_LIVENESS_DIRECTIONS", "left,right")
    set_now("2026-03-03T07:45:00+08:00")
    # Given Ayu enrolled with three real photos of one person: front, left and right as asked
    enrolled = enrol_real(api)
    assert enrolled.json["liveness"]["passed"], enrolled.json
    # When the same person checks in following the challenge with three other photos
    same = check_in(api, AYU, session_with(api))
    # Then it is accepted; the employee sees the face's decision and checks, not its exact score
    assert same.status_code == 201, same.json
    assert same.json["decision"] == "accepted" and same.json["face"]["decision"] == "match"
    assert same.json["liveness"]["passed"] and "liveness_passed" in [x["code"] for x in same.json["reasons"]]
    assert "score" not in same.json["face"] and all("score" not in x for x in same.json["reasons"])
    # And the record keeps the engine's score and threshold for supervisors and auditors
    from chalicelib.wiring import get_services
    [stored] = get_services().records.checkins_on("2026-03-03")
    assert stored.face.score >= stored.face.threshold
    # When someone else checks out with Ayu's account (their face in front, Ayu's turns after)
    other = photos(OTHER_PERSON)[0]
    r = check_in(api, AYU, session_with(api, first=other), kind="out",
                 loc=location(captured_at="2026-03-03T07:44:50+08:00"))
    # Then it is rejected for the face
    assert r.status_code == 422
    assert "face_mismatch" in [x["code"] for x in r.json["reasons"]], r.json


def test_one_real_photo_sent_for_every_step_is_rejected_by_liveness(api, set_now, real_engine, setting):
    setting("HADIR_LIVENESS_DIRECTIONS", "left,right")
    set_now("2026-03-03T07:45:00+08:00")
    enrol_real(api)
    front = following(["front"], POSED_CHECKIN)[0]
    r = check_in(api, AYU, session_with(api, frames=[front] * 3))  # front and two turns
    codes = {x["code"] for x in r.json["reasons"]}
    assert r.status_code == 422 and {"liveness_duplicate_frames", "liveness_too_small"} <= codes, r.json
