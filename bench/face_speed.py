"""Decode-to-embedding latency of one 640x480 JPEG selfie, on one thread, with its breakdown.

    python -m bench.face_speed --data ../shared/faces [--repeat 50]

Selfies are made in memory from the raw (uncropped) photos in DIR/dev (identities named
deepface__* and face_recognition__*) and the bona-fide captures in DIR/spoof/live/silentface:
each is cropped to 4:3 around its centre, resized to 640x480 and encoded as JPEG quality 90.
Each is analysed once to warm up, then `--repeat` times; medians are over all runs. Wall time
and this thread's CPU time are both reported (CPU time is steadier on a shared machine).
The last line of stdout is JSON.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from bench.face import machine
from chalicelib.face import FaceEngine, FaceError


def selfies(root: Path, limit: int) -> list[bytes]:
    sources = sorted(p for d in (root / "dev").glob("*__*") for p in d.glob("*.jpg"))
    sources += sorted((root / "spoof" / "live" / "silentface").glob("*"))
    out = []
    for p in sources:
        try:
            img = ImageOps.exif_transpose(Image.open(p)).convert("RGB")
        except OSError:
            continue
        img = ImageOps.fit(img, (640, 480), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
        if len(out) >= limit:
            break
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, required=True, help="the faces folder (holding dev/ and spoof/)")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--limit", type=int, default=20)
    args = ap.parse_args(argv)
    engine = FaceEngine()
    engine.warm_up()
    wall, cpu, stages, used = [], [], {}, 0
    for data in selfies(args.data, args.limit):
        try:
            engine.analyse(data)
        except FaceError:
            continue  # e.g. a group photo cropped to two faces: not a selfie
        used += 1
        for _ in range(args.repeat):
            t, c = time.perf_counter(), time.thread_time()
            a = engine.analyse(data)
            cpu.append((time.thread_time() - c) * 1000)
            wall.append((time.perf_counter() - t) * 1000)
            for k, v in a.timings_ms.items():
                stages.setdefault(k, []).append(v)
    result = {"selfies": used, "size": "640x480 JPEG q90", "runs": len(wall), "threads": engine.config.threads,
              "ms_p50": round(float(np.median(wall)), 2), "ms_p95": round(float(np.percentile(wall, 95)), 2),
              "cpu_ms_p50": round(float(np.median(cpu)), 2),
              "stages_ms_p50": {k: round(float(np.median(v)), 2) for k, v in stages.items()},
              "models": engine.calibration.model_names, "machine": machine()}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
