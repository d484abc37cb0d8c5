"""Tunable limits of the face pipeline. Defaults were chosen by looking at what each gate rejects
on ../shared/faces/dev (see bench/RESULTS.md); deployments override them through Settings."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Mapping


@dataclass(frozen=True)
class FaceConfig:
    # --- input limits, checked before any pixel is decoded ---
    # (bench/RESULTS-images.md: decoding costs about 30 ms of CPU per MB of JPEG and per PNG megapixel;
    # with these the worst accepted file costs under 3 x a 640x480 selfie's whole analysis)
    max_bytes: int = 3 * 1024 * 1024      # a 12 MP phone JPEG is 2 to 3 MB
    max_pixels: int = 16_000_000          # declared width x height (a 16 MP phone photo passes)
    max_lossless_pixels: int = 3_000_000  # the same for PNG and WebP (16-bit pixels count twice)
    max_progressive_pixels: int = 3_000_000  # the same for progressive JPEGs (decoded whole, per scan)
    max_progressive_bytes: int = 1_000_000   # and their file size (entropy decoding, per scan)
    min_side_px: int = 64
    decode_long_side_px: int = 1280       # larger photos are decoded at 1/2, 1/4 or 1/8 scale (JPEG) or reduced
    # --- detection ---
    detect_min_score: float = 0.6
    nms_iou: float = 0.3
    second_face_ratio: float = 0.6        # a second face at least this wide (relative) => multiple_faces
    second_face_min_score: float = 0.8
    # --- quality gates ---
    min_eye_distance_px: float = 18.0     # inter-ocular distance in source pixels
    min_brightness: float = 40.0          # mean luma of the aligned face, 0..255
    max_brightness: float = 220.0
    min_sharpness: float = 8.0           # variance of the Laplacian of the aligned 150 px face
    max_yaw_deg: float = 45.0
    max_roll_deg: float = 30.0
    # --- embedding ---
    threads: int = 1                      # onnxruntime intra-op threads (1-2 vCPU Lambda)
    # --- replay (face/replay.py): anchored cosine to the closest enrolment photo, best model ---
    replay_threshold: float = 0.1         # 0 = closest two distinct captures on dev, 1 = same image
    # --- liveness (face.liveness): a challenge frame is the enrolled person if dlib's z-score
    # against the template reaches this (impostor mean/std from calibration.json) ---
    liveness_identity_z: float = 2.4  # at most 0.5 % of impostor frames pass (bench/liveness.py)
    # --- model upgrade (docs/deploy.md "Upgrading the face model") ---
    # Calibration files of previous model versions the engine can still load, to check that a
    # self re-enrolment's photos match the outdated template (relative paths: to models/; each
    # model file is looked up beside its calibration, then in models/, by sha256). Comma-separated.
    previous_calibrations: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "FaceConfig":
        """Build from e.g. environment-derived settings; unknown keys are an error."""
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown face settings: {sorted(unknown)}")
        base = cls()
        return replace(base, **{k: _coerce(getattr(base, k), v) for k, v in values.items()})


def _coerce(default: Any, value: Any) -> Any:
    if isinstance(default, tuple):
        items = value.split(",") if isinstance(value, str) else value
        return tuple(str(v).strip() for v in items if str(v).strip())
    return type(default)(value)

