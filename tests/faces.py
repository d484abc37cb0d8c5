"""Real photos read in place from ../shared/faces/dev (never copied into the repository)."""
from __future__ import annotations

import io
import pathlib

from PIL import Image, ImageOps

from tests.conftest import FACES_DEV

# Identities whose first three photos pass the enrolment gates with the current engine; tests try
# them in order and use the first that enrols.
CANDIDATES = ("Abdullah_Gul", "Alan_Greenspan", "Al_Sharpton", "Abdullah")
OTHER_PERSON = "Silvio_Berlusconi"


# One identity's photos as liveness challenges, chosen by their measured head pose (face mesh
# yaw, degrees, to the person's own left): enrolment front 7 (+2.6), left 2 (+23.8), right 5
# (-15.1); check-in front 13 (+0.6), left 10 (+25.9), right = photo 8 (+29.0) mirrored. Only left
# and right: the tests that use them set HADIR_LIVENESS_DIRECTIONS=left,right.
POSED = "Jean_Chretien"
POSED_ENROLMENT = {"front": "7.jpg", "left": "2.jpg", "right": "5.jpg"}
POSED_CHECKIN = {"front": "13.jpg", "left": "10.jpg", "right": "mirror:8.jpg"}


def posed(spec: str, identity: str = POSED) -> bytes:
    """A photo by file name, or ``mirror:<name>``: that photo flipped left-right (JPEG q92),
    which turns a head turned to its own left into one turned to its right."""
    if not spec.startswith("mirror:"):
        return (FACES_DEV / identity / spec).read_bytes()
    img = ImageOps.mirror(Image.open(FACES_DEV / identity / spec.removeprefix("mirror:")).convert("RGB"))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92)
    return buf.getvalue()


def following(steps: list[str], plan: dict[str, str], identity: str = POSED) -> list[bytes]:
    """The frames that answer ``steps`` from a plan of pose -> photo."""
    return [posed(plan[s], identity) for s in steps]


def photos(identity: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted((FACES_DEV / identity).iterdir(), key=lambda p: int(p.stem))]


def available() -> bool:
    return FACES_DEV.is_dir() and all((FACES_DEV / c).is_dir() for c in CANDIDATES[:1])


def path(identity: str) -> pathlib.Path:
    return FACES_DEV / identity


# A previous model version for the model-upgrade tests, built from the shipped files (no other
# weights exist offline): dlib-resnet alone, its calibration's impostor statistics, threshold at
# its FAR 1e-3 cosine (0.9267, ../shared/docs/face-models.md) as a z-score. A genuinely different
# model_version (another model set, other parameters) that the engine loads like an old model.
PREVIOUS_DLIB_THRESHOLD_COSINE = 0.9267


def previous_calibration(directory: pathlib.Path) -> pathlib.Path:
    """Write the dlib-only calibration into ``directory`` (its model file is found in models/ by
    sha256) and return its path."""
    import json

    from chalicelib.face import models
    from chalicelib.face.match import Calibration

    current = json.loads((models.MODELS_DIR / "calibration.json").read_text())
    [dlib] = [m for m in current["models"] if m["name"] == "dlib-resnet"]
    z = (PREVIOUS_DLIB_THRESHOLD_COSINE - dlib["impostor_mean"]) / dlib["impostor_std"]
    variant = {**current, "threshold": round(z, 6), "models": [{**dlib, "weight": 1.0}],
               "figures": {"note": "test variant: dlib-resnet alone"}}
    variant["model_version"] = Calibration.from_dict(variant).expected_version()
    path = directory / "calibration-previous.json"
    path.write_text(json.dumps(variant))
    return path
