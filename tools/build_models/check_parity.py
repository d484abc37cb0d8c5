"""Compare the ONNX files with the TF.js originals' outputs (written by parity.mjs), check the
BlazeFace anchor/keypoint layout and the FaceMesh landmark layout on a real photo, and time single
inferences (1 thread). Only the models that have cases in inputs.json are checked.

  python check_parity.py <models dir> <cases dir> <tfjs out dir> <report.json>

Max relative error per output = max |onnx - tfjs| / max |tfjs| over all cases. Fails if > 1e-5.
"""
import json
import os
import sys
import time

import numpy as np
import onnxruntime as ort

TOL = 1e-5
FILES = {
    "blazeface-front": "blazeface-front.onnx",
    "blazeface-back": "blazeface-back.onnx",
    "dlib-resnet": "dlib-resnet.onnx",
    "faceres": "faceres.onnx",
    "facemesh": "facemesh.onnx",
}
NATIVE_SPLIT = 512  # BlazeFace: rows 0..511 = first native output, 512..895 = second


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def anchors(size):
    """Anchor centres in input pixels, in the models' native row order."""
    if size == 128:
        layers = ((8, 16, 2), (16, 8, 6))
    else:
        layers = ((16, 16, 2), (32, 8, 6))
    out = []
    for stride, grid, per in layers:
        for y in range(grid):
            for x in range(grid):
                for _ in range(per):
                    out.append((stride * (x + 0.5), stride * (y + 0.5)))
    return np.array(out, np.float32)


def keypoint_check(size, reg, scores):
    """Decode the best anchor and check the keypoint order on an upright frontal face."""
    a = anchors(size)
    i = int(np.argmax(scores[0, :, 0]))
    r = reg[0, i]
    cx, cy = a[i] + r[0:2]
    w, h = r[2], r[3]
    kp = a[i] + r[4:16].reshape(6, 2)
    le, re_, nose, mouth, ear_l, ear_r = kp
    checks = {
        "eye0_left_of_eye1": bool(le[0] < re_[0]),
        "nose_below_eyes": bool(nose[1] > max(le[1], re_[1])),
        "mouth_below_nose": bool(mouth[1] > nose[1]),
        "nose_between_eyes_x": bool(le[0] < nose[0] < re_[0]),
        "ear0_left_of_eye0": bool(ear_l[0] < le[0]),
        "ear1_right_of_eye1": bool(ear_r[0] > re_[0]),
        "box_contains_keypoints": bool(np.all(np.abs(kp[:4] - [cx, cy]) < [w / 2, h / 2])),
    }
    return {
        "best_row": i,
        "best_row_block": "rows 0..511" if i < NATIVE_SPLIT else "rows 512..895",
        "score_sigmoid": float(1 / (1 + np.exp(-scores[0, i, 0]))),
        "box_center_wh": [float(cx), float(cy), float(w), float(h)],
        "keypoints": [[round(float(v), 2) for v in p] for p in kp],
        "checks": checks,
        "ok": all(checks.values()),
    }


def landmark_check(landmarks, face_score):
    """FaceMesh on an upright frontal face crop: the score is a probability and the named landmarks
    sit where MediaPipe's canonical face puts them (unmirrored photo: the person's right eye, index
    33, on the image's left; the person's left eye, index 263, on the image's right)."""
    p = landmarks.reshape(-1, 468, 3)[0]
    x, y = p[:, 0], p[:, 1]
    checks = {
        "score_is_probability_and_high": bool(0.9 < float(face_score.reshape(-1)[0]) <= 1.0),
        "inside_crop": bool(np.all((p[:, :2] > -20) & (p[:, :2] < 212))),
        "eye33_image_left_of_eye263": bool(x[33] < x[263]),
        "cheek234_image_left_of_cheek454": bool(x[234] < x[454]),
        "nose1_between_eyes_x": bool(x[33] < x[1] < x[263]),
        "forehead10_above_eyes": bool(y[10] < min(y[33], y[263])),
        "nose1_below_eyes": bool(y[1] > max(y[33], y[263])),
        "chin152_below_nose": bool(y[152] > y[1]),
        "nose_tip_nearest_camera": bool(p[1, 2] < np.median(p[:, 2])),
    }
    return {"face_score": float(face_score.reshape(-1)[0]),
            "points": {str(i): [round(float(v), 2) for v in p[i]] for i in (1, 10, 33, 152, 234, 263, 454)},
            "checks": checks, "ok": all(checks.values())}


