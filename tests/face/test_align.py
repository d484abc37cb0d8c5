"""Alignment geometry: the similarity transform and the chip it cuts."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from chalicelib.face import align

POINTS = np.array([[40.0, 50.0], [90.0, 48.0], [66.0, 80.0], [65.0, 110.0]])


@settings(max_examples=60, deadline=None)
@given(angle=st.floats(-math.pi, math.pi), scale=st.floats(0.2, 5.0),
       tx=st.floats(-500, 500), ty=st.floats(-500, 500))
def test_similarity_recovers_any_rotation_scale_and_shift(angle, scale, tx, ty):
    # Given points moved by a known similarity transform
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    moved = POINTS @ (scale * rot).T + [tx, ty]
    # When the transform is estimated; Then it is the same one
    m = align.similarity(POINTS, moved)
    assert np.allclose(m[:, :2], scale * rot, atol=1e-6 * max(1, scale))
    assert np.allclose(POINTS @ m[:, :2].T + m[:, 2], moved, atol=1e-5 * max(1.0, abs(tx), abs(ty)))


def test_similarity_never_mirrors():
    mirrored = POINTS * [-1, 1]
    m = align.similarity(POINTS, mirrored)
    assert np.linalg.det(m[:, :2]) > 0


def dots(size, points, radius=3):
    img = Image.new("RGB", size, "black")
    draw = ImageDraw.Draw(img)
    for x, y in points:
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill="white")
    return img


def centroid(chip: np.ndarray, near: np.ndarray, window: int = 8) -> np.ndarray:
    x0, y0 = (near - window).astype(int)
    patch = chip[y0:y0 + 2 * window, x0:x0 + 2 * window].astype(float)
    ys, xs = np.mgrid[y0:y0 + 2 * window, x0:x0 + 2 * window]
    return np.array([(xs * patch).sum(), (ys * patch).sum()]) / patch.sum()


def test_warp_puts_keypoints_on_the_chip_targets_for_a_rotated_large_face():
    # Given four bright dots where a large, rotated face's keypoints would be
    targets = align.DLIB_CHIP.targets
    angle = math.radians(25)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    keypoints = targets @ (4.0 * rot).T + [300, 120]  # 4x larger than the chip, rotated, shifted
    img = dots((1000, 1000), keypoints, radius=10)
    # When the chip is cut (the face is box-filtered down first, then resampled)
    chip = np.asarray(align.warp(img, np.vstack([keypoints, [[0, 0], [0, 0]]]), align.DLIB_CHIP))[..., 0]
    # Then each dot lands on its target to within a pixel
    for t in targets:
        assert np.linalg.norm(centroid(chip, t) - t) < 1.0


def test_warp_outside_the_image_pads_black():
    kp = align.ARCFACE_224.targets * 0.2 - 20  # a face half outside the top-left corner
    img = Image.new("RGB", (60, 60), "white")
    chip = np.asarray(align.warp(img, np.vstack([kp, [[0, 0], [0, 0]]]), align.ARCFACE_224))
    assert chip.shape == (224, 224, 3) and chip.min() == 0 and chip.max() == 255


def test_head_pose_of_a_frontal_and_a_turned_face():
    frontal = np.array([[40.0, 50], [90, 50], [65, 75], [65, 100], [20, 60], [110, 60]])
    yaw, roll = align.head_pose(frontal)
    assert abs(yaw) < 1e-6 and abs(roll) < 1e-6
    turned = frontal.copy()
    turned[2, 0] += 25 * 0.94 * math.tan(math.radians(30))  # nose moved as a 30 degree turn moves it
    assert abs(align.head_pose(turned)[0] - 30) < 0.5
