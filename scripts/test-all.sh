#!/usr/bin/env bash
# Every test of the repo: TypeScript (typecheck, lint, proto lint, generated code, vitest),
# the Python SDK (pytest) and the Rust crate (fmt, clippy, cargo test). Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }

step "build"
npm run build
step "typecheck"
npx tsc -p tsconfig.json --noEmit
step "lint (biome)"
npx biome check .
step "proto lint (buf)"
npx buf lint
step "generated code is fresh"
bash scripts/check-generated.sh
step "llama.cpp's llama-server for the LLM tests (built once, cached by version)"
bash scripts/llama/build.sh
step "deployment tools (haproxy, helm, kubernetes-validate, hadolint, Ray; cached by version)"
bash scripts/deps/all.sh
step "chromium (for the eval report test; skipped when present)"
bash scripts/deps/chromium.sh
step "TypeScript tests (vitest)"
npx vitest run

if [ -f clients/python/run-tests.sh ]; then
  step "Python SDK (pytest)"
  bash clients/python/run-tests.sh
  step "Ray launcher (pytest, a local Ray cluster)"
  bash scripts/test-ray.sh
fi

if [ -f clients/python/conformance/run.sh ]; then
  step "Trainer conformance (each framework's own reward code at a pinned release)"
  bash clients/python/conformance/run.sh
fi

if [ -f clients/rust/Cargo.toml ]; then
  step "Rust crate (fmt, clippy, cargo test)"
  (
    cd clients/rust
    cargo fmt --check
    cargo clippy --all-targets --locked -- -D warnings
    cargo test --locked
  )
fi
step "all tests passed"
