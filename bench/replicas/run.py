"""100,000 items through three topologies, with one replica killed (SIGKILL) half-way.

    clients/python/.venv/bin/python bench/replicas/run.py [--n 100000] [--streams 6] [--batch 2000]

Topologies: one replica (no kill: nothing could take over); three replicas with
the Python client's round robin over an `ipv4:` list; three behind haproxy
(Debian's, gRPC over h2c). Each replica runs `--workers 1`, so on this 2-core
machine three replicas share two cores with the client: the figures compare
the topologies' overheads and failover, not scale-out. Prints one JSON line per
topology: verdicts/s, lost and duplicated verdicts, and the seconds from the
kill until the verdict rate over 250 ms is back to half the run's mean (the
survivors carry the dead replica's load). Uses the replica tests' own code
(clients/python/tests/replicas.py).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python" / "tests"))

from conftest import free_port  # noqa: E402
from replicas import Haproxy, Replica, run_load, served, takeover_seconds  # noqa: E402

from tinyv_client import TinyVClient  # noqa: E402


def measure(name: str, n: int, streams: int, batch: int) -> dict:
    count = 1 if name == "one replica" else 3
    replicas = [Replica(port=free_port()).start() for _ in range(count)]
    proxy = None
    killed_at = []
    try:
        if name == "haproxy":
            proxy = Haproxy([r.target for r in replicas], port=free_port()).start()
            target = proxy.target
            time.sleep(1.0)  # first health checks
        elif count == 3:
            target = "ipv4:" + ",".join(r.target for r in replicas)
        else:
            target = replicas[0].target
        client = TinyVClient(target, timeout=120)
        client.verify("1", "\\boxed{1}")  # connect before the clock starts

        def kill() -> None:
            killed_at.append(time.monotonic())
            replicas[0].stop(signal.SIGKILL)

        events = [(0.5, kill)] if count == 3 else []
        result = run_load(client, n, batch=batch, streams=streams, events=events)
        at = killed_at[0] - result.started if killed_at else None
        takeover = takeover_seconds(result, at) if at is not None else None
        client.close()
        return {
            "topology": name,
            "items": n,
            "seconds": round(result.seconds, 2),
            "verdicts_per_s": round(result.rate),
            "lost": result.lost,
            "duplicated": result.duplicated,
            "wrong": len(result.wrong),
            "errors": len(result.errors),
            "killed_at_s": None if at is None else round(at, 2),
            "takeover_s": None if takeover is None else round(takeover, 3),
            "served": served(replicas),
        }
    finally:
        if proxy:
            proxy.stop()
        for r in replicas:
            r.stop(signal.SIGKILL)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--streams", type=int, default=6)
    ap.add_argument("--batch", type=int, default=2_000)
    ap.add_argument("--only", default="", help="one topology: one, rr, haproxy")
    args = ap.parse_args()
    names = {"one": "one replica", "rr": "round robin", "haproxy": "haproxy"}
    for key, name in names.items():
        if args.only and args.only != key:
            continue
        print(json.dumps(measure(name, args.n, args.streams, args.batch)), flush=True)


if __name__ == "__main__":
    main()
