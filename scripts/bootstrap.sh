#!/usr/bin/env bash
# Set up everything the project needs on a fresh machine, idempotently:
#   .venv with Python 3.12 and the pinned dev requirements (runtime + local AWS stand-in + tests),
#   the infra toolchain (CDK libraries, cfn-lint, the pinned aws-cdk CLI from npm),
#   Debian's chromium for the browser tests (tests/browser: Playwright drives /usr/bin/chromium;
#   Playwright's own browser download cannot work offline and is never run).
# Re-runs are quick: nothing is reinstalled unless a requirements file changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
exec 9<"$root/scripts/bootstrap.sh" && flock 9  # one at a time (tests run package.sh in parallel)

find_python312() {
  local c
  for c in "${PYTHON312:-}" python3.12 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12 \
           /usr/local/bin/python3.12 /usr/bin/python3.12; do
    [[ -n "$c" ]] || continue
    if command -v "$c" >/dev/null 2>&1 &&
       [[ "$("$c" -c 'import sys; print(sys.version_info[:2] == (3, 12))' 2>/dev/null)" == True ]]; then
      echo "$c"; return
    fi
  done
  echo "bootstrap: Python 3.12 not found (install python3.12 or set PYTHON312=/path/to/python3.12)" >&2
  exit 1
}

if [[ ! -x .venv/bin/python ]]; then
  py="$(find_python312)"
  echo "bootstrap: creating .venv with $py" >&2
  "$py" -m venv .venv
fi

stamp=.venv/.hadir-requirements.sha256
want="$(cat requirements.txt requirements-analytics.txt requirements-dev.txt infra/requirements.txt infra/package-lock.json | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  echo "bootstrap: installing pinned requirements into .venv" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  PYTHON="$root/.venv/bin/python" bash infra/install.sh
  echo "$want" > "$stamp"
fi

# Debian's chromium for tests/browser (as root, with apt-get; apt-get update only when the package
# lists do not know it yet). Set HADIR_SKIP_CHROMIUM=1 to skip on a machine without apt.
install_chromium() {
  [[ -x /usr/bin/chromium || -n "${HADIR_SKIP_CHROMIUM:-}" ]] && return 0
  if ! command -v apt-get >/dev/null 2>&1 || [[ "$(id -u)" != 0 ]]; then
    echo "bootstrap: /usr/bin/chromium missing; install Debian's chromium (apt-get install chromium)" >&2
    return 0
  fi
  echo "bootstrap: installing chromium (apt-get) for the browser tests" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-cache show chromium >/dev/null 2>&1; then apt-get update -qq >/dev/null; fi
  apt-get install -y -qq chromium >/dev/null ||  # with its recommends (fonts) as tried
    { apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null; }
}
install_chromium

# Lighthouse (pinned in tests/browser/lighthouse/package-lock.json) for the browser tests' audit.
lh=tests/browser/lighthouse
if command -v npm >/dev/null 2>&1; then
  want_lh="$(node -p "require('./$lh/package.json').devDependencies.lighthouse")"
  have_lh="$(node -p "try{require('./$lh/node_modules/lighthouse/package.json').version}catch(e){''}")"
  if [[ "$have_lh" != "$want_lh" ]]; then
    echo "bootstrap: installing lighthouse $want_lh (npm ci in $lh)" >&2
    npm ci --prefix "$lh" --no-audit --no-fund --loglevel=error
  fi
fi
