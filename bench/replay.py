"""Calibrate the replay threshold (chalicelib/face/replay.py) on a `<identity>/<n>.jpg` folder.

    python -m bench.replay --data ../shared/faces/dev [--limit N] [--sample K]

Bona-fide side: for every identity with >= 2 photos, the replay score of every pair of its
*distinct* photos (must never reach the threshold). Replay side: for a sample of photos, the score
of each transformed copy (JPEG q50/q70/q90, crops 5/10/15 %, resizes 0.5/0.75/1.5, rotations 3/5
degrees, the byte-identical file) against the original. Every image goes through the production
pipeline (decode, detect, align, embed; the quality gates are not applied, as in bench.face).
Pairs of files in dev that are one photograph (checked by eye, KNOWN_DUPLICATES) are not
bona-fide pairs: they are reported apart (they should score as replays).
The threshold is the midpoint between the bona-fide maximum and the lowest replay score when the
two are separated; otherwise the bona-fide maximum plus ``--margin`` (the misses are reported,
and among them the copies that would still match the face: accepted attacks).
For comparison, the same figures for each model's plain cosine, the minimum of the two, and a
64-bit DCT hash of the aligned face. The last line of stdout is one JSON object.
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
# Files of one identity in dev that are the same photograph (re-cropped, resized or blurred).
KNOWN_DUPLICATES = {"face_recognition__obama": {"1.jpg", "5.jpg", "6.jpg"},
                    "Leslie_Ann_Woodward": {"1.jpg", "2.jpg"}}


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
    """Candidate replay scores of one pair: each model's cosine, their minimum, the hash similarity
    (share of equal bits), the shipped score, and the fused identity score (does it match?)."""
    out = {n: float(a[n] @ b[n]) for n in names}
    out["min_cosine"] = min(out[n] for n in names)
    out["hash"] = float(np.mean(a["hash"] == b["hash"]))
    out["replay"] = float(replay.row_scores({n: a[n][None] for n in names}, {n: b[n] for n in names})[0])
    return out


def is_duplicate(a: Path, b: Path) -> bool:
    same = KNOWN_DUPLICATES.get(a.parent.name, set())
    return a.name in same and b.name in same


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


def split_duplicates(bona: list[dict], which: list[tuple]) -> tuple[list[dict], list[tuple], list[dict]]:
    """Bona-fide pairs without the known duplicates; the duplicates with their scores."""
    keep = [k for k, (a, b) in enumerate(which) if not is_duplicate(a, b)]
    dups = [{"pair": f"{a.parent.name}/{a.name}+{b.name}", "replay": round(bona[k]["replay"], 4)}
            for k, (a, b) in enumerate(which) if is_duplicate(a, b)]
    return [bona[k] for k in keep], [which[k] for k in keep], dups


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


def choose(bona_max: float, replay_min: float, margin: float) -> float:
    """Midpoint when the two sides are separated, else the bona-fide maximum plus the margin."""
    thr = (bona_max + replay_min) / 2 if replay_min > bona_max else bona_max + margin
    return round(float(np.ceil(thr * 1000 - 1e-6) / 1000), 3)


def matches(cal, p: dict) -> bool:
    """Would this copy still match its original (the fused single-pair score at the threshold)?"""
    return bool(cal.fuse({m.name: np.array(p[m.name]) for m in cal.models}) >= cal.threshold)


def summary(bona: list[dict], rep: dict, lost: dict, key: str, thr: float | None, cal) -> dict:
    """Bona-fide maximum, replay minimum per transform; at ``thr`` (None: the bona-fide maximum,
    no margin) the false replays, misses and accepted attacks (misses that still match the face)."""
    b = np.array([p[key] for p in bona])
    mins = {t: min(p[key] for p in v) for t, v in rep.items() if v}
    at = float(b.max()) if thr is None else thr
    out = {"bona_fide_max": round(float(b.max()), 6),
           "bona_fide_p99_9": round(float(np.percentile(b, 99.9)), 6),
           "replay_min": {t: round(v, 6) for t, v in mins.items()},
           "separated": bool(min(mins.values()) > b.max())}
    if thr is not None:
        out["threshold"] = thr
    return out | {
        "false_replays": int((b > at).sum() if thr is None else (b >= at).sum()),
        "misses": {t: int(sum(p[key] < at for p in v)) for t, v in rep.items()},
        "accepted_attacks": {t: int(sum(p[key] < at and matches(cal, p) for p in v)) for t, v in rep.items()},
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
    ap.add_argument("--margin", type=float, default=0.1, help="above the bona-fide maximum (replay score units)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    engine = FaceEngine()
    names = engine.calibration.model_names
    engine.warm_up()
    data = list_images(args.data)
    groups = select(data, args.limit, args.seed)
    print(f"{len(groups)} identities with >= 2 photos, {sum(map(len, groups))} images", file=sys.stderr)
    bona, which, desc, failed = bona_fide(engine, data, groups, names)
    bona, which, dups = split_duplicates(bona, which)
    for k in np.argsort([-p["replay"] for p in bona])[:5]:
        print(f"  closest bona-fide pair {bona[k]['replay']:.4f}: {which[k][0]} {which[k][1]}", file=sys.stderr)
    rep, lost = replays(engine, data, groups, desc, names, args.sample, args.seed)
    b_max = max(p["replay"] for p in bona)
    thr = choose(b_max, min(p["replay"] for v in rep.values() for p in v), args.margin)
    cal = engine.calibration
    result = {"data": str(args.data), "limit": args.limit, "identities": len(groups),
              "images": sum(map(len, groups)), "no_face_images": failed,
              "bona_fide_pairs": len(bona), "originals": len(rep["identical"]) + lost["identical"],
              "replays": sum(map(len, rep.values())),
              "score": "max over models of (cos - anchor) / (1 - anchor)", "anchors": replay.ANCHORS,
              "measured_anchors": {n: float(np.ceil(max(p[n] for p in bona) * 1e4) / 1e4) for n in names},
              "margin": args.margin, **summary(bona, rep, lost, "replay", thr, cal),
              "duplicates_in_data": [d | {"flagged": d["replay"] >= thr} for d in dups],
              "candidates_at_bona_fide_max": {k: summary(bona, rep, lost, k, None, cal)
                                              for k in (*names, "min_cosine", "hash")},
              "check_us": round(check_us(desc, names, thr), 1),
              "seconds": round(time.perf_counter() - t0), "machine": machine()}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
