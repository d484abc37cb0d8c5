"""Enrolment from three photos and verification, end to end through the real models."""
from __future__ import annotations

import subprocess
import sys

import pytest

from chalicelib.common.errors import HadirError, Kind
from chalicelib.face import EnrolmentError, FaceError
from tests.face.conftest import ROOT, encode, photo
from PIL import Image


@pytest.fixture(scope="module")
def megawati(engine, faces):
    return engine.enrol([photo(faces, "Megawati_Sukarnoputri", n) for n in (1, 2, 3)])


def test_three_good_photos_of_one_person_make_a_template(engine, megawati):
    # Then the template holds three embeddings per model and no pixels
    assert megawati.template.model_version == engine.model_version
    shapes = {name: rows.shape for name, rows in megawati.template.embeddings.items()}
    assert shapes == {"dlib-resnet": (3, 128), "faceres": (3, 1024)}
    assert set(megawati.template.to_dict()) == {"model_version", "embeddings"}
    assert [p.ok for p in megawati.photos] == [True, True, True]
    assert all(p.checks for p in megawati.photos)


def test_same_person_later_photo_is_a_match(engine, faces, megawati):
    v = engine.verify(megawati.template, photo(faces, "Megawati_Sukarnoputri", 5))
    assert v.match.decision == "match" and v.match.score >= v.match.threshold
    assert set(v.match.components) == set(engine.calibration.model_names)
    assert v.analysis.chips == {}  # the aligned face pixels are not kept once embedded


def test_another_person_is_not_a_match(engine, faces, megawati):
    v = engine.verify(megawati.template, photo(faces, "Wen_Jiabao", 1))
    assert v.match.decision == "no_match" and v.match.score < v.match.threshold
    assert v.match.to_dict()["model_version"] == engine.model_version


def test_enrolment_needs_exactly_three_photos(engine, faces):
    with pytest.raises(HadirError) as err:
        engine.enrol([photo(faces, "Tony_Blair", 1), photo(faces, "Tony_Blair", 2)])
    assert err.value.code == "enrolment_needs_three_photos" and err.value.kind == Kind.INVALID


def test_a_refused_photo_is_named_with_its_reason(engine, faces):
    # Given three photos of which the second shows no face
    blank = encode(Image.new("RGB", (640, 480), (120, 120, 120)))
    with pytest.raises(EnrolmentError) as err:
        engine.enrol([photo(faces, "Tony_Blair", 1), blank, photo(faces, "Tony_Blair", 3)])
    # Then the error lists every photo: the good ones ticked, the bad one with its code
    assert err.value.code == "enrolment_photo_rejected"
    assert [(p["index"], p["ok"], p.get("reason")) for p in err.value.details["photos"]] == [
        (0, True, None), (1, False, "no_face"), (2, True, None)]


def test_photo_of_someone_else_is_the_odd_one_out(engine, faces):
    # Given two photos of one person and one of another
    photos = [photo(faces, "Tony_Blair", 1), photo(faces, "Hans_Blix", 1), photo(faces, "Tony_Blair", 2)]
    with pytest.raises(EnrolmentError) as err:
        engine.enrol(photos)
    # Then enrolment is refused naming the second photo
    assert err.value.code == "inconsistent_enrolment_photos"
    assert err.value.details["odd_one_out"] == 1
    assert [p["ok"] for p in err.value.details["photos"]] == [True, False, True]
    assert len(err.value.details["pairs"]) == 3


def test_probe_failing_a_gate_is_refused_not_scored(engine, megawati):
    with pytest.raises(FaceError) as err:
        engine.verify(megawati.template, b"not an image")
    assert err.value.code == "unsupported_image"


def test_importing_the_engine_loads_no_model():
    # Models load lazily on first use: importing (e.g. at Lambda init of a route that never
    # verifies a face) must not import onnxruntime.
    code = "import sys, chalicelib.face; print('onnxruntime' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
