"""The face verification engine: decode -> detect -> quality gates -> align -> embed -> match.

One engine per process (``get_engine()``); ONNX sessions load lazily on first use.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import threading
import time
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from chalicelib.common.errors import InvalidInput
from chalicelib.face import align, detect, image, liveness, mesh, models, previous, quality, replay
from chalicelib.face.config import FaceConfig
from chalicelib.face.match import Calibration, TemplateVersionError
from chalicelib.face.types import (
    DUPLICATE_ENROLMENT_PHOTOS,
    ENROLMENT_PHOTO_REJECTED,
    INCONSISTENT_ENROLMENT_PHOTOS,
    NO_FACE,
    Check,
    Enrolment,
    EnrolmentError,
    FaceAnalysis,
    FaceError,
    MatchResult,
    PhotoReport,
    Template,
    Verification,
)

ENROLMENT_PHOTOS = 3
CONTINUITY_MODEL = "dlib-resnet"  # identity of the challenge's other frames: its own view, unaveraged

# How each embedder wants its face (chip geometry).
EMBEDDERS = {
    "dlib-resnet": align.DLIB_CHIP,
    "faceres": align.ARCFACE_224,
}

_MESSAGES = {
    "no_face": "No face was found in the photo.",
    "multiple_faces": "More than one face is in the photo; only yours should be.",
    "face_too_small": "The face is too small; hold the phone closer.",
    "too_dark": "The photo is too dark; find more light.",
    "too_bright": "The photo is too bright; avoid direct light on the face.",
    "blurry": "The photo is blurry; hold the phone still.",
    "not_frontal": "Look straight at the camera.",
}


class FaceEngine:
    def __init__(self, config: FaceConfig | None = None, models_dir: Path | None = None,
                 calibration: Calibration | None = None):
        self.config = config or FaceConfig()
        self.models_dir = models_dir or models.MODELS_DIR
        self._calibration = calibration
        self._lock = threading.Lock()
        self._previous_files: dict[str, Path] | None = None  # model_version -> calibration file
        self._previous: dict[str, previous.Previous] = {}

    @property
    def calibration(self) -> Calibration:
        """The shipped calibration, loaded once; it must name the exact model files present
        (a rebuilt model without a new calibration would silently move every score)."""
        if self._calibration is None:
            with self._lock:
                if self._calibration is None:
                    cal = Calibration.load(self.models_dir / "calibration.json")
                    for m in cal.models:
                        actual = models.file_sha256(models.model_path(m.name, self.models_dir))
                        if actual != m.sha256:
                            raise RuntimeError(f"models/{m.name}.onnx (sha256 {actual[:12]}) is not the "
                                               f"file calibration.json was made with ({m.sha256[:12]})")
                    self._calibration = cal
        return self._calibration

    @property
    def model_version(self) -> str:
        return self.calibration.model_version

    def warm_up(self) -> None:
        """Create every session now (e.g. during a Lambda's init phase)."""
        for name in ["blazeface-front", "blazeface-back", mesh.MODEL, *self.calibration.model_names]:
            models.session(name, self.config.threads, self.models_dir)

    # --- one photo ---
    def analyse(self, data: bytes, with_mesh: bool = False) -> FaceAnalysis:
        """Run the pipeline on one photo; raises FaceError naming the first failed gate."""
        analysis = self.inspect(data, with_mesh)
        failed = [c for c in analysis.checks if not c.ok]
        if failed:
            raise FaceError(failed[0].reason, _MESSAGES.get(failed[0].reason, "The photo was refused."),
                            {"checks": analysis.checks_dict()})
        analysis.embeddings = self.embed(analysis)
        analysis.chips = {}  # face pixels go no further than the embedders
        return analysis

    def inspect(self, data: bytes, with_mesh: bool = False,
                embedders: Sequence[str] | None = None) -> FaceAnalysis:
        """Decode, detect and run the quality gates (and the face mesh if asked); no embedding,
        the faces aligned for ``embedders`` (default: every calibrated model). Raises FaceError
        for unreadable images and when no face is found; other gate results are returned as
        checks."""
        timings: dict[str, float] = {}
        t = time.perf_counter()
        img = image.decode(data, self.config)
        timings["decode"] = _ms_since(t)
        t = time.perf_counter()
        detections = self.detect(img)
        timings["detect"] = _ms_since(t)
        if not detections:
            raise FaceError(NO_FACE, _MESSAGES[NO_FACE],
                            {"checks": [Check("face_found", False, 0.0, {"min_score": self.config.detect_min_score},
                                              NO_FACE).to_dict()]})
        main = detections[0]
        t = time.perf_counter()
        chips = {name: align.warp(img, main.keypoints, EMBEDDERS[name])
                 for name in (self.calibration.model_names if embedders is None else embedders)}
        timings["align"] = _ms_since(t)
        dlib_chip = chips["dlib-resnet"] if "dlib-resnet" in chips else align.warp(
            img, main.keypoints, align.DLIB_CHIP)
        grey = quality.luma(np.asarray(dlib_chip, np.float32))
        checks = [Check("face_found", True, main.score, {"min_score": self.config.detect_min_score}),
                  quality.faces_check(detections, self.config),
                  quality.size_check(main, self.config),
                  *quality.pose_checks(main, self.config),
                  *quality.lighting_checks(grey, self.config),
                  quality.sharpness_check(grey, self.config)]
        result = FaceAnalysis(box=tuple(float(v) for v in main.box), keypoints=main.keypoints,
                              detector_score=main.score, checks=checks, embeddings={},
                              image_size=img.size, timings_ms=timings, chips=chips)
        if with_mesh:
            t = time.perf_counter()
            result.mesh = mesh.landmarks(img, main, self.config.threads, self.models_dir).points
            timings["mesh"] = _ms_since(t)
        return result

    def detect(self, img: Image.Image) -> list[detect.Detection]:
        """Front model first; the back model (smaller, farther faces), then a padded front pass
        (a face filling the whole frame) as fallbacks. Most confident face first."""
        cfg = self.config
        for spec, pad in ((detect.FRONT, 0.0), (detect.BACK, 0.0), (detect.FRONT, 0.25)):
            tensor, scale, ox, oy = detect.prepare(img, spec.size, pad)
            reg, logits = models.run(spec.name, tensor, ["regressors", "scores"], cfg.threads,
                                     self.models_dir)
            found = detect.decode(reg, logits, spec, cfg.detect_min_score, cfg.nms_iou, scale, ox, oy)
            if found:
                return sorted(found, key=lambda d: -d.score)
        return []

    def embed(self, analysis: FaceAnalysis, plain: dict[str, np.ndarray] | None = None,
              prev: previous.Previous | None = None) -> dict[str, np.ndarray]:
        """Each aligned chip through its model (with its mirror view when calibrated so); the
        photo's own view alone, unaveraged, into ``plain`` if given. Under the previous model
        ``prev`` (its calibration, its files) if given."""
        t = time.perf_counter()
        cal = prev.calibration if prev else self.calibration
        out = {}
        for name, chip in analysis.chips.items():
            x = np.asarray(chip, np.float32)[None]
            if cal.model(name).flip:
                x = np.concatenate([x, x[:, :, ::-1]])
            raw = models.run(name, np.ascontiguousarray(x), ["embedding"], self.config.threads,
                             prev.dirs[name] if prev else self.models_dir)[0]
            out[name] = cal.normalise(name, raw)
            if plain is not None:
                plain[name] = cal.normalise(name, raw[:1])
        analysis.timings_ms["embed"] = _ms_since(t)
        return out

    # --- previous model versions (model upgrade: face/previous.py) ---
    @property
    def previous_versions(self) -> list[str]:
        """The previous model versions configured (``previous_calibrations``); their files are
        only parsed, their models not loaded."""
        if self._previous_files is None:
            with self._lock:
                if self._previous_files is None:
                    self._previous_files = previous.versions(self.config.previous_calibrations, self.models_dir)
        return sorted(self._previous_files)

    def match_previous(self, template: Template, data: bytes) -> MatchResult:
        """Score a photo against a template of a previous model version, under that model (loaded
        on first use). TemplateVersionError if that version is not configured; FaceError if the
        photo fails a gate."""
        if template.model_version not in self.previous_versions:
            raise TemplateVersionError(template.model_version, self.model_version)
        prev = self._previous_model(template.model_version)
        analysis = self.inspect(data, embedders=prev.calibration.model_names)
        failed = [c for c in analysis.checks if not c.ok]
        if failed:
            raise FaceError(failed[0].reason, _MESSAGES.get(failed[0].reason, "The photo was refused."),
                            {"checks": analysis.checks_dict()})
        embeddings = self.embed(analysis, prev=prev)
        return prev.calibration.score_template(template, embeddings)

    def _previous_model(self, version: str) -> previous.Previous:
        with self._lock:
            if version not in self._previous:
                assert self._previous_files is not None
                self._previous[version] = previous.load(self._previous_files[version], self.models_dir)
            return self._previous[version]

    # --- enrolment and verification ---
    def enrol(self, photos: Sequence[bytes], steps: Sequence[str] | None = None,
              rules: liveness.LivenessRules | None = None) -> Enrolment:
        """Exactly three photos that each pass the gates, are three different images (not one
        photo uploaded again, recompressed or cropped) and match each other pairwise; with
        ``steps`` (front, then left and right) they must also pass the liveness checks as a
        challenge, and their face-mesh landmarks are kept with the template for replay tests."""
        if len(photos) != ENROLMENT_PHOTOS:
            raise InvalidInput(f"Enrolment needs exactly {ENROLMENT_PHOTOS} photos.",
                             code="enrolment_needs_three_photos",
                             details={"received": len(photos), "required": ENROLMENT_PHOTOS})
        analyses: list[FaceAnalysis | None] = []
        reports: list[PhotoReport] = []
        for i, data in enumerate(photos):
            try:
                a = self.analyse(data, with_mesh=steps is not None)
                analyses.append(a)
                reports.append(PhotoReport(i, True, a.checks_dict()))
            except FaceError as err:
                analyses.append(None)
                reports.append(PhotoReport(i, False, err.details.get("checks", []), err.code))
        if any(a is None for a in analyses):
            raise EnrolmentError(ENROLMENT_PHOTO_REJECTED, "Some enrolment photos were refused.", reports)
        self._refuse_duplicates(analyses, reports)
        self._refuse_inconsistent(analyses, reports)
        cal = self.calibration
        template = Template(cal.model_version, {
            n: np.stack([a.embeddings[n] for a in analyses]) for n in cal.model_names})
        if steps is None:
            return Enrolment(template, reports)
        lv = self._enrolment_liveness(template, analyses, photos, steps, rules or liveness.LivenessRules(),
                                      reports)
        meshes = np.stack([a.mesh[:, :2] for a in analyses]).astype(np.float32)
        return Enrolment(dataclasses.replace(template, meshes=meshes), reports, lv)

    def _enrolment_liveness(self, template: Template, analyses: list[FaceAnalysis], photos: Sequence[bytes],
                            steps: Sequence[str], rules: liveness.LivenessRules,
                            reports: list[PhotoReport]) -> liveness.Liveness:
        """The three photos as a challenge (identity: each against the front photo, fused; the
        template has no landmarks yet, so no replay test)."""
        cal, front = self.calibration, analyses[0].embeddings

        def identity(a: FaceAnalysis) -> float:
            return float(cal.fuse({n: np.array(a.embeddings[n] @ front[n]) for n in cal.model_names}))
        frames = [self._frame(template, a, data, identity(a), cal.threshold) for a, data in zip(analyses, photos)]
        lv = liveness.evaluate(steps, frames, rules)
        if lv.passed:
            return lv
        first, failed = lv.failures[0], {}
        for c in lv.failures:
            failed.setdefault(c.step, c.code)
        for r in reports:
            if r.index in failed:
                r.ok, r.reason = False, failed[r.index]
        raise EnrolmentError(first.code or "liveness_failed",
                             f"Photo {first.step + 1} does not show the head turned {first.pose} "
                             "as asked." if first.check == "direction" else
                             f"Photo {first.step + 1} failed the liveness check ({first.check}).",
                             reports, {"liveness": lv.to_dict()})

    def _refuse_duplicates(self, analyses: list[FaceAnalysis], reports: list[PhotoReport]) -> None:
        """Two enrolment photos that are one image (the replay test of face/replay.py): the later
        photo of each such pair is marked; three copies of one photo cannot make a template."""
        thr = self.config.replay_threshold
        dups = replay.duplicates([a.embeddings for a in analyses], thr)
        if not dups:
            return
        for r in reports:
            if any(r.index == j for _, j, _ in dups):
                r.ok, r.reason = False, DUPLICATE_ENROLMENT_PHOTOS
        i, j, score = dups[0]
        raise EnrolmentError(
            DUPLICATE_ENROLMENT_PHOTOS,
            f"Photo {j + 1} is the same picture as photo {i + 1}; take three separate photos.",
            reports, {"pair": [i, j], "score": round(score, 6), "threshold": thr,
                      "pairs": [{"photos": [a, b], "score": round(s, 6)} for a, b, s in dups]})

    def _refuse_inconsistent(self, analyses: list[FaceAnalysis], reports: list[PhotoReport]) -> None:
        """Every pair of enrolment photos must match; the odd one out is named when there is one."""
        cal = self.calibration
        pairs = {}
        for i, j in itertools.combinations(range(ENROLMENT_PHOTOS), 2):
            cos = {n: np.array(analyses[i].embeddings[n] @ analyses[j].embeddings[n]) for n in cal.model_names}
            pairs[(i, j)] = float(cal.fuse(cos))
        disagree = {k for k, s in pairs.items() if s < cal.threshold}
        if not disagree:
            return
        odd = [i for i in range(ENROLMENT_PHOTOS) if sum(i in k for k in disagree) == 2]
        for r in reports:
            if r.index in odd or len(odd) != 1:
                r.ok, r.reason = False, INCONSISTENT_ENROLMENT_PHOTOS
        raise EnrolmentError(
            INCONSISTENT_ENROLMENT_PHOTOS,
            "The photos do not all show the same face." + (f" Photo {odd[0] + 1} differs." if len(odd) == 1 else ""),
            reports, {"odd_one_out": odd[0] if len(odd) == 1 else None, "threshold": cal.threshold,
                      "pairs": [{"photos": list(k), "score": round(s, 4)} for k, s in pairs.items()]})

    # --- challenge-response liveness (face/liveness.py) ---
    def verify_challenge(self, template: Template, frames: Sequence[bytes], steps: Sequence[str],
                         rules: liveness.LivenessRules) -> Verification:
        """The front frame verified as a single selfie is; the other frames detected, meshed and
        embedded (identity from dlib's own view, calibrated as ``liveness_identity_z``; the
        replay test against the enrolment photos like the front frame's), then every liveness
        check. A frame without a usable face raises FaceError naming its step."""
        verified = self.verify(template, frames[0], with_mesh=True)
        a = verified.analysis
        # (the front frame's replay test is the match's own: replayed_image with the photo it copies)
        observed = [self._frame(template, a, frames[0], verified.match.score, self.calibration.threshold)]
        for i, data in enumerate(frames[1:], start=1):
            t = time.perf_counter()
            observed.append(self._challenge_frame(template, data, i))
            a.timings_ms[f"frame_{i}"] = _ms_since(t)
        verified.liveness = liveness.evaluate(steps, observed, rules)
        return verified

    def _challenge_frame(self, template: Template, data: bytes, step: int) -> liveness.Frame:
        try:
            a = self.inspect(data, with_mesh=True)
            single = next(c for c in a.checks if c.name == "single_face")
            if not single.ok:
                raise FaceError(single.reason or "multiple_faces", _MESSAGES["multiple_faces"],
                                {"checks": [single.to_dict()]})
        except FaceError as exc:
            raise FaceError(exc.code, f"Step {step + 1} of the challenge: {exc.message}",
                            {**exc.details, "step": step}) from exc
        plain: dict[str, np.ndarray] = {}
        emb = self.embed(a, plain)
        m = self.calibration.model(CONTINUITY_MODEL)
        z = (float((template.embeddings[m.name] @ plain[m.name]).max()) - m.impostor_mean) / m.impostor_std
        copy = replay.check(template.embeddings, emb, self.config.replay_threshold)
        return self._frame(template, a, data, z, self.config.liveness_identity_z, copy)

    @staticmethod
    def _frame(template: Template, a: FaceAnalysis, data: bytes, identity: float,
               limit: float, copy: replay.Replay | None = None) -> liveness.Frame:
        points = a.mesh
        rep = None if template.meshes is None else liveness.replay_residual(template.meshes, points)
        return liveness.Frame(points=points, pose=liveness.pose_of(points), identity=identity,
                              identity_limit=limit, replay=rep, digest=hashlib.sha256(data).hexdigest(),
                              copy=copy.score if copy else None, copy_limit=copy.threshold if copy else 1.0)

    def verify(self, template: Template, data: bytes, with_mesh: bool = False) -> Verification:
        """Score the probe against the template, with the replay evidence: is the probe one of
        the enrolment photos again? (The decision rejects a replay even when the face matches.)"""
        analysis = self.analyse(data, with_mesh)
        match = self.calibration.score_template(template, analysis.embeddings)
        rep = replay.check(template.embeddings, analysis.embeddings, self.config.replay_threshold)
        match = dataclasses.replace(match, replay_score=rep.score, replay_threshold=rep.threshold,
                                    replay_of=rep.photo)
        return Verification(analysis, match)


def _ms_since(t: float) -> float:
    return (time.perf_counter() - t) * 1000.0


_engine: FaceEngine | None = None
_engine_lock = threading.Lock()


def get_engine(config: FaceConfig | None = None) -> FaceEngine:
    """The process-wide engine. The first caller's config wins."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = FaceEngine(config)
        return _engine
