"""Calibrate and measure challenge-response liveness (chalicelib/face/liveness.py) on dev data.

    python -m bench.liveness [--faces ../shared/faces/dev] [--pad ../shared/faces/pad] [--limit N]

Every case goes through the production path: ``FaceEngine.enrol`` makes the templates,
``FaceEngine.verify_challenge`` scores each sequence. A check-in is *accepted* when the front
frame matches, it is not a replay of an enrolment photo (``match.replay_of is None``) and every
liveness check passes.

Bona fide (``--faces``, identities with several photos): front = the identity's most frontal
photo, each challenged turn = another photo of it whose mesh pose (``pose_of``) differs from the
front's by at least ``--turn`` degrees towards that side; the template = three *other* photos,
``enrol(photos, [front, left, right], RELAXED)`` in their yaw order, so that it carries the
enrolment meshes as every production template does (whether those photos would pass the
enrolment liveness at the shipped or chosen limits is reported; the legacy template is the same
without meshes). Sequences are front + two turns (front + one turn when the identity has only one
direction). With ``--mirrors`` (default on) a horizontally mirrored turned photo also answers the
opposite left/right turn; figures are given with and without those sequences.

Attacks, per species (ISO/IEC 30107-3: APCER per species, the worst counts):
- print_tilt: one photo of the person (the bona-fide front photo, never enrolled) warped by the
  homography of a 3-D rotation of the image plane, 15-40 degrees about the vertical (left/right)
  or horizontal (up/down) axis, the way that mimics the challenge; front frame tilted 0-5 degrees;
- print_moved: NUAA rotate/twist print clips: front = first frame, each turn = a later frame, in
  order, the pair chosen to move the mesh pose most towards the challenge (a best-effort attacker);
  template = three NUAA live frames of the same subject (one plus two augmentations when
  enrolment refuses a barely moving clip's frames as one picture);
- screen_replay: MSU-MFSD iPad/iPhone replay frames tilted as print_tilt; template = the
  subject's one live frame plus two strong augmentations of it (no three distinct photos exist);
- enrolment_replay: the enrolment photos themselves (JPEG q50-90, crops 5-15 %, resizes 50-150 %)
  as challenge frames: all three, or a fresh front photo and replayed turns (against a template of
  the identity's front and turned photos when it has them); enrolment_replay_legacy: the latter
  against the template without meshes (reported apart);
- identity_swap: a bona-fide sequence with one turn answered by another identity's photo that is
  posed correctly (its pose differs from the front's by ``--turn`` towards the challenge);
- static: the front photo three times, byte for byte, or lightly recompressed (q95, q90);
- wrong_direction: a bona-fide sequence presented for a challenge whose turns it does not make
  (each turn relabelled to a side the head did not move towards at all).

Pass 1 runs everything at the shipped limits and records every check's value; the limits are
then chosen from those values (``choose_*``), and pass 2 reruns every case through the production
path at the chosen limits (``LivenessRules(...)``, ``FaceConfig(liveness_identity_z=...)``): the
reported APCER/BPCER come from pass 2's decisions. Also measured: the NUAA live residuals (how
close two real captures come), the embedding replay test applied to every frame (a possible fix),
and ms per three-frame check-in. The last line of stdout is one JSON object. Results:
bench/RESULTS-liveness.md.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # timings are for one thread

import argparse
import csv
import io
import itertools
import json
import math
import pickle
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from bench.face import machine
from bench.facedata import list_images
from bench.replay import KNOWN_DUPLICATES, transform
from chalicelib.face import FaceEngine, replay
from chalicelib.face import liveness as lv
from chalicelib.face.config import FaceConfig
from chalicelib.face.engine import CONTINUITY_MODEL
from chalicelib.face.types import EnrolmentError, FaceError, Template

FRONT, TURNS = lv.FRONT, lv.TURNS
SHIPPED = lv.LivenessRules()
# Enrolment limits of the bench's templates (the photos' yaw order only): the template is the same
# at any limits; whether the photos would pass at SHIPPED or the chosen limits is reported.
RELAXED = lv.LivenessRules(min_turn_deg=0.0, min_residual=0.0, max_duplicate_residual=0.0)
ENROL_STEPS = (FRONT, "left", "right")
SPECIES = ("print_tilt", "print_moved", "screen_replay", "enrolment_replay", "identity_swap", "static",
           "wrong_direction")
LEGACY = "#legacy"  # a template made without steps (no meshes), before liveness
COPY_LIMIT = FaceConfig().replay_threshold
TURNED = "#turned"  # a template from the identity's front and turned photos (enrolment replay)
EXTRA_SPECIES = ("enrolment_replay_legacy",)  # reported apart: not what enrolment makes now
TILT_DEG = (15.0, 40.0)
FRONT_TILT_DEG = 5.0
# Which way to tilt the picture so that its mesh pose moves towards the challenge (measured: the
# image's right edge receding reads as a turn to the person's left, the bottom receding as down).
TILT_AXIS = {"left": ("v", -1), "right": ("v", 1), "up": ("h", -1), "down": ("h", 1)}
REPLAY_TRANSFORMS = ("jpeg_q50", "jpeg_q70", "jpeg_q90", "crop5", "crop10", "crop15",
                     "resize0.5", "resize0.75", "resize1.5")
MOVED_MOTIONS = {"print_left_right_rotate": ("left", "right"), "print_left_right_twist": ("left", "right"),
                 "print_up_down_rotate": ("up", "down"), "print_up_down_twist": ("up", "down")}
SCREEN_SPECIES = ("replay_ipad_video", "replay_iphone_video")
PCTS = (0, 1, 5, 50, 95, 99, 100)
APCER_GOAL, BPCER_GOAL = 0.01, 0.03
GEOMETRY_SPECIES = ("print_tilt", "print_moved", "screen_replay", "static", "wrong_direction")
DUP_MARGIN = 2.0  # the copy limit sits this factor under the closest two distinct bona-fide captures
MAX_PER_DIRECTION = 2   # genuine turned photos kept per direction and identity
MAX_SEQUENCES = 8       # bona-fide sequences per identity


# --- data ---------------------------------------------------------------------------------------
@dataclass(eq=False)
class Photo:
    key: str
    data: bytes
    pose: lv.Pose | None = None  # None: no face
    gates_ok: bool = False
    dlib: np.ndarray | None = None  # unflipped dlib embedding, as a challenge frame is scored
    mirrored: bool = False


@dataclass(eq=False)
class Subject:
    name: str
    source: str                               # dev | nuaa | msu
    enrol: list[bytes]
    enrol_steps: list[str]                    # front, left, right
    enrol_poses: list[lv.Pose | None] = field(default_factory=list)
    front: Photo | None = None                # dev: the sequences' front photo (never enrolled)
    answers: dict[str, list[Photo]] = field(default_factory=dict)
    template: Template | None = None
    legacy: Template | None = None            # the same photos enrolled without steps (no meshes)
    enrol_checks: list[tuple[str, int, float]] = field(default_factory=list)
    note: str = ""


@dataclass(eq=False)
class Case:
    species: str
    subject: str
    steps: list[str]
    frames: list[bytes]
    poses: list[lv.Pose | None] = field(default_factory=list)
    tags: dict = field(default_factory=dict)


@dataclass
class Outcome:
    error: str | None = None
    match: bool = False
    replay_of: int | None = None
    checks: list[tuple[str, int, float]] = field(default_factory=list)
    accepted: bool = False  # the production decision at the rules of the run
    ms: float = math.nan


@dataclass(frozen=True)
class Limits:
    min_turn_deg: float
    min_residual: float
    max_duplicate_residual: float
    identity_z: float

    def rules(self) -> lv.LivenessRules:
        return lv.LivenessRules(min_turn_deg=self.min_turn_deg, min_residual=self.min_residual,
                                max_duplicate_residual=self.max_duplicate_residual)

    def to_dict(self) -> dict:
        return {"min_turn_deg": self.min_turn_deg, "min_residual": self.min_residual,
                "max_duplicate_residual": self.max_duplicate_residual, "liveness_identity_z": self.identity_z}


def measure(engine: FaceEngine, photo: Photo) -> Photo:
    """Mesh pose, quality gates and the unflipped dlib embedding of one photo (production code)."""
    try:
        a = engine.inspect(photo.data, with_mesh=True, embedders=[CONTINUITY_MODEL])
    except FaceError:
        return photo
    photo.pose = lv.pose_of(a.mesh)
    photo.gates_ok = all(c.ok for c in a.checks)
    plain: dict = {}
    engine.embed(a, plain)
    photo.dlib = plain[CONTINUITY_MODEL]  # dlib's own view, as _challenge_frame scores a frame
    return photo


def load_dev(engine: FaceEngine, root: Path, limit: int | None, seed: int) -> dict[str, list[Photo]]:
    """Identities with 4+ photos (one of each known duplicate group), measured."""
    data = list_images(root)
    groups: dict[str, list[Path]] = defaultdict(list)
    for p in data.paths:
        dup = KNOWN_DUPLICATES.get(p.parent.name, set())
        if p.name in dup and p.name != min(dup, key=lambda s: (len(s), s)):
            continue
        groups[p.parent.name].append(p)
    names = sorted(n for n, ps in groups.items() if len(ps) >= 4)
    if limit and limit < len(names):
        names = sorted(random.Random(seed).sample(names, limit))
    out = {}
    for k, n in enumerate(names):
        out[n] = [measure(engine, Photo(f"{n}/{p.name}", p.read_bytes())) for p in groups[n]]
        if (k + 1) % 50 == 0:
            log(f"  measured {k + 1}/{len(names)} identities")
    return out


def read_manifest(pad: Path) -> list[dict]:
    with open(pad / "manifest.csv", newline="") as f:
        return list(csv.DictReader(f))


# --- images -------------------------------------------------------------------------------------
def to_jpeg(img: Image.Image, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def open_rgb(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def tilt(img: Image.Image, deg: float, axis: str) -> Image.Image:
    """The picture as a camera sees it after rotating its plane by ``deg`` about its vertical
    ("v") or horizontal ("h") centre line: the homography K [r1 r2 t] of that rotation, camera at
    one focal length (1.2 x the long side) from the picture; grey where the picture is not."""
    w, h = img.size
    f, t = 1.2 * max(w, h), math.radians(deg)
    c, s = math.cos(t), math.sin(t)
    rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]) if axis == "v" else \
        np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    k = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1]])
    centre = np.array([[1, 0, -w / 2], [0, 1, -h / 2], [0, 0, 1]])
    hom = k @ np.c_[rot[:, 0], rot[:, 1], [0, 0, f]] @ centre
    inv = np.linalg.inv(hom)
    inv /= inv[2, 2]
    return img.transform(img.size, Image.Transform.PERSPECTIVE, tuple(inv.ravel()[:8]),
                         Image.Resampling.BICUBIC, fillcolor=(128, 128, 128))


def tilted_frames(img: Image.Image, steps: list[str], rng: random.Random) -> list[bytes]:
    """A flat picture following the challenge: front nearly square-on, each turn a 15-40 degree
    tilt the way that mimics it; each frame a separate JPEG (q85-95)."""
    out = []
    for step in steps:
        if step == FRONT:
            frame = tilt(img, rng.uniform(-FRONT_TILT_DEG, FRONT_TILT_DEG), rng.choice("vh"))
        else:
            axis, sign = TILT_AXIS[step]
            frame = tilt(img, sign * rng.uniform(*TILT_DEG), axis)
        out.append(to_jpeg(frame, rng.randint(85, 95)))
    return out


def mirror(data: bytes) -> bytes:
    return to_jpeg(ImageOps.mirror(open_rgb(data)), 95)


def augmentations(img: Image.Image) -> list[bytes]:
    """Strong variants of one photo (tilts, contrast, colour), for a template when no three
    distinct live photos exist: milder ones are refused by enrolment as the same picture again."""
    c, b, col = ImageEnhance.Contrast, ImageEnhance.Brightness, ImageEnhance.Color
    return [to_jpeg(c(tilt(img, 30, "v")).enhance(1.4)),
            to_jpeg(c(tilt(tilt(img, 30, "h"), 20, "v")).enhance(1.4)),
            to_jpeg(b(c(tilt(img, -35, "v")).enhance(1.3)).enhance(1.2)),
            to_jpeg(c(tilt(tilt(img, -30, "h"), -20, "v")).enhance(0.6), 60),
            to_jpeg(c(tilt(img, -30, "v")).enhance(0.7)),
            to_jpeg(col(c(tilt(img, 35, "v")).enhance(1.5)).enhance(0.0)),
            to_jpeg(ImageOps.equalize(tilt(img.rotate(-20, Image.BICUBIC), -25, "v")))]


# --- poses --------------------------------------------------------------------------------------
def change(front: lv.Pose, pose: lv.Pose) -> lv.Pose:
    return lv.Pose(pose.yaw - front.yaw, pose.pitch - front.pitch, pose.roll - front.roll)


def towards(front: lv.Pose, pose: lv.Pose, step: str) -> float:
    return change(front, pose).towards(step)


def frontal_distance(p: Photo, pitch0: float) -> float:
    return math.hypot(p.pose.yaw, p.pose.pitch - pitch0)


# --- templates ----------------------------------------------------------------------------------
def enrol_subject(engine: FaceEngine, s: Subject) -> Subject:
    """``enrol(photos, [front, left, right], RELAXED)``: the template, with the enrolment meshes
    as every production template has; whether the same photos pass the enrolment liveness at
    other limits is read from the recorded checks (``enrol_passes``). ``s.template`` stays None if
    enrolment refuses the photos (duplicates, inconsistent faces, gates). The legacy template is
    the same without meshes (``enrol(photos)`` computes the same embeddings)."""
    try:
        e = engine.enrol(s.enrol, s.enrol_steps, RELAXED)
    except (EnrolmentError, FaceError) as err:
        s.note = f"enrolment refused: {err.code}"
        return s
    s.template, s.legacy = e.template, replace(e.template, meshes=None)
    s.enrol_checks = [(c.check, c.step, c.value) for c in e.liveness.checks]
    return s


def enrol_passes(s: Subject, lim: Limits, match_threshold: float) -> bool:
    """Would the enrolment photos pass the enrolment liveness at ``lim`` (identity: each photo
    against the first at the match threshold, as enrol() scores them)?"""
    return all(check_ok(c, 0 if c == "identity" else step, v, lim, match_threshold)
               for c, step, v in s.enrol_checks)


def by_yaw(photos: list[Photo]) -> list[Photo]:
    """Three photos as front, left, right: the middle yaw first, then the highest, the lowest."""
    left, mid, right = sorted(photos, key=lambda p: -p.pose.yaw)
    return [mid, left, right]


def enrol_first(engine: FaceEngine, name: str, source: str, triples: list[list[bytes]]) -> Subject:
    """The first candidate triple (ordered by yaw) that enrols. Triples whose photos are copies of
    one another or do not match pairwise (the checks enrol() makes) are skipped before trying."""
    s = Subject(name, source, triples[0], list(ENROL_STEPS))
    seen: dict[bytes, tuple[Photo, dict | None]] = {}
    for k, triple in enumerate(triples):
        for b in triple:
            if b not in seen:
                seen[b] = (measure(engine, Photo(f"{name}#{len(seen)}", b)), embeddings(engine, b))
        photos, embs = zip(*(seen[b] for b in triple))
        if any(p.pose is None for p in photos) or not could_enrol(engine, embs):
            continue
        photos = by_yaw(list(photos))
        s = enrol_subject(engine, Subject(name, source, [p.data for p in photos], list(ENROL_STEPS),
                                          [p.pose for p in photos]))
        if s.template is not None:
            s.note = f"candidate triple {k + 1} of {len(triples)}"
            return s
    s.note = s.note or "no candidate triple could enrol"
    return s


def embeddings(engine: FaceEngine, data: bytes) -> dict | None:
    try:
        return engine.analyse(data).embeddings
    except FaceError:
        return None


def could_enrol(engine: FaceEngine, embs: tuple) -> bool:
    """Not copies of one another (replay.duplicates) and every pair matching: enrol()'s tests."""
    if any(e is None for e in embs) or replay.duplicates(list(embs), engine.config.replay_threshold):
        return False
    cal = engine.calibration
    return all(cal.fuse({n: np.array(a[n] @ b[n]) for n in cal.model_names}) >= cal.threshold
               for a, b in itertools.combinations(embs, 2))


