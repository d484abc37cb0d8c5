"""A face model upgrade without lockout (docs/deploy.md, "Upgrading the face model"): employees
whose template was made by the previous model re-enrol themselves while it is still configured,
their new photos matched against the old template under the old model."""
import pytest

from tests.api.helpers import AYU, FACE, KETUT, MADE, check_in, checkin_session, enrol
from tests.fakes import FakeEngine

OLD, NEW = "fake-colour-1", "fake-colour-2"
STRANGER = (250, 10, 10)


def ship(engine: FakeEngine) -> FakeEngine:
    from chalicelib import wiring
    wiring.configure(**{**wiring._overrides, "face_engine_provider": lambda: engine})
    return engine


@pytest.fixture
def upgraded(api, set_now):
    """Ayu enrolled under the old model; the new one ships with the old one still loadable."""
    set_now("2026-03-03T07:45:00+08:00")
    assert enrol(api, AYU).status_code == 201
    return ship(FakeEngine(NEW, previous_versions=(OLD,)))


def records():
    from chalicelib.wiring import get_services
    return get_services().records


def test_an_outdated_employee_checking_in_is_told_re_enrolment_is_open_to_them(api, upgraded):
    # When Ayu, enrolled under the old model, checks in after the upgrade
    r = check_in(api, AYU, checkin_session(api, AYU))
    # Then a 409 says her template is outdated and that she may re-enrol herself; nothing stored
    assert r.status_code == 409, r.json
    assert r.json["error"]["code"] == "enrolment_outdated"
    assert r.json["error"]["details"] == {"template_model_version": OLD, "engine_model_version": NEW,
                                          "reenrol": True}
    assert records().checkins_on("2026-03-03") == []


def test_self_re_enrolment_with_matching_photos_is_accepted_audited_and_check_in_works(api, upgraded):
    # When Ayu re-enrols herself with new photos of her face
    r = enrol(api, AYU)
    # Then it is accepted under the new model
    assert r.status_code == 201, r.json
    assert r.json["model_version"] == NEW and r.json["status"] == "enrolled"
    assert records().sealed_template(AYU).model_version == NEW
    # And the consent is recorded again and the renewal audited with both versions and the match
    trail = records().audit_trail(AYU)
    consents = [e for e in trail if e.action == "biometric_consent_given"]
    assert [c.details["model_version"] for c in consents] == [OLD, NEW]
    [renewed] = [e for e in trail if e.action == "enrolment_renewed"]
    assert renewed.actor == AYU
    assert renewed.details["template_model_version"] == OLD and renewed.details["engine_model_version"] == NEW
    [reason] = renewed.details["reasons"]
    assert reason["code"] == "previous_model_match" and reason["model_version"] == OLD
    assert reason["score"] >= reason["threshold"]
    assert renewed.before["model_version"] == OLD and renewed.after["model_version"] == NEW
    # And her check-in works again
    c = check_in(api, AYU, checkin_session(api, AYU))
    assert c.status_code == 201 and c.json["decision"] == "accepted", c.json
    # And she is not outdated any more: a further enrolment is already_enrolled
    again = api.post("/me/enrollment/uploads", user=AYU)
    assert again.status_code == 409 and again.json["error"]["code"] == "already_enrolled"


def test_re_enrolment_with_another_persons_photos_is_refused_and_nothing_is_written(api, upgraded):
    before = records().audit_trail(AYU)
    # When someone else re-enrols with Ayu's account (their own three consistent photos)
    r = enrol(api, AYU, colour=STRANGER)
    # Then it is refused for the old template, naming both versions but no score
    assert r.status_code == 403, r.json
    assert r.json["error"]["code"] == "reenrolment_mismatch"
    assert r.json["error"]["details"] == {"template_model_version": OLD, "engine_model_version": NEW}
    # And nothing is written: the old template, the trail
    assert records().sealed_template(AYU).model_version == OLD
    assert records().audit_trail(AYU) == before


def test_without_the_previous_model_an_outdated_employee_needs_an_admin_reset(api, set_now):
    set_now("2026-03-03T07:45:00+08:00")
    assert enrol(api, AYU).status_code == 201
    # Given the new model ships without the old one
    ship(FakeEngine(NEW))
    # When Ayu checks in, then the 409 says re-enrolment is not open to her
    r = check_in(api, AYU, checkin_session(api, AYU))
    assert r.status_code == 409 and r.json["error"]["code"] == "enrolment_outdated"
    assert r.json["error"]["details"]["reenrol"] is False
    assert r.json["error"]["details"]["needs"] == "admin_reset"
    # When she tries to re-enrol herself, then it is refused with its own code
    u = api.post("/me/enrollment/uploads", user=AYU)
    assert u.status_code == 409 and u.json["error"]["code"] == "reenrolment_unavailable", u.json
    assert u.json["error"]["details"]["template_model_version"] == OLD
    # And after an admin reset she enrols as a first enrolment
    assert api.delete(f"/admin/employees/{AYU}/enrollment", user="admin").status_code == 200
    assert enrol(api, AYU).json["model_version"] == NEW


