"""Safe image decoding with bounded cost: refuse by byte size, file structure (JPEG segments and
scans, PNG chunks and metadata) and declared pixel count before decoding; decode JPEGs at a
reduced scale in the DCT domain (``Image.draft``) and reduce other formats right after decoding;
decode the first frame only; apply EXIF orientation; return RGB pixels. ``screen`` is the
header-only part, for callers that want to refuse a photo before any other work;
``check_declared`` matches the bytes against the type the upload declared."""
from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass
from datetime import datetime

from PIL import Image

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
FORMAT_OF_TYPE = {"image/jpeg": "JPEG", "image/jpg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}

# Pillow's own decompression-bomb guard, a ceiling no setting lifts: above it Pillow warns (an
# error here), above twice it refuses. FaceConfig.max_pixels (16 MP by default) is checked first.
PILLOW_MAX_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = PILLOW_MAX_PIXELS

# Structure limits (checked by walking the file, before Pillow parses it): far above what any
# camera, phone or browser writes, far below what makes parsing or decoding slow.
MAX_JPEG_SEGMENTS = 256     # markers with a length (APPn, COM, DQT, DHT, SOF, SOS...) before EOI
MAX_JPEG_SCANS = 16         # a progressive JPEG from libjpeg has 10, mozjpeg about 12
MAX_EXIF_ENTRIES = 256      # in IFD0 and in the Exif IFD each (a camera writes 10 to 80)
MAX_PNG_CHUNKS = 4096       # libpng writes 8 KiB IDAT chunks: 4096 of them is 32 MiB
MAX_METADATA_BYTES = 256 * 1024  # JPEG APPn/COM or PNG ancillary chunks (EXIF, ICC, text) in all
_JPEG_MARKER = re.compile(rb"\xff[\x01-\xcf\xd8-\xfe]")  # a marker, not stuffing (FF00) or RSTn
_PNG_DATA = (b"IDAT", b"fdAT", b"IHDR", b"PLTE", b"tRNS", b"IEND", b"acTL", b"fcTL")


@dataclass(frozen=True)
class Header:
    """What a photo declares, read without decoding a pixel."""

    format: str
    width: int
    height: int
    mode: str
    frames: int = 1


def sniff_format(data: bytes) -> str | None:
    for magic, fmt in _SIGNATURES.items():
        if data.startswith(magic):
            return fmt
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def check_declared(data: bytes, content_type: str | None) -> str:
    """The format the bytes are, which must be the one the upload declared (a PNG sent as
    image/jpeg, a WebP as image/png... is refused): FaceError(unsupported_image)."""
    declared = (content_type or "").split(";")[0].strip().lower()
    sniffed = sniff_format(data)
    if sniffed is None or FORMAT_OF_TYPE.get(declared) != sniffed:
        raise FaceError(UNSUPPORTED_IMAGE, "The photo's content does not match its declared type.",
                        {"content_type": declared, "detected": sniffed})
    return sniffed


def _too_large(message: str, details: dict) -> FaceError:
    return FaceError(IMAGE_TOO_LARGE, message, details)


def _walk_jpeg(data: bytes) -> bool:
    """Count segments, scans and metadata bytes up to EOI; refuse as soon as one is over its limit
    (so the walk itself is bounded). A malformed structure is left to the decoder to report.
    Returns whether the JPEG is progressive (SOF2)."""
    pos, segments, scans, meta, n = 2, 0, 0, 0, len(data)
    progressive = False
    while pos + 4 <= n and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:
            break
        progressive = progressive or marker in (0xC2, 0xC6, 0xCA, 0xCE)
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if pos + 2 + length > n:
            break  # malformed: the decoder reports it
        segments += 1
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            meta += length
        if marker == 0xE1 and data[pos + 4:pos + 10] == b"Exif\0\0":
            _check_exif(data[pos + 10:pos + 2 + length])
        if segments > MAX_JPEG_SEGMENTS or meta > MAX_METADATA_BYTES:
            raise _too_large("The photo carries too much metadata.",
                             {"segments": segments, "metadata_bytes": meta,
                              "max_segments": MAX_JPEG_SEGMENTS, "max_metadata_bytes": MAX_METADATA_BYTES})
        pos += 2 + length
        if marker == 0xDA:
            scans += 1
            if scans > MAX_JPEG_SCANS:
                raise _too_large("The photo has too many scans.", {"max_scans": MAX_JPEG_SCANS})
            found = _JPEG_MARKER.search(data, pos)
            if found is None:
                break
            pos = found.start()
    return progressive


def _walk_png(data: bytes) -> tuple[int, int]:
    """Count chunks and ancillary (metadata) bytes up to IEND, refusing as soon as one is over its
    limit; returns IHDR's bit depth and colour type ((8, 2) if unreadable: the decoder reports)."""
    pos, chunks, meta, n = 8, 0, 0, len(data)
    depth, colour = 8, 2
    while pos + 8 <= n:
        length, kind = int.from_bytes(data[pos:pos + 4], "big"), data[pos + 4:pos + 8]
        if pos + 12 + length > n or not kind.isalpha():
            break  # malformed: the decoder reports it
        chunks += 1
        if kind == b"IHDR" and pos + 18 <= n:
            depth, colour = data[pos + 16], data[pos + 17]
        elif kind not in _PNG_DATA:
            meta += length
            if kind == b"eXIf" and meta <= MAX_METADATA_BYTES:
                _check_exif(data[pos + 8:pos + 8 + length])
        if chunks > MAX_PNG_CHUNKS or meta > MAX_METADATA_BYTES:
            raise _too_large("The photo has too many chunks or too much metadata.",
                             {"chunks": chunks, "metadata_bytes": meta, "max_chunks": MAX_PNG_CHUNKS,
                              "max_metadata_bytes": MAX_METADATA_BYTES})
        if kind == b"IEND":
            break
        pos += 12 + length
    return depth, colour


def _open(data: bytes, cfg: FaceConfig) -> tuple[Image.Image, str]:
    """The photo opened (its header parsed, no pixel decoded) once every pre-decode limit holds."""
    if len(data) > cfg.max_bytes:
        raise _too_large("The photo file is too large.", {"bytes": len(data), "max_bytes": cfg.max_bytes})
    fmt = sniff_format(data)
    if fmt is None:
        raise FaceError(UNSUPPORTED_IMAGE, "Only JPEG, PNG and WebP photos are accepted.",
                        {"accepted": list(SUPPORTED_FORMATS)})
    depth, progressive = 8, False
    if fmt == "JPEG":
        progressive = _walk_jpeg(data)
    elif fmt == "PNG":
        depth = _walk_png(data)[0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=[fmt])  # parses the header only
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large("The photo decompresses to too many pixels.", {"reason": "decompression_bomb"}) from None
    except _UNREADABLE:
        raise _corrupt(fmt) from None
    width, height = im.size
    if width * height > cfg.max_pixels:
        raise _too_large("The photo has too many pixels.",
                         {"width": width, "height": height, "max_pixels": cfg.max_pixels})
    if fmt != "JPEG" and width * height * (2 if depth > 8 else 1) > cfg.max_lossless_pixels:
        # no reduced-scale decoding outside JPEG: every pixel (16-bit ones twice) is inflated
        raise _too_large("The photo has too many pixels for a lossless format; send a JPEG.",
                         {"width": width, "height": height, "format": fmt, "bit_depth": depth,
                          "max_lossless_pixels": cfg.max_lossless_pixels})
    if progressive and width * height > cfg.max_progressive_pixels:
        # a progressive JPEG is held and decoded whole, scan after scan: 3 to 4 times the work
        raise _too_large("The photo has too many pixels for a progressive JPEG.",
                         {"width": width, "height": height, "progressive": True,
                          "max_progressive_pixels": cfg.max_progressive_pixels})
    if progressive and len(data) > cfg.max_progressive_bytes:
        raise _too_large("The photo file is too large for a progressive JPEG.",
                         {"bytes": len(data), "progressive": True,
                          "max_progressive_bytes": cfg.max_progressive_bytes})
    return im, fmt


def _raw_exif(im: Image.Image) -> bytes | None:
    """The EXIF bytes the header carried (JPEG APP1, PNG eXIf before the pixels); never loads
    pixels (PngImageFile.getexif would decode the whole image to look for an eXIf after them)."""
    raw = im.info.get("exif")
    return raw if isinstance(raw, bytes) else None


def _check_exif(tiff: bytes) -> None:
    """Refuse EXIF (TIFF bytes) whose IFD0 or Exif IFD has more entries than a camera writes
    (Pillow parses each in Python, some already in Image.open): read from the counts alone."""
    order = "little" if tiff[:2] == b"II" else "big"
    counts, offset = [], int.from_bytes(tiff[4:8], order)
    for _ in range(2):  # IFD0, then the Exif IFD it points to
        count = int.from_bytes(tiff[offset:offset + 2], order)
        counts.append(count)
        if count > MAX_EXIF_ENTRIES:
            raise _too_large("The photo carries too much metadata.",
                             {"exif_entries": count, "max_exif_entries": MAX_EXIF_ENTRIES})
        entries = tiff[offset + 2:offset + 2 + 12 * count]
        pointer = next((int.from_bytes(entries[i + 8:i + 12], order) for i in range(0, len(entries) - 11, 12)
                        if int.from_bytes(entries[i:i + 2], order) == _EXIF_IFD), None)
        if pointer is None:
            return
        offset = pointer


def _exif(im: Image.Image) -> Image.Exif:
    exif = Image.Exif()
    raw = _raw_exif(im)
    if raw:
        exif.load(raw)
    return exif


def screen(data: bytes, cfg: FaceConfig) -> Header | None:
    """The photo's header once the byte, structure and pixel limits hold (FaceError
    image_too_large | unsupported_image otherwise), without decoding a pixel; None when the header
    cannot be read (``decode`` then reports corrupt_image)."""
    try:
        im, fmt = _open(data, cfg)
    except FaceError as err:
        if err.code == CORRUPT_IMAGE:
            return None
        raise
    with im:
        return Header(fmt, im.width, im.height, im.mode, getattr(im, "n_frames", 1))


def decode(data: bytes, cfg: FaceConfig) -> Image.Image:
    """Bytes -> upright RGB image of its first frame, at most 1.5 x decode_long_side_px on its
    long side. Raises FaceError(image_too_large|unsupported_image|corrupt_image|face_too_small)."""
    im, fmt = _open(data, cfg)
    width, height = im.size
    if min(width, height) < cfg.min_side_px:
        raise FaceError(FACE_TOO_SMALL, "The photo is too small to show a face.",
                        {"width": width, "height": height, "min_side_px": cfg.min_side_px})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            orientation = _exif(im).get(_ORIENTATION)
            if fmt == "JPEG" and max(width, height) > cfg.decode_long_side_px:
                # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: much faster, and plenty for a face.
                factor = max(width, height) / cfg.decode_long_side_px
                im.draft("RGB", (int(width / factor), int(height / factor)))
            im.load()  # the first frame only (APNG, animated WebP, MPO)
            if orientation is None and im.format == "PNG":  # an eXIf after the pixels (walked)
                orientation = _exif(im).get(_ORIENTATION)
            if im.mode != "RGB":
                im = _to_rgb(im)
            factor = int(max(im.size) / cfg.decode_long_side_px + 0.5)
            if factor >= 2:  # a cheap box reduction to at most 1.5 x decode_long_side_px
                im = im.reduce(factor)
            transpose = _TRANSPOSE.get(orientation) if isinstance(orientation, int) else None
            if transpose is not None:
                im = im.transpose(transpose)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large("The photo decompresses to too many pixels.", {"reason": "decompression_bomb"}) from None
    except _UNREADABLE:
        raise _corrupt(fmt) from None
    return im


_UNREADABLE = (OSError, SyntaxError, ValueError, TypeError, IndexError, KeyError, EOFError,
               MemoryError, Image.UnidentifiedImageError)
_ORIENTATION = 0x0112
_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
              4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
              6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}


def _corrupt(fmt: str) -> FaceError:
    return FaceError(CORRUPT_IMAGE, "The photo could not be read; take it again.",
                     {"format": fmt, "reason": "undecodable"})  # never the imaging library's exception


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
    camera captures carry none, a gallery photo usually does. Reads the header only (call
    ``screen`` first: it bounds what the header may hold)."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            exif = _exif(im).get_ifd(_EXIF_IFD)
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
