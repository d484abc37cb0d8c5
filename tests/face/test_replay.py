"""Replays: an enrolment photo uploaded again as the check-in selfie (byte for byte or
recompressed, cropped, resized, rotated), and one photo enrolled as several (face/replay.py)."""
from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from chalicelib.common.settings import load_settings
from chalicelib.face import EnrolmentError, FaceConfig, replay
from chalicelib.face.types import FaceError, MatchResult
from tests.face.conftest import encode, open_photo, photo
from tests.fakes import FakeEngine
from tests.fakes import photo as fake_photo
from tests.policy.test_policy_decision import decide, wita

PERSON = "Megawati_Sukarnoputri"


def crop(img: Image.Image, share: float) -> Image.Image:
    """That share of each side removed, all from the top and left (the face moves off-centre)."""
    w, h = img.size
    return img.crop((round(w * share), round(h * share), w, h))


def resize(img: Image.Image, f: float) -> Image.Image:
    return img.resize((round(img.width * f), round(img.height * f)), Image.BICUBIC)


COPIES = {
    "jpeg q50": lambda im: encode(im, quality=50),
    "jpeg q90": lambda im: encode(im, quality=90),
    "crop 10 %": lambda im: encode(crop(im, 0.10)),
    "crop 15 %": lambda im: encode(crop(im, 0.15)),
    "resize 75 %": lambda im: encode(resize(im, 0.75)),
    "resize 150 %": lambda im: encode(resize(im, 1.5)),
    "rotate 5 degrees": lambda im: encode(im.rotate(5, Image.BICUBIC)),
}


@pytest.fixture(scope="module")
def enrolled(engine, faces):
    return engine.enrol([photo(faces, PERSON, n) for n in (1, 2, 3)])


def test_the_enrolment_photo_itself_is_a_replay_of_that_photo(engine, faces, enrolled):
    # Given a template from photos 1-3; When photo 2 is sent again, byte for byte, as the selfie
    v = engine.verify(enrolled.template, photo(faces, PERSON, 2))
    # Then it matches the face but is flagged as a replay of enrolment photo index 1
    assert v.match.is_match and v.match.is_replay and v.match.replay_of == 1
    assert v.match.replay_score >= v.match.replay_threshold == engine.config.replay_threshold
    assert {"replay_score", "replay_threshold", "replay_of"} <= set(v.match.to_dict())


@pytest.mark.parametrize("name", COPIES)
def test_a_transformed_copy_of_an_enrolment_photo_is_a_replay(engine, faces, enrolled, name):
    # Given enrolment photo 1 recompressed, cropped, resized or rotated
    data = COPIES[name](open_photo(faces, PERSON, 1))
    # When it is sent as the selfie; Then it is a replay of enrolment photo index 0
    v = engine.verify(enrolled.template, data)
    assert v.match.replay_of == 0, (name, v.match.replay_score, v.match.replay_threshold)


@pytest.mark.parametrize("n", [4, 5, 6, 7])
def test_another_photo_of_the_same_person_is_a_match_and_not_a_replay(engine, faces, enrolled, n):
    try:
        v = engine.verify(enrolled.template, photo(faces, PERSON, n))
    except FaceError as err:
        pytest.skip(f"photo {n} fails a quality gate ({err.code})")
    assert not v.match.is_replay and v.match.replay_score < v.match.replay_threshold
    assert v.match.to_dict()["replay_of"] is None


def test_three_copies_of_one_photo_are_refused_at_enrolment(engine, faces):
    # Given one photo uploaded as all three enrolment photos
    one = photo(faces, PERSON, 1)
    with pytest.raises(EnrolmentError) as err:
        engine.enrol([one, one, one])
    # Then enrolment is refused naming the copies, with the closest pair and its score
    d = err.value.details
    assert err.value.code == "duplicate_enrolment_photos"
    assert d["pair"] in ([0, 1], [0, 2], [1, 2]) and d["score"] >= d["threshold"]
    assert len(d["pairs"]) == 3
    assert [p["ok"] for p in d["photos"]] == [True, False, False]


