"""Previous model versions (a model upgrade): named by their calibration files, validated when the
settings load, loaded only when a re-enrolment needs them."""
from __future__ import annotations

import json

import pytest

from chalicelib.common.settings import SettingsError, load_settings
from chalicelib.face import FaceConfig, FaceEngine, previous
from chalicelib.face.match import TemplateVersionError
from chalicelib.face.types import Template
from tests.faces import previous_calibration


def test_a_previous_calibration_is_read_from_the_setting_comma_separated(tmp_path):
    # Given the dlib-only variant written beside nothing but itself (its model is in models/)
    path = previous_calibration(tmp_path)
    # When the settings load with it
    s = load_settings({"HADIR_STAGE": "local", "HADIR_FACE_PREVIOUS_CALIBRATIONS": f" {path}, "})
    # Then the engine's config names it, and the engine knows its version without loading a model
    assert s.face.previous_calibrations == (str(path),)
    engine = FaceEngine(s.face)
    [version] = engine.previous_versions
    assert version.startswith("face-dlib-resnet-") and version != engine.model_version
    assert engine._previous == {}  # lazily: nothing loaded until a re-enrolment matches


@pytest.mark.parametrize("spoil", ["missing", "version", "model"])
def test_a_bad_previous_calibration_refuses_to_start(tmp_path, spoil):
    path = previous_calibration(tmp_path)
    d = json.loads(path.read_text())
    if spoil == "missing":
        path = tmp_path / "nowhere.json"
    elif spoil == "version":  # edited after it was made: its version no longer says what it holds
        path.write_text(json.dumps({**d, "threshold": d["threshold"] + 1}))
    else:  # a model file that exists neither beside it nor in models/
        path.write_text(json.dumps({**d, "models": [{**d["models"][0], "name": "no-such-model"}]}))
    with pytest.raises(SettingsError) as err:
        load_settings({"HADIR_STAGE": "local", "HADIR_FACE_PREVIOUS_CALIBRATIONS": str(path)})
    assert err.value.code == "invalid_configuration"
    assert err.value.details["errors"][0]["variable"] == "HADIR_FACE_*"


def test_a_model_file_with_another_sha256_is_not_loaded_as_the_previous_model(tmp_path):
    path = previous_calibration(tmp_path)
    d = json.loads(path.read_text())
    path.write_text(json.dumps({**d, "models": [{**d["models"][0], "sha256": "0" * 64}]}))
    with pytest.raises(RuntimeError, match="sha256"):
        previous.load(path, FaceEngine().models_dir)


def test_a_template_of_a_version_not_configured_is_outdated(tmp_path):
    engine = FaceEngine(FaceConfig())
    with pytest.raises(TemplateVersionError):
        engine.match_previous(Template("face-gone-000000000000", {}), b"")
