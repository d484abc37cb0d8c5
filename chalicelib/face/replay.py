"""Replay detection: a photo that is one of the enrolment photos again (byte for byte, or
recompressed, cropped, resized, slightly rotated) rather than a new capture of the person.

Two independent captures of one face never embed as closely as two copies of one image. The score
of a probe against one enrolment photo is the lowest of the per-model cosines (every embedder must
agree it is the same picture); a probe's replay score is the highest over the enrolment photos.
It reuses the embeddings already computed (a few dot products, microseconds). The threshold is
calibrated on dev by ``bench/replay.py`` (see bench/RESULTS.md) and lives in FaceConfig.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np


@dataclass(frozen=True)
class Replay:
    """The replay evidence of one probe: its score, the threshold, and the enrolment photo it
    copies (None when the score is under the threshold)."""

    score: float
    threshold: float
    photo: int | None

    @property
    def is_replay(self) -> bool:
        return self.photo is not None


def row_scores(rows: Mapping[str, np.ndarray], probe: Mapping[str, np.ndarray]) -> np.ndarray:
    """Template rows (model -> (n, d)) against one probe (model -> (d,)): per row, the minimum over
    the models both sides have of the cosine (vectors are unit length)."""
    names = sorted(set(rows) & set(probe))
    if not names:
        raise ValueError("the template and the probe share no embedding model")
    return np.min(np.stack([np.asarray(rows[n], np.float32) @ np.asarray(probe[n], np.float32)
                            for n in names]), axis=0)


def check(rows: Mapping[str, np.ndarray], probe: Mapping[str, np.ndarray], threshold: float) -> Replay:
    """Is the probe a copy of one of the enrolment photos whose embeddings are ``rows``?"""
    scores = row_scores(rows, probe)
    best = int(np.argmax(scores))
    score = float(scores[best])
    return Replay(score, float(threshold), best if score >= threshold else None)


def duplicates(photos: Sequence[Mapping[str, np.ndarray]], threshold: float) -> list[tuple[int, int, float]]:
    """Pairs (i, j, score) of photos (each model -> (d,)) that are copies of one image, the most
    similar first."""
    out = []
    for i, j in itertools.combinations(range(len(photos)), 2):
        rows = {n: np.asarray(v)[None] for n, v in photos[i].items()}
        score = float(row_scores(rows, photos[j])[0])
        if score >= threshold:
            out.append((i, j, score))
    return sorted(out, key=lambda p: -p[2])
