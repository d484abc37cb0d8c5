"""The real ONNX engine with real faces (read in place from ../shared/faces/dev) behind the routes."""
from tests.api.helpers import AYU, check_in, location
from tests.faces import CANDIDATES, OTHER_PERSON, photos


def enrol_real(api):
    for identity in CANDIDATES:
        imgs = photos(identity)
        s = api.post("/me/enrollment/uploads", user=AYU).json
        for target, data in zip(s["uploads"], imgs[:3]):
            api.upload(target, data, "image/jpeg")
        r = api.post("/me/enrollment", {"session_id": s["session_id"], "consent": True}, user=AYU)
        if r.status_code == 201:
            return identity, imgs
    raise AssertionError(f"no candidate identity enrolled: {r.json}")


def session_with(api, data):
    s = api.post("/checkins/uploads", user=AYU).json
    api.upload(s["uploads"][0], data, "image/jpeg")
    return s["session_id"]


def test_real_face_enrols_and_the_same_person_checks_in_a_stranger_does_not(api, set_now, real_engine):
    set_now("2026-03-03T07:45:00+08:00")
    # Given Ayu enrolled with three real photos of one person
    identity, imgs = enrol_real(api)
    # When the same person checks in with a fourth photo
    same = check_in(api, AYU, session_with(api, imgs[3]))
    # Then it is accepted; the employee sees the face's decision and checks, not its exact score
    assert same.status_code == 201, same.json
    assert same.json["decision"] == "accepted" and same.json["face"]["decision"] == "match"
    assert "score" not in same.json["face"] and all("score" not in x for x in same.json["reasons"])
    # And the record keeps the engine's score and threshold for supervisors and auditors
    from chalicelib.wiring import get_services
    [stored] = get_services().records.checkins_on("2026-03-03")
    assert stored.face.score >= stored.face.threshold
    # When someone else checks out with Ayu's account
    other = photos(OTHER_PERSON)[0]
    r = check_in(api, AYU, session_with(api, other), kind="out",
                 loc=location(captured_at="2026-03-03T07:44:50+08:00"))
    # Then it is rejected for the face
    assert r.status_code == 422
    assert "face_mismatch" in [x["code"] for x in r.json["reasons"]], r.json
