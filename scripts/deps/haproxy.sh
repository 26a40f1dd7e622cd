#!/usr/bin/env bash
# Prints the path of haproxy (Debian's package; its gRPC over h2c is what the proxy tests use).
set -euo pipefail
bash "$(dirname "$0")/apt.sh" haproxy
command -v haproxy || echo /usr/sbin/haproxy
