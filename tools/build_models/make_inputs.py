"""Deterministic parity inputs: seeded random arrays plus a few photos from ../shared/faces/dev
(read in place, decoded and resized here, never copied into the repo).

  python make_inputs.py <faces dir or ""> <out dir> [model ...]

With model names, only their cases are written (e.g. `facemesh` alone).

Writes <out>/inputs.json describing cases and <out>/<case>.bin (raw little-endian float32).
Each case is the exact array fed both to the TF.js original and to the ONNX file (ONNX side) ---
for models whose ONNX graph does preprocessing the TF.js side gets the natively preprocessed
array, produced in parity.mjs with TF.js ops (see `native_pre`).
"""
import json
import os
import sys

import numpy as np

# photos used when ../shared/faces is available: an LFW crop and a raw (selfie-like) photo
PHOTOS = ["dev/Aaron_Peirsol/1.jpg", "dev/deepface__Jack_Dorsey/1.jpg"]


def load_photo(path, size):
    """RGB float32 [size,size,3] 0..255: pad to square (bottom/right, black), bilinear resize."""
    import tensorflow as tf  # build venv only

    img = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
    h, w = int(img.shape[0]), int(img.shape[1])
    s = max(h, w)
    img = tf.image.pad_to_bounding_box(img, 0, 0, s, s)
    img = tf.image.resize(tf.cast(img, tf.float32), (size, size), method="bilinear", antialias=True)
    return np.clip(img.numpy(), 0, 255).astype(np.float32)


def load_centre_crop(path, frac, size):
    """RGB float32 [size,size,3] 0..255: the central square `frac` of the short side (an LFW photo's
    face, about as FaceMesh sees it), bilinear resize."""
    import tensorflow as tf  # build venv only

    img = tf.io.decode_jpeg(tf.io.read_file(path), channels=3)
    h, w = int(img.shape[0]), int(img.shape[1])
    s = round(min(h, w) * frac)
    img = tf.image.crop_to_bounding_box(img, (h - s) // 2, (w - s) // 2, s, s)
    img = tf.image.resize(tf.cast(img, tf.float32), (size, size), method="bilinear", antialias=True)
    return np.clip(img.numpy(), 0, 255).astype(np.float32)


def main():
    faces, out = sys.argv[1], sys.argv[2]
    only = set(sys.argv[3:])
    os.makedirs(out, exist_ok=True)
    rng = np.random.RandomState(20240607)
    cases = []

    def add(model, name, arr, **extra):
        if only and model not in only:
            return
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        fn = f"{model}.{name}.bin"
        arr.tofile(os.path.join(out, fn))
        cases.append({"model": model, "case": name, "file": fn, "shape": list(arr.shape), **extra})

    photos = []
    if faces and os.path.isdir(faces):
        photos = [(os.path.splitext(p)[0].replace("/", "_"), os.path.join(faces, p))
                  for p in PHOTOS if os.path.exists(os.path.join(faces, p))]

    # BlazeFace: caller passes x/127.5-1 in [-1,1]; both sides get the same array
    for model, size in (("blazeface-front", 128), ("blazeface-back", 256)):
        for i in range(2):
            add(model, f"rand{i}", rng.uniform(-1, 1, (1, size, size, 3)))
        for name, p in photos:
            add(model, name, load_photo(p, size)[None] / 127.5 - 1.0, photo=p)

    # dlib / face-api: RGB 0..255 [N,150,150,3]; face-api itself normalises
    add("dlib-resnet", "rand_batch2", rng.uniform(0, 255, (2, 150, 150, 3)))
    for name, p in photos:
        add("dlib-resnet", name, load_photo(p, 150)[None], photo=p)

    # faceres: ONNX gets RGB 0..255; TF.js original gets BGR - VGG mean (done in parity.mjs)
    add("faceres", "rand_batch2", rng.uniform(0, 255, (2, 224, 224, 3)))
    for name, p in photos:
        add("faceres", name, load_photo(p, 224)[None], photo=p)

    # facemesh: the face crop, RGB scaled to [0,1] by the caller (Human: crop / 255); both sides get
    # the same array. A batch of 2 exercises the dynamic batch axis.
    add("facemesh", "rand_batch2", rng.uniform(0, 1, (2, 192, 192, 3)))
    for name, p in photos:
        add("facemesh", name + "_centre", load_centre_crop(p, 0.6, 192)[None] / 255.0, photo=p)
        add("facemesh", name, load_photo(p, 192)[None] / 255.0, photo=p)

    with open(os.path.join(out, "inputs.json"), "w") as f:
        json.dump(cases, f, indent=1)
    print(f"{len(cases)} parity cases in {out}")


if __name__ == "__main__":
    main()
