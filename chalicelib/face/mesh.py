"""Dense face landmarks: MediaPipe FaceMesh (468 points with depth) on the BlazeFace detection.

The crop follows MediaPipe's face-landmark graph and Human (@vladmandic/human src/face/facemesh.ts,
facemeshutil.ts): a square around the detector box's centre, enlarged, cut out and resized to
192x192, RGB scaled to [0, 1], black outside the photo. It is always turned upright by the eye
line's roll (MediaPipe: rotation from detection keypoint 0 to 1, target angle 0; Human rotates only
when asked, by the mouth-nose line): unrotated, a 30-degree head tilt puts the mesh off by 0.15 of
the inter-ocular distance (IOD), rotated 0.03. The model's points (crop pixels) are mapped back
through that similarity transform; z is scaled by the same factor. See models/MODELS.md.

Index conventions (MediaPipe's canonical face, checked on unmirrored photos): "right" and "left" are
the PERSON's. The person's right eye/cheek appear on the IMAGE's left in an ordinary (unmirrored)
photo, and on the image's right in a mirrored selfie preview.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from chalicelib.face import models
from chalicelib.face.detect import Detection

MODEL = "facemesh"
INPUT_SIZE = 192  # facemesh.json input [N,192,192,3], RGB scaled to [0, 1] (Human: crop / 255)
# Crop side = BOX_SCALE x the long side of the box (MediaPipe face_detection_front_detection_to_roi
# and its tracking ROI: scale 1.5, square_long). Human uses 1.4 (config.face.detector.scale); 1.5
# measured steadier here (landmark spread under +-5 % box jitter 0.012 vs 0.014 IOD, 40 dev photos).
BOX_SCALE = 1.5
N_POINTS = 468

# Landmark indices for head pose (MediaPipe FaceMesh topology; person's left/right, see above).
NOSE_TIP = 1
FOREHEAD = 10           # top of the forehead on the midline (hairline)
CHIN = 152              # bottom of the chin on the midline
RIGHT_EYE_OUTER = 33    # person's right eye, outer corner: image LEFT in an unmirrored photo
RIGHT_EYE_INNER = 133
LEFT_EYE_INNER = 362
LEFT_EYE_OUTER = 263    # person's left eye, outer corner: image RIGHT in an unmirrored photo
RIGHT_CHEEK = 234       # face outline at eye height on the person's right: image LEFT (unmirrored)
LEFT_CHEEK = 454        # ... on the person's left: image RIGHT (unmirrored)
MOUTH_RIGHT = 61        # person's right mouth corner: image LEFT (unmirrored)
MOUTH_LEFT = 291
# The 28 landmarks on the face's midline (nose ridge, lips, chin, forehead). MediaPipe numbers the
# rest so that the other 220 indices below 248 lie on the person's right, and 248..467 are their
# left-side counterparts in the same order (checked against the canonical UV map in Human's
# src/face/facemeshcoords.ts UV468: u -> 1 - u pairs them exactly so).
MIDLINE = (0, 1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 94, 151, 152, 164, 168,
           175, 195, 197, 199, 200)


def _mirror_index() -> np.ndarray:
    idx = np.arange(N_POINTS)
    right = np.array([i for i in range(248) if i not in MIDLINE])
    idx[right], idx[248:] = np.arange(248, N_POINTS), right
    return idx


# MIRROR[i] = the landmark that is i's left-right counterpart (an involution): a mirrored photo's
# mesh, re-indexed as points[MIRROR], lines up point for point with the unmirrored photo's.
MIRROR = _mirror_index()


@dataclass(frozen=True)
class Mesh:
    points: np.ndarray  # (468, 3) float32: x right, y down in source pixels; z in the same units,
    #                     negative = towards the camera (MediaPipe), relative to the face's centre depth
    score: float        # the model's face-presence probability (the sigmoid is in the graph)


def detection_roi(det: Detection) -> tuple[np.ndarray, float, float]:
    """(centre, side, roll) of the crop from a BlazeFace detection: box centre, 1.5x the box's long
    side, roll of the eye line (keypoint 0 -> 1, the person's right eye -> left eye, which is
    left -> right in an upright unmirrored photo and follows the head through any roll)."""
    x0, y0, x1, y1 = (float(v) for v in det.box)
    eye_vec = det.keypoints[1] - det.keypoints[0]
    roll = math.atan2(float(eye_vec[1]), float(eye_vec[0]))
    return np.array([(x0 + x1) / 2, (y0 + y1) / 2]), BOX_SCALE * max(x1 - x0, y1 - y0), roll


def points_roi(points: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(centre, side, roll) from a previous mesh, as MediaPipe's tracking step derives the next
    crop from the last landmarks: roll of the eye corners 33 -> 263, the landmarks' bounding box
    (measured in the upright frame) enlarged 1.5x and made square."""
    eye_vec = points[LEFT_EYE_OUTER, :2] - points[RIGHT_EYE_OUTER, :2]
    roll = math.atan2(float(eye_vec[1]), float(eye_vec[0]))
    rot = _rotation(roll)
    upright = points[:, :2] @ rot  # rotate by -roll
    lo, hi = upright.min(0), upright.max(0)
    return rot @ ((lo + hi) / 2), BOX_SCALE * float(max(hi - lo)), roll


