"""Bounded image cost: every adversarial kind of file is refused from its header or structure, or
decoded at a bounded size; a 12 MP phone photo passes; the bytes must be the declared type.
The adversarial shapes are bench/images.py's (the benchmark measures what these tests assert)."""
from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from bench.images import chunk, png_raw, scans_repeated, segment, tiff_bomb, with_segments
from chalicelib.face import FaceConfig, FaceError, image
from tests.face.conftest import encode

CFG = FaceConfig()


def refusal(data: bytes, cfg: FaceConfig = CFG) -> FaceError:
    """The error ``screen`` raises, which ``decode`` raises alike."""
    with pytest.raises(FaceError) as screened:
        image.screen(data, cfg)
    with pytest.raises(FaceError) as decoded:
        image.decode(data, cfg)
    assert decoded.value.code == screened.value.code
    return screened.value


def gradient(width: int, height: int) -> Image.Image:
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None, None]
    return Image.fromarray(np.broadcast_to((x + y) / 2, (height, width, 3)).astype(np.uint8))


def selfie(fmt: str = "JPEG", **kw) -> bytes:
    return encode(gradient(640, 480), fmt, **kw)


def orientation_exif(value: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif


# --- what passes ------------------------------------------------------------------------------

def test_a_12_megapixel_phone_photo_passes_and_is_decoded_reduced_and_upright():
    # Given a 4000 x 3000 phone JPEG stored sideways with EXIF orientation 6 (as phones write it)
    data = encode(gradient(4000, 3000), exif=orientation_exif(6))
    # Then the header passes the limits
    assert image.screen(data, CFG) == image.Header("JPEG", 4000, 3000, "RGB")
    # And it is decoded at a reduced scale, turned upright (portrait)
    img = image.decode(data, CFG)
    assert img.mode == "RGB" and img.size[1] > img.size[0]
    assert max(img.size) <= 1.5 * CFG.decode_long_side_px


def test_a_large_png_is_reduced_after_decoding():
    img = image.decode(encode(gradient(2800, 1000), "PNG"), CFG)
    assert img.size == (1400, 500)


@pytest.mark.parametrize("mode", ["CMYK", "P", "L", "I;16"])
def test_other_modes_decode_to_rgb(mode):
    # Given a photo in CMYK (JPEG), palette, grey or 16-bit grey (PNG)
    src = gradient(320, 240)
    img = src.convert("CMYK") if mode == "CMYK" else src.quantize(64) if mode == "P" else src.convert("L")
    if mode == "I;16":
        img = Image.fromarray(np.asarray(src.convert("L"), np.uint16) * 256)
    data = encode(img, "JPEG" if mode == "CMYK" else "PNG")
    # Then it decodes to RGB
    assert image.decode(data, CFG).mode == "RGB"


def test_an_animated_png_is_decoded_from_its_first_frame_only():
    frames = [Image.new("RGB", (200, 200), c) for c in ((250, 0, 0), (0, 250, 0), (0, 0, 250))]
    buf = io.BytesIO()
    frames[0].save(buf, "PNG", save_all=True, append_images=frames[1:], duration=40)
    assert image.screen(buf.getvalue(), CFG).frames == 3
    assert image.decode(buf.getvalue(), CFG).getpixel((100, 100)) == (250, 0, 0)


def test_a_small_progressive_jpeg_passes():
    assert image.decode(selfie(progressive=True), CFG).size == (640, 480)


# --- refused from the header: pixels ----------------------------------------------------------

def test_the_170_kb_6320_by_6320_png_is_refused_from_its_header():
    data = png_raw(6320, 6320, 8, 0, b"")  # no pixel data needed: the header alone refuses it
    assert refusal(data).code == "image_too_large"


@pytest.mark.parametrize("width,height,depth", [(2500, 2000, 8), (1500, 1500, 16)])
def test_a_png_over_the_lossless_limit_is_refused(width, height, depth):
    # Given a PNG of 5 MP, or of 2.25 MP at 16 bits (counted twice), over the 3 MP lossless limit
    err = refusal(png_raw(width, height, depth, 2, b""))
    assert err.code == "image_too_large"
    assert err.details["max_lossless_pixels"] == CFG.max_lossless_pixels


def test_a_jpeg_over_the_pixel_limit_is_refused():
    err = refusal(encode(Image.new("RGB", (5000, 4000)), quality=20))
    assert (err.code, err.details["max_pixels"]) == ("image_too_large", 16_000_000)


def test_a_progressive_jpeg_over_its_pixel_or_byte_limit_is_refused():
    big = encode(gradient(2400, 1800), progressive=True)  # 4.3 MP, 0.2 MB
    assert refusal(big).details["max_progressive_pixels"] == CFG.max_progressive_pixels
    small = selfie(progressive=True)
    err = refusal(small, FaceConfig(max_progressive_bytes=len(small) - 1))
    assert err.details["max_progressive_bytes"] == len(small) - 1


def test_pillows_bomb_guard_is_a_ceiling():
    assert Image.MAX_IMAGE_PIXELS == image.PILLOW_MAX_PIXELS
    # even a configuration without a pixel limit cannot decode 50 MP
    err = refusal(png_raw(10_000, 5_000, 8, 0, b""), FaceConfig(max_pixels=10**12, max_lossless_pixels=10**12))
    assert err.code == "image_too_large"


# --- refused from the structure ---------------------------------------------------------------

def test_a_jpeg_with_too_many_scans_is_refused():
    data = scans_repeated(selfie(progressive=True), image.MAX_JPEG_SCANS + 1)
    assert refusal(data).details == {"max_scans": image.MAX_JPEG_SCANS}


def test_a_flood_of_jpeg_segments_is_refused_without_walking_it_all():
    data = with_segments(selfie(), segment(0xFE, b"x") * 300_000)
    assert refusal(data).details["segments"] == image.MAX_JPEG_SEGMENTS + 1


def test_too_much_jpeg_metadata_is_refused():
    icc = b"".join(segment(0xE2, b"ICC_PROFILE\0" + bytes([i + 1, 255]) + b"\0" * 1200) for i in range(255))
    assert refusal(with_segments(selfie(), icc)).details["max_metadata_bytes"] == image.MAX_METADATA_BYTES


@pytest.mark.parametrize("where", ["jpeg", "png"])
def test_an_exif_bomb_is_refused(where):
    # Given EXIF whose IFD0 has 5000 entries (Pillow would parse each in Python)
    tiff = tiff_bomb(5000)
    if where == "jpeg":
        data = with_segments(selfie(), segment(0xE1, b"Exif\0\0" + tiff))
    else:
        png = selfie("PNG")
        data = png[:33] + chunk(b"eXIf", tiff) + png[33:]
    assert refusal(data).details == {"exif_entries": 5000, "max_exif_entries": image.MAX_EXIF_ENTRIES}


def test_an_exif_ifd_bomb_behind_a_small_ifd0_is_refused():
    # IFD0 with one entry pointing to an Exif IFD of 1000 entries
    exif_ifd = struct.pack(">H", 1000) + struct.pack(">HHII", 0x9000, 4, 1, 0) * 1000 + b"\0" * 4
    tiff = b"MM\0*\0\0\0\x08" + struct.pack(">HHHII", 1, 0x8769, 4, 1, 26) + b"\0" * 4 + exif_ifd
    data = with_segments(selfie(), segment(0xE1, b"Exif\0\0" + tiff))
    assert refusal(data).details["exif_entries"] == 1000


def test_a_flood_of_png_chunks_is_refused():
    png = selfie("PNG")
    data = png[:33] + chunk(b"tEXt", b"k\0v") * 10_000 + png[33:]
    assert refusal(data).details["chunks"] == image.MAX_PNG_CHUNKS + 1


def test_a_png_text_zlib_bomb_is_unreadable_not_inflated():
    import zlib
    png = selfie("PNG")
    data = png[:33] + chunk(b"zTXt", b"k\0\0" + zlib.compress(b"\0" * 20_000_000, 9)) + png[33:]
    with pytest.raises(FaceError) as err:
        image.decode(data, CFG)
    assert err.value.code in ("corrupt_image", "image_too_large")


def test_exif_orientation_is_still_honoured():
    data = encode(gradient(400, 300), exif=orientation_exif(8))
    assert image.decode(data, CFG).size == (300, 400)


# --- the declared type ------------------------------------------------------------------------

@pytest.mark.parametrize("data,declared,detected", [
    (selfie("PNG"), "image/jpeg", "PNG"),
    (selfie(), "image/png", "JPEG"),
    (selfie("WEBP"), "image/jpeg", "WEBP"),
    (b"GIF89a" + b"\0" * 100, "image/png", None),
    (selfie(), None, "JPEG"),
])
def test_bytes_other_than_the_declared_type_are_unsupported(data, declared, detected):
    with pytest.raises(FaceError) as err:
        image.check_declared(data, declared)
    assert err.value.code == "unsupported_image"
    assert err.value.details == {"content_type": declared or "", "detected": detected}


def test_bytes_of_the_declared_type_pass():
    assert image.check_declared(selfie(), "image/jpeg; charset=binary") == "JPEG"
    assert image.check_declared(selfie("PNG"), "IMAGE/PNG") == "PNG"