def pick_enrolment(pool: list[Photo], pitch0: float) -> list[list[Photo]]:
    """Candidate enrolment triples, each ordered front, left, right: the most frontal photo with
    the two yaw extremes, then (if enrolment refuses those as inconsistent) the three most
    frontal photos, then the most frontal with its two yaw neighbours."""
    ranked = sorted(pool, key=lambda p: frontal_distance(p, pitch0))
    f = ranked[0]
    others = sorted(ranked[1:], key=lambda p: p.pose.yaw)
    near = sorted(ranked[1:], key=lambda p: abs(p.pose.yaw - f.pose.yaw))
    out = []
    for trio in ([f, others[0], others[-1]], ranked[:3], [f, *near[:2]]):
        if not any({id(p) for p in trio} == {id(q) for q in t} for t in out):
            out.append(by_yaw(trio))
    return out


def pick_answers(front: Photo, rest: list[Photo], turn: float, rng: random.Random) -> dict[str, list[Photo]]:
    """Genuine turned photos per direction, leaving three photos for the template; the scarcest
    direction first, then a second photo per direction while photos are spare."""
    budget = len(rest) - 3
    eligible = {d: [p for p in rest if towards(front.pose, p.pose, d) >= turn] for d in TURNS}
    used: list[Photo] = []
    answers: dict[str, list[Photo]] = defaultdict(list)
    for _ in range(MAX_PER_DIRECTION):
        for d in sorted(TURNS, key=lambda d: len(eligible[d])):
            free = [p for p in eligible[d] if p not in used]
            if free and len(used) < budget:
                answers[d].append(p := rng.choice(free))
                used.append(p)
    return dict(answers)


