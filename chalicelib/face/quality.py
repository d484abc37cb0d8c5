"""Quality gates: each returns a Check with the value it measured and the limits it applied."""
from __future__ import annotations

import numpy as np

from chalicelib.face.align import head_pose
from chalicelib.face.config import FaceConfig
from chalicelib.face.detect import Detection
from chalicelib.face.types import (
    BLURRY,
    FACE_TOO_SMALL,
    MULTIPLE_FACES,
    NOT_FRONTAL,
    TOO_BRIGHT,
    TOO_DARK,
    Check,
)


def faces_check(detections: list[Detection], cfg: FaceConfig) -> Check:
    """A second confident face of comparable size means we cannot tell whose face this is."""
    main = detections[0]
    rivals = [d for d in detections[1:]
              if d.score >= cfg.second_face_min_score and d.width >= cfg.second_face_ratio * main.width]
    ratio = max((d.width / main.width for d in rivals), default=0.0)
    return Check("single_face", not rivals, ratio,
                 {"second_face_ratio": cfg.second_face_ratio}, None if not rivals else MULTIPLE_FACES)


def size_check(det: Detection, cfg: FaceConfig) -> Check:
    eye_distance = float(np.hypot(*(det.keypoints[1] - det.keypoints[0])))
    ok = eye_distance >= cfg.min_eye_distance_px
    return Check("face_size", ok, eye_distance, {"min_eye_distance_px": cfg.min_eye_distance_px},
                 None if ok else FACE_TOO_SMALL)


def pose_checks(det: Detection, cfg: FaceConfig) -> list[Check]:
    yaw, roll = head_pose(det.keypoints)
    yaw_ok, roll_ok = abs(yaw) <= cfg.max_yaw_deg, abs(roll) <= cfg.max_roll_deg
    return [Check("yaw", yaw_ok, yaw, {"max_abs_deg": cfg.max_yaw_deg}, None if yaw_ok else NOT_FRONTAL),
            Check("roll", roll_ok, roll, {"max_abs_deg": cfg.max_roll_deg}, None if roll_ok else NOT_FRONTAL)]


def luma(chip_rgb: np.ndarray) -> np.ndarray:
    return chip_rgb[..., 0] * 0.299 + chip_rgb[..., 1] * 0.587 + chip_rgb[..., 2] * 0.114


def _face_region(grey: np.ndarray) -> np.ndarray:
    """The central face region of an aligned chip (its corners and sides hold background)."""
    h, w = grey.shape
    return grey[h // 5: h - h // 8, w // 5: w - w // 5]


def lighting_checks(grey: np.ndarray, cfg: FaceConfig) -> list[Check]:
    """Mean luma of the central face region."""
    mean = float(_face_region(grey).mean())
    dark_ok, bright_ok = mean >= cfg.min_brightness, mean <= cfg.max_brightness
    return [Check("brightness", dark_ok and bright_ok, mean,
                  {"min": cfg.min_brightness, "max": cfg.max_brightness},
                  None if dark_ok and bright_ok else (TOO_DARK if not dark_ok else TOO_BRIGHT))]


def sharpness_check(grey: np.ndarray, cfg: FaceConfig) -> Check:
    """Variance of the 4-neighbour Laplacian over the central face region of the aligned chip:
    measured at the chip's fixed scale, so it does not depend on the photo's resolution."""
    g = _face_region(grey)
    lap = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4.0 * g[1:-1, 1:-1]
    value = float(lap.var())
    ok = value >= cfg.min_sharpness
    return Check("sharpness", ok, value, {"min": cfg.min_sharpness}, None if ok else BLURRY)
