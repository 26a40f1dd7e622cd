#!/usr/bin/env bash
# Debian's chromium, for the test that renders `tinyv eval --report` in a real browser
# (test/e2e/cli-report.test.ts). Skipped when present. CI runs as root on Debian 12.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "chromium is missing: run 'apt-get install chromium' as root" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
chromium --version
