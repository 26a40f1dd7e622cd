#!/usr/bin/env bash
# The Ray launcher's tests (clients/python/tests/test_ray.py) in a venv with Ray from PyPI
# (scripts/deps/ray.sh); the SDK comes from the source tree. Needs the server built.
set -euo pipefail
cd "$(dirname "$0")/../clients/python"
python="$(bash ../../scripts/deps/ray.sh)"
PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" exec "$python" -m pytest -q -p no:cacheprovider \
  -W ignore::pytest.PytestConfigWarning tests/test_ray.py "$@"
