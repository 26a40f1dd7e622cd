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
step "TypeScript tests (vitest)"
npx vitest run

if [ -f clients/python/run-tests.sh ]; then
  step "Python SDK (pytest)"
  bash clients/python/run-tests.sh
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
