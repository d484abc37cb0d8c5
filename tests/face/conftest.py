"""Fixtures for the face engine: the real engine with the shipped models, real photos read in place
from ../shared/faces/dev (skipped with a reason where absent), and images built in code."""
from __future__ import annotations

import io
import os
import pathlib

import pytest
from PIL import Image

from chalicelib.face import FaceEngine

ROOT = pathlib.Path(__file__).resolve().parents[2]
FACES = pathlib.Path(os.environ.get("HADIR_FACES_DIR", ROOT.parent / "shared" / "faces" / "dev"))


@pytest.fixture(scope="session")
def engine() -> FaceEngine:
    return FaceEngine()


@pytest.fixture(scope="session")
def faces() -> pathlib.Path:
    if not (FACES / "Megawati_Sukarnoputri").is_dir():
        pytest.skip(f"real face photos not found at {FACES} (../shared/faces/dev beside the checkout)")
    return FACES


def photo(faces: pathlib.Path, identity: str, n: int) -> bytes:
    return (faces / identity / f"{n}.jpg").read_bytes()


def open_photo(faces: pathlib.Path, identity: str, n: int) -> Image.Image:
    return Image.open(io.BytesIO(photo(faces, identity, n))).convert("RGB")


def encode(img: Image.Image, fmt: str = "JPEG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **({"quality": 92} if fmt == "JPEG" else {}) | kw)
    return buf.getvalue()
