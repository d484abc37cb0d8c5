"""BlazeFace detection: anchors, decoding, weighted non-maximum suppression.

The ONNX detectors take a square NHWC image scaled to [-1, 1] and return, for 896 anchors,
`regressors` [1, 896, 16] (box dx, dy, w, h and six keypoints relative to the anchor centre, in
input pixels) and `scores` [1, 896, 1] (logits). See models/MODELS.md.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Detection:
    score: float
    box: np.ndarray        # (4,) x0, y0, x1, y1 in source pixels
    keypoints: np.ndarray  # (6, 2): image-left eye, image-right eye, nose tip, mouth, two ear tragions

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])


def make_anchors(size: int, strides: tuple[int, int], per_cell: tuple[int, int]) -> np.ndarray:
    """Anchor centres (896, 2) in input pixels: first the fine grid, then the coarse one."""
    centres = []
    for stride, n in zip(strides, per_cell):
        cells = size // stride
        ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
        grid = np.stack([xs, ys], axis=-1).reshape(-1, 2).astype(np.float32)
        centres.append(np.repeat((grid + 0.5) * stride, n, axis=0))
    return np.concatenate(centres)


@dataclass(frozen=True)
class DetectorSpec:
    name: str
    size: int
    anchors: np.ndarray


FRONT = DetectorSpec("blazeface-front", 128, make_anchors(128, (8, 16), (2, 6)))
BACK = DetectorSpec("blazeface-back", 256, make_anchors(256, (16, 32), (2, 6)))


def prepare(image: Image.Image, size: int, pad: float = 0.0) -> tuple[np.ndarray, float, float, float]:
    """Letterbox `image` into a size x size square (top-left aligned, optional margin `pad` as a
    fraction of the long side). Returns the tensor and the mapping back: src = (p - offset) / scale."""
    w, h = image.size
    long_side = max(w, h) * (1.0 + 2 * pad)
    scale = size / long_side
    offset = max(w, h) * pad * scale
    rw, rh = max(1, round(w * scale)), max(1, round(h * scale))
    resized = image.resize((rw, rh), Image.Resampling.BILINEAR, reducing_gap=2.0)
    canvas = np.zeros((size, size, 3), np.float32)
    o = int(round(offset))
    canvas[o:o + rh, o:o + rw] = np.asarray(resized, np.float32)
    tensor = (canvas / 127.5 - 1.0)[None]
    return tensor, scale, float(o), float(o)


def decode(regressors: np.ndarray, logits: np.ndarray, spec: DetectorSpec, min_score: float,
           nms_iou: float, scale: float, ox: float, oy: float) -> list[Detection]:
    """Raw outputs -> detections in source pixels, best first."""
    logits = np.clip(logits.reshape(-1), -80, 80)
    scores = 1.0 / (1.0 + np.exp(-logits))
    keep = np.nonzero(scores >= min_score)[0]
    if keep.size == 0:
        return []
    reg = regressors.reshape(-1, 16)[keep]
    anchors = spec.anchors[keep]
    centre = anchors + reg[:, 0:2]
    half = reg[:, 2:4] / 2.0
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    kps = anchors[:, None, :] + reg[:, 4:16].reshape(-1, 6, 2)
    detections = _weighted_nms(scores[keep], boxes, kps, nms_iou)
    out = []
    for score, box, kp in detections:
        box = (box - np.array([ox, oy, ox, oy])) / scale
        kp = (kp - np.array([ox, oy])) / scale
        out.append(Detection(float(score), box.astype(np.float32), kp.astype(np.float32)))
    return out


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def _weighted_nms(scores, boxes, kps, iou_threshold):
    """MediaPipe-style blending: each cluster of overlapping anchors becomes one detection whose
    box and keypoints are the score-weighted mean of its members (steadier keypoints)."""
    order = np.argsort(-scores)
    remaining = order
    result = []
    while remaining.size:
        best = remaining[0]
        overlap = _iou(boxes[best], boxes[remaining]) >= iou_threshold
        members = remaining[overlap]
        w = scores[members][:, None]
        box = (boxes[members] * w).sum(0) / w.sum()
        kp = (kps[members] * w[:, :, None]).sum(0) / w.sum()
        result.append((scores[best], box, kp))
        remaining = remaining[~overlap]
    return result