def plan_dev(name: str, photos: list[Photo], turn: float, pitch0: float, rng: random.Random) -> list[Subject]:
    """The identity's front photo and genuine turned photos, and one Subject per candidate
    enrolment triple of the remaining photos (none if fewer than four photos are usable)."""
    usable = [p for p in photos if p.pose is not None and p.gates_ok]
    if len(usable) < 4:
        return []
    front = min(usable, key=lambda p: frontal_distance(p, pitch0))
    rest = [p for p in usable if p is not front]
    answers = pick_answers(front, rest, turn, rng)
    pool = [p for p in rest if not any(p in v for v in answers.values())]
    return [Subject(name, "dev", [p.data for p in t], list(ENROL_STEPS), [p.pose for p in t], front, answers)
            for t in pick_enrolment(pool, pitch0)]


def add_mirrors(engine: FaceEngine, s: Subject, turn: float) -> None:
    """A mirrored copy of a turned (non-enrolled) photo answers the opposite left/right turn."""
    for d, opp in (("left", "right"), ("right", "left")):
        for p in s.answers.get(opp, []):
            if p.mirrored:
                continue
            m = measure(engine, Photo(p.key + "#mirror", mirror(p.data), mirrored=True))
            if m.pose is not None and towards(s.front.pose, m.pose, d) >= turn:
                s.answers.setdefault(d, []).append(m)
                break


