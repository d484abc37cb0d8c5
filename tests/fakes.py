"""A small face engine with real behaviour for route tests (no ONNX): the identity of a photo is
the colour of its top-left pixel, the number of faces is the red value of pixel (1, 0)."""
from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image, UnidentifiedImageError

from chalicelib.face import types as ft


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


class FakeEngine:
    model_version = "fake-colour-1"
    threshold = 0.995

    def analyse(self, data: bytes):
        try:
            img = Image.open(io.BytesIO(data))
            img.load()
        except (UnidentifiedImageError, OSError) as exc:
            raise ft.FaceError(ft.CORRUPT_IMAGE, "The image cannot be decoded") from exc
        img = img.convert("RGB")
        colour, marker = img.getpixel((0, 0)), img.getpixel((1, 0))
        faces = marker[0]
        if faces == 0:
            raise ft.FaceError(ft.NO_FACE, "No face was found")
        if faces > 1:
            raise ft.FaceError(ft.MULTIPLE_FACES, "Several faces were found", {"faces": faces})
        v = np.array(colour, dtype=np.float32) + 1.0
        v /= np.linalg.norm(v)
        return ft.FaceAnalysis(box=(0, 0, 8, 8), keypoints=np.zeros((6, 2)), detector_score=0.99,
                               checks=[ft.Check("faces", True, 1)], embeddings={"colour": v},
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
        m = np.stack(vecs)
        if float((m @ m.T).min()) < self.threshold:
            raise ft.EnrolmentError(ft.INCONSISTENT_ENROLMENT_PHOTOS, "Not the same person", reports)
        return ft.Enrolment(template=ft.Template(self.model_version, {"colour": m}), photos=reports)

    def verify(self, template, data):
        a = self.analyse(data)
        score = float((template.embeddings["colour"] @ a.embeddings["colour"]).max())
        decision = "match" if score >= self.threshold else "no_match"
        return ft.Verification(a, ft.MatchResult(score, self.threshold, decision, self.model_version,
                                                 {"colour": score}, "max-cosine"))
