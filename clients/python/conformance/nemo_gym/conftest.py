"""NeMo Gym's own code against a real `tinyv serve`: the `server` fixture of ../tinyv_http.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tinyv_http import server  # noqa: E402,F401
