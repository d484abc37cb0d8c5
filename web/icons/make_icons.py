"""Writes the app icons (a white "H" and tick on Hadir green; no faces) as PNG with the stdlib only.

    python web/icons/make_icons.py
"""
import pathlib
import struct
import zlib

HERE = pathlib.Path(__file__).resolve().parent
GREEN, WHITE, GOLD = (11, 107, 58), (255, 255, 255), (255, 209, 102)


def pixel(x: float, y: float, safe: float) -> tuple[int, int, int]:
    """x, y in [0, 1); the glyph is drawn inside the central `safe` fraction."""
    u, v = (x - 0.5) / safe + 0.5, (y - 0.5) / safe + 0.5
    if 0.22 <= u <= 0.36 and 0.2 <= v <= 0.8 or 0.64 <= u <= 0.78 and 0.2 <= v <= 0.8:
        return WHITE
    if 0.36 < u < 0.64 and 0.43 <= v <= 0.57:
        return WHITE
    # a small tick under the H
    d1 = abs((v - 0.86) - (u - 0.44)) < 0.035 and 0.40 <= u <= 0.48
    d2 = abs((v - 0.90) + (u - 0.48) * 0.8) < 0.035 and 0.48 <= u <= 0.62
    return GOLD if d1 or d2 else GREEN


def png(size: int, safe: float) -> bytes:
    rows = b"".join(b"\x00" + bytes(c for x in range(size) for c in pixel((x + .5) / size, (y + .5) / size, safe))
                    for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    for name, size, safe in (("icon-192.png", 192, 1.0), ("icon-512.png", 512, 1.0), ("maskable-512.png", 512, 0.7)):
        (HERE / name).write_bytes(png(size, safe))
        print(name)