def nuaa_subjects(engine: FaceEngine, pad: Path, rows: list[dict]) -> dict[str, Subject]:
    """Per NUAA subject with live clips: a template from three live frames of different clips
    (or spread over one clip), the first candidate triple that enrols."""
    clips: dict[str, dict[str, list[Path]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["kind"] == "live" and r["file"].startswith("live/nuaa/"):
            clips[r["subject"]][r["clip"]].append((int(r["frame"]), pad / r["file"]))
    out = {}
    for subj, by_clip in sorted(clips.items()):
        frames = [[p for _, p in sorted(v)] for _, v in sorted(by_clip.items())]
        first = frames[0][0].read_bytes()
        augs = [[first, a, b] for a, b in itertools.combinations(augmentations(open_rgb(first)), 2)]
        out[subj] = enrol_first(engine, subj, "nuaa", [[p.read_bytes() for p in t] for t in spread(frames)] + augs)
    return out


def spread(clips: list[list[Path]]) -> list[list[Path]]:
    """Candidate triples of live frames, the most separated first: one frame of each of three
    clips, else the ends and middles of the clips."""
    picks = [c[round(q * (len(c) - 1))] for q in (0, 1, 0.5, 0.25, 0.75) for c in clips]
    picks = list(dict.fromkeys(picks))
    return [list(t) for t in itertools.combinations(picks, 3)][:10]


def msu_subjects(engine: FaceEngine, pad: Path, rows: list[dict]) -> dict[str, Subject]:
    """Per MSU-MFSD subject: its one live frame plus two augmentations (first pair that enrols)."""
    out = {}
    for r in rows:
        if r["kind"] == "live" and r["file"].startswith("live/msu_mfsd/"):
            raw = (pad / r["file"]).read_bytes()
            augs = augmentations(open_rgb(raw))
            triples = [[raw, a, b] for a, b in itertools.combinations(augs, 2)]
            out[r["subject"]] = enrol_first(engine, r["subject"], "msu", triples)
    return out


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- cases --------------------------------------------------------------------------------------
def sequences(s: Subject, rng: random.Random, mirrored: bool) -> list[Case]:
    """Bona-fide sequences of one dev identity: front + two turns for every pair of directions it
    can answer (front + one turn when it answers one), photos cycled; ``mirrored`` keeps only the
    sequences using a mirrored photo (and none without)."""
    ans = {d: [p for p in v if mirrored or not p.mirrored] for d, v in s.answers.items()}
    ans = {d: v for d, v in ans.items() if v}
    combos = [[(d, p)] for d, v in ans.items() for p in v] if len(ans) == 1 else \
        [[(d1, p1), (d2, p2)] for d1, d2 in itertools.combinations(sorted(ans), 2)
         for p1, p2 in itertools.product(ans[d1], ans[d2]) if p1 is not p2]
    combos = [c for c in combos if any(p.mirrored for _, p in c) == mirrored]
    rng.shuffle(combos)
    out = []
    for combo in combos[:MAX_SEQUENCES]:
        rng.shuffle(combo)
        out.append(Case("bona_fide", s.name, [FRONT, *(d for d, _ in combo)],
                        [s.front.data, *(p.data for _, p in combo)],
                        [s.front.pose, *(p.pose for _, p in combo)], {"mirrored": mirrored}))
    return out


def print_tilt(s: Subject, rng: random.Random, n: int) -> list[Case]:
    img = open_rgb(s.front.data)
    return [Case("print_tilt", s.name, steps, tilted_frames(img, steps, rng))
            for steps in (lv.challenge(SHIPPED, rng) for _ in range(n))]


def screen_replay(s: Subject, shots: list[bytes], rng: random.Random, n: int) -> list[Case]:
    out = []
    for shot in shots:
        img = open_rgb(shot)
        for _ in range(n):
            steps = lv.challenge(SHIPPED, rng)
            out.append(Case("screen_replay", s.name, steps, tilted_frames(img, steps, rng)))
    return out


def print_moved(subject: str, clip: str, frames: list[Photo], turns: tuple[str, str]) -> list[Case]:
    """Both orders of the clip's two turns: front = first frame; the two turn frames (in capture
    order) are the pair that moves the mesh pose most towards the challenge, the worse of the two
    turns counting."""
    front = frames[0]
    later = [(i, f) for i, f in enumerate(frames) if i > 0 and f.pose is not None]
    out = []
    for steps in (turns, turns[::-1]):
        pairs = [(a, b) for a, b in itertools.combinations(later, 2)]
        if front.pose is None or not pairs:
            continue
        (_, f1), (_, f2) = max(pairs, key=lambda ab: min(towards(front.pose, ab[0][1].pose, steps[0]),
                                                           towards(front.pose, ab[1][1].pose, steps[1])))
        out.append(Case("print_moved", subject, [FRONT, *steps], [front.data, f1.data, f2.data],
                        [front.pose, f1.pose, f2.pose], {"clip": clip}))
    return out


def enrolment_replay(s: Subject, fresh: bytes, rng: random.Random) -> list[Case]:
    """The enrolment photos of ``s``, transformed, as a challenge (either turn order): against its
    template (meshes) either (a) all three or (b) a fresh front photo of the person with the two
    replayed turns, alternately; against the legacy template (no meshes; species
    enrolment_replay_legacy) always (b), which only the meshes can catch."""
    order = [0, 1, 2] if rng.random() < 0.5 else [0, 2, 1]
    steps = [s.enrol_steps[i] for i in order]
    names = [rng.choice(REPLAY_TRANSFORMS) for _ in order]
    copies = [transform(s.enrol[i], t, rng) for i, t in zip(order, names)]
    all_frames = Case("enrolment_replay", s.name, steps, copies,
                      tags={"variant": "all_frames", "focus": [0, 1, 2], "transforms": names})
    turns_only = Case("enrolment_replay", s.name, steps, [fresh, *copies[1:]],
                      tags={"variant": "turns_only", "focus": [1, 2], "transforms": [None, *names[1:]]})
    legacy = replace(turns_only, species="enrolment_replay_legacy", subject=s.name + LEGACY)
    return [all_frames if rng.random() < 0.5 else turns_only, legacy]


def turned_subject(engine: FaceEngine, s: Subject) -> Subject | None:
    """A second template of the identity from its front and genuinely turned left and right
    photos (what a stepped enrolment holds), for the enrolment-replay attack; None if the
    identity has no such photos or enrolment refuses them."""
    left = [p for p in s.answers.get("left", []) if not p.mirrored]
    right = [p for p in s.answers.get("right", []) if not p.mirrored]
    if not left or not right:
        return None
    trio = [s.front, left[0], right[0]]
    t = enrol_subject(engine, Subject(s.name + TURNED, "dev-turned", [p.data for p in trio], list(ENROL_STEPS),
                                      [p.pose for p in trio]))
    return t if t.template is not None else None


def static(s: Subject, rng: random.Random) -> Case:
    """The front photo for every step: byte for byte, or lightly recompressed (q95, q90)."""
    if rng.random() < 0.5:
        return Case("static", s.name, lv.challenge(SHIPPED, rng), [s.front.data] * 3, tags={"variant": "exact"})
    img = open_rgb(s.front.data)
    return Case("static", s.name, lv.challenge(SHIPPED, rng), [s.front.data, to_jpeg(img, 95), to_jpeg(img, 90)],
                tags={"variant": "recompressed"})


def identity_swap(b: Case, impostors: list[Photo], turn: float, rng: random.Random) -> Case | None:
    """A bona-fide sequence with one turn (at random) answered by another identity's photo posed
    that way (its pose differs from this front's by ``turn`` towards the challenge)."""
    k = rng.randrange(1, len(b.steps))
    pool = [p for p in impostors if not p.key.startswith(b.subject + "/")
            and towards(b.poses[0], p.pose, b.steps[k]) >= turn]
    if not pool:
        return None
    p = rng.choice(pool)
    frames, poses = list(b.frames), list(b.poses)
    frames[k], poses[k] = p.data, p.pose
    return Case("identity_swap", b.subject, b.steps, frames, poses, {"impostor": p.key, "focus": [k]})


def wrong_direction(b: Case, rng: random.Random) -> Case | None:
    """The bona-fide frames presented for a challenge each of whose turns they do not make: every
    turn relabelled to a side the head did not move towards at all (distinct sides if possible)."""
    steps = [FRONT]
    for k in range(1, len(b.steps)):
        c = change(b.poses[0], b.poses[k])
        options = [o for o in TURNS if o != b.steps[k] and c.towards(o) <= 0]
        if not options:
            return None
        fresh = [o for o in options if o not in steps]
        steps.append(rng.choice(fresh or options))
    return Case("wrong_direction", b.subject, steps, b.frames, b.poses, {"answered": b.steps})


# --- running ------------------------------------------------------------------------------------
def run_case(engine: FaceEngine, case: Case, template: Template, rules: lv.LivenessRules) -> Outcome:
    t = time.perf_counter()
    try:
        v = engine.verify_challenge(template, case.frames, case.steps, rules)
    except FaceError as err:
        return Outcome(error=err.code, ms=(time.perf_counter() - t) * 1000)
    ms = (time.perf_counter() - t) * 1000
    m = v.match
    return Outcome(None, m.is_match, m.replay_of, [(c.check, c.step, c.value) for c in v.liveness.checks],
                   m.is_match and v.liveness.passed and m.replay_of is None, ms)


def run_all(engine: FaceEngine, cases: list[Case], templates: dict[str, Template],
            rules: lv.LivenessRules, label: str) -> list[Outcome]:
    out = []
    for k, c in enumerate(cases):
        out.append(run_case(engine, c, templates[c.subject], rules))
        if (k + 1) % 250 == 0:
            log(f"  {label}: {k + 1}/{len(cases)} sequences")
    return out


# --- decisions from recorded values (the production rule, re-applied at other limits) -----------
def check_ok(check: str, step: int, value: float, lim: Limits, match_threshold: float) -> bool:
    if check == "identity":
        return value >= (match_threshold if step == 0 else lim.identity_z)
    if check == "direction":
        return value >= lim.min_turn_deg
    if check == "depth":
        return value >= lim.min_residual
    if check == "copy":
        return value < COPY_LIMIT  # the embeddings' replay threshold (FaceConfig), not calibrated here
    return value > lim.max_duplicate_residual  # distinct, fresh


def rejections(o: Outcome, lim: Limits, match_threshold: float) -> list[str]:
    """Why this check-in is refused at ``lim`` (empty: accepted). The front frame's identity check
    is the match itself, so it is reported once, as no_match."""
    if o.error:
        return [f"non_response:{o.error}"]
    why = ["no_match"] * (not o.match) + ["replay_of"] * (o.replay_of is not None)
    failed = {c for c, step, v in o.checks if not check_ok(c, step, v, lim, match_threshold)
              and not (c == "identity" and step == 0)}
    return why + sorted(failed)


def values(case: Case, o: Outcome, check: str, turns_only: bool = False) -> list[float]:
    """The recorded values of one check, on the frames the attack is about (``focus``: the
    swapped frame, the replayed frames) when it says so."""
    focus = case.tags.get("focus")
    return [v for c, step, v in o.checks if c == check and (step > 0 or not turns_only)
            and (focus is None or step in focus or check in ("direction", "depth", "distinct"))]


CUES = {"turn_deg": ("direction", False), "residual": ("depth", False), "identity_z": ("identity", True),
        "distinct": ("distinct", False), "fresh": ("fresh", False)}


def cue_table(cases: list[Case], outcomes: list[Outcome]) -> dict[str, dict[str, dict]]:
    """Per cue, per group (bona_fide, each species): percentiles of the values recorded."""
    out: dict[str, dict[str, dict]] = {}
    for cue, (check, turns_only) in CUES.items():
        for group in ("bona_fide", *SPECIES, *EXTRA_SPECIES):
            xs = [v for c, o in zip(cases, outcomes) if c.species == group
                  for v in values(c, o, check, turns_only)]
            if xs:
                out.setdefault(cue, {})[group] = percentiles(xs)
    return out


def percentiles(xs: list[float]) -> dict:
    a = np.asarray(xs, np.float64)
    return {"n": len(a), **{f"p{q}": round(float(np.percentile(a, q)), 4) for q in PCTS}}


# --- building the cases -------------------------------------------------------------------------
def enrol_dev(engine: FaceEngine, candidates: list[Subject], refused: Counter) -> Subject | None:
    """The first candidate that enrols; else the reason is counted."""
    for s in candidates:
        if enrol_subject(engine, s).template is not None:
            return s
    refused[candidates[-1].note if candidates else "fewer than 4 usable photos"] += 1
    return None


def dev_cases(engine: FaceEngine, dev: dict[str, list[Photo]], args, rng: random.Random) -> tuple[list, list, dict]:
    """Dev subjects (enrolled) and their bona-fide, print_tilt, enrolment_replay, static,
    identity_swap and wrong_direction cases."""
    pitch0 = float(np.median([p.pose.pitch for ps in dev.values() for p in ps if p.pose]))
    subjects, cases, refused = [], [], Counter()
    for name, photos in dev.items():
        s = enrol_dev(engine, plan_dev(name, photos, args.turn, pitch0, rng), refused)
        if s is None:
            continue
        subjects.append(s)
        if args.mirrors:
            add_mirrors(engine, s, args.turn)
        bona = sequences(s, rng, False) + (sequences(s, rng, True) if args.mirrors else [])
        turned = turned_subject(engine, s)
        subjects += [turned] if turned else []
        replayed = enrolment_replay(turned, s.enrol[0], rng) if turned else enrolment_replay(s, s.front.data, rng)
        cases += bona + print_tilt(s, rng, 1) + replayed + [static(s, rng)]
        plain = [b for b in bona if not b.tags["mirrored"]]
        cases += [w for b in plain if (w := wrong_direction(b, rng))]
    impostors = [p for ps in dev.values() for p in ps if p.pose is not None]
    plain = [c for c in cases if c.species == "bona_fide" and not c.tags["mirrored"]]
    cases += [x for b in plain if (x := identity_swap(b, impostors, args.turn, rng))]
    log(f"  dev identities not enrolled: {dict(refused)}")
    return subjects, cases, dict(refused)


def pad_cases(engine: FaceEngine, pad: Path, args, rng: random.Random) -> tuple[list, list]:
    """NUAA moved-print and MSU-MFSD screen-replay cases with their subjects' templates."""
    rows = read_manifest(pad)
    nuaa = nuaa_subjects(engine, pad, rows)
    clips: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r["kind"] == "attack" and r["species"] in MOVED_MOTIONS:
            clips[r["clip"]].append(r)
    names = sorted(clips)[:args.limit] if args.limit else sorted(clips)
    cases = []
    for clip in names:
        rs = sorted(clips[clip], key=lambda r: int(r["frame"]))
        subj = rs[0]["subject"]
        if subj not in nuaa or nuaa[subj].template is None:
            continue
        frames = [measure(engine, Photo(r["file"], (pad / r["file"]).read_bytes())) for r in rs]
        cases += print_moved(subj, clip, frames, MOVED_MOTIONS[rs[0]["species"]])
    msu = msu_subjects(engine, pad, rows)
    shots = defaultdict(list)
    for r in rows:
        if r["species"] in SCREEN_SPECIES and msu.get(r["subject"]) and msu[r["subject"]].template:
            shots[r["subject"]].append((pad / r["file"]).read_bytes())
    for subj in sorted(shots)[:args.limit] if args.limit else sorted(shots):
        cases += screen_replay(msu[subj], shots[subj], rng, args.screen_repeats)
    skipped = sorted({r["subject"] for c in clips.values() for r in c} - {s for s, v in nuaa.items() if v.template})
    log(f"  NUAA subjects without a template (their clips are skipped): {skipped}")
    return [*nuaa.values(), *msu.values()], cases


def collect(args) -> dict:
    """Everything pass 1 needs and produces: subjects, cases, outcomes at the shipped limits."""
    engine = FaceEngine()
    engine.warm_up()
    rng = random.Random(args.seed)
    t = time.perf_counter()
    dev = load_dev(engine, args.faces, args.limit, args.seed)
    log(f"dev: {len(dev)} identities with 4+ photos measured in {time.perf_counter() - t:.0f} s")
    subjects, cases, refused = dev_cases(engine, dev, args, rng)
    log(f"dev: {len(subjects)} subjects enrolled, {len(cases)} sequences built at {time.perf_counter() - t:.0f} s")
    pad_subjects, pad = pad_cases(engine, args.pad, args, rng)
    log(f"pad: {len(pad)} sequences built at {time.perf_counter() - t:.0f} s")
    cases += pad
    subjects += [s for s in pad_subjects if s.template is not None]
    templates = {s.name: s.template for s in subjects}
    templates |= {s.name + LEGACY: s.legacy for s in subjects if s.legacy is not None}
    log(f"{len(cases)} sequences: {dict(Counter(c.species for c in cases))}")
    outcomes = run_all(engine, cases, templates, SHIPPED, "pass 1 (shipped limits)")
    return {"dev": dev, "subjects": subjects, "pad_subjects": pad_subjects, "cases": cases, "refused": refused,
            "outcomes": outcomes, "seconds": time.perf_counter() - t}


# --- choosing the limits ------------------------------------------------------------------------
@dataclass
class PerCase:
    """One row per case: what the limits act on (the worst frame of each cue)."""
    species: np.ndarray
    mirrored: np.ndarray
    base_ok: np.ndarray  # a face in every frame, the front matches, not a replay
    turn: np.ndarray     # smallest turn towards the challenge (inf: no turn step)
    residual: np.ndarray
    z: np.ndarray        # smallest identity z of a turn frame
    copy: np.ndarray     # smallest distinct / fresh residual

    def accepted(self, lim: Limits) -> np.ndarray:
        return (self.base_ok & (self.turn >= lim.min_turn_deg) & (self.residual >= lim.min_residual)
                & (self.z >= lim.identity_z) & (self.copy > lim.max_duplicate_residual))


def per_case(cases: list[Case], outcomes: list[Outcome]) -> PerCase:
    def low(o: Outcome, checks: tuple[str, ...], turns_only: bool = False) -> float:
        xs = [v for c, step, v in o.checks if c in checks and (step > 0 or not turns_only)]
        return min(xs, default=math.inf)
    return PerCase(np.array([c.species for c in cases]),
                   np.array([bool(c.tags.get("mirrored")) for c in cases]),
                   np.array([o.error is None and o.match and o.replay_of is None for o in outcomes]),
                   np.array([low(o, ("direction",)) for o in outcomes]),
                   np.array([low(o, ("depth",)) for o in outcomes]),
                   np.array([low(o, ("identity",), True) for o in outcomes]),
                   np.array([low(o, ("distinct", "fresh")) for o in outcomes]))


def choose_duplicate(pc: PerCase) -> tuple[float, dict]:
    """The copy limit (distinct, fresh): a factor DUP_MARGIN under the closest two distinct
    captures among the bona fides (a false "replayed_image" accuses an honest user); the share
    of copies (static, enrolment_replay) it catches on its own is reported, not forced."""
    copies = pc.copy[np.isin(pc.species, ("static", "enrolment_replay")) & np.isfinite(pc.copy)]
    bona = pc.copy[(pc.species == "bona_fide") & np.isfinite(pc.copy)]
    if not len(bona) or not len(copies):  # a tiny --limit run: nothing to calibrate on
        return SHIPPED.max_duplicate_residual, {"bona_fide_min": None, "copies_caught": None}
    limit = round_up(float(bona.min()) / DUP_MARGIN, 4)
    return limit, {"bona_fide_min": round(float(bona.min()), 5), "margin_factor": DUP_MARGIN,
                   "copies": percentiles(copies.tolist()), "copies_caught": round(float(np.mean(copies <= limit)), 4)}


def dup_trade_off(pc: PerCase, lim: Limits) -> list[dict]:
    """APCER of the copy species and BPCER at other copy limits, the rest at ``lim``."""
    rows = []
    for dup in (0.004, 0.006, 0.008, 0.01, 0.0125, 0.015, 0.02, 0.025, 0.03):
        acc = pc.accepted(replace(lim, max_duplicate_residual=dup))
        rows.append({"max_duplicate_residual": dup, "bpcer": round(1 - float(acc[pc.species == "bona_fide"].mean()), 4),
                     **{sp: round(float(acc[pc.species == sp].mean()), 4) for sp in ("static", "enrolment_replay")}})
    return rows


def choose_identity_z(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, list[dict]]:
    """The lowest z at which at most half the APCER goal of impostor frames pass (offline: every
    template against every other identity's photo), with the genuine frames it rejects."""
    grid = np.round(np.arange(1.0, 4.51, 0.05), 2)
    table = [{"z": float(z), "impostor_pass": round(float(np.mean(impostor >= z)), 5),
              "genuine_reject": round(float(np.mean(genuine < z)), 4)} for z in grid]
    ok = [r["z"] for r in table if r["impostor_pass"] <= APCER_GOAL / 2]
    return (ok[0] if ok else float(grid[-1])), table


def feasible_grid(pc: PerCase, lim: Limits, turns: np.ndarray, residuals: np.ndarray) -> tuple:
    """APCER per species and BPCER over a grid of (min_turn_deg, min_residual), the other limits
    fixed; feasible = BPCER and the APCER goals of the species the geometry is there to stop
    (GEOMETRY_SPECIES; 0 for static) met. Identity swaps and replays have their own limits."""
    rest = pc.base_ok & (pc.z >= lim.identity_z) & (pc.copy > lim.max_duplicate_residual)
    acc = rest[None, None] & (pc.turn[None, None] >= turns[:, None, None]) \
        & (pc.residual[None, None] >= residuals[None, :, None])
    apcer = {sp: acc[..., pc.species == sp].mean(-1) for sp in SPECIES if (pc.species == sp).any()}
    bpcer = 1 - acc[..., pc.species == "bona_fide"].mean(-1)
    ok = bpcer <= BPCER_GOAL
    for sp in GEOMETRY_SPECIES:
        if sp in apcer:
            ok &= apcer[sp] <= (0 if sp == "static" else APCER_GOAL)
    return apcer, bpcer, ok


def depth(ok: np.ndarray) -> np.ndarray:
    """Grid steps from each feasible cell to the nearest infeasible one (L-inf; outside counts)."""
    d = np.zeros(ok.shape, int)
    cur = ok.copy()
    while cur.any():
        d += cur
        p = np.pad(cur, 1)
        cur = np.ones_like(cur)
        for dy, dx in itertools.product((0, 1, 2), repeat=2):
            cur &= p[dy:dy + ok.shape[0], dx:dx + ok.shape[1]]
    return d


def choose_geometry(pc: PerCase, lim: Limits) -> tuple[float, float, dict]:
    """The feasible (min_turn_deg, min_residual) farthest from every infeasible one on the grid
    (grid steps 0.5 degree and 0.0025 IOD, each about 1/40 of the bona-fide median; ties: the
    cell nearest the centroid of the tied ones); if none is feasible, the lowest worst ratio to
    the goals."""
    turns, residuals = np.round(np.arange(0, 30.01, 0.5), 2), np.round(np.arange(0, 0.1501, 0.0025), 4)
    apcer, bpcer, ok = feasible_grid(pc, lim, turns, residuals)
    worst = np.max(np.stack([a for a in apcer.values()]), 0)
    if ok.any():
        deepest = np.argwhere(depth(ok) == depth(ok).max())
        i, j = min(map(tuple, deepest), key=lambda ij: float(np.abs(np.array(ij) - deepest.mean(0)).sum()))
    else:
        i, j = np.unravel_index(np.argmin(np.maximum(worst / APCER_GOAL, bpcer / BPCER_GOAL)), ok.shape)
    rows, cols = np.nonzero(ok)
    info = {"feasible_cells": int(ok.sum()), "grid_steps": [0.5, 0.0025],
            "feasible_turn_deg": [float(turns[rows].min()), float(turns[rows].max())] if ok.any() else None,
            "feasible_residual": [float(residuals[cols].min()), float(residuals[cols].max())] if ok.any() else None,
            "margin_steps": int(depth(ok)[i, j]) if ok.any() else 0,
            "at_choice": {"bpcer": round(float(bpcer[i, j]), 4),
                          "apcer": {k: round(float(v[i, j]), 4) for k, v in apcer.items()}}}
    return float(turns[i]), float(residuals[j]), info


def round_up(x: float, digits: int) -> float:
    return math.ceil(x * 10 ** digits - 1e-9) / 10 ** digits


def offline_identity(subjects: list[Subject], dev: dict[str, list[Photo]], engine: FaceEngine) -> tuple:
    """Identity z of every dev photo against every dev template, as _challenge_frame computes it
    (unflipped dlib embedding, best template row): genuine = the identity's photos that are not
    its enrolment photos; impostor = every other identity's photo."""
    m = engine.calibration.model(CONTINUITY_MODEL)
    photos = [p for ps in dev.values() for p in ps if p.dlib is not None]
    emb = np.stack([p.dlib for p in photos])
    owner = np.array([p.key.split("/")[0] for p in photos])
    gen, imp = [], []
    for s in (s for s in subjects if s.source == "dev"):
        z = ((emb @ s.template.embeddings[CONTINUITY_MODEL].T).max(1) - m.impostor_mean) / m.impostor_std
        mine = owner == s.name
        enrolled = np.array([p.data in s.enrol for p in photos])
        gen.append(z[mine & ~enrolled])
        imp.append(z[~mine])
    return np.concatenate(gen), np.concatenate(imp)


# --- figures ------------------------------------------------------------------------------------
def figures(cases: list[Case], outcomes: list[Outcome], accepted: list[bool], lim: Limits,
            match_threshold: float, passing: frozenset = frozenset()) -> dict:
    """APCER per species (and the worst), BPCER (all, without and with mirrors), what rejects the
    bona fides, non-responses (no usable face in some frame), from the given decisions."""
    by: dict[str, list[int]] = defaultdict(list)
    for k, c in enumerate(cases):
        by[c.species].append(k)
    apcer = {sp: round(float(np.mean([accepted[k] for k in by[sp]])), 4) for sp in (*SPECIES, *EXTRA_SPECIES) if by[sp]}
    bona = by["bona_fide"]
    plain = [k for k in bona if not cases[k].tags["mirrored"]]
    mirrored = [k for k in bona if cases[k].tags["mirrored"]]
    why = Counter(r for k in bona if not accepted[k] for r in rejections(outcomes[k], lim, match_threshold))
    return {"apcer": {**apcer, "max": max(apcer[sp] for sp in SPECIES if sp in apcer)},
            "bpcer": rate_rejected(plain + mirrored, accepted),
            "bpcer_without_mirrors": rate_rejected(plain, accepted),
            "bpcer_mirrored_only": rate_rejected(mirrored, accepted),
            "bona_fide_rejected_by": dict(why.most_common()),
            "accepted_attacks": {sp: int(sum(accepted[k] for k in by[sp])) for sp in apcer},
            "enrolment_replay_by_template": {
                kind: {"attacks": len(ks), "apcer": round(float(np.mean([accepted[k] for k in ks])), 4) if ks else None}
                for kind, ks in (("passes_enrolment_liveness", [k for k in by["enrolment_replay"]
                                                                if cases[k].subject in passing]),
                                 ("does_not", [k for k in by["enrolment_replay"] if cases[k].subject not in passing]))},
            "non_response": {sp: dict(Counter(outcomes[k].error for k in by[sp] if outcomes[k].error))
                             for sp in ("bona_fide", *SPECIES, *EXTRA_SPECIES) if by[sp]}}


def rate_rejected(ks: list[int], accepted: list[bool]) -> float | None:
    return round(1 - float(np.mean([accepted[k] for k in ks])), 4) if ks else None


def per_direction(cases: list[Case], outcomes: list[Outcome], lim: Limits) -> dict:
    """Bona-fide turns per direction and the share whose direction, depth and identity checks
    all pass at ``lim``."""
    out = {}
    for d in TURNS:
        oks = []
        for c, o in zip(cases, outcomes):
            if c.species != "bona_fide" or o.error:
                continue
            for k, step in enumerate(c.steps):
                if step == d:
                    oks.append(all(check_ok(ch, st, v, lim, math.inf) for ch, st, v in o.checks
                                   if st == k and ch in ("direction", "depth", "identity")))
        out[d] = {"turns": len(oks), "pass": round(float(np.mean(oks)), 4) if oks else None,
                  "sequences": sum(1 for c in cases if c.species == "bona_fide" and d in c.steps)}
    return out


def nuaa_live_residuals(engine: FaceEngine, pad: Path, rows: list[dict], frames: int = 8) -> dict:
    """Similarity residual / IOD between two captures of a live NUAA person: consecutive frames of
    one clip (barely moving, ~0.13 s apart), and frames of different sessions of one subject
    (first, middle, last frame of each clip): how close real captures come, for the copy limit."""
    clips: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["kind"] == "live" and r["file"].startswith("live/nuaa/"):
            clips[r["subject"]][r["clip"]].append((int(r["frame"]), pad / r["file"]))
    same, cross = [], []
    for subj in sorted(clips):
        ends = []
        for clip in sorted(clips[subj]):
            paths = [p for _, p in sorted(clips[subj][clip])]
            run = [m for m in (mesh_of(engine, p) for p in paths[:frames]) if m is not None]
            same += [residual(a, b) for a, b in itertools.pairwise(run)]
            ends.append([m for m in (mesh_of(engine, paths[round(q * (len(paths) - 1))]) for q in (0, 0.5, 1))
                         if m is not None])
        cross += [residual(a, b) for x, y in itertools.combinations(ends, 2) for a in x for b in y]
    return {"same_clip_consecutive": percentiles(same) if same else {},
            "cross_session": percentiles(cross) if cross else {}}


def mesh_of(engine: FaceEngine, path: Path) -> np.ndarray | None:
    try:
        return engine.inspect(path.read_bytes(), with_mesh=True, embedders=[CONTINUITY_MODEL]).mesh
    except FaceError:
        return None


def residual(a: np.ndarray, b: np.ndarray) -> float:
    return lv.similarity_residual(a, b) / lv.eye_distance(b)


def replay_every_frame(engine: FaceEngine, cases: list[Case], outcomes: list[Outcome], templates: dict) -> dict:
    """A possible fix, measured: the front frame's embedding replay test (replay.check, both
    models) applied to every turn frame too. Per group, the sequences with some frame flagged
    (the front by the production test, the turns by this one)."""
    thr = engine.config.replay_threshold
    out = {}
    for group in ("bona_fide", "enrolment_replay", "enrolment_replay_legacy"):
        hits = []
        for c, o in zip(cases, outcomes):
            if c.species != group or o.error:
                continue
            rows = templates[c.subject].embeddings
            turns = [replay.check(rows, e, thr).is_replay for e in (full_embeddings(engine, f) for f in c.frames[1:])
                     if e is not None]
            hits.append(o.replay_of is not None or any(turns))
        out[group] = {"sequences": len(hits), "flagged": int(sum(hits))}
    return out


def full_embeddings(engine: FaceEngine, data: bytes) -> dict | None:
    """Both models' embeddings (with the flip), no quality gates: as the front frame is embedded."""
    try:
        a = engine.inspect(data)
    except FaceError:
        return None
    return engine.embed(a)


def selfie(data: bytes) -> bytes:
    """A photo as a 640x480 phone frame (scaled to 480 px high, centred on grey), JPEG q90."""
    img = open_rgb(data)
    img = img.resize((max(1, round(img.width * 480 / img.height)), 480), Image.BICUBIC)
    canvas = Image.new("RGB", (640, 480), (128, 128, 128))
    canvas.paste(img, ((640 - img.width) // 2, 0))
    return to_jpeg(canvas, 90)


def timing(engine: FaceEngine, cases: list[Case], templates: dict, rules: lv.LivenessRules,
           n: int = 10, repeat: int = 3) -> dict:
    """Milliseconds per three-frame verify_challenge on 640x480 frames, one thread, warm."""
    picked = [c for c in cases if c.species == "bona_fide" and len(c.steps) == 3][:n]
    ms = []
    for c in picked:
        frames = [selfie(f) for f in c.frames]
        for r in range(repeat + 1):
            t = time.perf_counter()
            try:
                engine.verify_challenge(templates[c.subject], frames, c.steps, rules)
            except FaceError:
                break
            if r:  # the first run warms this sequence up
                ms.append((time.perf_counter() - t) * 1000)
    return {"runs": len(ms), "frames": "640x480 JPEG q90", "ms_p50": round(float(np.median(ms)), 1) if ms else None,
            "ms_p95": round(float(np.percentile(ms, 95)), 1) if ms else None}


# --- report -------------------------------------------------------------------------------------
def print_cues(table: dict) -> None:
    for cue, groups in table.items():
        print(f"\n{cue}: " + "  ".join(f"p{q}" for q in PCTS))
        for g, v in groups.items():
            print(f"  {g:24s} n={v['n']:5d}  " + "  ".join(f"{v[f'p{q}']:8.4f}" for q in PCTS))


def print_figures(title: str, f: dict) -> None:
    print(f"\n{title}")
    print(f"  BPCER {f['bpcer']} (without mirrors {f['bpcer_without_mirrors']}, mirrored {f['bpcer_mirrored_only']});"
          f" rejected by {f['bona_fide_rejected_by']}")
    for sp, a in f["apcer"].items():
        n_acc = f["accepted_attacks"].get(sp, "")
        print(f"  APCER {sp:24s} {a:.4f}  accepted {n_acc}  non-response {f['non_response'].get(sp, {})}")


def calibrate(data: dict, engine: FaceEngine) -> tuple[Limits, dict]:
    """Copy limit, then identity z, then the turn and residual limits at those."""
    cases, outcomes = data["cases"], data["outcomes"]
    pc = per_case(cases, outcomes)
    dup, dup_info = choose_duplicate(pc)
    gen, imp = offline_identity(data["subjects"], data["dev"], engine)
    z, z_table = choose_identity_z(gen, imp)
    turn, res, geo = choose_geometry(pc, Limits(0, 0, dup, z))
    lim = Limits(turn, res, dup, z)
    dup_info["trade_off"] = dup_trade_off(pc, lim)
    info = {"duplicate": dup_info, "identity_z": {"genuine_offline": percentiles(gen.tolist()),
                                                  "impostor_offline": percentiles(imp.tolist()),
                                                  "impostor_pairs": len(imp),
                                                  "trade_off": [r for r in z_table if 2.0 <= r["z"] <= 3.5]},
            "geometry": geo}
    return lim, info


def summary_counts(data: dict, lim: Limits, match_threshold: float) -> dict:
    cases = data["cases"]
    return {"dev_identities_measured": len(data["dev"]),
            "dev_templates": sum(s.source == "dev" for s in data["subjects"]),
            "dev_not_enrolled": data["refused"],
            "turned_templates": sum(s.source == "dev-turned" for s in data["subjects"]),
            "templates_passing_enrolment_liveness": {
                kind: {src: sum(s.source == src for s in data["subjects"] if s.name in names)
                       for src in ("dev", "dev-turned", "nuaa", "msu")}
                for kind, names in (("shipped", passing(data, limits_of(SHIPPED, FaceConfig().liveness_identity_z),
                                                        match_threshold)), ("chosen", passing(data, lim, match_threshold)))},
            "identities_with_sequences": len({c.subject for c in cases if c.species == "bona_fide"}),
            "pad_templates": {s.name: s.note for s in data["pad_subjects"]},
            "sequence_lengths": dict(Counter(f"{c.species}:{len(c.steps)}" for c in cases
                                             if c.species == "bona_fide"))}


def passing(data: dict, lim: Limits, match_threshold: float) -> frozenset:
    """Subjects whose enrolment photos pass the enrolment liveness at ``lim``."""
    return frozenset(s.name for s in data["subjects"] if s.enrol_checks and enrol_passes(s, lim, match_threshold))


def limits_of(rules: lv.LivenessRules, z: float) -> Limits:
    return Limits(rules.min_turn_deg, rules.min_residual, rules.max_duplicate_residual, z)


def parse_args(argv) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", type=Path, default=Path("/work/shared/faces/dev"))
    ap.add_argument("--pad", type=Path, default=Path("/work/shared/faces/pad"))
    ap.add_argument("--limit", type=int, help="a seeded sample of this many dev identities (and pad clips/subjects)")
    ap.add_argument("--turn", type=float, default=15.0, help="degrees a bona-fide turned photo must differ by")
    ap.add_argument("--no-mirrors", dest="mirrors", action="store_false")
    ap.add_argument("--screen-repeats", type=int, default=4, help="challenge sequences per MSU replay frame")
    ap.add_argument("--no-confirm", dest="confirm", action="store_false",
                    help="skip pass 2 (figures at the chosen limits re-derived from pass 1's values)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--save", type=Path, help="pickle pass 1 (sequences, values) here, outside the repo")
    ap.add_argument("--load", type=Path, help="reuse a pickled pass 1 instead of running it")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    t0 = time.perf_counter()
    data = pickle.loads(args.load.read_bytes()) if args.load else collect(args)
    if args.save:
        args.save.write_bytes(pickle.dumps(data))
    engine = FaceEngine()
    thr = engine.calibration.threshold
    cases, outcomes = data["cases"], data["outcomes"]
    shipped = limits_of(SHIPPED, engine.config.liveness_identity_z)
    cues = cue_table(cases, outcomes)
    print_cues(cues)
    lim, info = calibrate(data, engine)
    print(f"\nchosen limits {lim.to_dict()}\n  {json.dumps(info)}")
    at_shipped = figures(cases, outcomes, [o.accepted for o in outcomes], shipped, thr, passing(data, shipped, thr))
    print_figures(f"pass 1, production decisions at the shipped limits {shipped.to_dict()}", at_shipped)
    final, agree = confirm(args, data, lim, thr)
    print_figures(f"{'pass 2, production decisions' if args.confirm else 'from pass 1 values'} at the chosen "
                  f"limits {lim.to_dict()}", final)
    result = {"bona_fide_sequences": sum(c.species == "bona_fide" for c in cases),
              "bona_fide_per_direction": per_direction(cases, outcomes, lim),
              "attacks": dict(Counter(c.species for c in cases if c.species != "bona_fide")),
              "apcer": final["apcer"], "bpcer": final["bpcer"],
              **{k: final[k] for k in ("bpcer_without_mirrors", "bpcer_mirrored_only", "bona_fide_rejected_by",
                                       "accepted_attacks", "non_response", "enrolment_replay_by_template")},
              **extras(args, data, engine, lim),
              "thresholds": lim.to_dict(), "recommended_defaults": lim.to_dict(), "shipped_limits": shipped.to_dict(),
              "at_shipped": {k: at_shipped[k] for k in ("apcer", "bpcer", "bona_fide_rejected_by")},
              "pass2_agrees_with_values": agree, "calibration": info, "cues": cues, **summary_counts(data, lim, thr),
              "turn_selection_deg": args.turn, "mirrors": args.mirrors, "limit": args.limit,
              "seconds": round(time.perf_counter() - t0), "machine": machine()}
    print(json.dumps(result))
    return 0


def extras(args, data: dict, engine: FaceEngine, lim: Limits) -> dict:
    """Timing, the NUAA live residuals and the every-frame replay test."""
    cases, outcomes = data["cases"], data["outcomes"]
    templates = {s.name: s.template for s in data["subjects"]}
    speed = timing(FaceEngine(FaceConfig(liveness_identity_z=lim.identity_z)), cases, templates, lim.rules())
    live = nuaa_live_residuals(engine, args.pad, read_manifest(args.pad))
    templates |= {s.name + LEGACY: s.legacy for s in data["subjects"] if s.legacy is not None}
    fix = replay_every_frame(engine, cases, outcomes, templates)
    print(f"\ntiming {speed}\nNUAA live captures, similarity residual / IOD: {live}\n"
          f"replay test on every frame: {fix}")
    return {"ms_per_checkin_p50": speed["ms_p50"], "timing": speed, "nuaa_live_similarity_residual": live,
            "replay_test_on_every_frame": fix}


def confirm(args, data: dict, lim: Limits, match_threshold: float) -> tuple[dict, dict]:
    """Pass 2: every case again through the production path at the chosen limits; the figures
    from its decisions, and whether they agree with the decisions re-derived from pass 1."""
    cases, outcomes = data["cases"], data["outcomes"]
    derived = list(per_case(cases, outcomes).accepted(lim))
    ok = passing(data, lim, match_threshold)
    if not args.confirm:
        return figures(cases, outcomes, derived, lim, match_threshold, ok), {"run": False}
    templates = {s.name: s.template for s in data["subjects"]}
    templates |= {s.name + LEGACY: s.legacy for s in data["subjects"] if s.legacy is not None}
    engine = FaceEngine(FaceConfig(liveness_identity_z=lim.identity_z))
    second = run_all(engine, cases, templates, lim.rules(), "pass 2 (chosen limits)")
    decided = [o.accepted for o in second]
    return figures(cases, second, decided, lim, match_threshold, ok), \
        {"run": True, "disagreements": int(sum(a != b for a, b in zip(decided, derived)))}


if __name__ == "__main__":
    sys.exit(main())
