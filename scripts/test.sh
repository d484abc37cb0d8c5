#!/usr/bin/env bash
# Run the whole test suite on a fresh machine (sets everything up first). Extra arguments go to
# pytest, e.g. `bash scripts/test.sh tests/face -k enrol`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/bootstrap.sh
exec .venv/bin/python -m pytest -n 2 "$@"
