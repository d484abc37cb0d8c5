"""Data the face engine returns. Plain dataclasses: everything a decision needs, as data."""
from __future__ import annotations

import base64
from dataclasses import dataclass, field

import numpy as np

from chalicelib.common.errors import HadirError, JsonObject, Kind
from chalicelib.face.liveness import Liveness

# Machine-readable reasons an image is refused (each is also a FaceError.code).
IMAGE_TOO_LARGE = "image_too_large"
UNSUPPORTED_IMAGE = "unsupported_image"
CORRUPT_IMAGE = "corrupt_image"
NO_FACE = "no_face"
MULTIPLE_FACES = "multiple_faces"
FACE_TOO_SMALL = "face_too_small"
TOO_DARK = "too_dark"
TOO_BRIGHT = "too_bright"
BLURRY = "blurry"
NOT_FRONTAL = "not_frontal"
INCONSISTENT_ENROLMENT_PHOTOS = "inconsistent_enrolment_photos"
ENROLMENT_PHOTO_REJECTED = "enrolment_photo_rejected"
DUPLICATE_ENROLMENT_PHOTOS = "duplicate_enrolment_photos"  # two enrolment photos are one image


class FaceError(HadirError):
    """The photo cannot be used for face verification."""

    kind = Kind.INVALID
    code = "face_error"

    def __init__(self, code: str, message: str, details: JsonObject | None = None):
        kind = {IMAGE_TOO_LARGE: Kind.TOO_LARGE, UNSUPPORTED_IMAGE: Kind.UNSUPPORTED}.get(code, Kind.INVALID)
        super().__init__(message, code=code, details=details, kind=kind)


@dataclass(frozen=True)
class Check:
    """One quality gate: its name, the measured value, the limits it was held to, and the verdict."""

    name: str
    ok: bool
    value: float | None = None
    limits: dict[str, float] = field(default_factory=dict)
    reason: str | None = None  # the error code when not ok

    def to_dict(self) -> JsonObject:
        d: JsonObject = {"name": self.name, "ok": self.ok}
        if self.value is not None:
            d["value"] = round(float(self.value), 4)
        if self.limits:
            d["limits"] = self.limits
        if self.reason:
            d["reason"] = self.reason
        return d


@dataclass
class FaceAnalysis:
    """One photo through the pipeline: the face found, its gates, and its embeddings per model."""

    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in the (oriented) image's pixels
    keypoints: np.ndarray  # (6, 2) image pixels
    detector_score: float
    checks: list[Check]
    embeddings: dict[str, np.ndarray]  # model name -> L2-normalised vector
    image_size: tuple[int, int]
    timings_ms: dict[str, float] = field(default_factory=dict)
    chips: JsonObject = field(default_factory=dict, repr=False)  # aligned faces, never stored
    mesh: np.ndarray | None = field(default=None, repr=False)  # (468, 3) FaceMesh points, if asked

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def checks_dict(self) -> list[JsonObject]:
        return [c.to_dict() for c in self.checks]


@dataclass(frozen=True)
class Template:
    """What is stored for an enrolled person: embeddings of the enrolment photos, never pixels."""

    model_version: str
    embeddings: dict[str, np.ndarray]  # model name -> (n_photos, dim) float32, rows L2-normalised
    # (n_photos, 468, 2) face-mesh landmarks of the enrolment photos: the replay test of challenge
    # frames (face.liveness); geometry, not pixels. None for templates made before liveness.
    meshes: np.ndarray | None = None

    def to_dict(self) -> JsonObject:
        d: JsonObject = {"model_version": self.model_version,
                         "embeddings": {name: _pack(e) for name, e in self.embeddings.items()}}
        if self.meshes is not None:
            d["meshes"] = _pack(self.meshes)
        return d

    @classmethod
    def from_dict(cls, d: JsonObject) -> "Template":
        return cls(model_version=d["model_version"],
                   embeddings={name: _unpack(v) for name, v in d["embeddings"].items()},
                   meshes=_unpack(d["meshes"]) if d.get("meshes") else None)


def _pack(a: np.ndarray) -> JsonObject:
    return {"shape": list(a.shape), "data": base64.b64encode(np.ascontiguousarray(a, "<f4").tobytes()).decode()}


def _unpack(v: JsonObject) -> np.ndarray:
    return np.frombuffer(base64.b64decode(v["data"]), "<f4").reshape(v["shape"]).copy()


@dataclass(frozen=True)
class MatchResult:
    """The verdict of one probe against one template, with its reasons."""

    score: float
    threshold: float
    decision: str  # "match" | "no_match"
    model_version: str
    components: dict[str, float] = field(default_factory=dict)  # per-model similarity
    rule: str = ""
    # Replay evidence (face/replay.py): the probe's closeness to its nearest enrolment photo, the
    # threshold above which it is that photo again, and that photo's index (None if not a replay).
    replay_score: float | None = None
    replay_threshold: float | None = None
    replay_of: int | None = None

    @property
    def is_match(self) -> bool:
        return self.decision == "match"

    @property
    def is_replay(self) -> bool:
        return self.replay_of is not None

    def to_dict(self) -> JsonObject:
        return {
            "score": round(self.score, 4), "threshold": round(self.threshold, 4),
            "decision": self.decision, "model_version": self.model_version,
            "components": {k: round(v, 4) for k, v in self.components.items()}, "rule": self.rule,
            "replay_score": None if self.replay_score is None else round(self.replay_score, 6),
            "replay_threshold": None if self.replay_threshold is None else round(self.replay_threshold, 6),
            "replay_of": self.replay_of,
        }


@dataclass
class PhotoReport:
    """Per-photo outcome of an enrolment attempt (what the app shows as a green tick or not)."""

    index: int
    ok: bool
    checks: list[JsonObject]
    reason: str | None = None

    def to_dict(self) -> JsonObject:
        d = {"index": self.index, "ok": self.ok, "checks": self.checks}
        if self.reason:
            d["reason"] = self.reason
        return d


class EnrolmentError(HadirError):
    """The enrolment photos were not accepted; ``details.photos`` says which and why."""

    kind = Kind.INVALID

    def __init__(self, code: str, message: str, photos: list[PhotoReport], extra: dict | None = None):
        details = {"photos": [p.to_dict() for p in photos], **(extra or {})}
        super().__init__(message, code=code, details=details)
        self.photos = photos


@dataclass
class Enrolment:
    template: Template
    photos: list[PhotoReport]
    liveness: Liveness | None = None  # the three photos as a challenge (front, left, right)


@dataclass
class Verification:
    analysis: FaceAnalysis  # the front frame's
    match: MatchResult
    liveness: Liveness | None = None  # when the check-in followed a challenge
