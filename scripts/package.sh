#!/usr/bin/env bash
# Build the Lambda zips (infra/dist/hadir-lambda.zip, infra/dist/hadir-analytics.zip) with Python 3.12
# for manylinux x86_64; with arguments, the one package they name (infra/package.py --function).
# Fails when a dependency cannot be installed or the unzipped size exceeds 250 MB.
# Usage: bash scripts/package.sh [--out PATH] [--no-compile] [--limit-mb N]   (infra/package.py -h)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/bootstrap.sh"  # .venv: Python 3.12 with pip and chalice (its runtime goes in the zip)
if [[ $# -gt 0 ]]; then  # one package, as the arguments say (--function api|analytics)
  exec "$root/.venv/bin/python" "$root/infra/package.py" "$@"
fi
# Both: the zip of every Chalice function, and the analytics function's (pyarrow; docs/analytics.md)
"$root/.venv/bin/python" "$root/infra/package.py" --function api
exec "$root/.venv/bin/python" "$root/infra/package.py" --function analytics
