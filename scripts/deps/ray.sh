#!/usr/bin/env bash
# Prints the python of a venv with Ray (PyPI) plus what the SDK's tests need, cached by version.
# The SDK itself is not installed there: the Ray tests put clients/python/src on PYTHONPATH.
set -euo pipefail
pins="ray==2.60.0 grpcio==1.71.2 protobuf==5.29.5 pytest==8.4.2"
py="${PYTHON:-python3}"
pyver="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
dir="${TINYV_CACHE:-$HOME/.cache/tinyv}/ray-2.60.0-py$pyver"
if [ ! -x "$dir/bin/ray" ]; then
  echo "ray.sh: installing $pins into $dir" >&2
  rm -rf "$dir"
  "$py" -m venv "$dir"
  # shellcheck disable=SC2086
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check $pins >&2
fi
echo "$dir/bin/python"
