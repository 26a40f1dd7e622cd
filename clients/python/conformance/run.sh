#!/usr/bin/env bash
# Conformance: each framework's own code, at a pinned release, against a real `tinyv serve`.
#
# Every subfolder with a requirements.txt is a framework: it gets a venv of its own, made with uv
# from PyPI and cached by the folder's requirements (plus the SDK's pyproject) under
# ${TINYV_CACHE:-$HOME/.cache/tinyv}/conformance/<folder>-<sha>, with the SDK installed editable;
# then pytest runs that folder (conftest.py here gives the server fixtures). A folder may add
# requirements-nodeps.txt: packages installed without their dependencies (a framework whose
# declared dependencies go far past what its reward code imports), a .python-version (else
# $PYTHON or python3), and uv settings in its pyproject.toml (uv runs in the folder). uv's cache, shared by every
# venv (torch once), is ${TINYV_CACHE}/conformance/uv-cache; resolution is frozen at
# UV_EXCLUDE_NEWER so that a cached venv and a fresh one agree.
#
# Usage: clients/python/conformance/run.sh [framework...] [-- pytest args]
# Needs the server built (npm run build). $TINYV_CONFORMANCE_REPORT, if set, collects one JSON
# line per framework: its pytest wall time and the calls its servers counted.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sdk="$(cd "$here/.." && pwd)"
root="$(cd "$sdk/../.." && pwd)"
cache="${TINYV_CACHE:-$HOME/.cache/tinyv}/conformance"
python="${PYTHON:-python3}"
uv_version="0.13.9"
export UV_CACHE_DIR="$cache/uv-cache"
export UV_EXCLUDE_NEWER="${UV_EXCLUDE_NEWER:-2026-12-01T00:00:00Z}"
export UV_NO_PROGRESS=1 UV_PYTHON_DOWNLOADS=never

frameworks=()
pytest_args=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then
    shift
    pytest_args=("$@")
    break
  fi
  frameworks+=("${1%/}")
  shift
done
if [ ${#frameworks[@]} -eq 0 ]; then
  for req in "$here"/*/requirements.txt; do
    frameworks+=("$(basename "$(dirname "$req")")")
  done
fi

if [ ! -f "$root/dist/cli/main.js" ]; then
  echo "conformance: the server is not built; run 'npm ci' (or 'npm run build') at the repo root" >&2
  exit 1
fi

# uv from PyPI, once, unless one is on PATH.
uv="$(command -v uv || true)"
if [ -z "$uv" ]; then
  tool="$cache/uv-$uv_version"
  if [ ! -x "$tool/bin/uv" ]; then
    "$python" -m venv "$tool"
    "$tool/bin/python" -m pip install --quiet "uv==$uv_version"
  fi
  uv="$tool/bin/uv"
fi

for fw in "${frameworks[@]}"; do
  dir="$here/$fw"
  if [ ! -f "$dir/requirements.txt" ]; then
    echo "conformance: no such framework folder with a requirements.txt: $dir" >&2
    exit 1
  fi
  inputs=("$dir/requirements.txt" "$sdk/pyproject.toml")
  [ -f "$dir/requirements-nodeps.txt" ] && inputs+=("$dir/requirements-nodeps.txt")
  sha="$(cat "${inputs[@]}" | sha256sum | cut -c1-12)"
  venv="$cache/$fw-$sha"
  printf '\n=== conformance: %s (%s)\n' "$fw" "$venv"
  start=$(date +%s)
  # uv runs in the folder, so that its .python-version and pyproject.toml [tool.uv] settings apply.
  pick=(--python "$python")
  [ -f "$dir/.python-version" ] && pick=()
  if [ ! -f "$venv/.ready" ]; then
    rm -rf "$venv"
    (cd "$dir" && "$uv" venv --quiet ${pick[@]+"${pick[@]}"} "$venv")
    (cd "$dir" && "$uv" pip install --quiet --python "$venv/bin/python" -r requirements.txt -e "$sdk")
    if [ -f "$dir/requirements-nodeps.txt" ]; then
      (cd "$dir" && "$uv" pip install --quiet --python "$venv/bin/python" --no-deps -r requirements-nodeps.txt)
    fi
    touch "$venv/.ready"
  fi
  # This checkout's SDK, whichever checkout made the cached venv.
  (cd "$dir" && "$uv" pip install --quiet --python "$venv/bin/python" --no-deps -e "$sdk")
  echo "venv ready in $(($(date +%s) - start)) s"
  (cd "$here" && "$venv/bin/python" -m pytest -c "$here/pytest.ini" --rootdir "$here" -q "$fw" \
    ${pytest_args[@]+"${pytest_args[@]}"})
done
