"""Several replicas of `tinyv serve` behind one client: client-side round robin over an
`ipv4:` list and over a `dns://` name (a headless Service), and haproxy as an L7 gRPC proxy.

Each run sends items as batches, one VerifyStream per batch, six at once (a
trainer's reward workers), while replicas are stopped with SIGTERM and SIGKILL
and new ones join. Every item must be answered exactly once with its own
verdict. The 100,000-item runs of the same code are bench/replicas/run.py (results in bench/RESULTS.md).
"""

from __future__ import annotations

import signal
import threading
from typing import List

import pytest
from conftest import free_port
from dns_stub import DnsStub
from replicas import Haproxy, Replica, run_load, served, wait_until

from tinyv_client import TinyVClient

pytestmark = pytest.mark.slow

N = 12_000


def check_exactly_once(result) -> None:
    assert result.errors == []
    assert result.lost == 0, f"{result.lost} items never answered"
    assert result.duplicated == 0, f"{result.duplicated} items answered twice"
    assert result.wrong == [], f"verdicts that are not their item's: {result.wrong[:5]}"


@pytest.fixture
def three() -> List[Replica]:
    replicas = [Replica(port=free_port()).start() for _ in range(3)]
    yield replicas
    for r in replicas:
        r.stop(signal.SIGKILL)


def test_ipv4_list_spreads_streams_and_survives_sigterm_sigkill_and_a_restart(three: List[Replica]) -> None:
    client = TinyVClient("ipv4:" + ",".join(r.target for r in three), timeout=60)
    warm = run_load(client, 6_000, batch=500)
    check_exactly_once(warm)
    spread = served(three)
    assert all(n >= 500 for n in spread.values()), f"round robin left a replica idle: {spread}"

    r0, r1, _ = three
    drained = threading.Event()

    def drain_r0() -> None:
        r0.stop(signal.SIGTERM)  # answers what it read, ends its streams with UNAVAILABLE
        drained.set()

    def replace_r0() -> None:
        drained.wait(30)
        r0.start()  # a replacement at the same address, like a rescheduled pod

    result = run_load(
        client,
        N,
        batch=1000,
        events=[(0.2, drain_r0), (0.4, lambda: r1.stop(signal.SIGKILL)), (0.55, replace_r0)],
    )
    check_exactly_once(result)
    # New streams reach the replacement once the channel has reconnected (backoff <= 1 s).
    def reached() -> bool:
        check_exactly_once(run_load(client, 1_000, batch=250))
        return r0.items_served() > 0

    assert wait_until(reached, timeout=15, every=0.2), "no new stream reached the restarted replica"
    client.close()


def test_dns_name_reaches_a_new_replica_once_connections_age_out() -> None:
    """A headless Service: one name, one A record per replica, the same port on each.

    The client re-resolves the name only when a connection closes, so a new
    replica gets traffic because the servers close connections after
    --max-connection-age-ms; without it, the new one stays idle.
    """
    port = free_port()
    hosts = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    for age in ("1000", "0"):
        replicas = [Replica("--max-connection-age-ms", age, host=h, port=port).start() for h in hosts[:2]]
        dns = DnsStub("tinyv.test", hosts[:2])
        # gRPC resolves again at most once per 30 s by default; a test cannot wait that long.
        client = TinyVClient(
            f"dns://{dns.authority}/tinyv.test:{port}",
            timeout=60,
            channel_options=[("grpc.dns_min_time_between_resolutions_ms", 200)],
        )
        try:
            check_exactly_once(run_load(client, 2_000, batch=250))
            spread = served(replicas)
            assert all(n > 0 for n in spread.values()), f"one address took every stream: {spread}"
            replicas.append(Replica("--max-connection-age-ms", age, host=hosts[2], port=port).start())
            dns.set_addresses(hosts)

            def reached() -> bool:
                check_exactly_once(run_load(client, 1_000, batch=250))
                return replicas[2].items_served() > 0

            if age != "0":
                assert wait_until(reached, timeout=15, every=0.1), "the new replica got nothing"
                # One replica dies in the middle of a run; its record leaves the name.
                victim = replicas[0]

                def kill() -> None:
                    victim.stop(signal.SIGKILL)
                    dns.set_addresses(hosts[1:])

                check_exactly_once(run_load(client, N, batch=1000, events=[(0.3, kill)]))
            else:
                assert not wait_until(reached, timeout=4, every=0.1), (
                    "without a connection age the client should stay on the addresses it had"
                )
        finally:
            client.close()
            dns.close()
            for r in replicas:
                r.stop(signal.SIGKILL)


def test_haproxy_balances_streams_and_survives_sigterm_sigkill_and_a_new_backend(three: List[Replica]) -> None:
    """haproxy balances each gRPC stream on its own, so a backend that comes up
    (health check passes) gets new streams at once; no connection age is needed."""
    fourth_port = free_port()
    proxy = Haproxy([r.target for r in three] + [f"127.0.0.1:{fourth_port}"], port=free_port()).start()
    fourth = Replica(port=fourth_port)
    client = TinyVClient(proxy.target, timeout=60)
    try:
        assert wait_until(lambda: _proxy_up(client), timeout=15), proxy.log_tail()
        r0, r1, _ = three
        result = run_load(
            client,
            N,
            batch=1000,
            events=[
                (0.2, lambda: r0.stop(signal.SIGTERM)),
                (0.4, lambda: r1.stop(signal.SIGKILL)),
                (0.5, lambda: fourth.start()),
            ],
        )
        check_exactly_once(result)

        # New streams reach the backend that joined once haproxy's health check passes.
        def reached() -> bool:
            check_exactly_once(run_load(client, 1_000, batch=250))
            return fourth.items_served() > 0

        assert wait_until(reached, timeout=15, every=0.2), "no stream reached the backend that joined"
        spread = served(three)
        assert spread[three[2].target] > 0
    finally:
        client.close()
        fourth.stop(signal.SIGKILL)
        proxy.stop()


def _proxy_up(client: TinyVClient) -> bool:
    try:
        return client.verify("1", "\\boxed{1}", timeout=2).correct
    except Exception:
        return False
