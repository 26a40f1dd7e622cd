#!/usr/bin/env bash
# Test the Python SDK from a fresh clone: venv, install, stub freshness, pytest.
# Needs the server built first (npm ci, or npm run build, at the repo root).
# Usage: clients/python/run-tests.sh [pytest args...]   e.g. -m "not slow"
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
python="${PYTHON:-python3}"
venv="$here/.venv"

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e ".[test]"

# The committed stubs must be exactly what the pinned grpcio-tools makes from ../../proto.
"$venv/bin/python" scripts/gen.py --check

if [ ! -f "$here/../../dist/cli/main.js" ]; then
  echo "run-tests.sh: the server is not built; run 'npm ci' (or 'npm run build') at the repo root" >&2
  exit 1
fi

exec "$venv/bin/python" -m pytest -q "$@"