def test_a_recompressed_copy_among_the_enrolment_photos_is_refused(engine, faces):
    # Given photos 1 and 2, and photo 1 again recompressed at q70 and cropped
    copy = encode(crop(open_photo(faces, PERSON, 1), 0.05), quality=70)
    with pytest.raises(EnrolmentError) as err:
        engine.enrol([photo(faces, PERSON, 1), photo(faces, PERSON, 2), copy])
    # Then the third photo is named as the copy of the first
    assert err.value.code == "duplicate_enrolment_photos" and err.value.details["pair"] == [0, 2]
    assert [p.get("reason") for p in err.value.details["photos"]] == [
        None, None, "duplicate_enrolment_photos"]


def test_three_distinct_photos_enrol(enrolled):
    assert [p.ok for p in enrolled.photos] == [True, True, True]


def test_a_replay_is_rejected_by_the_decision_with_its_numbers(engine, faces, enrolled):
    # Given a replayed enrolment photo, on time and inside the fence
    v = engine.verify(enrolled.template, photo(faces, PERSON, 3))
    d = decide(wita(7, 20), face=v.match.to_dict())
    # Then the check-in is rejected as a replay, not accepted as a face match
    assert d.decision == "rejected" and "face_match" not in d.codes
    r = next(r for r in d.reasons if r["code"] == "replayed_image")
    assert r == {"code": "replayed_image", "effect": "reject", "photo": 2,
                 "score": round(v.match.replay_score, 6),
                 "threshold": round(v.match.replay_threshold, 6)}


def test_the_decision_keeps_a_non_replay_match_accepted():
    # Given a match whose replay score is under its threshold (and one without replay evidence)
    for extra in ({"replay_score": -0.4, "replay_threshold": 0.1, "replay_of": None}, {}):
        face = MatchResult(3.1, 2.67, "match", "v").to_dict() | extra
        d = decide(wita(7, 20), face=face)
        # Then it is accepted on its face match
        assert d.decision == "accepted" and "replayed_image" not in d.codes


def test_the_fake_engine_treats_the_same_picture_as_a_replay():
    # Given the API tests' fake enrolled with seeds 0-2 of one colour
    fake, face = FakeEngine(), (30, 120, 200)
    t = fake.enrol([fake_photo(face, seed=i) for i in range(3)]).template
    # Then seed 1 again is a replay of photo 1, seed 9 is a plain match
    assert fake.verify(t, fake_photo(face, seed=1)).match.replay_of == 1
    other = fake.verify(t, fake_photo(face, seed=9)).match
    assert other.is_match and not other.is_replay
    with pytest.raises(EnrolmentError) as err:
        fake.enrol([fake_photo(face)] * 3)
    assert err.value.code == "duplicate_enrolment_photos"


def test_either_model_seeing_the_same_picture_is_enough_on_its_anchored_scale():
    # Given two models whose anchors (closest distinct captures) are 0.9 and 0.5
    anchors = {"a": 0.9, "b": 0.5}
    rows = {"a": np.eye(3, dtype=np.float32), "b": np.eye(3, dtype=np.float32)}
    probe = {"a": np.array([0.95, np.sqrt(1 - 0.95 ** 2), 0], np.float32),
             "b": np.array([0.6, 0.8, 0], np.float32)}
    # Then each row scores the best of (cos - anchor) / (1 - anchor): row 0 by "a", row 1 by "b"
    assert np.allclose(replay.row_scores(rows, probe, anchors), [0.5, 0.6, -1.0], atol=1e-5)
    assert replay.check(rows, probe, 0.55, anchors).photo == 1
    assert replay.check(rows, probe, 0.7, anchors).photo is None
    # And a model without an anchor scores its plain cosine
    assert np.allclose(replay.row_scores({"c": rows["a"]}, {"c": probe["b"]}), [0.6, 0.8, 0.0])


def test_the_replay_check_costs_well_under_a_millisecond():
    rng = np.random.default_rng(0)
    rows = {"dlib-resnet": rng.normal(size=(3, 128)).astype(np.float32),
            "faceres": rng.normal(size=(3, 1024)).astype(np.float32)}
    probe = {k: v[0] for k, v in rows.items()}
    t = time.perf_counter()
    for _ in range(1000):
        replay.check(rows, probe, 0.1)
    assert (time.perf_counter() - t) / 1000 < 2e-4


def test_the_threshold_is_configurable_from_the_environment():
    s = load_settings({"HADIR_STAGE": "local", "HADIR_FACE_REPLAY_THRESHOLD": "0.99"})
    assert s.face.replay_threshold == 0.99 and FaceConfig().replay_threshold != 0.99
