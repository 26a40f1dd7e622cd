#!/usr/bin/env bash
# Interop: `tinyv serve` against an OpenAI-compatible judge on FastAPI + uvicorn (vLLM's HTTP stack).
# Creates bench/.venv-interop (gitignored); needs the server built (`npm run build`).
# Usage: bench/interop/run.sh [PORT=8765]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
port="${1:-8765}"
venv="$root/bench/.venv-interop"
if [ ! -x "$venv/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet fastapi uvicorn
cd "$root/bench/interop"
"$venv/bin/python" -m uvicorn app:app --port "$port" --log-level warning &
judge=$!
trap 'kill $judge' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v1/models" >/dev/null && break; sleep 0.2; done
"$venv/bin/python" -c 'import fastapi, uvicorn; print(f"uvicorn {uvicorn.__version__}, fastapi {fastapi.__version__}")'
cd "$root"
node --import ./bench/llm/ts.mjs bench/interop/check.ts "http://127.0.0.1:$port/v1"
