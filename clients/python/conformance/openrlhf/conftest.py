"""Fixtures for OpenRLHF's own code against a real `tinyv serve` (see ../tinyv_server.py)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tinyv_server import TinyV  # noqa: E402


@pytest.fixture(scope="session")
def server():
    s = TinyV()
    yield s
    assert s.stop() == 0