def crop_transform(centre: np.ndarray, side: float, roll: float) -> np.ndarray:
    """2x3 affine mapping crop coordinates (0..192, pixel corners) to source coordinates:
    source = centre + (side / 192) * R(roll) @ (crop - 96)."""
    lin = side / INPUT_SIZE * _rotation(roll)
    return np.hstack([lin, (np.asarray(centre, np.float64) - lin @ np.full(2, INPUT_SIZE / 2))[:, None]])


def _rotation(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]])


def crop(img: Image.Image, m: np.ndarray) -> Image.Image:
    """The 192x192 upright crop. A large face is box-filtered down first (Image.reduce) so the
    bilinear resampling does not alias; pixels outside the photo are black."""
    corners = np.array([[0, 0], [INPUT_SIZE, 0], [0, INPUT_SIZE], [INPUT_SIZE, INPUT_SIZE]], np.float64)
    src = corners @ m[:, :2].T + m[:, 2]
    x0, y0 = np.floor(src.min(0)).astype(int) - 2
    x1, y1 = np.ceil(src.max(0)).astype(int) + 2
    region = img.crop((int(x0), int(y0), int(x1), int(y1)))
    factor = max(1, int(math.hypot(m[0, 0], m[1, 0])))  # source pixels per crop pixel
    if factor > 1:
        region = region.reduce(factor)
    # region pixel r = (source - (x0, y0)) / factor
    local = np.hstack([m[:, :2] / factor, ((m[:, 2] - [x0, y0]) / factor)[:, None]])
    return region.transform((INPUT_SIZE, INPUT_SIZE), Image.Transform.AFFINE,
                            data=tuple(local.reshape(-1)), resample=Image.Resampling.BILINEAR)


def landmarks(img: Image.Image, det: Detection, threads: int = 1, models_dir: Path | None = None,
              refine: bool = True) -> Mesh:
    """The 468 FaceMesh landmarks of the face `det` (from FaceEngine.detect) in `img`'s pixels.
    With `refine`, a second pass on the crop derived from the first pass's landmarks (one more
    inference, 2.5-4.5 ms): BlazeFace's box and eye keypoints are coarser than the mesh. Measured on 30
    dev photos, in IOD: spread under +-5 % box jitter 0.012 -> 0.006; disagreement with the upright
    photo's mesh after turning the photo 15/30/-40 degrees 0.021/0.034/0.037 -> 0.011/0.017/0.017;
    mirror consistency 0.028 -> 0.025."""
    img = img if img.mode == "RGB" else img.convert("RGB")
    mesh = _run(img, crop_transform(*detection_roi(det)), threads, models_dir)
    if refine:
        mesh = _run(img, crop_transform(*points_roi(mesh.points)), threads, models_dir)
    return mesh


def _run(img: Image.Image, m: np.ndarray, threads: int, models_dir: Path | None) -> Mesh:
    x = np.asarray(crop(img, m), np.float32)[None] / 255.0
    raw, score = models.run(MODEL, np.ascontiguousarray(x), ["landmarks", "face_score"], threads, models_dir)
    p = raw.reshape(N_POINTS, 3).astype(np.float64)
    xy = p[:, :2] @ m[:, :2].T + m[:, 2]
    z = p[:, 2:] * math.hypot(m[0, 0], m[1, 0])
    return Mesh(np.hstack([xy, z]).astype(np.float32), float(score.reshape(-1)[0]))
