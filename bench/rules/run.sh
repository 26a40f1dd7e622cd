#!/usr/bin/env bash
# Rule verifier vs Math-Verify, same items, same run. Creates bench/.venv on first use.
# Usage: bash bench/rules/run.sh [DATA.jsonl]   (PASSES=n: timed passes per side, per-item median; default 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
data="${1:-../shared/data/hardverify-math-dev.jsonl}"
out="bench/out/rules"
mkdir -p "$out"
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install -q 'math-verify[antlr4_13_2]==0.8.0' 'antlr4-python3-runtime==4.13.2'
fi
npx tsc -p tsconfig.build.json >/dev/null || echo "(tsc reported errors; dist/ was still emitted)" >&2
node bench/rules/latency.mjs "$data" "$out/ours.json"
bench/.venv/bin/python bench/rules/mathverify.py "$data" "$out/mathverify.json"
echo "machine: $(uname -sm), $(nproc) cores, node $(node --version), $(bench/.venv/bin/python --version)"
node bench/rules/report.mjs "$out/ours.json" "$out/mathverify.json"
