#!/usr/bin/env bash
# Fails when src/gen is not what `buf generate` makes from proto/ now.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npx buf generate --output "$tmp"
if ! diff -r src/gen "$tmp/src/gen"; then
  echo "src/gen is stale: run 'npm run generate' and commit the result" >&2
  exit 1
fi
echo "src/gen is fresh"
