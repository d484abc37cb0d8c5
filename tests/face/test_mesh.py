"""FaceMesh landmarks (chalicelib/face/mesh.py) on real photos through the shipped models.

Tolerances are fractions of the inter-ocular distance (IOD, between BlazeFace's eye keypoints)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from chalicelib.face import image, mesh
from tests.face.conftest import photo

# two LFW crops and one raw photo (740x418, face off-centre)
PHOTOS = [("Aaron_Peirsol", 1), ("Megawati_Sukarnoputri", 1), ("deepface__Jack_Dorsey", 1)]


def iod(det) -> float:
    return float(np.linalg.norm(det.keypoints[1] - det.keypoints[0]))


def analyse(engine, img):
    det = engine.detect(img)[0]
    return det, mesh.landmarks(img, det, engine.config.threads, engine.models_dir)


@pytest.fixture(scope="module", params=PHOTOS, ids=[p[0] for p in PHOTOS])
def case(request, engine, faces):
    img = image.decode(photo(faces, *request.param), engine.config)
    det, m = analyse(engine, img)
    return img, det, m


def test_mesh_has_468_finite_points_and_a_high_score(case):
    _, _, m = case
    assert m.points.shape == (468, 3) and m.points.dtype == np.float32
    assert np.all(np.isfinite(m.points))
    assert 0.9 < m.score <= 1.0


def test_eye_landmarks_lie_on_blazeface_eyes(case):
    # BlazeFace keypoint 0 = eye on the image's left = the person's right eye (unmirrored photo)
    _, det, m = case
    p, d = m.points[:, :2], iod(det)
    for outer, inner, kp in ((mesh.RIGHT_EYE_OUTER, mesh.RIGHT_EYE_INNER, det.keypoints[0]),
                             (mesh.LEFT_EYE_OUTER, mesh.LEFT_EYE_INNER, det.keypoints[1])):
        assert np.linalg.norm((p[outer] + p[inner]) / 2 - kp) < 0.15 * d
        assert np.linalg.norm(p[outer] - kp) < 0.45 * d
    # the person's right side is on the image's left
    assert p[mesh.RIGHT_EYE_OUTER, 0] < p[mesh.RIGHT_EYE_INNER, 0] < p[mesh.LEFT_EYE_INNER, 0] < p[mesh.LEFT_EYE_OUTER, 0]
    assert p[mesh.RIGHT_CHEEK, 0] < p[mesh.RIGHT_EYE_OUTER, 0] and p[mesh.LEFT_CHEEK, 0] > p[mesh.LEFT_EYE_OUTER, 0]
    assert p[mesh.MOUTH_RIGHT, 0] < p[mesh.MOUTH_LEFT, 0]


def test_nose_tip_chin_and_forehead_sit_on_the_face(case):
    _, det, m = case
    p, d = m.points, iod(det)
    assert np.linalg.norm(p[mesh.NOSE_TIP, :2] - det.keypoints[2]) < 0.15 * d
    assert p[mesh.FOREHEAD, 1] < p[mesh.RIGHT_EYE_OUTER, 1] < p[mesh.NOSE_TIP, 1] < p[mesh.CHIN, 1]
    # z in source pixels, negative towards the camera: the nose tip is in front of the cheeks
    depth = (p[mesh.RIGHT_CHEEK, 2] + p[mesh.LEFT_CHEEK, 2]) / 2 - p[mesh.NOSE_TIP, 2]
    assert 0.5 * d < depth < 2.5 * d


def test_all_points_lie_inside_the_enlarged_box(case):
    _, det, m = case
    centre = (det.box[:2] + det.box[2:]) / 2
    half = 0.75 * float(np.max(det.box[2:] - det.box[:2]))  # the 1.5x square crop
    assert np.all(np.abs(m.points[:, :2] - centre) < half)


def test_a_mirrored_photo_gives_the_mirrored_mesh(case, engine):
    img, det, m = case
    _, mm = analyse(engine, ImageOps.mirror(img))
    back = mm.points[mesh.MIRROR].copy()  # the mirror image's right eye is the person's left eye
    back[:, 0] = img.width - back[:, 0]
    err = np.linalg.norm(back[:, :2] - m.points[:, :2], axis=1) / iod(det)
    assert err.mean() < 0.06 and np.percentile(err, 95) < 0.12, (err.mean(), err.max())
    named = [mesh.NOSE_TIP, mesh.CHIN, mesh.FOREHEAD, mesh.RIGHT_EYE_OUTER, mesh.LEFT_EYE_OUTER,
             mesh.RIGHT_CHEEK, mesh.LEFT_CHEEK]
    assert err[named].max() < 0.12
    assert np.abs(back[:, 2] - m.points[:, 2]).mean() < 0.06 * iod(det)  # depth does not flip


def test_the_mesh_follows_a_tilted_head(engine, faces):
    # Given a photo turned 30 degrees (counter-clockwise) on a larger canvas
    img = image.decode(photo(faces, "Aaron_Peirsol", 1), engine.config)
    det, upright = analyse(engine, img)
    tilted = img.rotate(30, resample=Image.Resampling.BICUBIC, expand=True)
    _, m = analyse(engine, tilted)
    # Then its mesh is the upright mesh turned the same way
    t = math.radians(30)
    rel = upright.points[:, :2] - [img.width / 2, img.height / 2]
    expect = rel @ np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]]) + [
        tilted.width / 2, tilted.height / 2]
    err = np.linalg.norm(m.points[:, :2] - expect, axis=1) / iod(det)
    assert err.mean() < 0.05, err.mean()


def test_a_large_photo_gives_the_same_mesh_scaled(engine, faces):
    # the crop box-filters a large face down before resampling (Image.reduce); coordinates still map
    img = image.decode(photo(faces, "Megawati_Sukarnoputri", 1), engine.config)
    det, m = analyse(engine, img)
    big = img.resize((img.width * 6, img.height * 6), Image.Resampling.BICUBIC)
    _, mb = analyse(engine, big)
    err = np.linalg.norm(mb.points / 6 - m.points, axis=1) / iod(det)
    assert err.mean() < 0.05, err.mean()


def test_mirror_index_pairs_left_and_right():
    assert sorted(mesh.MIRROR) == list(range(468))
    assert np.array_equal(mesh.MIRROR[mesh.MIRROR], np.arange(468))
    assert all(mesh.MIRROR[i] == i for i in mesh.MIDLINE) and int((mesh.MIRROR == np.arange(468)).sum()) == 28
    for right, left in ((mesh.RIGHT_EYE_OUTER, mesh.LEFT_EYE_OUTER), (mesh.RIGHT_EYE_INNER, mesh.LEFT_EYE_INNER),
                        (mesh.RIGHT_CHEEK, mesh.LEFT_CHEEK), (mesh.MOUTH_RIGHT, mesh.MOUTH_LEFT)):
        assert mesh.MIRROR[right] == left


@pytest.mark.parametrize("roll_deg", [0.0, 25.0, -140.0])
def test_crop_transform_maps_crop_pixels_to_source_pixels(roll_deg):
    # Given a black picture with one white dot, and a crop turned by `roll`
    src = Image.new("RGB", (400, 300))
    dot = (250.0, 120.0)
    ImageDraw.Draw(src).ellipse((dot[0] - 2, dot[1] - 2, dot[0] + 2, dot[1] + 2), fill="white")
    m = mesh.crop_transform(np.array([230.0, 140.0]), 120.0, math.radians(roll_deg))
    # When the crop is cut; Then the dot's crop position maps back onto the dot
    c = np.asarray(mesh.crop(src, m), np.float32).sum(2)
    ys, xs = np.nonzero(c > 0.5 * c.max())
    u, v = xs.mean() + 0.5, ys.mean() + 0.5  # pixel centres
    back = m[:, :2] @ [u, v] + m[:, 2]
    assert np.linalg.norm(back - dot) < 1.0
