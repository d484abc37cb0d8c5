#!/usr/bin/env bash
# One command for the local stack: creates .venv with Python 3.12 if missing, installs the dev
# requirements, then runs `python -m local.stack` (moto server, resources, demo data, chalice local,
# scheduler). Extra arguments go to local.stack, e.g. `bash scripts/dev.sh --now 2026-03-03T07:45:00+08:00`.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  if command -v python3.12 >/dev/null 2>&1; then command -v python3.12; return; fi
  for p in /root/.pyenv/versions/3.12*/bin/python3.12; do
    if [ -x "$p" ]; then echo "$p"; return; fi
  done
  return 1
}

if [ ! -x .venv/bin/python ]; then
  PY="$(find_python)" || { echo "Python 3.12 not found (python3.12 on PATH or /root/.pyenv/versions/3.12*)" >&2; exit 1; }
  echo "creating .venv with $PY"
  "$PY" -m venv .venv
fi

stamp=.venv/.requirements-stamp
want="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install -q -r requirements-dev.txt
  echo "$want" > "$stamp"
fi

exec .venv/bin/python -m local.stack "$@"
