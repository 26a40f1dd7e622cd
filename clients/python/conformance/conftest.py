"""What every framework's conformance suite shares: a real `tinyv serve` and what it counted.

run.sh runs each folder's tests in that framework's own venv. A folder's tests take the
`tinyv` fixture (rules only) or `tinyv_llm` (the vLLM stand-in as its LLM verifier), and
`tiny_tokenizer` where the framework needs a Hugging Face tokenizer (built here: no Hub).
At the end the calls the servers counted are printed, and appended as one JSON line to
$TINYV_CONFORMANCE_REPORT when it is set.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # tinyv_server: the SDK tests' server fixture
sys.path.insert(0, str(HERE))  # tiny: the test tokenizer

from tinyv_server import TinyVServer, start_judge  # noqa: E402

_counted: List[Dict[str, float]] = []
_started = time.monotonic()


def _counts(server: TinyVServer) -> Dict[str, float]:
    series = server.metrics()
    rpcs = {
        key.split('method="')[1].split('"')[0]: value
        for key, value in series.items()
        if key.startswith("tinyv_rpcs_total{")
    }
    items = sum(v for k, v in series.items() if k.startswith("tinyv_items_total{"))
    llm = sum(v for k, v in series.items() if k.startswith("tinyv_items_total{") and 'decided_by="LLM"' in k)
    return {**{f"rpc_{m}": v for m, v in sorted(rpcs.items())}, "items": items, "decided_by_llm": llm}


def _serve(*args: str) -> Iterator[TinyVServer]:
    server = TinyVServer(*args).start()
    try:
        yield server
    finally:
        try:
            _counted.append(_counts(server))
        finally:
            server.stop()


@pytest.fixture(scope="session")
def tinyv() -> Iterator[TinyVServer]:
    """A rules-only `tinyv serve` on free ports, for the whole session."""
    yield from _serve()


@pytest.fixture(scope="session")
def tinyv_llm() -> Iterator[TinyVServer]:
    """`tinyv serve` in addon mode with the vLLM stand-in: a "right" answer the rules reject is True."""
    judge, url = start_judge()
    try:
        yield from _serve("--llm-url", url, "--llm-retries", "0", "--cache-entries", "0")
    finally:
        judge.terminate()
        judge.wait(10)


@pytest.fixture(scope="session")
def tiny_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A directory holding a byte-level Hugging Face tokenizer with a ChatML template."""
    from tiny import save_tiny_tokenizer

    return save_tiny_tokenizer(tmp_path_factory.mktemp("tokenizer"))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _counted:
        return  # a folder with fixtures of its own (the HTTP routes' folders)
    framework = Path(str(config.args[0]) if config.args else ".").resolve().name
    total: Dict[str, float] = {}
    for counts in _counted:
        for key, value in counts.items():
            total[key] = total.get(key, 0.0) + value
    line = {"framework": framework, "seconds": round(time.monotonic() - _started, 1), "server": total}
    terminalreporter.write_line(f"conformance {framework}: {json.dumps(line)}")
    report = os.environ.get("TINYV_CONFORMANCE_REPORT")
    if report:
        with open(report, "a") as out:
            out.write(json.dumps(line) + "\n")
