#!/usr/bin/env bash
# Prints the path of a helm binary, building it once from the Go module proxy and
# caching it by version under ${TINYV_CACHE:-$HOME/.cache/tinyv}/helm-<version>/.
set -euo pipefail
version="${HELM_VERSION:-v3.22.0}"
dir="${TINYV_CACHE:-$HOME/.cache/tinyv}/helm-$version"
if [ ! -x "$dir/helm" ]; then
  command -v go >/dev/null || { echo "helm.sh: go is needed to build helm $version" >&2; exit 1; }
  mkdir -p "$dir"
  work="$(mktemp -d)"
  trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
  echo "helm.sh: building helm $version (once; cached in $dir)" >&2
  # A module cache of its own, removed after the build: nothing left in ~/go.
  GOBIN="$work/bin" GOMODCACHE="$work/mod" GOCACHE="$work/cache" GOFLAGS=-mod=mod CGO_ENABLED=0 \
    go install "helm.sh/helm/v3/cmd/helm@$version" >&2
  mv "$work/bin/helm" "$dir/helm.tmp" && mv "$dir/helm.tmp" "$dir/helm"
fi
echo "$dir/helm"
