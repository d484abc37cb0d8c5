#!/usr/bin/env bash
# Build the Lambda zip (infra/dist/hadir-lambda.zip) with Python 3.12 for manylinux x86_64.
# Fails when a dependency cannot be installed or the unzipped size exceeds 250 MB.
# Usage: bash scripts/package.sh [--out PATH] [--no-compile] [--limit-mb N]   (infra/package.py -h)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/bootstrap.sh"  # .venv: Python 3.12 with pip and chalice (its runtime goes in the zip)
exec "$root/.venv/bin/python" "$root/infra/package.py" "$@"