def main():
    models_dir, cases_dir, tfjs_dir, report_path = sys.argv[1:5]
    cases = json.load(open(os.path.join(cases_dir, "inputs.json")))
    tfjs = json.load(open(os.path.join(tfjs_dir, "tfjs_outputs.json")))
    ref = {(r["model"], r["case"], r["output"]): r for r in tfjs["results"]}
    report = {"onnxruntime": ort.__version__, "tfjs": tfjs["tfjs"], "faceapi": tfjs.get("faceapi"),
              "tfjs_backend": tfjs["backend"], "tolerance": TOL, "models": {}}
    failed = []
    for model, fn in FILES.items():
        if not any(c["model"] == model for c in cases):
            continue
        path = os.path.join(models_dir, fn)
        sess = session(path)
        iname = sess.get_inputs()[0].name
        onames = [o.name for o in sess.get_outputs()]
        entry = {"file": fn, "cases": [], "max_rel_err": {}, "max_abs_err": {},
                 "input": {i.name: i.shape for i in sess.get_inputs()},
                 "outputs": {o.name: o.shape for o in sess.get_outputs()}}
        worst = {o: 0.0 for o in onames}
        worst_abs = {o: 0.0 for o in onames}
        native = {}
        for c in [c for c in cases if c["model"] == model]:
            x = np.fromfile(os.path.join(cases_dir, c["file"]), np.float32).reshape(c["shape"])
            outs = dict(zip(onames, sess.run(None, {iname: x})))
            for o in onames:
                r = ref[(model, c["case"], o)]
                b = np.fromfile(os.path.join(tfjs_dir, r["file"]), np.float32).reshape(r["shape"])
                a = outs[o]
                assert a.shape == b.shape, (model, o, a.shape, b.shape)
                abs_err = float(np.max(np.abs(a - b)))
                rel = abs_err / float(np.max(np.abs(b)))
                worst[o] = max(worst[o], rel)
                worst_abs[o] = max(worst_abs[o], abs_err)
                entry["cases"].append({"case": c["case"], "output": o, "max_rel_err": rel, "max_abs_err": abs_err})
            if model.startswith("blazeface"):
                # native-order check: ONNX rows 0..511 / 512..895 equal the two native outputs
                for o, n1, n2 in (("scores", "scores_native1", "scores_native2"),
                                  ("regressors", "regressors_native1", "regressors_native2")):
                    for nat, sl in ((n1, slice(0, NATIVE_SPLIT)), (n2, slice(NATIVE_SPLIT, None))):
                        r = ref[(model, c["case"], nat)]
                        b = np.fromfile(os.path.join(tfjs_dir, r["file"]), np.float32).reshape(r["shape"])
                        d = float(np.max(np.abs(outs[o][:, sl] - b)) / np.max(np.abs(b)))
                        native[nat] = max(native.get(nat, 0.0), d)
                if "photo" in c and "Aaron_Peirsol" in c["photo"]:
                    size = c["shape"][1]
                    entry.setdefault("keypoint_check", {})[c["case"]] = keypoint_check(
                        size, outs["regressors"], outs["scores"])
            if model == "facemesh" and c["case"].endswith("Aaron_Peirsol_1_centre"):
                entry["landmark_check"] = landmark_check(outs["landmarks"], outs["face_score"])
        entry["max_rel_err"] = worst
        entry["max_abs_err"] = worst_abs
        if native:
            entry["native_block_max_rel_err"] = native
        for o, v in worst.items():
            if not v <= TOL:
                failed.append(f"{model}/{o}: {v:.3g}")
        # timing: batch 1, 1 thread, median of 50 after 5 warm-up runs
        shape = [1 if not isinstance(d, int) else d for d in sess.get_inputs()[0].shape]
        x = np.random.RandomState(0).uniform(-1, 1, shape).astype(np.float32)
        for _ in range(5):
            sess.run(None, {iname: x})
        ts = []
        for _ in range(50):
            t0 = time.perf_counter()
            sess.run(None, {iname: x})
            ts.append(time.perf_counter() - t0)
        entry["ms_1thread_median"] = round(1000 * float(np.median(ts)), 2)
        entry["loadavg_after_timing"] = round(os.getloadavg()[0], 2)
        report["models"][model] = entry
        print(f"{model}: max rel err {json.dumps({k: float(f'{v:.3g}') for k, v in worst.items()})}"
              f", {entry['ms_1thread_median']} ms (1 thread)")
        if "keypoint_check" in entry:
            for k, v in entry["keypoint_check"].items():
                print(f"  keypoints {k}: ok={v['ok']} row={v['best_row']} kp={v['keypoints']}")
                if not v["ok"]:
                    failed.append(f"{model}: keypoint layout check failed on {k}")
        lc = entry.get("landmark_check")
        if lc:
            print(f"  landmarks: ok={lc['ok']} score={lc['face_score']:.3f} points={lc['points']}")
            if not lc["ok"]:
                failed.append(f"{model}: landmark layout check failed: {lc['checks']}")
    report["failed"] = failed
    report["loadavg_after_timing"] = [round(v, 2) for v in os.getloadavg()]
    with open(report_path, "w") as f:
        json.dump(report, f, indent=1)
    if failed:
        raise SystemExit("PARITY FAILED: " + "; ".join(failed))
    print("parity OK")


if __name__ == "__main__":
    main()
