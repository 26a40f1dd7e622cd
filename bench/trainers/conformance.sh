#!/usr/bin/env bash
# Each HTTP-route conformance folder (OpenRLHF, slime, NeMo Gym): the time to build its venv on a cold uv cache,
# the wall time of its test run, and the calls the server counted (tinyv_rpcs_total, tinyv_items_total).
# Usage: bash bench/trainers/conformance.sh [folder ...]     (needs uv on PATH and `npm run build` done)
# Prints one JSON line per folder.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export UV_CACHE_DIR="$work/uv-cache" UV_PYTHON_DOWNLOADS=never
now() { date +%s.%N; }
for folder in "${@:-openrlhf slime_remote nemo_gym}"; do
  for f in $folder; do
    cd "$repo/clients/python/conformance/$f"
    t0=$(now)
    uv venv -q "$work/venv-$f"
    uv pip install -q -p "$work/venv-$f" -r requirements.txt
    if [ -f requirements-nodeps.txt ]; then uv pip install -q -p "$work/venv-$f" --no-deps -r requirements-nodeps.txt; fi
    t1=$(now)
    TINYV_CALLS_OUT="$work/calls-$f.json" "$work/venv-$f/bin/python" -m pytest -q >"$work/pytest-$f.log" 2>&1 \
      || { tail -30 "$work/pytest-$f.log"; exit 1; }
    t2=$(now)
    python3 - "$f" "$t0" "$t1" "$t2" "$work/calls-$f.json" "$work/pytest-$f.log" <<'PY'
import json, sys
f, t0, t1, t2, calls, log = sys.argv[1:]
summary = open(log).read().strip().splitlines()[-1]
print(json.dumps({"folder": f, "install_cold_s": round(float(t1) - float(t0), 1),
                  "tests_s": round(float(t2) - float(t1), 1), **json.load(open(calls)), "pytest": summary}))
PY
  done
done
