"""Real photos read in place from ../shared/faces/dev (never copied into the repository)."""
from __future__ import annotations

import pathlib

from tests.conftest import FACES_DEV

# Identities whose first three photos pass the enrolment gates with the current engine; tests try
# them in order and use the first that enrols.
CANDIDATES = ("Abdullah_Gul", "Alan_Greenspan", "Al_Sharpton", "Abdullah")
OTHER_PERSON = "Silvio_Berlusconi"


def photos(identity: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted((FACES_DEV / identity).iterdir(), key=lambda p: int(p.stem))]


def available() -> bool:
    return FACES_DEV.is_dir() and all((FACES_DEV / c).is_dir() for c in CANDIDATES[:1])


def path(identity: str) -> pathlib.Path:
    return FACES_DEV / identity
