"""A small face engine with real behaviour for route tests (no ONNX): the identity of a photo is
the colour of its top-left pixel, the number of faces is the red value of pixel (1, 0). The
embedding also carries a small hash of all the pixels, so two photos of one "person" (other noise
seeds) differ slightly and only the same picture again scores as a replay."""
from __future__ import annotations

import hashlib
import io
import random

import numpy as np
from PIL import Image, UnidentifiedImageError

from chalicelib.face import liveness, replay
from chalicelib.face import types as ft

PIXEL_HASH_WEIGHT = 0.02  # norm of the pixel-hash part against the unit colour part
# The head pose a fake photo shows for each challenge step (degrees: yaw to the own left, pitch up).
POSES = {"front": (0, 0), "left": (25, 0), "right": (-25, 0), "up": (0, 22), "down": (0, -22)}


def photo(colour=(200, 40, 40), faces=1, fmt="PNG", size=(64, 64), seed=0, pose="front",
          flat=False) -> bytes:
    """A fake selfie: pixel (0, 0) is the identity, (1, 0) the number of faces, (2, 0) the head
    pose (yaw + 128, pitch + 128) and whether it is a flat picture of a head (blue 1)."""
    rng = random.Random(seed)
    img = Image.new("RGB", size, colour)
    px = img.load()
    for y in range(8, size[1]):  # noise so the file is not trivially small
        for x in range(size[0]):
            px[x, y] = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    yaw, pitch = POSES[pose]
    px[0, 0] = colour
    px[1, 0] = (faces, 0, 0)
    px[2, 0] = (yaw + 128, pitch + 128, int(flat))
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def posed(poses, colour=(200, 40, 40), seed=0, first=None) -> list[bytes]:
    """Fake frames that follow a challenge's poses (distinct captures: seeds ``seed``...);
    ``first`` replaces the front frame."""
    frames = [photo(colour, seed=seed + i, pose=p) for i, p in enumerate(poses)]
    return [first, *frames[1:]] if first is not None else frames


def embedding(img: Image.Image) -> np.ndarray:
    """Unit vector: the colour of the top-left pixel, plus 32 signs from a hash of every pixel
    (distinct photos of one colour: cosine 0.9992 to 0.99998; the same picture: 1)."""
    colour = np.array(img.getpixel((0, 0)), dtype=np.float32) + 1.0
    bits = np.unpackbits(np.frombuffer(hashlib.sha256(img.tobytes()).digest()[:4], np.uint8))
    signs = (bits.astype(np.float32) * 2 - 1) * PIXEL_HASH_WEIGHT / np.sqrt(bits.size)
    v = np.concatenate([colour / np.linalg.norm(colour), signs])
    return (v / np.linalg.norm(v)).astype(np.float32)


def head(yaw: float, pitch: float, flat: bool = False, jitter: int = 0) -> np.ndarray:
    """468 face-mesh-like points (x right, y down, z away from the camera) of a 3-D head turned
    by ``yaw`` (to its own left) and ``pitch`` (up) and projected; a flat picture of a frontal head
    seen under the same turn instead when ``flat``. ``jitter`` seeds a little landmark noise."""
    rng = np.random.default_rng(7)
    x, y = rng.uniform(-1, 1, 468), rng.uniform(-1.3, 1.3, 468)
    z = -0.8 * np.sqrt(np.clip(1 - x ** 2 / 1.2 - y ** 2 / 2.0, 0.05, None))
    p = np.c_[x, y, z]
    named = {1: (0, 0.1, -1.3), 152: (0, 1.2, -0.55), 10: (0, -1.1, -0.55), 33: (-0.6, -0.3, -0.6),
             133: (-0.25, -0.3, -0.7), 362: (0.25, -0.3, -0.7), 263: (0.6, -0.3, -0.6)}
    for i, v in named.items():
        p[i] = v
    depth = p[:, 2].copy()
    if flat:
        p[:, 2] = 0.0  # a print: no depth; its tilt only foreshortens it (an affine map)
    a, b = np.radians(yaw), np.radians(pitch)
    ry = np.array([[np.cos(a), 0, -np.sin(a)], [0, 1, 0], [np.sin(a), 0, np.cos(a)]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), np.sin(b)], [0, -np.sin(b), np.cos(b)]])
    q = p @ (rx @ ry).T
    if flat:  # and the mesh model reads the depth of the frontal face printed on it
        q[:, 2] = depth
    # Two captures of a live face differ (expression, a little pose); two of one print barely do.
    noise = np.random.default_rng(jitter).normal(0, 0.002 if flat else 0.02, q.shape) if jitter else 0
    return (q + noise) * 100 + [320, 240, 0]