def test_an_employee_on_the_current_model_is_already_enrolled_as_before(api, upgraded):
    ship(FakeEngine(OLD, previous_versions=("fake-colour-0",)))
    r = api.post("/me/enrollment/uploads", user=AYU)
    assert r.status_code == 409 and r.json["error"]["code"] == "already_enrolled"


def test_a_re_enrolment_waits_for_approval_like_a_first_one(api, upgraded, setting):
    setting("HADIR_ENROLMENT_APPROVAL", "true")
    # When Ayu re-enrols herself
    r = enrol(api, AYU)
    # Then it waits for her supervisor's approval, her check-ins flagged meanwhile
    assert r.status_code == 201 and r.json["status"] == "pending_approval", r.json
    c = check_in(api, AYU, checkin_session(api, AYU))
    assert c.json["decision"] == "flagged" and "enrolment_pending" in [x["code"] for x in c.json["reasons"]]
    items = api.get("/team/reviews?from=2026-03-01&to=2026-03-04", user=KETUT).json["items"]
    assert "enrolment" in [i["kind"] for i in items]


def test_admins_see_who_still_needs_the_previous_model(api, upgraded):
    # Given Made enrolled under the new model, Ayu still under the old one
    assert enrol(api, MADE).status_code == 201
    # When the admin looks
    r = api.get("/admin/enrolments/outdated", user="admin")
    # Then Ayu is counted and named under the old version, Made only counted under the new one
    assert r.status_code == 200, r.json
    assert r.json["engine_model_version"] == NEW and r.json["previous_model_versions"] == [OLD]
    assert (r.json["enrolled"], r.json["outdated"]) == (2, 1)
    assert r.json["versions"] == [
        {"model_version": NEW, "count": 1, "current": True, "loadable": False, "nips": []},
        {"model_version": OLD, "count": 1, "current": False, "loadable": True, "nips": [AYU]}]
    # When Ayu re-enrols, then nobody needs the old model any more
    assert enrol(api, AYU, colour=FACE).status_code == 201
    assert api.get("/admin/enrolments/outdated", user="admin").json["outdated"] == 0


@pytest.mark.parametrize("user", [AYU, KETUT])
def test_only_admins_see_the_outdated_enrolments(api, upgraded, user):
    r = api.get("/admin/enrolments/outdated", user=user)
    assert r.status_code == 403


# --- the real engine: the previous model is dlib-resnet alone (tests/faces.py) ------------------
def enrol_jpeg(api, nip, jpegs):
    s = api.post("/me/enrollment/uploads", user=nip)
    assert s.status_code == 201, s.json
    for target, data in zip(s.json["uploads"], jpegs):
        api.upload(target, data, "image/jpeg")
    return api.post("/me/enrollment", {"session_id": s.json["session_id"], "consent": True}, user=nip)


def test_real_faces_re_enrol_under_the_new_model_only_when_they_match_the_old_template(
        api, set_now, setting, tmp_path):
    from tests.conftest import FACES_DEV
    if not FACES_DEV.is_dir():
        pytest.skip(f"real face photos not available at {FACES_DEV}")
    from chalicelib.face import FaceConfig, FaceEngine
    from chalicelib.face.match import Calibration
    from tests.faces import OTHER_PERSON, photos, previous_calibration
    setting("HADIR_LIVENESS_REQUIRED", "false")  # frontal photos; the challenge is tested elsewhere
    set_now("2026-03-03T07:45:00+08:00")
    gul, stranger = photos("Abdullah_Gul"), photos(OTHER_PERSON)
    # Given Ayu enrolled under the previous model (dlib-resnet alone)
    prev = previous_calibration(tmp_path)
    old = ship(FaceEngine(calibration=Calibration.load(prev)))
    assert enrol_jpeg(api, AYU, gul[:3]).json["model_version"] == old.model_version
    # And the current model (the fusion) ships with the previous one configured
    new = ship(FaceEngine(FaceConfig(previous_calibrations=(str(prev),))))
    assert new.model_version != old.model_version and new.previous_versions == [old.model_version]
    # When she checks in, then she is told to re-enrol herself
    r = check_in(api, AYU, checkin_session(api, AYU, data=gul[6], content_type="image/jpeg"))
    assert r.status_code == 409 and r.json["error"]["details"]["reenrol"] is True, r.json
    # When another person re-enrols with her account, then the old model refuses them
    refused = enrol_jpeg(api, AYU, [stranger[i] for i in (0, 1, 3)])
    assert refused.status_code == 403 and refused.json["error"]["code"] == "reenrolment_mismatch", refused.json
    assert records().sealed_template(AYU).model_version == old.model_version
    # When she re-enrols with three new photos of herself, then they are accepted under the new model
    renewed = enrol_jpeg(api, AYU, gul[3:6])
    assert renewed.status_code == 201 and renewed.json["model_version"] == new.model_version, renewed.json
    [audit] = [e for e in records().audit_trail(AYU) if e.action == "enrolment_renewed"]
    assert audit.details["reasons"][0]["score"] >= audit.details["reasons"][0]["threshold"]
    # And her check-in with another photo is accepted
    c = check_in(api, AYU, checkin_session(api, AYU, data=gul[6], content_type="image/jpeg"))
    assert c.status_code == 201 and c.json["face"]["decision"] == "match", c.json
