"""Calibrated matching: the shipped calibration file, fusion, template rules, template storage."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from chalicelib.common.errors import Kind
from chalicelib.face import Template, models
from chalicelib.face.match import Calibration, ModelCalibration, TemplateVersionError

SHIPPED = models.MODELS_DIR / "calibration.json"


@pytest.fixture(scope="module")
def shipped() -> Calibration:
    return Calibration.load(SHIPPED)


def test_calibration_names_the_exact_model_files_it_was_made_with(shipped):
    # Given the shipped calibration; Then every model it uses is present with the recorded sha256
    for m in shipped.models:
        assert models.file_sha256(models.model_path(m.name)) == m.sha256, m.name


def test_model_version_is_derived_from_the_calibration_content(shipped):
    # The version stored with every template changes when a model or a parameter changes
    assert shipped.model_version == shipped.expected_version()
    changed = dataclasses.replace(shipped, threshold=shipped.threshold + 0.01)
    assert changed.expected_version() != shipped.model_version


def test_operating_point_meets_the_far_target_on_the_calibration_set(shipped):
    single = shipped.figures["single_pair"]
    assert shipped.far_target == 1e-3
    assert single["far_at_threshold"] <= shipped.far_target
    assert single["threshold"] == shipped.threshold
    assert single["genuine_pairs"] > 5000 and single["impostor_pairs"] > 4_000_000
    assert shipped.figures["enrol3"]["far"] <= shipped.far_target


def test_calibration_file_round_trips(shipped):
    again = Calibration.from_dict(json.loads(json.dumps(shipped.to_dict())))
    assert again.expected_version() == shipped.model_version
    for a, b in zip(again.models, shipped.models):
        assert (a.centre is None and b.centre is None) or np.array_equal(a.centre, b.centre)


def test_unknown_template_rule_is_refused(shipped):
    d = shipped.to_dict() | {"rule": "median"}
    with pytest.raises(ValueError):
        Calibration.from_dict(d)


# --- fusion and template rules on synthetic embeddings ---

def unit(v):
    v = np.asarray(v, np.float32)
    return v / np.linalg.norm(v)


TOY = Calibration("toy-v1", threshold=1.0, rule="mean", far_target=1e-3, figures={}, models=(
    ModelCalibration("a", "", weight=0.5, impostor_mean=0.0, impostor_std=0.2),
    ModelCalibration("b", "", weight=0.5, impostor_mean=0.5, impostor_std=0.1),
))


def test_fusion_is_the_weighted_sum_of_impostor_z_scores():
    fused = TOY.fuse({"a": np.array([0.4]), "b": np.array([0.7])})
    assert fused[0] == pytest.approx(0.5 * 0.4 / 0.2 + 0.5 * 0.2 / 0.1)


def template_and_probe(cos_a: list[float], cos_b: list[float]):
    """A template whose rows have the given cosines with a probe, in each model."""
    def rows(cosines):
        return np.stack([unit([c, np.sqrt(1 - c * c)]) for c in cosines])
    t = Template("toy-v1", {"a": rows(cos_a), "b": rows(cos_b)})
    return t, {"a": unit([1, 0]), "b": unit([1, 0])}


def test_mean_rule_averages_over_the_template_photos():
    # Given a template whose three photos score z = 2, 2 and -1 against the probe
    t, probe = template_and_probe([0.4, 0.4, -0.2], [0.7, 0.7, 0.4])
    r = TOY.score_template(t, probe)
    # Then the score is their mean (1.0), which meets the threshold of 1.0
    assert r.score == pytest.approx(1.0, abs=1e-5) and r.decision == "match"
    assert r.threshold == 1.0 and r.model_version == "toy-v1" and "mean" in r.rule
    assert r.components["a"] == pytest.approx(0.2, abs=1e-5)


def test_max_rule_takes_the_best_photo():
    t, probe = template_and_probe([0.4, 0.0, -0.2], [0.7, 0.5, 0.4])
    r = dataclasses.replace(TOY, rule="max").score_template(t, probe)
    assert r.score == pytest.approx(2.0, abs=1e-5)


def test_below_threshold_is_no_match():
    t, probe = template_and_probe([0.1, 0.1, 0.1], [0.5, 0.5, 0.5])
    r = TOY.score_template(t, probe)
    assert r.decision == "no_match" and not r.is_match


def test_template_from_another_model_version_must_be_re_enrolled():
    t, probe = template_and_probe([0.4] * 3, [0.7] * 3)
    old = Template("toy-v0", t.embeddings)
    with pytest.raises(TemplateVersionError) as err:
        TOY.score_template(old, probe)
    assert err.value.code == "enrolment_outdated" and err.value.kind == Kind.CONFLICT


def test_template_serialises_without_loss():
    t, _ = template_and_probe([0.4, 0.3, 0.2], [0.7, 0.6, 0.5])
    back = Template.from_dict(json.loads(json.dumps(t.to_dict())))
    assert back.model_version == t.model_version
    for k in t.embeddings:
        assert np.array_equal(back.embeddings[k], t.embeddings[k])


def test_engine_refuses_a_model_file_the_calibration_was_not_made_with(tmp_path):
    # Given a models folder where one embedder was replaced after calibration
    import shutil
    from chalicelib.face import FaceEngine
    for f in models.MODELS_DIR.iterdir():
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "faceres.onnx").write_bytes(b"not the calibrated model")
    # Then the engine does not start scoring with it
    with pytest.raises(RuntimeError, match="faceres"):
        FaceEngine(models_dir=tmp_path).calibration
