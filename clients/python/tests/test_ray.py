"""tinyv_client.ray on a real local Ray cluster (a head and two worker raylets, `ray start`
from PyPI's ray): one replica per node, each reward worker on its own node's replica, and a
replica killed mid-run coming back on the same address with every item answered once.

Needs the `ray` package: scripts/test-all.sh runs this file in a venv of its own
(scripts/deps/ray.sh); elsewhere it is skipped.
"""

from __future__ import annotations

import os
import signal
import time
import urllib.request
from typing import Dict, Iterator

import pytest

ray = pytest.importorskip("ray")

from tinyv_server import BUILT, CLI, REPO_ROOT  # noqa: E402
from ray_cluster import ENV as RAY_ENV  # noqa: E402
from ray_cluster import LocalRayCluster  # noqa: E402
from replicas import item  # noqa: E402

import tinyv_client.ray as tray  # noqa: E402

pytestmark = pytest.mark.ray
NODES = ("head", "worker1", "worker2")


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalRayCluster]:
    if not BUILT.exists():
        pytest.fail("the server is not built: run `npm ci` (or `npm run build`) at the repo root")
    # Ray's workers import the SDK and the test helpers from here.
    paths = [str(REPO_ROOT / "clients/python/src"), str(REPO_ROOT / "clients/python/tests")]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths + [os.environ.get("PYTHONPATH", "")])
    os.environ.update(RAY_ENV)
    local = LocalRayCluster(workers=2).start()
    try:
        ray.init(address=local.address, logging_level="ERROR")
        yield local
    finally:
        try:
            tray.stop_replicas()
        except Exception:
            pass
        ray.shutdown()
        local.stop()


def items_served(http: str) -> int:
    text = urllib.request.urlopen(http + "/metrics", timeout=5).read().decode()
    return int(sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines() if l.startswith("tinyv_items_total{")))


@ray.remote(num_cpus=0)
def reward_worker(n: int, start: int = 0) -> Dict[str, object]:
    """What a trainer's reward worker does: verify a batch on its own node's replica."""
    import tinyv_client.ray as tray
    from tinyv_client import RetryPolicy

    address = tray.local_address()
    # A killed replica is back on the same port within seconds: keep resending until then.
    client = tray.local_client(retry=RetryPolicy(max_attempts=60, max_backoff=1.0), timeout=120)
    answered: Dict[str, int] = {}
    wrong = 0
    for verdict in client.stream((item(i) for i in range(start, start + n)), ordered=False):
        answered[verdict.id] = answered.get(verdict.id, 0) + 1
        wrong += verdict.correct != (int(verdict.id) % 2 == 0)
    client.close()
    return {
        "node": ray.get_runtime_context().get_node_id(),
        "address": address,
        "answered": len(answered),
        "duplicated": sum(c - 1 for c in answered.values()),
        "wrong": wrong,
    }


def on(node: str):
    return reward_worker.options(resources={node: 0.01})


def test_one_replica_per_node_and_each_worker_uses_its_own(cluster: LocalRayCluster) -> None:
    started = tray.start_replicas(
        command=["node", str(CLI)],
        serve_args=["--workers", "1", "--log-level", "warn", "--shutdown-grace-ms", "2000"],
    )
    alive = [n["NodeID"] for n in ray.nodes() if n["Alive"]]
    assert sorted(started) == sorted(alive) and len(alive) == 3
    assert len(set(started.values())) == 3, f"replicas share an address: {started}"
    infos = {nid: ray.get(a.info.remote()) for nid, a in tray.replicas().items()}
    for nid, info in infos.items():
        assert info["node_id"] == nid, "a replica runs off its node"
        assert info["healthy"]
    # Starting again finds the same actors rather than making more.
    assert tray.start_replicas(command=["node", str(CLI)]) == started

    results = ray.get([on(node).remote(2_000, 10_000 * k) for k, node in enumerate(NODES)])
    for r in results:
        assert r["address"] == started[r["node"]], "a reward worker used another node's replica"
        assert (r["answered"], r["duplicated"], r["wrong"]) == (2_000, 0, 0)
    assert len({r["node"] for r in results}) == 3


def test_a_replica_killed_mid_run_is_restarted_on_its_address_and_no_item_is_lost(
    cluster: LocalRayCluster,
) -> None:
    tray.start_replicas(command=["node", str(CLI)], serve_args=["--workers", "1", "--log-level", "warn"])
    victim = next(a for a in tray.replicas().values() if ray.get(a.info.remote())["node_id"] == _node_of("worker1"))
    before = ray.get(victim.info.remote())
    run = on("worker1").remote(20_000)
    end = time.monotonic() + 120
    while items_served(before["http"]) < 2_000:
        assert time.monotonic() < end, "the run never reached the replica"
        time.sleep(0.05)
    os.kill(before["pid"], signal.SIGKILL)
    result = ray.get(run, timeout=300)
    assert (result["answered"], result["duplicated"], result["wrong"]) == (20_000, 0, 0)
    after = ray.get(victim.info.remote())
    assert after["restarts"] == before["restarts"] + 1
    assert after["address"] == before["address"] and after["pid"] != before["pid"]
    assert after["healthy"]


def _node_of(resource: str) -> str:
    return next(n["NodeID"] for n in ray.nodes() if n["Alive"] and resource in n["Resources"])
