"""A local Ray cluster for the tests: a head and two worker raylets on this machine.

Each `ray start --block` runs in a session of its own, so teardown can end
exactly the processes it started (by id), never other Ray processes here.
All of it listens on 127.0.0.2: Ray turns 127.0.0.1 into the machine's
network address, and the tests keep their traffic on loopback.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

NODE_IP = "127.0.0.2"

#: For the cluster, its probes and the test's driver: no usage reports, and no token
#: auth, which would read a token from the shared ~/.ray that other Ray users here rewrite.
ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((NODE_IP, 0))
        return sock.getsockname()[1]


class LocalRayCluster:
    def __init__(self, workers: int = 2) -> None:
        self.workers = workers
        self.dir = Path(tempfile.mkdtemp(prefix="tinyv-ray-"))
        self.gcs_port = _free_port()
        self.procs: List[subprocess.Popen] = []
        self.ray = str(Path(sys.executable).parent / "ray")

    @property
    def address(self) -> str:
        return f"{NODE_IP}:{self.gcs_port}"

    def _start_node(self, name: str, extra: List[str]) -> None:
        ports = {
            "--node-manager-port": _free_port(),
            "--object-manager-port": _free_port(),
            "--dashboard-agent-listen-port": _free_port(),
            "--dashboard-agent-grpc-port": _free_port(),
            "--runtime-env-agent-port": _free_port(),
            "--metrics-export-port": _free_port(),
        }
        args = [
            self.ray, "start", "--block", f"--node-ip-address={NODE_IP}", "--num-cpus=1",
            "--object-store-memory=100000000", f"--resources={json.dumps({name: 1})}",
            "--disable-usage-stats", *[f"{k}={v}" for k, v in ports.items()], *extra,
        ]  # fmt: skip
        log = open(self.dir / f"{name}.log", "w")
        env = dict(os.environ, **ENV)
        self.procs.append(
            subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        )

    def alive_nodes(self) -> int:
        probe = (
            "import ray; ray.init(address=%r, logging_level='ERROR');"
            "print(sum(n['Alive'] for n in ray.nodes()))" % self.address
        )
        try:
            out = subprocess.run(
                [sys.executable, "-c", probe],
                capture_output=True,
                text=True,
                timeout=60,
                env=dict(os.environ, **ENV),
            ).stdout.split()
            return int(out[-1]) if out else 0
        except (subprocess.TimeoutExpired, ValueError):
            return 0

    def _wait_for(self, nodes: int, timeout: float = 120.0) -> None:
        end = time.monotonic() + timeout
        while self.alive_nodes() < nodes:
            if time.monotonic() > end:
                raise RuntimeError(f"Ray cluster did not reach {nodes} nodes; logs in {self.dir}")
            time.sleep(0.5)

    def start(self) -> "LocalRayCluster":
        try:
            return self._start()
        except BaseException:
            self.stop()  # nothing left running when the cluster does not come up
            raise

    def _start(self) -> "LocalRayCluster":
        head = [
            "--head", f"--port={self.gcs_port}", "--include-dashboard=false",
            f"--ray-client-server-port={_free_port()}", f"--temp-dir={self.dir / 'ray'}",
        ]  # fmt: skip
        self._start_node("head", head)
        self._wait_for(1)
        # One at a time: raylets started together race for the same free ports.
        for i in range(self.workers):
            self._start_node(f"worker{i + 1}", [f"--address={self.address}"])
            self._wait_for(i + 2)
        return self

    def stop(self) -> None:
        sessions = {p.pid for p in self.procs}  # each `ray start` leads its own session
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            pids = self._pids_in(sessions)
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            end = time.monotonic() + wait
            while self._pids_in(sessions) and time.monotonic() < end:
                time.sleep(0.2)
        for p in self.procs:
            p.poll()

    @staticmethod
    def _pids_in(sessions: set) -> List[int]:
        out = subprocess.run(["ps", "-eo", "pid=,sid=,stat="], capture_output=True, text=True).stdout
        rows = [line.split() for line in out.splitlines()]
        return [int(r[0]) for r in rows if len(r) == 3 and int(r[1]) in sessions and not r[2].startswith("Z")]

    def logs(self) -> Dict[str, str]:
        return {p.name: p.read_text(errors="replace")[-2000:] for p in self.dir.glob("*.log")}
