#!/usr/bin/env bash
# Python SDK benchmark: TinyV over gRPC vs Math-Verify in-process (results: bench/RESULTS.md).
# Creates bench/.venv (gitignored) with math-verify and the SDK; needs the server built.
# Usage: bench/python/run.sh [--items 10000] [--mv-items N] [--target HOST:PORT]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/bench/.venv"
if [ ! -x "$venv/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet "math-verify[antlr4_13_2]" -e "$root/clients/python"
cd "$root"
exec "$venv/bin/python" bench/python/bench_sdk.py "$@"
