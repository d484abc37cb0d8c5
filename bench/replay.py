"""Calibrate the replay threshold (chalicelib/face/replay.py) on a `<identity>/<n>.jpg` folder.

    python -m bench.replay --data ../shared/faces/dev [--limit N] [--sample K]

Bona-fide side: for every identity with >= 2 photos, the replay score of every pair of its
*distinct* photos (must never reach the threshold). Replay side: for a sample of photos, the score
of each transformed copy (JPEG q50/q70/q90, crops 5/10/15 %, resizes 0.5/0.75/1.5, rotations 3/5
degrees, the byte-identical file) against the original. Every image goes through the production
pipeline (decode, detect, align, embed; the quality gates are not applied, as in bench.face).
The threshold is the midpoint between the bona-fide maximum and the lowest replay minimum.
For comparison the same figures are given per model and for a 64-bit DCT hash of the aligned
face. The last line of stdout is one JSON object.
"""
from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from bench.face import machine
from bench.facedata import list_images
from chalicelib.face import FaceEngine, replay
from chalicelib.face.types import FaceError

TRANSFORMS = ("identical", "jpeg_q50", "jpeg_q70", "jpeg_q90", "crop5", "crop10", "crop15",
              "resize0.5", "resize0.75", "resize1.5", "rotate3", "rotate5")
GEOMETRIC_QUALITY = 90  # JPEG quality a cropped, resized or rotated copy is saved at


def transform(raw: bytes, name: str, rng: random.Random) -> bytes:
    """One transformed copy of a photo, as the JPEG an attacker would upload."""
    if name == "identical":
        return raw
    img = Image.open(io.BytesIO(raw)).convert("RGB")
    quality = GEOMETRIC_QUALITY
    if name.startswith("jpeg_q"):
        quality = int(name[6:])
    elif name.startswith("crop"):
        p = int(name[4:]) / 100  # that share of each side removed, split at random between its ends
        w, h = img.size
        dx, dy = round(w * p), round(h * p)
        x0, y0 = rng.randint(0, dx), rng.randint(0, dy)
        img = img.crop((x0, y0, x0 + w - dx, y0 + h - dy))
    elif name.startswith("resize"):
        f = float(name[6:])
        img = img.resize((round(img.width * f), round(img.height * f)), Image.BICUBIC)
    elif name.startswith("rotate"):
        img = img.rotate(rng.choice((-1, 1)) * float(name[6:]), Image.BICUBIC)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


_DCT = np.cos(np.pi * (2 * np.arange(32)[None] + 1) * np.arange(32)[:, None] / 64)


def dct_hash(chip: Image.Image) -> np.ndarray:
    """64-bit perceptual hash (pHash) of an aligned face: signs of the low 8x8 DCT coefficients
    (DC excluded) of its 32x32 grey image against their median."""
    g = np.asarray(chip.convert("L").resize((32, 32), Image.BILINEAR), np.float32)
    low = (_DCT @ g @ _DCT.T)[:8, :8].ravel()[1:]
    return low > np.median(low)


def describe(engine: FaceEngine, raw: bytes) -> dict | None:
    """Embeddings and DCT hash of one photo through the production pipeline; None if no face."""
    try:
        a = engine.inspect(raw)
    except FaceError:
        return None
    h = dct_hash(a.chips["dlib-resnet"])
    return {**engine.embed(a), "hash": h}


def scores(a: dict, b: dict, names: list[str]) -> dict[str, float]:
    """Candidate replay scores of one pair: each model's cosine, the shipped score (min over models)
    and the hash similarity (share of equal bits)."""
    out = {n: float(a[n] @ b[n]) for n in names}
    out["replay"] = float(replay.row_scores({n: a[n][None] for n in names}, {n: b[n] for n in names})[0])
    out["hash"] = float(np.mean(a["hash"] == b["hash"]))
    return out


def select(data, limit: int | None, seed: int) -> list[list[int]]:
    """Image indices per identity with >= 2 photos (a seeded sample of ``limit`` identities)."""
    groups = [list(np.nonzero(data.labels == i)[0]) for i in np.unique(data.labels)]
    groups = [g for g in groups if len(g) >= 2]
    if limit and limit < len(groups):
        groups = sorted(random.Random(seed).sample(groups, limit))
    return groups


