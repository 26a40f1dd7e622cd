#!/usr/bin/env bash
# Python SDK benchmarks (results: bench/RESULTS.md). Creates bench/.venv (gitignored) with the SDK;
# needs the server built (npm run build).
#   bench/python/run.sh [--items 10000] [--mv-items N] [--target HOST:PORT]   TinyV over gRPC vs Math-Verify
#   bench/python/run.sh coalesce [--reps 3] [--profile] [--json F]           per-sample calls vs one stream
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/bench/.venv"
if [ ! -x "$venv/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$venv"
fi
cd "$root"
if [ "${1:-}" = "coalesce" ]; then
  shift
  "$venv/bin/python" -m pip install --quiet pyinstrument==5.1.3 -e "$root/clients/python"
  exec "$venv/bin/python" bench/python/bench_coalesce.py "$@"
fi
"$venv/bin/python" -m pip install --quiet "math-verify[antlr4_13_2]" -e "$root/clients/python"
exec "$venv/bin/python" bench/python/bench_sdk.py "$@"
