#!/usr/bin/env bash
# One command for the local stack: sets the machine up (scripts/bootstrap.sh: .venv with Python 3.12,
# pinned requirements; quick when nothing changed), then runs `python -m local.stack` (moto server,
# resources, demo data, chalice local, scheduler). Extra arguments go to local.stack, e.g.
#   bash scripts/dev.sh --now 2026-03-03T07:45:00+08:00
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m local.stack "$@"
