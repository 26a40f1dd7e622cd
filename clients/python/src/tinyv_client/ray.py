"""One `tinyv serve` per Ray node, for Ray-based trainers (verl, OpenRLHF, NeMo-RL, slime, ROLL).

The driver calls `start_replicas()` once: it places a detached actor on every
alive node (node affinity, not soft), and each actor runs `tinyv serve` as a
child process, health-checks it (`GET /healthz`) and restarts it on the same
ports when it dies or hangs. Ray restarts the actor itself if it dies. Reward
workers call `local_address()` (or `local_client()`) and talk to the replica
on their own node, so a GRPO batch never crosses the network for rules.

    import ray, tinyv_client.ray as tray
    ray.init()
    tray.start_replicas(serve_args=["--llm-url", "http://judge:8000/v1"])
    ...
    # inside a reward worker (a Ray task or actor):
    client = tray.local_client()
    rewards = [v.reward for v in client.stream(items)]

Each node needs the `tinyv` command (the repository's container image, or
`npm ci` of it); `command=` names another, e.g. ["node", "/opt/tinyv/bin/tinyv.js"].

Interface used (read from Ray 2.60.0): `ray.remote(...).options(name=,
namespace=, lifetime="detached", max_restarts=, max_concurrency=,
scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False))`,
`ray.get_actor(name, namespace)`, `ray.nodes()`, `ray.get_runtime_context().get_node_id()`,
`ray.util.get_node_ip_address()`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from typing import Any, Dict, List, Optional, Sequence

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from .client import TinyVClient

NAMESPACE = "tinyv"
PREFIX = "tinyv-replica"


def _default_command() -> List[str]:
    if os.environ.get("TINYV_COMMAND"):
        return os.environ["TINYV_COMMAND"].split()
    return ["tinyv"] if shutil.which("tinyv") else ["npx", "--no-install", "tinyv"]


class Replica:
    """The actor: one `tinyv serve` child on this node, kept alive."""

    def __init__(
        self,
        command: Sequence[str],
        serve_args: Sequence[str],
        host: Optional[str],
        port: int,
        http_port: int,
        health_interval: float,
        start_timeout: float,
    ) -> None:
        self.command = list(command)
        self.serve_args = list(serve_args)
        self.host = host or ray.util.get_node_ip_address()
        self.port, self.http_port = port, http_port
        self.health_interval = health_interval
        self.start_timeout = start_timeout
        self.restarts = 0
        self.proc: Optional[subprocess.Popen] = None
        self._lock = threading.Lock()
        self._start()
        threading.Thread(target=self._watch, daemon=True).start()

    # -- what callers ask ------------------------------------------------------

    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def info(self) -> Dict[str, Any]:
        with self._lock:
            pid = self.proc.pid if self.proc else None
        return {
            "address": self.address(),
            "http": f"http://{self.host}:{self.http_port}",
            "node_id": ray.get_runtime_context().get_node_id(),
            "pid": pid,
            "restarts": self.restarts,
            "healthy": self._healthy(),
        }

    def stop(self) -> None:
        with self._lock:
            proc, self.proc = self.proc, None
        self.health_interval = 0  # the watcher stops
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()

    # -- the child process -------------------------------------------------------

    def _start(self) -> None:
        """Start `tinyv serve` and read its two address lines; later starts reuse the ports."""
        args = [*self.command, "serve", "--host", self.host, "--port", str(self.port)]
        args += ["--http-port", str(self.http_port), *self.serve_args]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=None, text=True)
        found: Dict[str, int] = {}
        timer = threading.Timer(self.start_timeout, proc.kill)
        timer.start()
        try:
            assert proc.stdout is not None
            while len(found) < 2:
                line = proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"tinyv serve exited with {proc.wait()} before listening: {args}")
                for key, prefix in (("grpc", "listening on "), ("http", "http on ")):
                    if line.startswith(prefix):
                        found[key] = int(line.strip().rsplit(":", 1)[1])
        finally:
            timer.cancel()
        self.port, self.http_port = found["grpc"], found["http"]
        threading.Thread(target=lambda: [None for _ in proc.stdout or ()], daemon=True).start()
        with self._lock:
            self.proc = proc

    def _healthy(self) -> bool:
        try:
            url = f"http://{self.host}:{self.http_port}/healthz"
            return urllib.request.urlopen(url, timeout=2).status == 200
        except OSError:
            return False

    def _watch(self) -> None:
        """Restart the child when it exits, or after three failed health checks in a row."""
        misses = 0
        while self.health_interval > 0:
            time.sleep(self.health_interval)
            with self._lock:
                proc = self.proc
            if proc is None:
                return
            if proc.poll() is None:
                misses = 0 if self._healthy() else misses + 1
                if misses < 3:
                    continue
                proc.kill()
                proc.wait()
            misses = 0
            self.restarts += 1
            for _ in range(20):  # the port may linger briefly after a crash
                try:
                    self._start()
                    break
                except (RuntimeError, OSError):
                    time.sleep(0.5)


def actor_name(node_id: str, prefix: str = PREFIX) -> str:
    return f"{prefix}-{node_id}"


def start_replicas(
    *,
    serve_args: Sequence[str] = (),
    command: Optional[Sequence[str]] = None,
    host: Optional[str] = None,
    port: int = 0,
    http_port: int = 0,
    num_cpus: float = 0,
    health_interval: float = 1.0,
    start_timeout: float = 120.0,
    namespace: str = NAMESPACE,
    prefix: str = PREFIX,
) -> Dict[str, str]:
    """Start (or find) one replica on every alive Ray node; returns {node_id: "host:port"}.

    `serve_args` go to `tinyv serve` (e.g. ["--llm-url", URL, "--workers", "4"]).
    `host` binds and is reported (default: the node's IP as Ray knows it); ports
    0 pick free ones, kept across restarts. `num_cpus` is what each actor reserves
    from Ray's accounting (0: none; the rule workers run outside Ray's view).
    Calling it again after nodes join starts replicas on the new nodes only.
    """
    remote = ray.remote(Replica)
    handles = {}
    for node in ray.nodes():
        if not node.get("Alive"):
            continue
        node_id = node["NodeID"]
        handles[node_id] = remote.options(
            name=actor_name(node_id, prefix),
            namespace=namespace,
            get_if_exists=True,
            lifetime="detached",
            max_restarts=-1,
            max_concurrency=4,  # info() answers while a restart is in progress
            num_cpus=num_cpus,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
        ).remote(
            list(command or _default_command()),
            list(serve_args),
            host,
            port,
            http_port,
            health_interval,
            start_timeout,
        )
    return {node_id: ray.get(h.address.remote()) for node_id, h in handles.items()}


def replicas(namespace: str = NAMESPACE, prefix: str = PREFIX) -> Dict[str, Any]:
    """{node_id: actor handle} of the replicas that exist now."""
    found = {}
    for node in ray.nodes():
        try:
            found[node["NodeID"]] = ray.get_actor(actor_name(node["NodeID"], prefix), namespace=namespace)
        except ValueError:
            continue
    return found


def local_address(namespace: str = NAMESPACE, prefix: str = PREFIX, fallback: bool = True) -> str:
    """The "host:port" of the replica on the caller's node.

    Without one there (a node that joined after start_replicas), all replicas'
    addresses, comma-separated (the client then spreads over them), or
    LookupError when `fallback` is False.
    """
    node_id = ray.get_runtime_context().get_node_id()
    try:
        actor = ray.get_actor(actor_name(node_id, prefix), namespace=namespace)
        return ray.get(actor.address.remote())
    except ValueError:
        if not fallback:
            raise LookupError(f"no tinyv replica on node {node_id}") from None
    others = [ray.get(a.address.remote()) for a in replicas(namespace, prefix).values()]
    if not others:
        raise LookupError("no tinyv replicas: call tinyv_client.ray.start_replicas() first")
    return ",".join(others)


def local_client(namespace: str = NAMESPACE, prefix: str = PREFIX, **kwargs: Any) -> TinyVClient:
    """A TinyVClient of the replica on the caller's node (kwargs go to TinyVClient)."""
    return TinyVClient(local_address(namespace, prefix), **kwargs)


def stop_replicas(namespace: str = NAMESPACE, prefix: str = PREFIX) -> None:
    """Drain every replica (SIGTERM) and remove the actors."""
    for actor in replicas(namespace, prefix).values():
        try:
            ray.get(actor.stop.remote(), timeout=90)
        finally:
            ray.kill(actor, no_restart=True)
