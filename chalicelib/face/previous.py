"""Previous model versions the engine can still load during a model upgrade (docs/deploy.md,
"Upgrading the face model"): a previous version is named by its calibration file; each model file
it was made with is found beside that file or in models/, by its sha256. Nothing here is read
until a re-enrolment needs it (normal cold starts do not pay for the old model)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from chalicelib.face import models
from chalicelib.face.match import Calibration


@dataclass(frozen=True)
class Previous:
    calibration: Calibration
    dirs: dict[str, Path]  # model name -> the directory holding the file it was calibrated with


def resolve(path: str, models_dir: Path) -> Path:
    p = Path(path)
    return p if p.is_absolute() else models_dir / p


def read(path: str, models_dir: Path) -> Calibration:
    """The calibration file at ``path``, checked: its content implies its ``model_version`` and
    every model it names has a file (beside it or in ``models_dir``). ValueError otherwise."""
    file = resolve(path, models_dir)
    try:
        cal = Calibration.load(file)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"previous calibration {path}: cannot be read ({exc})") from None
    if cal.expected_version() != cal.model_version:
        raise ValueError(f"previous calibration {path}: model_version {cal.model_version} does not match "
                         f"its content ({cal.expected_version()})")
    for m in cal.models:
        if not any(models.model_path(m.name, d).is_file() for d in (file.parent, models_dir)):
            raise ValueError(f"previous calibration {path}: no file for model {m.name}")
    return cal


def versions(paths: Sequence[str], models_dir: Path) -> dict[str, Path]:
    """model_version -> calibration file, for every configured previous calibration (validated)."""
    return {read(p, models_dir).model_version: resolve(p, models_dir) for p in paths}


def load(file: Path, models_dir: Path) -> Previous:
    """The calibration and, per model, the directory of the file with the calibrated sha256."""
    cal = Calibration.load(file)
    dirs = {}
    for m in cal.models:
        found = [d for d in (file.parent, models_dir)
                 if models.model_path(m.name, d).is_file()
                 and models.file_sha256(models.model_path(m.name, d)) == m.sha256]
        if not found:
            raise RuntimeError(f"{file}: no {m.name}.onnx with sha256 {m.sha256[:12]} beside it or in models/")
        dirs[m.name] = found[0]
    return Previous(cal, dirs)