class FakeEngine:
    model_version = "fake-colour-1"
    threshold = 0.995
    replay_threshold = 0.999999  # distinct photos of one colour stay below

    def __init__(self, model_version: str | None = None, previous_versions: tuple[str, ...] = ()):
        """A model upgrade: ``model_version`` the shipped one, ``previous_versions`` the ones it
        can still load (the same colour embedding under another name)."""
        if model_version:
            self.model_version = model_version
        self.previous_versions = sorted(previous_versions)

    def match_previous(self, template, data):
        from chalicelib.face.match import TemplateVersionError
        if template.model_version not in self.previous_versions:
            raise TemplateVersionError(template.model_version, self.model_version)
        a = self.analyse(data)
        score = float((template.embeddings["colour"] @ a.embeddings["colour"]).mean())
        return ft.MatchResult(score, self.threshold, "match" if score >= self.threshold else "no_match",
                              template.model_version, {"colour": score}, "mean-cosine")

    def analyse(self, data: bytes):
        try:
            img = Image.open(io.BytesIO(data))
            img.load()
        except (UnidentifiedImageError, OSError) as exc:
            raise ft.FaceError(ft.CORRUPT_IMAGE, "The image cannot be decoded") from exc
        img = img.convert("RGB")
        faces = img.getpixel((1, 0))[0]
        if faces == 0:
            raise ft.FaceError(ft.NO_FACE, "No face was found")
        if faces > 1:
            raise ft.FaceError(ft.MULTIPLE_FACES, "Several faces were found", {"faces": faces})
        yaw, pitch, flat = img.getpixel((2, 0))
        jitter = int.from_bytes(hashlib.sha256(img.tobytes()).digest()[:4], "big") or 1
        return ft.FaceAnalysis(box=(0, 0, 8, 8), keypoints=np.zeros((6, 2)), detector_score=0.99,
                               checks=[ft.Check("faces", True, 1)], embeddings={"colour": embedding(img)},
                               image_size=img.size, mesh=head(yaw - 128, pitch - 128, bool(flat), jitter))

    def _frame(self, template, a, data, identity):
        rep = None if template.meshes is None else liveness.replay_residual(template.meshes, a.mesh)
        return liveness.Frame(points=a.mesh, pose=liveness.pose_of(a.mesh), identity=identity,
                              identity_limit=self.threshold, replay=rep, digest=hashlib.sha256(data).hexdigest())

    def verify_challenge(self, template, frames, steps, rules):
        verified = self.verify(template, frames[0])
        observed = [self._frame(template, verified.analysis, frames[0], verified.match.score)]
        for i, data in enumerate(frames[1:], start=1):
            try:
                a = self.analyse(data)
            except ft.FaceError as exc:
                raise ft.FaceError(exc.code, f"Step {i + 1}: {exc.message}", {**exc.details, "step": i}) from exc
            score = float((template.embeddings["colour"] @ a.embeddings["colour"]).max())
            observed.append(self._frame(template, a, data, score))
        verified.liveness = liveness.evaluate(steps, observed, rules)
        return verified

    def enrol(self, photos, steps=None, rules=None):
        reports, vecs = [], []
        for i, p in enumerate(photos):
            try:
                a = self.analyse(p)
                reports.append(ft.PhotoReport(i, True, a.checks_dict()))
                vecs.append(a.embeddings["colour"])
            except ft.FaceError as exc:
                reports.append(ft.PhotoReport(i, False, [], reason=exc.code))
        if not all(r.ok for r in reports):
            raise ft.EnrolmentError(ft.ENROLMENT_PHOTO_REJECTED, "A photo was rejected", reports)
        dups = replay.duplicates([{"colour": v} for v in vecs], self.replay_threshold)
        if dups:
            for r in reports:
                if any(r.index == j for _, j, _ in dups):
                    r.ok, r.reason = False, ft.DUPLICATE_ENROLMENT_PHOTOS
            i, j, score = dups[0]
            raise ft.EnrolmentError(ft.DUPLICATE_ENROLMENT_PHOTOS, "The same photo twice", reports,
                                    {"pair": [i, j], "score": round(score, 6),
                                     "threshold": self.replay_threshold})
        m = np.stack(vecs)
        if float((m @ m.T).min()) < self.threshold:
            raise ft.EnrolmentError(ft.INCONSISTENT_ENROLMENT_PHOTOS, "Not the same person", reports)
        template = ft.Template(self.model_version, {"colour": m})
        if steps is None:
            return ft.Enrolment(template=template, photos=reports)
        analyses = [self.analyse(p) for p in photos]
        lv = liveness.evaluate(steps, [self._frame(template, a, p, float(m[0] @ v))
                                       for a, p, v in zip(analyses, photos, vecs)], rules)
        if not lv.passed:
            first = lv.failures[0]
            raise ft.EnrolmentError(first.code, f"Photo {first.step + 1} failed liveness", reports,
                                    {"liveness": lv.to_dict()})
        meshes = np.stack([a.mesh[:, :2] for a in analyses]).astype(np.float32)
        return ft.Enrolment(template=ft.Template(self.model_version, {"colour": m}, meshes), photos=reports,
                            liveness=lv)

    def verify(self, template, data):
        a = self.analyse(data)
        score = float((template.embeddings["colour"] @ a.embeddings["colour"]).max())
        decision = "match" if score >= self.threshold else "no_match"
        rep = replay.check(template.embeddings, a.embeddings, self.replay_threshold)
        return ft.Verification(a, ft.MatchResult(score, self.threshold, decision, self.model_version,
                                                 {"colour": score}, "max-cosine", rep.score,
                                                 rep.threshold, rep.photo))


