"""A real `tinyv serve` for the conformance tests of the HTTP trainer routes (OpenRLHF, slime, NeMo Gym).

Self-sufficient: it needs neither the SDK nor the runner, only the built server at the repo root
(`npm ci`, or `npm run build`). It starts `node bin/tinyv.js serve --port 0 --http-port 0` and reads the
first two stdout lines, `listening on HOST:PORT` and `http on HOST:PORT`. Set TINYV_NODE for another node.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

REPO = Path(__file__).resolve().parents[3]
CLI = REPO / "bin" / "tinyv.js"
BUILT = REPO / "dist" / "cli" / "main.js"
START_TIMEOUT = 60.0


class TinyV:
    """One `tinyv serve` process on free ports."""

    def __init__(self, *args: str) -> None:
        if not BUILT.exists():
            raise RuntimeError(f"the server is not built ({BUILT} is missing): run `npm ci` in {REPO}")
        node = os.environ.get("TINYV_NODE") or shutil.which("node") or "node"
        self._log = tempfile.NamedTemporaryFile(prefix="tinyv-serve-", suffix=".log", delete=False)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TINYV_")}
        cmd = [node, str(CLI), "serve", "--port", "0", "--http-port", "0", "--log-level", "warn", *args]
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=self._log, text=True)
        self.grpc_port, self.http_port = self._read_ports()
        self.url = f"http://127.0.0.1:{self.http_port}"

    def _read_ports(self) -> tuple:
        assert self.proc.stdout is not None
        timer = threading.Timer(START_TIMEOUT, self.proc.kill)
        timer.start()
        found: Dict[str, int] = {}
        try:
            while len(found) < 2:
                line = self.proc.stdout.readline()
                if not line:
                    break
                for key, prefix in (("grpc", "listening on "), ("http", "http on ")):
                    if line.startswith(prefix):
                        found[key] = int(line.strip().rsplit(":", 1)[1])
        finally:
            timer.cancel()
        if len(found) < 2:
            self.stop()
            raise RuntimeError(f"tinyv serve did not start:\n{Path(self._log.name).read_text()[-3000:]}")
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        return found["grpc"], found["http"]

    def post(self, path: str, body: object) -> tuple:
        """(status, JSON reply) of a plain JSON POST."""
        req = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                return res.status, json.loads(res.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def metric(self, name: str, **labels: str) -> float:
        """The sum of a Prometheus counter's samples whose labels include `labels` (0 when none)."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as res:
            text = res.read().decode()
        total = 0.0
        for m in re.finditer(rf"^{re.escape(name)}(?:\{{([^}}]*)\}})? (\S+)$", text, re.M):
            got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1) or ""))
            if all(got.get(k) == v for k, v in labels.items()):
                total += float(m.group(2))
        return total

    def calls(self, method: str) -> int:
        """The calls of one trainer route the server counted (tinyv_rpcs_total)."""
        return int(self.metric("tinyv_rpcs_total", method=method, transport="http"))

    def stop(self) -> Optional[int]:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()


@pytest.fixture(scope="session")
def server() -> Iterator[TinyV]:
    """One rules-only server for the session; a conftest imports this fixture."""
    s = TinyV()
    yield s
    report = os.environ.get("TINYV_CALLS_OUT")  # bench/trainers/conformance.sh reads the calls counted
    if report:
        rpcs = s.metric("tinyv_rpcs_total", transport="http")
        Path(report).write_text(json.dumps({"http_calls": rpcs, "items": s.metric("tinyv_items_total")}))
    assert s.stop() == 0


def readme_flags(marker: str) -> List[str]:
    """The README's shell command with `marker` in it, its continuation lines joined, split like a shell."""
    import shlex

    lines = (REPO / "README.md").read_text().splitlines()
    at = next((i for i, line in enumerate(lines) if marker in line), None)
    if at is None:
        raise AssertionError(f"README.md has no command line with {marker!r}")
    while at > 0 and lines[at - 1].endswith("\\"):
        at -= 1
    text = lines[at]
    while text.endswith("\\"):
        at += 1
        text = text[:-1] + " " + lines[at]
    return shlex.split(text, comments=True)
