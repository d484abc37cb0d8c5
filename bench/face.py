"""Face verification benchmark on a `<identity>/<n>.jpg` folder, through the production pipeline.

    python -m bench.face --data ../shared/faces/dev [--protocol pairs|enrol3] [--peer dlib]

Every image is decoded, detected, aligned and embedded by chalicelib.face exactly as in
production; all genuine pairs and all impostor pairs are scored (impostors as one matrix
product); an image where no face is found counts as a rejection in every pair it is part of.
The threshold is the shipped one (models/calibration.json), never re-tuned on DIR.
What the quality gates would refuse is counted in the same pass (`gate_rejections`) but those faces
are still scored: the dev set holds news photos, not selfies, so the main figures apply the
detector only, as the calibration does.
The last line of stdout is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

from bench.host import cpu_model
from bench.facedata import embed_all, enrol3, fused_matrix, list_images, pair_masks, tar_at_far
from chalicelib.face import FaceEngine

FARS = ("0.01", "0.001", "0.0001")


def machine() -> str:
    return f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def verification_figures(gen: np.ndarray, imp: np.ndarray, threshold: float) -> dict:
    gen = np.nan_to_num(gen, nan=-np.inf)
    imp = np.nan_to_num(imp, nan=-np.inf)
    return {
        "tar_at_far": {f: round(tar_at_far(gen, imp, float(f))[0], 4) for f in FARS},
        "threshold": threshold,
        "far_at_threshold": float(np.mean(imp >= threshold)),
        "tar_at_threshold": round(float(np.mean(gen >= threshold)), 4),
    }


def peer_dlib(paths, gen_mask, imp_mask) -> dict:
    """The same pairs scored by PyPI face_recognition (dlib HOG detector + ResNet, euclidean)."""
    try:
        import face_recognition  # noqa: PLC0415  (optional: pip install -r bench/requirements-peer.txt)
    except ImportError:
        sys.exit("--peer dlib needs: pip install --no-deps -r bench/requirements-peer.txt")
    import time
    encs, ms = [], []
    for p in paths:
        img = face_recognition.load_image_file(str(p))
        t = time.perf_counter()
        e = face_recognition.face_encodings(img)
        ms.append((time.perf_counter() - t) * 1000)
        encs.append(e[0] if e else np.full(128, np.nan))
    e = np.stack(encs)
    sq = (e ** 2).sum(1)
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * e @ e.T, 0))
    sim = -dist  # higher is more similar
    gen, imp = sim[gen_mask], sim[imp_mask]
    figs = verification_figures(gen, imp, -0.6)  # dlib's customary distance threshold 0.6
    figs["threshold"] = "distance 0.6"
    return {"detect_failures": int(np.isnan(e[:, 0]).sum()), **figs,
            "ms_per_image_p50": round(float(np.median(ms)), 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="folder of <identity>/<n>.jpg")
    ap.add_argument("--protocol", choices=["pairs", "enrol3"], default="pairs")
    ap.add_argument("--peer", choices=["dlib"], help="also score the same pairs with the dlib peer")
    args = ap.parse_args(argv)

    engine = FaceEngine()
    cal = engine.calibration
    data = list_images(args.data)
    n_ids = len(set(data.labels.tolist()))
    print(f"{len(data.paths)} images, {n_ids} identities; model {cal.model_version}", file=sys.stderr)
    engine.warm_up()
    emb = embed_all(engine, data)
    result = {"images": len(data.paths), "identities": n_ids,
              "detect_failures": int((~emb.ok).sum()), "failures_by_code": emb.failures,
              "gate_rejections": emb.gate_rejections,
              "model_version": cal.model_version, "protocol": args.protocol}
    gen_mask, imp_mask = pair_masks(data.labels)
    scores = fused_matrix(cal, emb.embeddings)
    gen, imp = scores[gen_mask], scores[imp_mask]
    result |= {"genuine_pairs": int(len(gen)), "impostor_pairs": int(len(imp))}
    result |= verification_figures(gen, imp, cal.threshold)
    if args.protocol == "enrol3":
        e3 = enrol3(cal, emb.embeddings, data.labels)
        result["enrol3"] = e3
        result["enrol3_tar_at_threshold"], result["enrol3_far_at_threshold"] = e3["tar"], e3["far"]
    result["ms_per_image_p50"] = round(float(np.nanmedian(emb.ms)), 2)
    result["ms_per_image_p95"] = round(float(np.nanpercentile(emb.ms, 95)), 2)
    if args.peer == "dlib":
        print("scoring the dlib peer (slow: HOG detection)...", file=sys.stderr)
        result["peer_dlib"] = peer_dlib(data.paths, gen_mask, imp_mask)
    result["machine"] = machine()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
