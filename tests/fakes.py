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

from chalicelib.face import replay
from chalicelib.face import types as ft

PIXEL_HASH_WEIGHT = 0.02  # norm of the pixel-hash part against the unit colour part


def photo(colour=(200, 40, 40), faces=1, fmt="PNG", size=(64, 64), seed=0) -> bytes:
    rng = random.Random(seed)
    img = Image.new("RGB", size, colour)
    px = img.load()
    for y in range(8, size[1]):  # noise so the file is not trivially small
        for x in range(size[0]):
            px[x, y] = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    px[0, 0] = colour
    px[1, 0] = (faces, 0, 0)
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def embedding(img: Image.Image) -> np.ndarray:
    """Unit vector: the colour of the top-left pixel, plus 32 signs from a hash of every pixel
    (distinct photos of one colour: cosine 0.9992 to 0.99998; the same picture: 1)."""
    colour = np.array(img.getpixel((0, 0)), dtype=np.float32) + 1.0
    bits = np.unpackbits(np.frombuffer(hashlib.sha256(img.tobytes()).digest()[:4], np.uint8))
    signs = (bits.astype(np.float32) * 2 - 1) * PIXEL_HASH_WEIGHT / np.sqrt(bits.size)
    v = np.concatenate([colour / np.linalg.norm(colour), signs])
    return (v / np.linalg.norm(v)).astype(np.float32)


class FakeEngine:
    model_version = "fake-colour-1"
    threshold = 0.995
    replay_threshold = 0.999999  # distinct photos of one colour stay below

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
        return ft.FaceAnalysis(box=(0, 0, 8, 8), keypoints=np.zeros((6, 2)), detector_score=0.99,
                               checks=[ft.Check("faces", True, 1)], embeddings={"colour": embedding(img)},
                               image_size=img.size)

    def enrol(self, photos):
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
        return ft.Enrolment(template=ft.Template(self.model_version, {"colour": m}), photos=reports)

    def verify(self, template, data):
        a = self.analyse(data)
        score = float((template.embeddings["colour"] @ a.embeddings["colour"]).max())
        decision = "match" if score >= self.threshold else "no_match"
        rep = replay.check(template.embeddings, a.embeddings, self.replay_threshold)
        return ft.Verification(a, ft.MatchResult(score, self.threshold, decision, self.model_version,
                                                 {"colour": score}, "max-cosine", rep.score,
                                                 rep.threshold, rep.photo))
