"""Shared by the face benchmark and the calibration: list a `<identity>/<n>.jpg` folder, run every
image through the production pipeline, and form all genuine and impostor pairs as matrices."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chalicelib.face import FaceEngine
from chalicelib.face.match import Calibration
from chalicelib.face.types import FaceError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


@dataclass
class Dataset:
    paths: list[Path]
    labels: np.ndarray  # identity index per image


def list_images(root: Path) -> Dataset:
    paths, labels = [], []
    for i, ident in enumerate(sorted(p for p in root.iterdir() if p.is_dir())):
        for f in sorted(ident.iterdir(), key=lambda p: (len(p.stem), p.stem)):
            if f.suffix.lower() in IMAGE_SUFFIXES:
                paths.append(f)
                labels.append(i)
    return Dataset(paths, np.array(labels))


@dataclass
class Embedded:
    """Per model: normalised embeddings (n, d); rows of images where no face was found are NaN."""
    embeddings: dict[str, np.ndarray]
    ok: np.ndarray                  # a face was found and embedded
    failures: dict[str, int]        # error code -> count (unreadable image, no face)
    gate_rejections: dict[str, int]  # first failed quality gate -> count (embedded anyway)
    ms: np.ndarray                  # decode-to-embedding time per image


def embed_all(engine: FaceEngine, data: Dataset, log_every: int = 500) -> Embedded:
    """One pass over the images: detect, run the gates, embed. Gate failures are counted but the
    face is still embedded (the calibration is made on every detected face, the same way)."""
    names = engine.calibration.model_names
    n = len(data.paths)
    embs: dict[str, list] = {m: [] for m in names}
    ok = np.zeros(n, bool)
    failures: dict[str, int] = {}
    gates: dict[str, int] = {}
    ms = np.full(n, np.nan)
    for i, path in enumerate(data.paths):
        raw = path.read_bytes()
        t = time.perf_counter()
        try:
            a = engine.inspect(raw)
            a.embeddings = engine.embed(a)
            ms[i] = (time.perf_counter() - t) * 1000
            ok[i] = True
            first_failed = next((c.reason for c in a.checks if not c.ok), None)
            if first_failed:
                gates[first_failed] = gates.get(first_failed, 0) + 1
            for m in names:
                embs[m].append(a.embeddings[m])
        except FaceError as err:
            failures[err.code] = failures.get(err.code, 0) + 1
            for m in names:
                embs[m].append(None)
        if log_every and (i + 1) % log_every == 0:
            print(f"  embedded {i + 1}/{n}", file=sys.stderr, flush=True)
    out = {}
    for m in names:
        dim = next(e.shape[0] for e in embs[m] if e is not None)
        out[m] = np.stack([e if e is not None else np.full(dim, np.nan, np.float32) for e in embs[m]])
    return Embedded(out, ok, failures, gates, ms)


def pair_masks(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Upper-triangle masks of genuine and impostor pairs over all images."""
    same = labels[:, None] == labels[None, :]
    upper = np.triu(np.ones_like(same), k=1)
    return same & upper, ~same & upper


def tar_at_far(genuine: np.ndarray, impostor: np.ndarray, far: float) -> tuple[float, float]:
    """(TAR, threshold) at the given FAR; NaN scores (failed images) count as rejections."""
    imp = np.sort(np.nan_to_num(impostor, nan=-np.inf))[::-1]
    k = int(np.floor(far * len(imp)))
    thr = imp[k] if k < len(imp) else -np.inf
    thr = np.nextafter(thr, np.inf)  # strictly above the k-th impostor
    return float(np.mean(np.nan_to_num(genuine, nan=-np.inf) >= thr)), float(thr)


def fused_matrix(cal: Calibration, embeddings: dict[str, np.ndarray]) -> np.ndarray:
    """All-pairs fused scores as one matrix product per model."""
    return cal.fuse({m: embeddings[m] @ embeddings[m].T for m in cal.model_names})


def enrol3(cal: Calibration, embeddings: dict[str, np.ndarray], labels: np.ndarray) -> dict:
    """Identities with 4+ images: template = their first 3, probes = the rest; impostor trials =
    every template against every probe of the other identities; scored by the calibration's rule.
    Failed images (NaN rows) count as rejections."""
    idents = [i for i in np.unique(labels) if (labels == i).sum() >= 4]
    t_idx = np.stack([np.nonzero(labels == i)[0][:3] for i in idents])          # (T, 3)
    probes = np.concatenate([np.nonzero(labels == i)[0][3:] for i in idents])    # (P,)
    scores = np.zeros((len(idents), len(probes)))
    for m in cal.models:
        e = embeddings[m.name]
        rows = e[t_idx]                                                          # (T, 3, d)
        if cal.rule == "centroid":
            c = rows.mean(1)
            rows = (c / np.linalg.norm(c, axis=-1, keepdims=True))[:, None]
        cos = np.einsum("trd,pd->trp", rows, e[probes])
        z = m.weight * (cos - m.impostor_mean) / m.impostor_std
        scores += z.max(1) if cal.rule == "max" else z.mean(1)
    owner = np.array(idents)[:, None] == labels[probes][None, :]
    gen = np.nan_to_num(scores[owner], nan=-np.inf)
    imp = np.nan_to_num(scores[~owner], nan=-np.inf)
    return {"identities": len(idents), "genuine": int(len(gen)), "impostor": int(len(imp)),
            "tar": round(float(np.mean(gen >= cal.threshold)), 4),
            "far": float(np.mean(imp >= cal.threshold))}
