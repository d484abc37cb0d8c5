"""What each quality gate measures on a photo folder, and what the configured limits reject.

    python -m bench.gates --data ../shared/faces/dev

Prints percentiles of every gate's value and the share each limit rejects; the last line is JSON.
Used to choose the defaults in chalicelib/face/config.py.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from bench.facedata import list_images
from chalicelib.face import FaceEngine
from chalicelib.face.match import Calibration, ModelCalibration
from chalicelib.face.types import FaceError


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, required=True)
    args = ap.parse_args(argv)
    data = list_images(args.data)
    # Gates only need the detector and the dlib chip: no embedder runs here.
    engine = FaceEngine(calibration=Calibration("gates", 0, "mean", 1e-3,
                                                (ModelCalibration("dlib-resnet", "", 1, 0, 1),), {}))
    values: dict[str, list[float]] = {}
    rejected: Counter = Counter()
    examples: dict[str, list[str]] = {}
    for p in data.paths:
        try:
            a = engine.inspect(p.read_bytes())
        except FaceError as err:
            rejected[err.code] += 1
            examples.setdefault(err.code, []).append(str(p.relative_to(args.data)))
            continue
        for c in a.checks:
            values.setdefault(c.name, []).append(abs(c.value) if c.name in ("yaw", "roll") else c.value)
            if not c.ok:
                rejected[c.reason] += 1
                examples.setdefault(c.reason, []).append(f"{p.relative_to(args.data)} {c.name}={c.value:.1f}")
    summary = {"images": len(data.paths), "rejected": dict(rejected),
               "percentiles": {k: {q: round(float(np.percentile(v, q)), 2) for q in (0.1, 1, 5, 50, 95, 99, 99.9)}
                               for k, v in values.items()},
               "examples": {k: v[:8] for k, v in examples.items()}}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
