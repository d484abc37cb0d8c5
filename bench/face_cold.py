"""Cold start of the face engine: a fresh Python process imports the engine, loads every model and
verifies its first photo against a stored template.

    python -m bench.face_cold --data ../shared/faces/dev [--runs 5]

The template (three photos of one identity) is made beforehand and passed as JSON, as the service
reads it from DynamoDB. Reports, per run, the time from interpreter start to the first verified
face; the last line of stdout is JSON with the median.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench.face import machine
from chalicelib.face import FaceEngine

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from chalicelib.face import Template, get_engine
t_import = time.perf_counter()
engine = get_engine()
template = Template.from_dict(json.load(open(sys.argv[1])))
probe = open(sys.argv[2], "rb").read()
v = engine.verify(template, probe)
t_done = time.perf_counter()
print(json.dumps({"import_ms": (t_import - t0) * 1000, "first_verify_ms": (t_done - t_import) * 1000,
                  "decision": v.match.decision}))
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--identity", default="Megawati_Sukarnoputri")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    folder = args.data / args.identity
    photos = sorted(folder.glob("*.jpg"), key=lambda p: int(p.stem))
    template = FaceEngine().enrol([p.read_bytes() for p in photos[:3]]).template
    root = Path(__file__).resolve().parents[1]
    runs = []
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(template.to_dict(), f)
        f.flush()
        for _ in range(args.runs):
            # -X importtime would add noise; wall time of the whole child includes interpreter start.
            import time
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", CHILD, f.name, str(photos[3])], cwd=root,
                                 capture_output=True, text=True, check=True)
            total = (time.perf_counter() - t) * 1000
            r = json.loads(out.stdout.strip().splitlines()[-1]) | {"process_total_ms": total}
            print(json.dumps(r), file=sys.stderr)
            runs.append(r)
    med = {k: round(float(np.median([r[k] for r in runs])), 1)
           for k in ("import_ms", "first_verify_ms", "process_total_ms")}
    print(json.dumps({"runs": len(runs), **{f"{k}_p50": v for k, v in med.items()},
                      "decisions": sorted({r["decision"] for r in runs}), "machine": machine()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
