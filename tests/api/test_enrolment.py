"""Enrolment: three presigned uploads, each photo must pass; template stored encrypted."""
from tests.api.helpers import AYU, FACE, enrol, steps_of
from tests.fakes import photo, posed


def test_upload_session_gives_three_presigned_posts_with_limits(api):
    r = api.post("/me/enrollment/uploads", user=AYU)
    assert r.status_code == 201
    assert len(r.json["uploads"]) == 3 and r.json["expires_at"]
    policy_fields = r.json["uploads"][0]["fields"]
    assert "policy" in policy_fields and "x-amz-meta-nonce" in policy_fields


def test_three_good_photos_enrol(api):
    r = enrol(api, AYU)
    assert r.status_code == 201, r.json
    assert r.json["status"] == "enrolled"
    assert [p["ok"] for p in r.json["photos"]] == [True, True, True]
    assert api.get("/me", user=AYU).json["enrollment"]["status"] == "enrolled"


def test_template_is_stored_encrypted(api):
    enrol(api, AYU)
    import boto3
    item = boto3.client("dynamodb", region_name="ap-southeast-3").get_item(
        TableName="hadir-pemkab-demo-test-biometrics", Key={"nip": {"S": AYU}})["Item"]
    assert b"embeddings" not in item["ciphertext"]["B"]
    from chalicelib.wiring import get_services
    sealed = get_services().records.sealed_template(AYU)
    assert sealed.model_version == "fake-colour-1"
    assert get_services().vault.unseal(AYU, sealed)["model_version"] == "fake-colour-1"


def test_a_photo_without_a_face_rejects_enrolment_with_per_photo_reasons(api):
    r = enrol(api, AYU, photos=[photo(FACE), photo(FACE, faces=0), photo(FACE, seed=2)])
    assert r.status_code == 422
    assert r.json["error"]["code"] == "enrolment_photo_rejected"
    assert [p["ok"] for p in r.json["error"]["details"]["photos"]] == [True, False, True]
    assert r.json["error"]["details"]["photos"][1]["reason"] == "no_face"


def test_photos_of_different_people_are_rejected(api):
    r = enrol(api, AYU, photos=[photo(FACE), photo((250, 10, 10)), photo(FACE, seed=2)])
    assert r.status_code == 422 and r.json["error"]["code"] == "inconsistent_enrolment_photos"


def test_already_enrolled_is_a_409(api):
    assert enrol(api, AYU).status_code == 201
    r = api.post("/me/enrollment/uploads", user=AYU)
    assert r.status_code == 409 and r.json["error"]["code"] == "already_enrolled"


def test_enrolment_session_cannot_be_used_for_checkin(api):
    s = api.post("/me/enrollment/uploads", user=AYU).json
    assert enrol(api, AYU).status_code == 201
    r = api.post("/checkins", {"session_id": s["session_id"], "type": "in",
                               "location": {"lat": -8.67, "lon": 115.21, "accuracy_m": 5,
                                            "captured_at": "2026-03-03T07:45:00+08:00", "is_mock": False}},
                 user=AYU)
    assert r.status_code == 422 and r.json["error"]["code"] == "wrong_session_purpose"


def test_unknown_session_is_a_404(api):
    r = api.post("/me/enrollment", {"session_id": "nope", "consent": True}, user=AYU)
    assert r.status_code == 404 and r.json["error"]["code"] == "session_not_found"


def test_corrupt_enrolment_photo_is_rejected(api):
    r = enrol(api, AYU, photos=[photo(FACE), b"\x89PNG\r\n\x1a\n" + b"x" * 2000, photo(FACE, seed=2)])
    assert r.status_code == 422
    assert r.json["error"]["details"]["photos"][1]["reason"] == "corrupt_image"


def test_oversized_enrolment_photo_is_a_413(api, set_now, setting):
    set_now("2026-03-03T07:45:00+08:00")
    setting("HADIR_UPLOAD_MAX_BYTES", "2048")
    r = enrol(api, AYU, photos=[photo(FACE, size=(256, 256)), photo(FACE), photo(FACE, seed=2)])
    assert r.status_code == 413 and r.json["error"]["code"] == "image_too_large"
    assert api.get("/me", user=AYU).json["enrollment"]["status"] == "not_enrolled"


