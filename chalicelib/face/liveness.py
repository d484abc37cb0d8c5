"""Challenge-response liveness, pure: did a live 3-D head follow a random challenge?

A challenge is a list of steps, ``front`` first, then turns (``left``, ``right``, ``up``,
``down``) as the person sees them: "left" is the person's own left, which in the unmirrored
camera frame moves the nose towards the image's right. One frame is captured per step. Each turn
is compared with the front frame:

- ``direction``: the head pose (from the face mesh, ``pose_of``) changed towards the challenged
  side by at least ``min_turn_deg`` (``liveness_too_small``); a larger change towards another side
  is ``liveness_wrong_direction``;
- ``depth``: the landmarks did not move like a flat picture: the RMS residual of the best planar
  homography between the two frames' landmarks, over the inter-ocular distance, is at least
  ``min_residual`` (``liveness_flat_motion``). A tilted or bent print or screen is explained by a
  homography almost exactly; a real head turn is not (the nose moves against the cheeks);
- ``identity``: every frame is the enrolled person (``liveness_identity_changed``; the engine
  scores each frame against the template);
- ``distinct``: no two frames are one capture again, byte for byte or up to a crop, resize or
  rotation (residual of the best similarity transform under ``max_duplicate_residual``):
  ``liveness_duplicate_frames``;
- ``fresh``: no frame is one of the enrolment photos again (the same residual against the
  landmarks kept with the template): ``replayed_image``. Two captures of a live face never
  land the 468 landmarks that close; a recompressed, cropped or resized copy does.

Every check is returned with its value and limit, passed or not, so a decision can show why.
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from chalicelib.common.errors import JsonObject

FRONT = "front"
TURNS = ("left", "right", "up", "down")

WRONG_DIRECTION = "liveness_wrong_direction"
TOO_SMALL = "liveness_too_small"
FLAT_MOTION = "liveness_flat_motion"
IDENTITY_CHANGED = "liveness_identity_changed"
DUPLICATE_FRAMES = "liveness_duplicate_frames"
REPLAYED_IMAGE = "replayed_image"
SCORED = ("identity", "copy")  # checks whose numbers are face scores (supervisors and auditors only)

# MediaPipe FaceMesh landmark indices (unmirrored photo: the person's right is the image's left).
NOSE_TIP, CHIN, FOREHEAD = 1, 152, 10
RIGHT_EYE_OUTER, RIGHT_EYE_INNER = 33, 133  # the person's right eye (image left)
LEFT_EYE_OUTER, LEFT_EYE_INNER = 263, 362  # the person's left eye (image right)


@dataclass(frozen=True)
class LivenessRules:
    """The agency's liveness settings and the limits calibrated by bench/liveness.py."""

    required: bool = True
    turns: int = 2  # challenged turns after the front frame
    directions: tuple[str, ...] = TURNS  # the turns a challenge may ask for
    # Calibrated on ../shared/faces dev by bench/liveness.py (bench/RESULTS-liveness.md).
    min_turn_deg: float = 13.5
    min_residual: float = 0.0325  # homography RMS residual / inter-ocular distance
    max_duplicate_residual: float = 0.0108  # similarity RMS residual / IOD: one capture again


@dataclass(frozen=True)
class Pose:
    """Degrees, as the person sees it: yaw > 0 turned to their own left, pitch > 0 looking up;
    roll is the eye line's angle in the image (clockwise > 0)."""

    yaw: float
    pitch: float
    roll: float

    def towards(self, step: str) -> float:
        """How far this pose (a change of pose) points towards ``step``'s side."""
        return {"left": self.yaw, "right": -self.yaw, "up": self.pitch, "down": -self.pitch}[step]


@dataclass(frozen=True)
class Frame:
    """What liveness needs of one frame: the landmarks (n, 2+) in source pixels, the pose, the
    identity score against the template with its limit, the residual to the closest enrolment
    photo's landmarks (None when the template keeps none), the bytes' digest, and the
    embeddings' replay score (face/replay.py) with its limit."""

    points: np.ndarray
    pose: Pose
    identity: float
    identity_limit: float
    replay: float | None
    digest: str
    copy: float | None = None  # the embeddings' replay score against the enrolment photos
    copy_limit: float = 1.0

    @property
    def identity_ok(self) -> bool:
        return self.identity >= self.identity_limit


@dataclass(frozen=True)
class LivenessCheck:
    check: str  # direction | depth | identity | distinct | fresh | copy
    step: int
    ok: bool
    value: float
    limit: float
    code: str | None = None
    pose: str | None = None

    def to_dict(self) -> JsonObject:
        return {"check": self.check, "step": self.step, "pose": self.pose, "ok": self.ok,
                "value": round(self.value, 4), "limit": self.limit, "code": self.code}