class FakeLambda:
    """A Lambda client that runs ``handler`` (the function's own entry point) on the JSON payload,
    as a synchronous invoke would, or answers as Lambda does when the function fails
    (``function_error``: a timeout's body, ``FunctionError``) or AWS refuses the call
    (``aws_error``: a 429 ``ClientError``). Every call's arguments are kept in ``calls``."""

    def __init__(self, handler, function_error=None, aws_error=None):
        self.calls, self._handler = [], handler
        self._function_error, self._aws_error = function_error, aws_error

    def invoke(self, **kw):
        import io
        import json

        from botocore.exceptions import ClientError
        self.calls.append(kw)
        if self._aws_error:
            raise ClientError({"Error": {"Code": self._aws_error, "Message": "no"},
                               "ResponseMetadata": {"HTTPStatusCode": 429}}, "Invoke")
        if self._function_error:
            body = {"errorMessage": "Task timed out", "errorType": self._function_error}
            return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(json.dumps(body).encode())}
        out = self._handler(json.loads(kw["Payload"]), None)
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(out).encode())}


def seeded_services(at: str):
    """In-memory services of the demo agency (``local/seed.py``), the clock fixed at ``at`` (ISO),
    the fake face engine: the use-case tests' usual start."""
    from datetime import datetime

    from chalicelib.common.clock import FixedClock
    from chalicelib.common.settings import load_settings
    from chalicelib.wiring import in_memory
    from local.seed import seed
    svc = in_memory(load_settings({"HADIR_STAGE": "test", "HADIR_AGENCY_ID": "pemkab-demo"}),
                    clock=FixedClock(datetime.fromisoformat(at)), face_engine_provider=FakeEngine)
    seed(svc)
    return svc