def test_replayed_enrolment_session_is_a_409_after_a_reset(api):
    s = api.post("/me/enrollment/uploads", user=AYU).json
    for target, frame in zip(s["uploads"], posed(steps_of(s), FACE)):
        api.upload(target, frame)
    assert api.post("/me/enrollment", {"session_id": s["session_id"], "consent": True}, user=AYU).status_code == 201
    assert api.delete(f"/admin/employees/{AYU}/enrollment", user="admin").status_code == 200
    r = api.post("/me/enrollment", {"session_id": s["session_id"], "consent": True}, user=AYU)
    assert r.status_code == 409 and r.json["error"]["code"] == "session_used"


# --- consent (UU 27/2022: face templates are specific personal data) ------------------------

def test_enrolment_without_explicit_consent_is_refused_and_writes_nothing(api):
    # Given three good photos uploaded
    s = api.post("/me/enrollment/uploads", user=AYU).json
    for target, frame in zip(s["uploads"], posed(steps_of(s), FACE)):
        api.upload(target, frame)
    # When the app enrols without (or with anything but true for) consent
    for consent in (None, False, "yes"):
        body = {"session_id": s["session_id"]} | ({} if consent is None else {"consent": consent})
        r = api.post("/me/enrollment", body, user=AYU)
        # Then it is a 422 naming the notice to accept, and the employee is not enrolled
        assert r.status_code == 422 and r.json["error"]["code"] == "consent_required"
        assert r.json["error"]["details"]["notice_version"] == "biometric-consent-v1"
    assert api.get("/me", user=AYU).json["enrollment"]["status"] == "not_enrolled"
    # And the same session still enrols once consent is given
    r = api.post("/me/enrollment", {"session_id": s["session_id"], "consent": True}, user=AYU)
    assert r.status_code == 201


def test_consent_is_recorded_with_the_template(api):
    enrol(api, AYU)
    from chalicelib.wiring import get_services
    trail = get_services().records.audit_trail(AYU)
    consent = [a for a in trail if a.action == "biometric_consent_given"]
    assert len(consent) == 1 and consent[0].actor == AYU
    assert consent[0].details["notice_version"] == "biometric-consent-v1"


def test_an_enrolment_session_replayed_concurrently_is_a_409_from_the_transaction(api, monkeypatch):
    from chalicelib.adapters.s3 import S3Uploads
    from chalicelib.services import sessions
    from chalicelib.wiring import get_services
    monkeypatch.setattr(S3Uploads, "discard", lambda self, keys: None)  # the photos are still there
    s = api.post("/me/enrollment/uploads", user=AYU).json
    for target, frame in zip(s["uploads"], posed(steps_of(s), FACE)):
        api.upload(target, frame)
    assert api.post("/me/enrollment", {"session_id": s["session_id"], "consent": True}, user=AYU).status_code == 201
    assert api.delete(f"/admin/employees/{AYU}/enrollment", user="admin").status_code == 200
    # Given a replay that read the session before it was marked used (a race)
    monkeypatch.setattr(sessions, "claimable", lambda svc, session_id, nip, purpose: get_services()
                        .records.get_session(session_id).model_copy(update={"used": False}))
    # When
    r = api.post("/me/enrollment", {"session_id": s["session_id"], "consent": True}, user=AYU)
    # Then the transaction refuses it and nothing is enrolled
    assert r.status_code == 409 and r.json["error"]["code"] == "session_used", r.json
    assert api.get("/me", user=AYU).json["enrollment"]["status"] == "not_enrolled"


def test_an_altered_template_fails_its_integrity_check(api):
    # Given an enrolled template whose ciphertext was altered at rest
    enrol(api, AYU)
    import pytest
    from chalicelib.adapters.vault import BiometricVaultError
    from chalicelib.wiring import get_services
    vault = get_services().vault
    sealed = get_services().records.sealed_template(AYU)
    tampered = sealed.model_copy(update={"ciphertext": bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]})
    # Then it is refused as an integrity failure, never decoded; and it cannot pass as another NIP's
    with pytest.raises(BiometricVaultError) as err:
        vault.unseal(AYU, tampered)
    assert err.value.details == {"reason": "integrity"}
    with pytest.raises(BiometricVaultError):
        vault.unseal("199208202019021003", sealed)