@dataclass(frozen=True)
class Liveness:
    steps: tuple[str, ...]
    poses: tuple[Pose, ...]
    checks: tuple[LivenessCheck, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[LivenessCheck]:
        return [c for c in self.checks if not c.ok]

    def to_dict(self) -> JsonObject:
        return {"passed": self.passed,
                "steps": [{"pose": s, "yaw": round(p.yaw, 1), "pitch": round(p.pitch, 1),
                           "roll": round(p.roll, 1)} for s, p in zip(self.steps, self.poses)],
                "checks": [c.to_dict() for c in self.checks]}


def challenge(rules: LivenessRules, rng: secrets.SystemRandom | None = None) -> list[str]:
    """``front`` then ``rules.turns`` distinct directions in random order (a direction repeats
    only when the agency allows fewer directions than turns)."""
    rng = rng or secrets.SystemRandom()
    pool = list(rules.directions)
    picked = rng.sample(pool, min(rules.turns, len(pool)))
    return [FRONT, *picked, *(rng.choice(pool) for _ in range(rules.turns - len(picked)))]


def enrolment_challenge(rng: secrets.SystemRandom | None = None) -> list[str]:
    """The three enrolment photos: front, then left and right in random order."""
    rng = rng or secrets.SystemRandom()
    return [FRONT, *rng.sample(("left", "right"), 2)]


# --- geometry ---------------------------------------------------------------------------------
def pose_of(mesh: np.ndarray) -> Pose:
    """Head pose from 468 FaceMesh points (x right, y down, z away from the camera, one scale):
    the face's axes from the eye corners (across) and forehead to chin (down); its outward normal
    gives yaw and pitch, the eye line's angle in the image gives roll."""
    p = np.asarray(mesh, np.float64)
    across = p[LEFT_EYE_OUTER] - p[RIGHT_EYE_OUTER]
    across /= np.linalg.norm(across)
    down = p[CHIN] - p[FOREHEAD]
    down -= (down @ across) * across
    down /= np.linalg.norm(down)
    normal = np.cross(down, across)  # towards the camera (-z) for a frontal face
    yaw = np.degrees(np.arctan2(normal[0], -normal[2]))  # nose towards the image's right = own left
    pitch = np.degrees(np.arctan2(-normal[1], -normal[2]))  # nose up in the image = looking up
    roll = np.degrees(np.arctan2(across[1], across[0]))
    return Pose(float(yaw), float(pitch), float(roll))


def eye_distance(points: np.ndarray) -> float:
    p = np.asarray(points, np.float64)[:, :2]
    right = (p[RIGHT_EYE_OUTER] + p[RIGHT_EYE_INNER]) / 2
    left = (p[LEFT_EYE_OUTER] + p[LEFT_EYE_INNER]) / 2
    return float(np.linalg.norm(left - right))


def _normalise(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hartley normalisation: centroid at 0, mean distance sqrt(2); the 3x3 transform and points."""
    c = p.mean(0)
    s = np.sqrt(2) / max(np.linalg.norm(p - c, axis=1).mean(), 1e-9)
    t = np.array([[s, 0, -s * c[0]], [0, s, -s * c[1]], [0, 0, 1]])
    return t, (p - c) * s


def homography_residual(a: np.ndarray, b: np.ndarray) -> float:
    """RMS transfer error (in b's pixels) of the best homography a -> b (normalised DLT)."""
    a, b = np.asarray(a, np.float64)[:, :2], np.asarray(b, np.float64)[:, :2]
    ta, na = _normalise(a)
    tb, nb = _normalise(b)
    n = len(a)
    rows = np.zeros((2 * n, 9))
    x, y, u, v = na[:, 0], na[:, 1], nb[:, 0], nb[:, 1]
    rows[0::2, 0:3] = np.c_[-x, -y, -np.ones(n)]
    rows[0::2, 6:9] = np.c_[u * x, u * y, u]
    rows[1::2, 3:6] = np.c_[-x, -y, -np.ones(n)]
    rows[1::2, 6:9] = np.c_[v * x, v * y, v]
    h = np.linalg.svd(rows, full_matrices=False)[2][-1].reshape(3, 3)
    h = np.linalg.inv(tb) @ h @ ta
    proj = np.c_[a, np.ones(n)] @ h.T
    proj = proj[:, :2] / proj[:, 2:3]
    return float(np.sqrt(((proj - b) ** 2).sum(1).mean()))


def similarity_residual(a: np.ndarray, b: np.ndarray) -> float:
    """RMS error (in b's pixels) of the best similarity transform a -> b (Umeyama)."""
    a, b = np.asarray(a, np.float64)[:, :2], np.asarray(b, np.float64)[:, :2]
    ca, cb = a - a.mean(0), b - b.mean(0)
    u, s, vt = np.linalg.svd(cb.T @ ca)
    d = np.sign(np.linalg.det(u @ vt))
    rot = u @ np.diag([1, d]) @ vt
    scale = (s * [1, d]).sum() / max((ca ** 2).sum(), 1e-12)
    return float(np.sqrt(((scale * ca @ rot.T - cb) ** 2).sum(1).mean()))


# --- the checks -------------------------------------------------------------------------------
def _check(check: str, step: int, pose: str, ok: bool, value: float, limit: float, code: str) -> LivenessCheck:
    """One check's result: ``code`` is its reason when it fails."""
    return LivenessCheck(check, step, ok, value, limit, None if ok else code, pose=pose)


def _direction(i: int, step: str, front: Pose, pose: Pose, rules: LivenessRules) -> LivenessCheck:
    change = Pose(pose.yaw - front.yaw, pose.pitch - front.pitch, pose.roll - front.roll)
    towards = change.towards(step)
    if towards >= rules.min_turn_deg:
        return LivenessCheck("direction", i, True, towards, rules.min_turn_deg, pose=step)
    other = max((t for t in TURNS if t != step), key=change.towards)
    wrong = change.towards(other) >= rules.min_turn_deg and change.towards(other) > towards
    return LivenessCheck("direction", i, False, towards, rules.min_turn_deg,
                         WRONG_DIRECTION if wrong else TOO_SMALL, pose=step)


def _depth(i: int, step: str, front: Frame, frame: Frame, rules: LivenessRules) -> LivenessCheck:
    iod = max(eye_distance(front.points), 1e-6)
    value = homography_residual(front.points, frame.points) / iod
    return _check("depth", i, step, value >= rules.min_residual, value, rules.min_residual, FLAT_MOTION)


def replay_residual(enrolled: np.ndarray, points: np.ndarray) -> float:
    """The closest enrolment photo's landmarks (k, n, 2) to a frame's, as similarity residual / IOD."""
    iod = max(eye_distance(points), 1e-6)
    return min(similarity_residual(e, points) for e in enrolled) / iod


def _fresh(frames: Sequence[Frame], steps: Sequence[str], rules: LivenessRules) -> list[LivenessCheck]:
    """Each frame against the enrolment photos: their landmarks (``fresh``) and their embeddings
    (``copy``: a replay score, shown to supervisors only, like the face score)."""
    limit = rules.max_duplicate_residual
    out = [_check("fresh", i, steps[i], f.replay > limit, f.replay, limit, REPLAYED_IMAGE)
           for i, f in enumerate(frames) if f.replay is not None]
    out += [_check("copy", i, steps[i], f.copy < f.copy_limit, f.copy, f.copy_limit, REPLAYED_IMAGE)
            for i, f in enumerate(frames) if f.copy is not None]
    return out


def _distinct(frames: Sequence[Frame], steps: Sequence[str], rules: LivenessRules) -> list[LivenessCheck]:
    """Each frame against every earlier one: the closest is its value."""
    out = []
    for i in range(1, len(frames)):
        iod = max(eye_distance(frames[i].points), 1e-6)
        closest = min((0.0 if frames[j].digest == frames[i].digest
                       else similarity_residual(frames[j].points, frames[i].points) / iod) for j in range(i))
        out.append(_check("distinct", i, steps[i], closest > rules.max_duplicate_residual, closest,
                          rules.max_duplicate_residual, DUPLICATE_FRAMES))
    return out


def evaluate(steps: Sequence[str], frames: Sequence[Frame], rules: LivenessRules) -> Liveness:
    """Every check of every step (module docstring); ``frames[i]`` answers ``steps[i]``."""
    if len(frames) != len(steps) or not steps or steps[0] != FRONT:
        raise ValueError("one frame per step, the front step first")
    front = frames[0]
    checks = [_check("identity", i, steps[i], f.identity_ok, f.identity, f.identity_limit, IDENTITY_CHANGED)
              for i, f in enumerate(frames)]
    checks += _fresh(frames, steps, rules)
    checks += _distinct(frames, steps, rules)
    for i in range(1, len(steps)):
        checks.append(_direction(i, steps[i], front.pose, frames[i].pose, rules))
        checks.append(_depth(i, steps[i], front, frames[i], rules))
    return Liveness(tuple(steps), tuple(f.pose for f in frames), tuple(checks))


def reasons(liveness: Liveness) -> list[JsonObject]:
    """The decision's reasons: each failed check rejects with its numbers; a pass informs."""
    if liveness.passed:
        return [{"code": "liveness_passed", "effect": "info", "steps": list(liveness.steps)}]
    return [{"code": c.code, "effect": "reject", "step": c.step, "pose": c.pose, "check": c.check,
             **_numbers(c)} for c in liveness.failures]


def _numbers(c: LivenessCheck) -> JsonObject:
    """An identity or copy check's numbers are face scores: named so, they reach only supervisors."""
    if c.check in SCORED:
        return {"score": round(c.value, 4), "threshold": c.limit}
    return {"value": round(c.value, 4), "limit": c.limit}


def for_employee(liveness: JsonObject) -> JsonObject:
    """``Liveness.to_dict()`` without the identity and copy checks' face scores."""
    return {**liveness, "checks": [{**c, "value": None, "limit": None} if c["check"] in SCORED else c
                                   for c in liveness["checks"]]}
