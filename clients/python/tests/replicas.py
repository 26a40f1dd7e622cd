"""Several `tinyv serve` replicas, an haproxy in front of them, and a load driver.

Shared by the replica tests (tests/test_replicas.py) and the benchmark
(bench/replicas/run.py): the same code measures and asserts.
"""

from __future__ import annotations

import collections
import os
import queue
import re
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Counter, Dict, List, Optional, Sequence

from tinyv_server import REPO_ROOT, TinyVServer

_ITEMS_LINE = re.compile(r"^tinyv_items_total\{[^}]*\} (\S+)$", re.M)


class Replica(TinyVServer):
    """A `tinyv serve` bound to one loopback address (127.0.0.N), like a pod's IP."""

    def __init__(self, *args: str, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__("--host", host, "--workers", "1", "--shutdown-grace-ms", "2000", *args, port=port)
        self.host = host

    @property
    def target(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    def items_served(self) -> int:
        """Items this process has answered (its /metrics), 0 when it is down."""
        try:
            text = urllib.request.urlopen(self.http_url + "/metrics", timeout=5).read().decode()
        except OSError:
            return 0
        return int(sum(float(v) for v in _ITEMS_LINE.findall(text)))


def item(i: int) -> dict:
    """Item i: right when i is even, wrong when odd, so a misrouted verdict shows."""
    gold = str(i % 97)
    answer = gold if i % 2 == 0 else str(i % 97 + 1)
    return {"id": str(i), "ground_truth": gold, "response": f"so the answer is \\boxed{{{answer}}}"}


@dataclass
class RunResult:
    items: int
    seconds: float
    answered: Counter = field(default_factory=collections.Counter)
    wrong: List[str] = field(default_factory=list)
    #: (seconds since start, verdicts so far), sampled as verdicts arrive.
    timeline: List[tuple] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)
    #: time.monotonic() at the start of the run; timeline times count from it.
    started: float = 0.0

    @property
    def lost(self) -> int:
        return sum(1 for i in range(self.items) if self.answered[str(i)] == 0)

    @property
    def duplicated(self) -> int:
        return sum(n - 1 for n in self.answered.values() if n > 1)

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0


def run_load(
    client,
    n: int,
    *,
    batch: int = 2000,
    streams: int = 6,
    events: Sequence[tuple] = (),
) -> RunResult:
    """Send items 0..n-1 as batches of `batch`, one VerifyStream per batch, `streams` at once.

    `events` are (fraction of n answered, callable): each callable runs once, on
    its own thread, when that many verdicts have come back (kill a replica, add one).
    """
    result = RunResult(items=n, seconds=0.0)
    batches: "queue.Queue[range]" = queue.Queue()
    for start in range(0, n, batch):
        batches.put(range(start, min(n, start + batch)))
    lock = threading.Lock()
    pending = sorted(events, key=lambda e: e[0])
    fired: List[threading.Thread] = []
    done = [0]
    started = result.started = time.monotonic()

    def on_verdicts(count: int) -> None:
        with lock:
            done[0] += count
            result.timeline.append((time.monotonic() - started, done[0]))
            while pending and done[0] >= pending[0][0] * n:
                _, action = pending.pop(0)
                thread = threading.Thread(target=guarded, args=(action,), daemon=True)
                thread.start()
                fired.append(thread)

    def guarded(action: Callable[[], object]) -> None:
        try:
            action()
        except BaseException as error:  # pytest.fail in a helper thread would pass silently
            with lock:
                result.errors.append(f"event {action}: {type(error).__name__}: {error}")

    def worker() -> None:
        while True:
            try:
                ids = batches.get_nowait()
            except queue.Empty:
                return
            got: List[tuple] = []
            try:
                for verdict in client.stream((item(i) for i in ids), ordered=False):
                    got.append((verdict.id, verdict.correct))
                    if len(got) % 200 == 0:
                        on_verdicts(200)
            except Exception as error:  # recorded: the test fails on any
                with lock:
                    result.errors.append(f"{type(error).__name__}: {error}")
            on_verdicts(len(got) % 200)
            with lock:
                for vid, correct in got:
                    result.answered[vid] += 1
                    if correct != (int(vid) % 2 == 0):
                        result.wrong.append(vid)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.monotonic() - started
    for t in fired:
        t.join(30)
    return result


def takeover_seconds(result: RunResult, at: float, window: float = 0.25) -> Optional[float]:
    """Seconds from `at` (a replica's death, in run time) until the verdict rate over
    `window` seconds is back to half the run's mean: the others carry its load."""
    mean = result.rate
    points = result.timeline
    for j, (t, count) in enumerate(points):
        if t < at:
            continue
        k = j
        while k < len(points) and points[k][0] < t + window:
            k += 1
        if k < len(points) and (points[k][1] - count) / (points[k][0] - t) >= mean / 2:
            return t - at
    return None


class Haproxy:
    """haproxy (Debian's) as an L7 gRPC proxy: HTTP/2 cleartext in front, h2c to each backend,
    one stream balanced at a time (round robin), backends health-checked every 200 ms."""

    def __init__(self, backends: Sequence[str], port: int, binary: Optional[str] = None) -> None:
        self.port = port
        self.binary = binary or haproxy_binary()
        servers = "\n".join(
            f"    server r{i} {addr} proto h2 check inter 200ms fall 1 rise 1" for i, addr in enumerate(backends)
        )
        self.config = f"""
global
    maxconn 4096
defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
frontend grpc
    bind 127.0.0.1:{port} proto h2
    default_backend tinyv
backend tinyv
    balance roundrobin
    retry-on conn-failure
    retries 3
    option redispatch
{servers}
"""
        self._file = tempfile.NamedTemporaryFile("w", prefix="haproxy-", suffix=".cfg", delete=False)
        self._file.write(self.config)
        self._file.close()
        self._log = tempfile.NamedTemporaryFile(prefix="haproxy-", suffix=".log", delete=False)
        self.proc: Optional[subprocess.Popen] = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "Haproxy":
        subprocess.run([self.binary, "-c", "-q", "-f", self._file.name], check=True)
        self.proc = subprocess.Popen(
            [self.binary, "-db", "-f", self._file.name], stdout=self._log, stderr=subprocess.STDOUT
        )
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.unlink(self._file.name)

    def log_tail(self) -> str:
        return Path(self._log.name).read_text(errors="replace")[-3000:]


def haproxy_binary() -> str:
    """haproxy's path, installed from Debian by scripts/deps/haproxy.sh when missing."""
    script = REPO_ROOT / "scripts" / "deps" / "haproxy.sh"
    out = subprocess.run(["bash", str(script)], check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def wait_until(check: Callable[[], bool], timeout: float = 10.0, every: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(every)
    return check()


def served(replicas: Sequence[Replica]) -> Dict[str, int]:
    return {r.target: r.items_served() for r in replicas}
