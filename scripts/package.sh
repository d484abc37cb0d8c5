#!/usr/bin/env bash
# Build the Lambda zip (infra/dist/hadir-lambda.zip) with Python 3.12 for manylinux x86_64.
# Fails when a dependency cannot be installed or the unzipped size exceeds 250 MB.
# Usage: bash scripts/package.sh [--out PATH] [--no-compile]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

find_python312() {
  if [[ -n "${PYTHON312:-}" ]]; then echo "$PYTHON312"; return; fi
  local c
  for c in "$root/.venv/bin/python" python3.12 /root/.pyenv/versions/3.12*/bin/python3.12 \
           /usr/local/bin/python3.12 /usr/bin/python3.12; do
    if command -v "$c" >/dev/null 2>&1 &&
       [[ "$("$c" -c 'import sys; print(sys.version_info[:2] == (3, 12))' 2>/dev/null)" == True ]] &&
       "$c" -m pip --version >/dev/null 2>&1; then
      echo "$c"; return
    fi
  done
  echo "scripts/package.sh: no Python 3.12 with pip found (set PYTHON312=...)" >&2
  exit 1
}

py="$(find_python312)"
exec "$py" "$root/infra/package.py" "$@"