def bona_fide(engine, data, groups, names) -> tuple[list[dict], list[tuple], dict, int]:
    """Scores of every pair of distinct photos of one identity; also the per-image descriptions."""
    desc, failed = {}, 0
    for k, g in enumerate(groups):
        for i in g:
            desc[i] = describe(engine, data.paths[i].read_bytes())
            failed += desc[i] is None
        if (k + 1) % 100 == 0:
            print(f"  identities embedded {k + 1}/{len(groups)}", file=sys.stderr, flush=True)
    pairs, which = [], []
    for g in groups:
        for x, i in enumerate(g):
            for j in g[x + 1:]:
                if desc[i] is not None and desc[j] is not None:
                    pairs.append(scores(desc[i], desc[j], names))
                    which.append((data.paths[i], data.paths[j]))
    return pairs, which, desc, failed


def replays(engine, data, groups, desc, names, sample: int, seed: int) -> tuple[dict, dict]:
    """Per transform, the scores of transformed copies against their original."""
    rng = random.Random(seed)
    originals = [i for g in groups for i in g[:1] if desc[i] is not None]
    originals = sorted(rng.sample(originals, min(sample, len(originals))))
    out = {t: [] for t in TRANSFORMS}
    lost = {t: 0 for t in TRANSFORMS}
    for k, i in enumerate(originals):
        raw = data.paths[i].read_bytes()
        for t in TRANSFORMS:
            d = describe(engine, transform(raw, t, rng))
            if d is None:
                lost[t] += 1
            else:
                out[t].append(scores(desc[i], d, names))
        if (k + 1) % 50 == 0:
            print(f"  originals transformed {k + 1}/{len(originals)}", file=sys.stderr, flush=True)
    return out, lost


def summary(bona: list[dict], rep: dict, lost: dict, key: str) -> dict:
    """Bona-fide maximum, replay minimum per transform, the midpoint threshold, and its errors."""
    b = np.array([p[key] for p in bona])
    mins = {t: min(p[key] for p in v) for t, v in rep.items() if v}
    lowest = min(mins.values())
    thr = (b.max() + lowest) / 2
    return {"bona_fide_max": round(float(b.max()), 6),
            "bona_fide_p99": round(float(np.percentile(b, 99)), 6),
            "replay_min": {t: round(v, 6) for t, v in mins.items()},
            "separated": bool(lowest > b.max()), "threshold": round(float(thr), 4),
            "false_replays": int((b >= round(thr, 4)).sum()),
            "misses": {t: sum(p[key] < round(thr, 4) for p in v) for t, v in rep.items()},
            "no_face": {t: n for t, n in lost.items() if n}}


def check_us(desc: dict, names: list[str], threshold: float) -> float:
    """Microseconds per replay check of one probe against a three-photo template."""
    ds = [d for d in desc.values() if d is not None][:4]
    rows = {n: np.stack([d[n] for d in ds[:3]]) for n in names}
    probe = {n: ds[3][n] for n in names}
    t = time.perf_counter()
    for _ in range(2000):
        replay.check(rows, probe, threshold)
    return (time.perf_counter() - t) / 2000 * 1e6


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="folder of <identity>/<n>.jpg")
    ap.add_argument("--limit", type=int, help="a seeded sample of this many identities (>= 2 photos)")
    ap.add_argument("--sample", type=int, default=300, help="originals to transform")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    engine = FaceEngine()
    names = engine.calibration.model_names
    engine.warm_up()
    data = list_images(args.data)
    groups = select(data, args.limit, args.seed)
    print(f"{len(groups)} identities with >= 2 photos, {sum(map(len, groups))} images", file=sys.stderr)
    bona, which, desc, failed = bona_fide(engine, data, groups, names)
    for k in np.argsort([-p["replay"] for p in bona])[:5]:
        print(f"  closest bona-fide pair {bona[k]['replay']:.4f}: {which[k][0]} {which[k][1]}", file=sys.stderr)
    rep, lost = replays(engine, data, groups, desc, names, args.sample, args.seed)
    shipped = summary(bona, rep, lost, "replay")
    result = {"data": str(args.data), "limit": args.limit, "identities": len(groups),
              "images": sum(map(len, groups)), "no_face_images": failed,
              "bona_fide_pairs": len(bona), "originals": len(rep["identical"]) + lost["identical"],
              "replays": sum(map(len, rep.values())), "score": "min over models of the cosine",
              **shipped,
              "candidates": {k: summary(bona, rep, lost, k) for k in (*names, "hash")},
              "check_us": round(check_us(desc, names, shipped["threshold"]), 1),
              "seconds": round(time.perf_counter() - t0), "machine": machine()}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
