"""`tinyv serve` (the built Node server) as a test fixture's process: free ports, metrics, restarts.

Shared by the SDK's tests (conftest.py) and the framework conformance tests (../conformance).
The server must be built first (`npm ci` or `npm run build` at the repo root); set TINYV_NODE
to use another node binary.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

TESTS = Path(__file__).resolve().parent
REPO_ROOT = TESTS.parents[2]
CLI = REPO_ROOT / "bin" / "tinyv.js"
BUILT = REPO_ROOT / "dist" / "cli" / "main.js"
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TinyVServer:
    """One `tinyv serve` process; restart() brings it back on the same ports."""

    def __init__(self, *args: str, port: int = 0, http_port: int = 0) -> None:
        self.args = list(args)
        self.port = port
        self.http_port = http_port
        self.proc: Optional[subprocess.Popen] = None
        self.stdout_lines: List[str] = []
        self._log = tempfile.NamedTemporaryFile(prefix="tinyv-serve-", suffix=".log", delete=False)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def metrics(self) -> Dict[str, float]:
        """The server's Prometheus series, "name{labels}" -> value, from GET /metrics."""
        with urllib.request.urlopen(f"{self.http_url}/metrics", timeout=10) as reply:
            text = reply.read().decode()
        series = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                series[name] = float(value)
        return series

    def counted(self, prefix: str) -> float:
        """The sum of every series whose "name{labels}" starts with prefix."""
        return sum(v for k, v in self.metrics().items() if k.startswith(prefix))

    def rpcs(self, method: str) -> float:
        return self.counted(f'tinyv_rpcs_total{{method="{method}"')

    def log_tail(self) -> str:
        return Path(self._log.name).read_text(errors="replace")[-3000:]

    def start(self) -> "TinyVServer":
        if not BUILT.exists():
            pytest.fail(
                f"the server is not built ({BUILT} is missing): run `npm ci` or `npm run build` in {REPO_ROOT}"
            )
        cmd = [
            node(), str(CLI), "serve",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--http-port", str(self.http_port),
            "--log-level", "warn",
            *self.args,
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("TINYV_")}
        self.proc = subprocess.Popen(
            cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=self._log, text=True
        )
        grpc_port, http_port = self._read_ports()
        self.port, self.http_port = grpc_port, http_port
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _read_ports(self) -> tuple:
        """The first two stdout lines: `listening on HOST:PORT`, then `http on HOST:PORT`."""
        assert self.proc is not None and self.proc.stdout is not None
        found = {}
        deadline = time.monotonic() + START_TIMEOUT
        timer = threading.Timer(START_TIMEOUT, self.proc.kill)
        timer.start()
        try:
            while len(found) < 2 and time.monotonic() < deadline:
                line = self.proc.stdout.readline()
                if not line:
                    break
                self.stdout_lines.append(line)
                for key, prefix in (("grpc", "listening on "), ("http", "http on ")):
                    if line.startswith(prefix):
                        found[key] = int(line.strip().rsplit(":", 1)[1])
        finally:
            timer.cancel()
        if len(found) < 2:
            self.stop()
            pytest.fail(f"tinyv serve did not start; stdout={self.stdout_lines!r}\n{self.log_tail()}")
        return found["grpc"], found["http"]

    def _drain(self) -> None:
        proc = self.proc
        if proc is not None and proc.stdout is not None:
            for line in proc.stdout:
                self.stdout_lines.append(line)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def restart(self, sig: int = signal.SIGKILL) -> None:
        """Stop the process and start a new one on the same gRPC and HTTP ports."""
        self.stop(sig)
        self.start()


def started(*args: str) -> Iterator[TinyVServer]:
    server = TinyVServer(*args).start()
    try:
        yield server
    finally:
        server.stop()


def node() -> str:
    return os.environ.get("TINYV_NODE") or shutil.which("node") or "node"


def start_judge() -> "tuple[subprocess.Popen, str]":
    """The vLLM stand-in (judge_standin.ts): "right" answers are True, "fail" ones an HTTP 500."""
    cmd = [node(), "--import", "./bench/llm/ts.mjs", str(TESTS / "judge_standin.ts")]
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("fake vllm "):
        proc.kill()
        pytest.fail(f"the vLLM stand-in did not start: {line!r}")
    return proc, line.split(" ", 2)[2].strip()
