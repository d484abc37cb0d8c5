"""Face alignment: a similarity transform (rotation, uniform scale, translation) from four
detector keypoints to each embedder's canonical positions, applied with Pillow."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

# Keypoint indices of BlazeFace used for alignment: image-left eye, image-right eye, nose, mouth.
ALIGN_POINTS = (0, 1, 2, 3)


@dataclass(frozen=True)
class ChipSpec:
    size: int
    targets: np.ndarray  # (4, 2) where the four keypoints must land, in chip pixels


# dlib's 150 px face chip (padding 0.25), measured from dlib's own 5-point chips.
DLIB_CHIP = ChipSpec(150, np.array([[46.17, 46.39], [102.40, 46.32], [74.96, 74.88],
                                    [74.41, 105.32]], np.float64))
# The ArcFace 112 px template (mouth corners averaged to the mouth centre), scaled to 224 px.
ARCFACE_224 = ChipSpec(224, 2.0 * np.array([[38.2946, 51.6963], [73.5318, 51.5014],
                                            [56.0252, 71.7366], [56.1396, 92.2848]], np.float64))


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform (Umeyama, no reflection) mapping src -> dst; 2x3."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1
    rot = u @ np.diag(sign) @ vt
    var_s = (s ** 2).sum() / len(src)
    scale = (sig * sign).sum() / var_s
    t = mu_d - scale * rot @ mu_s
    return np.hstack([scale * rot, t[:, None]])


def warp(image: Image.Image, keypoints: np.ndarray, chip: ChipSpec) -> Image.Image:
    """Cut the aligned chip out of `image`. Large faces are first box-filtered down (Image.reduce)
    so the bilinear resampling does not alias."""
    m = similarity(keypoints[list(ALIGN_POINTS)], chip.targets)
    scale = math.hypot(m[0, 0], m[0, 1])
    # Region of the source that the chip covers, with a margin.
    inv = _invert(m)
    corners = np.array([[0, 0], [chip.size, 0], [0, chip.size], [chip.size, chip.size]], np.float64)
    src = corners @ inv[:, :2].T + inv[:, 2]
    x0, y0 = np.floor(src.min(0)).astype(int) - 2
    x1, y1 = np.ceil(src.max(0)).astype(int) + 2
    region = image.crop((x0, y0, x1, y1))  # pads with black outside the image
    factor = max(1, int(1.0 / scale)) if scale < 1.0 else 1
    if factor > 1:
        region = region.reduce(factor)
    # chip = m @ src; src = (region_px * factor) + (x0, y0)
    local = m.copy()
    local[:, :2] = m[:, :2] * factor
    local[:, 2] = m[:, :2] @ np.array([x0, y0], np.float64) + m[:, 2]
    inv_local = _invert(local)
    return region.transform((chip.size, chip.size), Image.Transform.AFFINE,
                            data=tuple(inv_local.reshape(-1)), resample=Image.Resampling.BILINEAR)


def _invert(m: np.ndarray) -> np.ndarray:
    a = np.vstack([m, [0.0, 0.0, 1.0]])
    return np.linalg.inv(a)[:2]


def head_pose(keypoints: np.ndarray) -> tuple[float, float]:
    """(yaw, roll) in degrees from the eyes and nose tip. Roll is the eye line's angle. Yaw comes from
    how far the nose tip sits from the eye midpoint along the eye line: with the eyes about 32 mm
    either side of the midline and the nose tip about 30 mm in front, offset/half-distance ~= 0.94
    tan(yaw)."""
    left, right, nose = keypoints[0], keypoints[1], keypoints[2]
    eye_vec = right - left
    dist = float(np.hypot(*eye_vec))
    if dist < 1e-6:
        return 90.0, 0.0
    roll = math.degrees(math.atan2(eye_vec[1], eye_vec[0]))
    axis = eye_vec / dist
    offset = float(np.dot(nose - (left + right) / 2.0, axis))
    yaw = math.degrees(math.atan((offset / (dist / 2.0)) / 0.94))
    return yaw, roll
