"""Chromium's fake camera fed a YUV4MPEG2 video built from real photos of one identity turning
their head: each pose held ~1.5 s in a loop (front, left, front, right), with a small solid block
in the top-left corner whose colour says which pose is on screen, so a test reads the live preview
and taps `capture` when the pose matches the step the app asks. Built into pytest's tmp dirs; never
committed."""
from __future__ import annotations

import io
import pathlib

from PIL import Image

from tests.faces import posed

WIDTH, HEIGHT, FPS = 640, 480, 10
HOLD = 15  # frames per pose: 1.5 s at 10 fps
LOOP = ("front", "left", "front", "right")
MARK = 16  # px: the marker block (even, so its 4:2:0 chroma is solid); outside the photo
# pose -> marker colour; a test classifies a read pixel by its nearest colour
MARKERS = {"front": (230, 30, 30), "left": (30, 200, 30), "right": (30, 30, 230)}
BACKGROUND = (128, 128, 128)


def frame(photo: bytes, pose: str) -> Image.Image:
    """One 640x480 frame: the photo scaled to the full height, centred, the pose's marker in the
    top-left corner (on the grey side band, so the face engine never sees it over the face)."""
    img = Image.open(io.BytesIO(photo)).convert("RGB")
    side = HEIGHT
    img = img.resize((side, side), Image.LANCZOS)
    canvas = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    canvas.paste(img, ((WIDTH - side) // 2, 0))
    canvas.paste(MARKERS[pose], (0, 0, MARK, MARK))
    return canvas


def yuv420(img: Image.Image) -> bytes:
    """Planar Y, then U and V at half resolution (JPEG-range YCbCr, as C420jpeg says)."""
    y, u, v = img.convert("YCbCr").split()
    half = (img.width // 2, img.height // 2)
    return y.tobytes() + u.resize(half, Image.BOX).tobytes() + v.resize(half, Image.BOX).tobytes()


def write(path: pathlib.Path, plan: dict[str, str], identity: str | None = None) -> pathlib.Path:
    """Write the looped head turn of ``plan`` (pose -> photo spec, tests/faces.py) to ``path``."""
    kw = {"identity": identity} if identity else {}
    frames = {pose: yuv420(frame(posed(plan[pose], **kw), pose)) for pose in set(LOOP)}
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for pose in LOOP:
            for _ in range(HOLD):
                f.write(b"FRAME\n")
                f.write(frames[pose])
    return path


def classify(rgb: tuple[int, int, int]) -> str | None:
    """The pose whose marker colour is nearest the pixel read from the preview (None when far
    from all of them, e.g. before the first frame)."""
    def dist(c):
        return sum((a - b) ** 2 for a, b in zip(rgb, c))
    pose = min(MARKERS, key=lambda p: dist(MARKERS[p]))
    return pose if dist(MARKERS[pose]) < 3 * 60 ** 2 else None
