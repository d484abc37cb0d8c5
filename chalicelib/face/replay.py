"""Replay detection: a photo that is one of the enrolment photos again (byte for byte, or
recompressed, cropped, resized, slightly rotated) rather than a new capture of the person.

Two copies of one image embed closer than two distinct captures of one face. Each model's cosine
is put on a common scale by its *anchor*, the cosine of the closest two distinct captures of one
person measured on dev (0 there, 1 for the identical image); a pair's replay score is the highest
over the models (either embedder may see the copy: a crop blackens part of faceres's wide chip
but barely moves dlib's, recompression moves dlib's more than faceres's). A probe's score is the
highest over the enrolment photos. Only dot products on the embeddings already computed
(microseconds). Anchors and threshold are calibrated by ``bench/replay.py`` (bench/RESULTS.md);
the threshold lives in FaceConfig. A model without an anchor (the tests' fake) scores its plain
cosine. A perceptual hash of the aligned face was measured too and separated worse on every
transform (face-alignment jitter), so none is stored.
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

# Per model: the highest cosine between two distinct photos of one person on ../shared/faces/dev
# (5,055 pairs, rounded up; bench/replay.py). Recalibrate whenever a model file changes.
ANCHORS: dict[str, float] = {"dlib-resnet": 0.9922, "faceres": 0.9164}


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


def row_scores(rows: Mapping[str, np.ndarray], probe: Mapping[str, np.ndarray],
               anchors: Mapping[str, float] = ANCHORS) -> np.ndarray:
    """Template rows (model -> (n, d)) against one probe (model -> (d,)), unit vectors: per row,
    the highest over the models both sides have of the anchored cosine (cos - a) / (1 - a)."""
    names = sorted(set(rows) & set(probe))
    if not names:
        raise ValueError("the template and the probe share no embedding model")
    per_model = []
    for n in names:
        cos = np.asarray(rows[n], np.float32) @ np.asarray(probe[n], np.float32)
        a = anchors.get(n, 0.0)
        per_model.append((cos - a) / (1.0 - a))
    return np.max(np.stack(per_model), axis=0)


def check(rows: Mapping[str, np.ndarray], probe: Mapping[str, np.ndarray], threshold: float,
          anchors: Mapping[str, float] = ANCHORS) -> Replay:
    """Is the probe a copy of one of the enrolment photos whose embeddings are ``rows``?"""
    scores = row_scores(rows, probe, anchors)
    best = int(np.argmax(scores))
    score = float(scores[best])
    return Replay(score, float(threshold), best if score >= threshold else None)


def duplicates(photos: Sequence[Mapping[str, np.ndarray]], threshold: float,
               anchors: Mapping[str, float] = ANCHORS) -> list[tuple[int, int, float]]:
    """Pairs (i, j, score) of photos (each model -> (d,)) that are copies of one image, the most
    similar first."""
    out = []
    for i, j in itertools.combinations(range(len(photos)), 2):
        rows = {n: np.asarray(v)[None] for n, v in photos[i].items()}
        score = float(row_scores(rows, photos[j], anchors)[0])
        if score >= threshold:
            out.append((i, j, score))
    return sorted(out, key=lambda p: -p[2])
