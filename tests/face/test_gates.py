"""Each quality gate, on real faces degraded in code: the photo is refused with its own code and
the check carries the measured value and the limit it failed."""
from __future__ import annotations

import pytest
from PIL import Image, ImageEnhance, ImageFilter

from chalicelib.common.errors import Kind
from chalicelib.face import FaceError
from tests.face.conftest import encode, open_photo


@pytest.fixture(scope="module")
def face(faces) -> Image.Image:
    """A frontal, well-lit face scaled up to selfie size (450 px)."""
    return open_photo(faces, "Megawati_Sukarnoputri", 1).resize((450, 450), Image.Resampling.BICUBIC)


def refused(engine, img: Image.Image) -> FaceError:
    with pytest.raises(FaceError) as err:
        engine.analyse(encode(img))
    return err.value


def failed_check(err: FaceError) -> dict:
    return next(c for c in err.details["checks"] if not c["ok"])


def test_good_selfie_passes_every_gate(engine, face):
    # Given a frontal, sharp, well-lit face; When it is analysed
    a = engine.analyse(encode(face))
    # Then every gate passes and both embeddings are unit vectors
    assert a.ok and {c.name for c in a.checks} >= {"face_found", "single_face", "face_size", "yaw",
                                                   "roll", "brightness", "sharpness"}
    for v in a.embeddings.values():
        assert abs(float((v ** 2).sum()) - 1) < 1e-4


def test_blank_photo_has_no_face(engine):
    err = refused(engine, Image.new("RGB", (640, 480), (120, 120, 120)))
    assert err.code == "no_face" and err.kind == Kind.INVALID


def test_two_faces_of_comparable_size_are_refused(engine, faces, face):
    # Given a photo with two people side by side
    two = Image.new("RGB", (900, 450), (128, 128, 128))
    two.paste(face, (0, 0))
    two.paste(open_photo(faces, "Tony_Blair", 1).resize((450, 450)), (450, 0))
    # Then we cannot know whose check-in it is
    err = refused(engine, two)
    assert err.code == "multiple_faces"
    assert failed_check(err)["value"] >= failed_check(err)["limits"]["second_face_ratio"]


def test_tiny_face_in_a_large_frame_is_too_small(engine, face):
    canvas = Image.new("RGB", (640, 480), (120, 120, 120))
    canvas.paste(face.resize((60, 60)), (300, 200))
    err = refused(engine, canvas)
    assert err.code == "face_too_small"
    assert failed_check(err)["value"] < failed_check(err)["limits"]["min_eye_distance_px"]


def test_dark_photo_is_too_dark(engine, face):
    err = refused(engine, ImageEnhance.Brightness(face).enhance(0.2))
    assert err.code == "too_dark" and failed_check(err)["value"] < failed_check(err)["limits"]["min"]


def test_overexposed_photo_is_too_bright(engine, face):
    err = refused(engine, ImageEnhance.Brightness(face).enhance(2.5))
    assert err.code == "too_bright" and failed_check(err)["value"] > failed_check(err)["limits"]["max"]


def test_blurred_photo_is_blurry(engine, face):
    err = refused(engine, face.filter(ImageFilter.GaussianBlur(5)))
    assert err.code == "blurry"


def test_tilted_head_is_not_frontal(engine, face):
    err = refused(engine, face.rotate(45, expand=True, fillcolor=(128, 128, 128)))
    assert err.code == "not_frontal"
    assert failed_check(err)["name"] == "roll" and abs(failed_check(err)["value"]) > 30


def test_turned_head_is_not_frontal(engine, faces):
    # Given a real photo of a head turned well to the side (measured yaw about 55 degrees)
    with pytest.raises(FaceError) as err:
        engine.analyse((faces / "Ahmad_Masood" / "2.jpg").read_bytes())
    assert err.value.code == "not_frontal"
    assert failed_check(err.value)["name"] == "yaw"


def test_orientation_from_exif_is_applied_before_detection(engine, face):
    # Given the selfie stored rotated, with EXIF saying how to turn it upright
    exif = Image.Exif()
    exif[0x0112] = 6  # display = stored rotated 90 degrees clockwise
    stored = face.transpose(Image.Transpose.ROTATE_90)
    # When it is analysed; Then the face is found upright (roll near 0)
    a = engine.analyse(encode(stored, exif=exif.tobytes()))
    roll = next(c for c in a.checks if c.name == "roll")
    assert abs(roll.value) < 10


def test_limits_are_configuration(faces):
    # Given an engine configured to require a larger face than this photo has
    from chalicelib.face import FaceConfig, FaceEngine
    strict = FaceEngine(FaceConfig(min_eye_distance_px=60))
    with pytest.raises(FaceError) as err:
        strict.analyse((faces / "Megawati_Sukarnoputri" / "1.jpg").read_bytes())
    assert err.value.code == "face_too_small"
