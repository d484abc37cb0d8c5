#!/usr/bin/env bash
# Idempotent install of what infra/ needs: the pinned CDK CLI (npm) and the Python CDK libraries
# into the active Python environment. Usage: bash infra/install.sh [--node-only|--python-only]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mode="${1:-all}"
exec 8<"$here/install.sh" && flock 8  # one at a time: pytest-xdist workers may both call it

if [[ "$mode" != "--python-only" ]]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "infra/install.sh: npm not found; install Node.js 20+ (e.g. apt-get install nodejs npm)" >&2
    exit 1
  fi
  want="$(node -p "require('$here/package.json').devDependencies['aws-cdk']")"
  have="$(node -p "try{require('$here/node_modules/aws-cdk/package.json').version}catch(e){''}")"
  if [[ "$have" != "$want" ]]; then
    npm ci --prefix "$here" --no-audit --no-fund --loglevel=error
  fi
fi

if [[ "$mode" != "--node-only" ]]; then
  # The active virtualenv, else the repository's .venv, else python3 on PATH.
  if [[ -n "${PYTHON:-}" ]]; then py="$PYTHON"
  elif [[ -n "${VIRTUAL_ENV:-}" ]]; then py="$VIRTUAL_ENV/bin/python"
  elif [[ -x "$here/../.venv/bin/python" ]]; then py="$here/../.venv/bin/python"
  else py=python3; fi
  "$py" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi
