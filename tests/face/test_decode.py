"""Every unusable image gets its own machine-readable code, before any face work is done."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from chalicelib.common.errors import Kind
from chalicelib.face import FaceConfig, FaceError, image
from tests.face.conftest import encode

CFG = FaceConfig()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height but carries almost no data (a decompression bomb shape)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def code_of(data: bytes, cfg: FaceConfig = CFG) -> tuple[str, Kind]:
    with pytest.raises(FaceError) as err:
        image.decode(data, cfg)
    return err.value.code, err.value.kind


def test_oversized_file_is_refused_before_decoding():
    # Given a file larger than the byte limit
    data = b"\xff\xd8\xff" + b"\0" * (CFG.max_bytes + 1)
    # Then it is refused as too large (HTTP 413)
    assert code_of(data) == ("image_too_large", Kind.TOO_LARGE)


def test_too_many_declared_pixels_is_refused_before_decoding():
    # Given a small PNG file that declares 5000 x 4000 pixels (over 16 MP, under Pillow's own guard)
    data = png_header_only(5_000, 4_000)
    assert len(data) < 200
    # Then the declared pixel count alone refuses it
    with pytest.raises(FaceError) as err:
        image.decode(data, CFG)
    assert err.value.code == "image_too_large"
    assert err.value.details == {"width": 5_000, "height": 4_000, "max_pixels": CFG.max_pixels}


def test_decompression_bomb_is_refused_even_when_the_pixel_limit_is_raised():
    # Given a configuration without a pixel limit, and a PNG declaring 400 megapixels
    cfg = FaceConfig(max_pixels=10**12)
    # Then Pillow's own bomb guard still refuses it, as too large
    assert code_of(png_header_only(20_000, 20_000), cfg)[0] == "image_too_large"


@pytest.mark.parametrize("data", [
    b"GIF89a" + b"\0" * 100,
    b"BM" + b"\0" * 100,
    b"%PDF-1.7 not a photo",
    b"",
])
def test_formats_other_than_jpeg_png_webp_are_unsupported(data):
    assert code_of(data) == ("unsupported_image", Kind.UNSUPPORTED)


def test_garbage_after_a_jpeg_signature_is_corrupt():
    assert code_of(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)[0] == "corrupt_image"


def test_truncated_jpeg_is_corrupt():
    # Given a real JPEG cut in half
    rng = np.random.default_rng(1)
    full = encode(Image.fromarray(rng.integers(0, 255, (240, 320, 3), np.uint8)))
    # Then it is reported as corrupt, not silently decoded as half an image
    assert code_of(full[: len(full) // 2])[0] == "corrupt_image"


def test_image_smaller_than_a_face_can_be_is_refused():
    assert code_of(encode(Image.new("RGB", (40, 40), "grey")))[0] == "face_too_small"


def test_exif_orientation_is_applied():
    # Given a 200x100 JPEG whose EXIF says "rotate 90 degrees clockwise to display"
    img = Image.new("RGB", (200, 100), "white")
    img.paste((255, 0, 0), (0, 0, 20, 20))  # red square at the stored top-left
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(img, exif=exif.tobytes())
    # When it is decoded
    out = image.decode(data, CFG)
    # Then it is upright: 100 wide, 200 tall, the red square now at the top-right
    assert out.size == (100, 200)
    assert out.getpixel((95, 5))[0] > 200 and out.getpixel((5, 5))[1] > 200


def test_large_jpeg_is_decoded_at_reduced_scale():
    big = encode(Image.new("RGB", (4000, 3000), "grey"))
    out = image.decode(big, CFG)
    assert max(out.size) <= 2000 and out.mode == "RGB"


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16"])
def test_png_in_any_common_mode_becomes_rgb(mode):
    data = encode(Image.new(mode, (128, 96)), "PNG")
    assert image.decode(data, CFG).mode == "RGB"


def test_webp_is_accepted():
    assert image.decode(encode(Image.new("RGB", (128, 96)), "WEBP"), CFG).size == (128, 96)


def _valid_images() -> list[bytes]:
    rng = np.random.default_rng(7)
    img = Image.fromarray(rng.integers(0, 255, (96, 128, 3), np.uint8))
    return [encode(img), encode(img, "PNG"), encode(img, "WEBP")]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(_valid_images()), st.data())
def test_damaged_files_only_ever_raise_face_errors(original, data):
    # Given a valid photo damaged in any way: truncated, or with bytes flipped anywhere
    cut = data.draw(st.integers(0, len(original)))
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(1, 255)),
                               max_size=8))
    damaged = bytearray(original[:max(cut, 16)])
    for pos, xor in flips:
        if pos < len(damaged):
            damaged[pos] ^= xor
    # When it is decoded; Then it decodes to RGB or is refused with one of the image codes
    try:
        out = image.decode(bytes(damaged), CFG)
        assert out.mode == "RGB"
    except FaceError as err:
        assert err.code in {"corrupt_image", "unsupported_image", "image_too_large", "face_too_small"}


def _with_exif(fmt: str, taken: str | None, offset: str | None = None) -> bytes:
    exif = Image.Exif()
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
        if offset:
            exif.get_ifd(0x8769)[0x9011] = offset
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "grey").save(buf, fmt, exif=exif.tobytes())
    return buf.getvalue()


def test_the_camera_capture_time_is_read_with_its_offset_when_given():
    from datetime import datetime, timedelta, timezone
    taken, with_offset = image.capture_time(_with_exif("JPEG", "2026:03:03 07:44:30", "+08:00"))
    assert taken == datetime(2026, 3, 3, 7, 44, 30, tzinfo=timezone(timedelta(hours=8))) and with_offset
    assert image.capture_time(_with_exif("PNG", "2026:03:03 07:44:30")) == (datetime(2026, 3, 3, 7, 44, 30), False)


def test_no_or_a_garbled_capture_time_is_none():
    assert image.capture_time(_with_exif("JPEG", None)) is None
    assert image.capture_time(_with_exif("JPEG", "yesterday")) is None
    assert image.capture_time(b"not an image") is None
