"""Safe image decoding: refuse by byte size and declared pixel count before decoding, apply EXIF
orientation, decode large JPEGs at a reduced scale, and return RGB pixels."""
from __future__ import annotations

import io
import warnings
from datetime import datetime

from PIL import Image, ImageOps

from chalicelib.face.config import FaceConfig
from chalicelib.face.types import (
    CORRUPT_IMAGE,
    FACE_TOO_SMALL,
    IMAGE_TOO_LARGE,
    UNSUPPORTED_IMAGE,
    FaceError,
)

_SIGNATURES = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
}
SUPPORTED_FORMATS = ("JPEG", "PNG", "WEBP")


def sniff_format(data: bytes) -> str | None:
    for magic, fmt in _SIGNATURES.items():
        if data.startswith(magic):
            return fmt
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def decode(data: bytes, cfg: FaceConfig) -> Image.Image:
    """Bytes -> upright RGB image. Raises FaceError(image_too_large|unsupported_image|corrupt_image)."""
    if len(data) > cfg.max_bytes:
        raise FaceError(IMAGE_TOO_LARGE, "The photo file is too large.",
                        {"bytes": len(data), "max_bytes": cfg.max_bytes})
    fmt = sniff_format(data)
    if fmt is None:
        raise FaceError(UNSUPPORTED_IMAGE, "Only JPEG, PNG and WebP photos are accepted.",
                        {"accepted": list(SUPPORTED_FORMATS)})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=[fmt])  # parses the header only
            width, height = im.size
            if width * height > cfg.max_pixels:
                raise FaceError(IMAGE_TOO_LARGE, "The photo has too many pixels.",
                                {"width": width, "height": height, "max_pixels": cfg.max_pixels})
            if min(width, height) < cfg.min_side_px:
                raise FaceError(FACE_TOO_SMALL, "The photo is too small to show a face.",
                                {"width": width, "height": height, "min_side_px": cfg.min_side_px})
            if fmt == "JPEG" and max(width, height) > cfg.decode_long_side_px:
                # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: much faster, and plenty for a face.
                factor = max(width, height) / cfg.decode_long_side_px
                im.draft("RGB", (int(width / factor), int(height / factor)))
            im.load()
            im = ImageOps.exif_transpose(im)
            if im.mode != "RGB":
                im = _to_rgb(im)
    except FaceError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise FaceError(IMAGE_TOO_LARGE, "The photo decompresses to too many pixels.",
                        {"reason": "decompression_bomb"}) from None
    except (OSError, SyntaxError, ValueError, TypeError, IndexError, KeyError,
            EOFError, MemoryError, Image.UnidentifiedImageError):
        raise FaceError(CORRUPT_IMAGE, "The photo could not be read; take it again.",
                        {"format": fmt, "reason": "undecodable"}) from None
    return im


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        background = Image.new("RGB", im.size, (255, 255, 255))
        background.paste(im, mask=im.getchannel("A"))
        return background
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        im = im.point(lambda v: v / 256).convert("L")
    return im.convert("RGB")


_EXIF_IFD, _DATETIME_ORIGINAL, _OFFSET_TIME_ORIGINAL = 0x8769, 0x9003, 0x9011


def capture_time(data: bytes) -> tuple[datetime, bool] | None:
    """When the camera says the photo was taken (EXIF DateTimeOriginal), and whether that time
    carried its UTC offset (OffsetTimeOriginal; without it the time is the phone's local wall
    clock, returned naive). None when the file has no such tag or it cannot be read: browsers'
    camera captures carry none, a gallery photo usually does."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            exif = im.getexif().get_ifd(_EXIF_IFD)
    except (OSError, SyntaxError, ValueError, TypeError, IndexError, KeyError, EOFError):
        return None
    raw, offset = exif.get(_DATETIME_ORIGINAL), exif.get(_OFFSET_TIME_ORIGINAL)
    if not isinstance(raw, str):
        return None
    try:
        taken = datetime.strptime(raw.strip().rstrip("\x00"), "%Y:%m:%d %H:%M:%S")
        if isinstance(offset, str) and offset.strip().rstrip("\x00"):
            return datetime.fromisoformat(taken.isoformat() + offset.strip().rstrip("\x00")), True
    except ValueError:
        return None
    return taken, False
