"""Calibrate the matcher on ../shared/faces/dev ONLY and write models/calibration.json.

    python -m bench.calibrate --data ../shared/faces/dev

Every image goes through the production detector and aligner; each embedder's raw output for
the face and its mirror image is kept, so the variants (flip averaging, centring, fusion weights,
template rule) are compared on the same embeddings. The chosen variant and its figures are
written beside the models; the threshold is the fused score at which FAR on dev is <= target.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np

from bench.facedata import enrol3, list_images, pair_masks, tar_at_far
from chalicelib.face import FaceEngine
from chalicelib.face import models
from chalicelib.face.match import Calibration, ModelCalibration, l2, normalise
from chalicelib.face.types import FaceError

FARS = (1e-2, 1e-3, 1e-4)


def extract(engine: FaceEngine, paths, names):
    """rows[name]: (n, 2, d) L2-normalised raw embeddings of face and mirror; NaN when no face."""
    rows = {m: [] for m in names}
    for i, p in enumerate(paths):
        try:
            a = engine.inspect(p.read_bytes())
        except FaceError:
            for m in names:
                rows[m].append(None)
            continue
        for m in names:
            x = np.asarray(a.chips[m], np.float32)[None]
            x = np.ascontiguousarray(np.concatenate([x, x[:, :, ::-1]]))
            rows[m].append(l2(models.run(m, x, ["embedding"])[0]))
        if (i + 1) % 500 == 0:
            print(f"  {i + 1}/{len(paths)}", file=sys.stderr, flush=True)
    out = {}
    for m in names:
        d = next(r for r in rows[m] if r is not None).shape[-1]
        out[m] = np.stack([r if r is not None else np.full((2, d), np.nan, np.float32) for r in rows[m]])
    return out


def variant(rows: np.ndarray, flip: bool, centre: np.ndarray | None) -> np.ndarray:
    """Per-image unit embeddings as the engine computes them, with or without the mirror view."""
    return normalise(rows if flip else rows[:, :1], centre)


def pair_scores(emb: np.ndarray, gen_mask, imp_mask):
    sims = emb @ emb.T
    return sims[gen_mask], sims[imp_mask]


def figures(gen, imp):
    return {f"{far:g}": round(tar_at_far(gen, imp, far)[0], 4) for far in FARS}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--models", nargs="+", default=["dlib-resnet", "faceres"])
    ap.add_argument("--far", type=float, default=1e-3)
    ap.add_argument("--out", type=Path, default=models.MODELS_DIR / "calibration.json")
    ap.add_argument("--no-flip", nargs="*", default=["faceres"],
                    help="embedders that never average in the mirror image (speed: one pass instead of two)")
    ap.add_argument("--cache", type=Path, help="keep the extracted embeddings in this .npz")
    args = ap.parse_args(argv)

    names = [m for m in args.models if models.model_path(m).exists()]
    boot = Calibration("bootstrap", 0.0, "mean", args.far,
                       tuple(ModelCalibration(m, "", 1.0, 0.0, 1.0) for m in names), {})
    engine = FaceEngine(calibration=boot)
    data = list_images(args.data)
    print(f"calibrating on {len(data.paths)} images with {names}", file=sys.stderr)
    if args.cache and args.cache.exists():
        rows = dict(np.load(args.cache))
    else:
        rows = extract(engine, data.paths, names)
        if args.cache:
            np.savez(args.cache, **rows)
    gen_mask, imp_mask = pair_masks(data.labels)
    report: dict = {"variants": {}}

    # 1. Per embedder: flip averaging and centring, chosen by TAR at the target FAR.
    chosen = {}
    for m in names:
        ok = ~np.isnan(rows[m][:, 0, 0])
        mean_vec = np.nanmean(rows[m][ok].mean(1), 0)  # the mean unit embedding (not renormalised)
        best = None
        for flip in ((False,) if m in args.no_flip else (False, True)):
            for centred in (False, True):
                emb = variant(rows[m], flip, mean_vec if centred else None)
                g, i = pair_scores(emb, gen_mask, imp_mask)
                fig = figures(g, i)
                report["variants"][f"{m} flip={flip} centred={centred}"] = fig
                key = (fig[f"{args.far:g}"], fig["0.0001"])
                if best is None or key > best[0]:
                    best = (key, flip, centred, emb, g, i)
        _, flip, centred, emb, g, i = best
        chosen[m] = {"flip": flip, "centre": mean_vec if centred else None, "emb": emb,
                     "imp_mean": float(np.nanmean(i)), "imp_std": float(np.nanstd(i)), "gen": g, "imp": i}

    # 2. Fusion weights (z-scores on impostor statistics), chosen on a grid.
    def fused(weights):
        g = sum(w * (chosen[m]["gen"] - chosen[m]["imp_mean"]) / chosen[m]["imp_std"] for m, w in weights.items())
        i = sum(w * (chosen[m]["imp"] - chosen[m]["imp_mean"]) / chosen[m]["imp_std"] for m, w in weights.items())
        return g, i

    if len(names) == 1:
        weights = {names[0]: 1.0}
    else:
        best = None
        for w in np.round(np.arange(0.0, 1.0001, 0.05), 2):
            ws = {names[0]: float(w), names[1]: round(1 - float(w), 2)}
            fig = figures(*fused(ws))
            report["variants"][f"fusion {ws}"] = fig
            key = (fig[f"{args.far:g}"], fig["0.0001"])
            if best is None or key > best[0]:
                best = (key, ws)
        weights = best[1]
    g, i = fused(weights)
    tar, thr = tar_at_far(g, i, args.far)
    single = {"tar_at_far": figures(g, i), "threshold": thr, "tar_at_threshold": round(tar, 4),
              "far_at_threshold": float(np.mean(np.nan_to_num(i, nan=-np.inf) >= thr)),
              "genuine_pairs": int(len(g)), "impostor_pairs": int(len(i))}

    # 3. Template rule, measured with enrolment templates of three photos.
    flips = {m: chosen[m]["flip"] for m in names}
    rules = {}
    embs = {m: chosen[m]["emb"] for m in names}
    for rule in ("mean", "max", "centroid"):
        trial = Calibration("trial", thr, rule, args.far, tuple(
            ModelCalibration(m, "", weights[m], chosen[m]["imp_mean"], chosen[m]["imp_std"]) for m in names), {})
        rules[rule] = enrol3(trial, embs, data.labels)
    report["template_rules"] = rules
    rule = max(rules, key=lambda r: (rules[r]["far"] <= args.far, rules[r]["tar"], -rules[r]["far"]))

    model_list = [(m, models.file_sha256(models.model_path(m))) for m in names]
    cal = Calibration(
        model_version="", threshold=thr, rule=rule, far_target=args.far,
        models=tuple(ModelCalibration(m, sha, weights[m], chosen[m]["imp_mean"], chosen[m]["imp_std"],
                                      chosen[m]["centre"], flips[m]) for m, sha in model_list),
        figures={"calibrated_on": str(args.data.name), "images": len(data.paths),
                 "identities": int(len(set(data.labels.tolist()))),
                 "detect_failures": int(np.isnan(rows[names[0]][:, 0, 0]).sum()),
                 "single_pair": single, "enrol3": rules[rule],
                 "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
    cal = dataclasses.replace(cal, model_version=cal.expected_version())
    args.out.write_text(json.dumps(cal.to_dict(), indent=1) + "\n")
    report["chosen"] = {"weights": weights, "rule": rule, "flip": flips,
                        "centred": {m: chosen[m]["centre"] is not None for m in names}, "single_pair": single}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
