#!/usr/bin/env bash
# CLI start-up against Math-Verify, side by side in one run: `tinyv check`, `tinyv eval` of 1 item and of
# 2,000 items (whole processes), and a Python process running Math-Verify 0.9.0's parse + verify over the
# same 2,000 items. Creates bench/.venv-mathverify on first use.
# Usage: bash bench/cli/startup.sh [ROUNDS]   (default 5; items from ../shared/data, or DATA=dir)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-5}"
data="${DATA:-../shared/data}"
out="bench/out/cli"
mkdir -p "$out"
venv=bench/.venv-mathverify
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'math-verify==0.9.0' 'antlr4-python3-runtime==4.13.2'
fi
npm run build >/dev/null
node bench/cli/items.mjs 2000 "$out/items-2000.jsonl" "$data"
node bench/cli/items.mjs 1 "$out/items-1.jsonl" "$data"
echo "machine: $(uname -sm), $(nproc) cores, node $(node --version), $("$venv/bin/python" --version), math-verify $("$venv/bin/pip" show math-verify | sed -n 's/^Version: //p')"
echo "tinyv eval 2000 items: $(node bin/tinyv.js eval "$out/items-2000.jsonl" --mode rules_only --json 2>/dev/null | node -e 'const t=JSON.parse(require("fs").readFileSync(0,"utf8")).total; console.log(`accuracy ${t.accuracy}, accepted ${t.acceptedCorrect + t.acceptedWrong}`)')"
echo "math-verify 2000 items: $("$venv/bin/python" bench/cli/mathverify_loop.py "$out/items-2000.jsonl")"
node bench/cli/pairs.mjs "$rounds" \
  "tinyv eval 2000=node bin/tinyv.js eval $out/items-2000.jsonl --mode rules_only >/dev/null 2>&1" \
  "math-verify 2000=$venv/bin/python bench/cli/mathverify_loop.py $out/items-2000.jsonl >/dev/null" \
  "tinyv eval 1=node bin/tinyv.js eval $out/items-1.jsonl --mode rules_only >/dev/null 2>&1" \
  "tinyv check=node bin/tinyv.js check --gold '\\frac12' --response '\\boxed{0.5}' >/dev/null"
