"""Calibrated matching. Each embedder's cosine similarity is z-normalised with its impostor
statistics on the calibration set and the z-scores are fused with fixed weights; a template of
several photos is scored against a probe by the calibrated rule. Everything comes from the
versioned calibration file beside the models (models/calibration.json)."""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from chalicelib.common.errors import HadirError, JsonObject, Kind
from chalicelib.face.types import MatchResult, Template

RULES = ("mean", "max", "centroid")


@dataclass(frozen=True)
class ModelCalibration:
    name: str
    sha256: str
    weight: float
    impostor_mean: float
    impostor_std: float
    centre: np.ndarray | None = None  # subtracted from the unit embedding, then renormalised
    flip: bool = False                # average the embeddings of the face and its mirror image


@dataclass(frozen=True)
class Calibration:
    model_version: str
    threshold: float
    rule: str
    far_target: float
    models: tuple[ModelCalibration, ...]
    figures: JsonObject

    @property
    def model_names(self) -> list[str]:
        return [m.name for m in self.models]

    def model(self, name: str) -> ModelCalibration:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)

    def normalise(self, name: str, raw: np.ndarray) -> np.ndarray:
        """Raw embeddings (n, d) of one face (and its mirror) -> one unit vector (d,)."""
        return normalise(raw, self.model(name).centre)

    def expected_version(self) -> str:
        """The version this calibration's content implies (models, their hashes and parameters)."""
        return model_version(
            [(m.name, m.sha256) for m in self.models],
            {"threshold": self.threshold, "rule": self.rule,
             "models": [[m.name, m.weight, m.impostor_mean, m.impostor_std, m.flip,
                         None if m.centre is None else hashlib.sha256(m.centre.astype("<f4").tobytes()).hexdigest()]
                        for m in self.models]})

    def fuse(self, cosines: Mapping[str, np.ndarray]) -> np.ndarray:
        """Per-model cosine arrays (same shape) -> fused score array."""
        total = None
        for m in self.models:
            z = m.weight * (np.asarray(cosines[m.name], np.float32) - m.impostor_mean) / m.impostor_std
            total = z if total is None else total + z
        return total

    def score_template(self, template: Template, probe: Mapping[str, np.ndarray]) -> MatchResult:
        """Probe embeddings (each (d,), normalised) against a template's rows."""
        if template.model_version != self.model_version:
            raise TemplateVersionError(template.model_version, self.model_version)
        cos = {}
        for name in self.model_names:
            rows = template.embeddings[name]
            if self.rule == "centroid":
                c = rows.mean(0)
                rows = (c / np.linalg.norm(c))[None]
            cos[name] = rows @ probe[name]
        fused = self.fuse(cos)
        score = float(fused.max() if self.rule == "max" else fused.mean())
        components = {n: float(v.max() if self.rule == "max" else v.mean()) for n, v in cos.items()}
        return MatchResult(score=score, threshold=self.threshold,
                           decision="match" if score >= self.threshold else "no_match",
                           model_version=self.model_version, components=components,
                           rule=f"{self.rule} of fused z-scores over {len(next(iter(cos.values())))} "
                                f"template photo(s), FAR target {self.far_target:g}")

    # --- the file ---
    def to_dict(self) -> JsonObject:
        return {
            "model_version": self.model_version, "threshold": self.threshold, "rule": self.rule,
            "far_target": self.far_target,
            "models": [{"name": m.name, "sha256": m.sha256, "weight": m.weight,
                        "impostor_mean": m.impostor_mean, "impostor_std": m.impostor_std, "flip": m.flip,
                        "centre": None if m.centre is None else
                        base64.b64encode(m.centre.astype("<f4").tobytes()).decode()}
                       for m in self.models],
            "figures": self.figures,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Calibration":
        models = tuple(ModelCalibration(
            name=m["name"], sha256=m["sha256"], weight=float(m["weight"]),
            impostor_mean=float(m["impostor_mean"]), impostor_std=float(m["impostor_std"]),
            flip=bool(m.get("flip", False)), centre=None if not m.get("centre") else
            np.frombuffer(base64.b64decode(m["centre"]), "<f4").copy()) for m in d["models"])
        if d["rule"] not in RULES:
            raise ValueError(f"unknown template rule {d['rule']!r}")
        return cls(model_version=d["model_version"], threshold=float(d["threshold"]), rule=d["rule"],
                   far_target=float(d["far_target"]), models=models, figures=dict(d.get("figures", {})))

    @classmethod
    def load(cls, path: Path) -> "Calibration":
        return cls.from_dict(json.loads(Path(path).read_text()))


def normalise(raw: np.ndarray, centre: np.ndarray | None) -> np.ndarray:
    """Embeddings (..., n, d) of a face and its views -> unit vectors (..., d): each row is
    L2-normalised, centred if a centre is given, renormalised; the views are averaged and the
    mean renormalised. The one definition used by the engine and the calibration."""
    x = l2(np.asarray(raw, np.float32))
    if centre is not None:
        x = l2(x - centre)
    return l2(x.mean(-2))


def l2(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


def model_version(models: list[tuple[str, str]], params: Mapping[str, Any]) -> str:
    """A version that changes whenever a model file or a calibration parameter changes, so stored
    templates are never compared with embeddings from another model."""
    h = hashlib.sha256(json.dumps([models, params], sort_keys=True).encode()).hexdigest()[:12]
    return f"face-{'+'.join(n for n, _ in models)}-{h}"


class TemplateVersionError(HadirError):
    """The stored face template was made by another model version: the employee must re-enrol."""

    kind = Kind.CONFLICT
    code = "enrolment_outdated"

    def __init__(self, template_version: str, engine_version: str):
        super().__init__("The enrolled face was made by an older face model; enrol again.",
                         details={"template_model_version": template_version,
                                  "engine_model_version": engine_version})
