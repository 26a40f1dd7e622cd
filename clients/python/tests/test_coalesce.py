"""Coalesced verify(): per-sample calls from threads and tasks over one long-lived stream.

Against the real `tinyv serve` (its /metrics count the RPCs, so "one stream, no
unary calls" is the server's word, not ours), plus the in-process fake server for
what the real one will not do on demand (hold a verdict back).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import List, Optional

import pytest
from conftest import TinyVServer, free_port
from fake_server import FakeServer, Faults
from test_client import numbered

from tinyv_client import (
    AsyncTinyVClient,
    DeadlineExceededError,
    ErrorCode,
    InvalidRequestError,
    RetryPolicy,
    TinyVClient,
    TinyVError,
    UnavailableError,
    VerifyRequest,
)

PATIENT = RetryPolicy(max_attempts=40, initial_backoff=0.05, max_backoff=0.5)


def expected(i: int) -> float:
    return 1.0 if i % 2 == 0 else 0.0


def call_numbered(client: TinyVClient, i: int, timeout: Optional[float] = 30.0):
    item = numbered(i + 1)[i]
    return client.verify(item.ground_truth, item.response, id=item.id, timeout=timeout)


def check(verdict, i: int) -> None:
    assert (verdict.id, verdict.reward) == (f"item-{i}", expected(i))


# -- threads --------------------------------------------------------------------


def test_threads_share_one_stream(server: TinyVServer) -> None:
    before = {m: server.rpcs(m) for m in ("Verify", "VerifyPackedStream")}
    with TinyVClient(server.target, coalesce=True) as client:
        with ThreadPoolExecutor(32) as pool:
            verdicts = list(pool.map(lambda i: call_numbered(client, i), range(600)))
    for i, verdict in enumerate(verdicts):
        check(verdict, i)
    assert server.rpcs("VerifyPackedStream") - before["VerifyPackedStream"] == 1
    assert server.rpcs("Verify") == before["Verify"]


def test_item_errors_and_bad_calls(server: TinyVServer) -> None:
    with TinyVClient(server.target, coalesce=True) as client:
        bad = client.verify("", r"\boxed{1}", id="empty")
        assert (bad.id, bad.error.code) == ("empty", ErrorCode.INVALID_ARGUMENT)
        with pytest.raises(InvalidRequestError):
            client.verify(3, r"\boxed{3}")  # type: ignore[arg-type]
        # Neither disturbed the stream.
        check(call_numbered(client, 4), 4)


def test_unanswered_call_hits_its_own_deadline() -> None:
    """A verdict held back: that call fails at its deadline; the others, and later calls, do not."""
    faults = Faults(release=threading.Event())
    with FakeServer(faults) as fake, TinyVClient(fake.target, coalesce=True) as client:
        start = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            held = pool.submit(client.verify, "1", "HOLD \\boxed{1}", timeout=0.3)
            quick = [pool.submit(client.verify, str(i), f"\\boxed{{{i}}}") for i in range(20)]
            assert all(f.result(timeout=10).reward == 1.0 for f in quick)
            with pytest.raises(DeadlineExceededError):
                held.result(timeout=10)
        assert time.monotonic() - start < 5
        faults.release.set()
        assert client.verify("2", r"\boxed{2}").reward == 1.0
        assert fake.servicer.streams == 1


def test_window_bounds_calls_in_flight() -> None:
    faults = Faults(release=threading.Event())
    with FakeServer(faults) as fake, TinyVClient(fake.target, coalesce=True, coalesce_window=3) as client:
        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(client.verify, "1", f"HOLD {i} \\boxed{{1}}") for i in range(8)]
            time.sleep(0.5)
            assert fake.servicer.stream_requests == 3  # the other five wait for a slot
            faults.release.set()
            assert all(f.result(timeout=10).reward == 1.0 for f in futures)
        assert fake.servicer.stream_requests == 8


def test_a_call_waiting_for_a_slot_keeps_its_deadline() -> None:
    """Window 1, its slot held: the next call fails at its deadline, and gives the slot back after."""
    faults = Faults(release=threading.Event())
    with FakeServer(faults) as fake, TinyVClient(fake.target, coalesce=True, coalesce_window=1) as client:
        with ThreadPoolExecutor(2) as pool:
            held = pool.submit(client.verify, "1", "HOLD \\boxed{1}")
            time.sleep(0.3)
            with pytest.raises(DeadlineExceededError):
                client.verify("2", r"\boxed{2}", timeout=0.3)
            faults.release.set()
            assert held.result(timeout=10).reward == 1.0
        assert [client.verify(str(i), f"\\boxed{{{i}}}").reward for i in range(3)] == [1.0] * 3


def test_dropped_stream_resends_only_the_unanswered() -> None:
    """The stream drops after 50 verdicts: what was unanswered is resent once, nothing is lost."""
    faults = Faults(drop_stream_after=50)
    retry = RetryPolicy(max_attempts=5, initial_backoff=0.01, max_backoff=0.05)
    with FakeServer(faults) as fake, TinyVClient(fake.target, coalesce=True, retry=retry) as client:
        with ThreadPoolExecutor(16) as pool:
            verdicts = list(
                pool.map(lambda i: client.verify(str(i), f"\\boxed{{{i}}}", id=str(i)), range(300))
            )
    assert [v.id for v in verdicts] == [str(i) for i in range(300)]
    assert all(v.reward == 1.0 for v in verdicts)
    assert fake.servicer.streams == 2
    ids = fake.servicer.stream_ids
    # Each wire id was sent once, or twice when it was in flight at the drop: never more.
    assert set(ids) == {str(i) for i in range(300)} and max(ids.count(i) for i in set(ids)) == 2
    assert len(ids) - 300 <= 16  # at most one window of 16 callers was in flight


def test_a_server_without_packed_streams_gets_one_item_a_message() -> None:
    """The fake has no VerifyPackedStream (UNIMPLEMENTED): the lane falls back to VerifyStream, losing nothing."""
    with FakeServer() as fake, TinyVClient(fake.target, coalesce=True) as client:
        with ThreadPoolExecutor(8) as pool:
            verdicts = list(pool.map(lambda i: client.verify(str(i), f"\\boxed{{{i}}}", id=str(i)), range(100)))
    assert [v.reward for v in verdicts] == [1.0] * 100
    assert fake.servicer.streams == 1 and fake.servicer.stream_requests == 100


def test_one_stream_per_target() -> None:
    with FakeServer() as a, FakeServer() as b, TinyVClient([a.target, b.target], coalesce=True) as client:
        with ThreadPoolExecutor(8) as pool:
            assert all(v.ok for v in pool.map(lambda i: client.verify("1", "1"), range(100)))
        assert (a.servicer.streams, b.servicer.streams) == (1, 1)
        assert a.servicer.stream_requests == b.servicer.stream_requests == 50


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill", "term"])
def test_threads_survive_server_restart(restartable_server: TinyVServer, sig: int) -> None:
    """The server is killed (or drained) and restarted while 24 threads call: every call gets its verdict."""
    count = 1500
    done: List[int] = []
    with TinyVClient(restartable_server.target, coalesce=True, retry=PATIENT) as client:

        def one(i: int):
            verdict = call_numbered(client, i, timeout=60)
            done.append(i)
            return verdict

        with ThreadPoolExecutor(24) as pool:
            futures = [pool.submit(one, i) for i in range(count)]
            while len(done) < 400:
                time.sleep(0.01)
            restartable_server.restart(sig)
            verdicts = [f.result(timeout=120) for f in futures]
        for i, verdict in enumerate(verdicts):
            check(verdict, i)
        assert len(done) == count
        # After the restart everything rode one new stream.
        assert restartable_server.rpcs("VerifyPackedStream") == 1
        assert restartable_server.rpcs("Verify") == 0


def test_dead_server_fails_promptly() -> None:
    retry = RetryPolicy(max_attempts=3, initial_backoff=0.05, max_backoff=0.1)
    with TinyVClient(f"127.0.0.1:{free_port()}", coalesce=True, retry=retry) as client:
        start = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(client.verify, "1", "1") for _ in range(4)]
            for future in futures:
                with pytest.raises(UnavailableError):
                    future.result(timeout=30)
        assert time.monotonic() - start < 10


def test_close_releases_waiting_callers() -> None:
    faults = Faults(release=threading.Event())
    with FakeServer(faults) as fake:
        client = TinyVClient(fake.target, coalesce=True)
        with ThreadPoolExecutor(2) as pool:
            waiting = pool.submit(client.verify, "1", "HOLD \\boxed{1}", timeout=30)
            time.sleep(0.3)
            client.close()
            with pytest.raises(TinyVError, match="closed"):
                waiting.result(timeout=5)
        with pytest.raises(TinyVError, match="closed"):
            client.verify("1", "1")


def test_process_exits_without_close(server: TinyVServer) -> None:
    """A script that never closes its coalescing client still exits at once (the stream is cancelled)."""
    script = (
        "import sys; from tinyv_client import TinyVClient\n"
        f"c = TinyVClient({server.target!r}, coalesce=True)\n"
        "print(c.verify('1', r'\\boxed{1}').reward)\n"
    )
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1.0"
    assert time.monotonic() - start < 20


# -- fork -------------------------------------------------------------------------

_shared: Optional[TinyVClient] = None  # made in the parent, used by forked children


def _child_calls(start: int) -> List[tuple]:
    assert _shared is not None
    return [
        (v.id, v.reward, os.getpid()) for v in (call_numbered(_shared, i) for i in range(start, start + 20))
    ]


def test_forked_children_open_their_own_stream(server: TinyVServer) -> None:
    """AReaL's ProcessPoolExecutor and verl's workers fork after the parent has used the client."""
    global _shared
    _shared = TinyVClient(server.target, coalesce=True)
    try:
        check(call_numbered(_shared, 0), 0)  # the parent's stream is open now
        streams = server.rpcs("VerifyPackedStream")
        with ProcessPoolExecutor(3, mp_context=multiprocessing.get_context("fork")) as pool:
            results = [r for chunk in pool.map(_child_calls, [0, 20, 40, 60]) for r in chunk]
        assert [(i, r) for i, r, _ in results] == [(f"item-{i}", expected(i)) for i in range(80)]
        children = {pid for _, _, pid in results}
        assert os.getpid() not in children
        # Each child that called opened a stream of its own; none rode the parent's.
        assert server.rpcs("VerifyPackedStream") - streams == len(children)
        check(call_numbered(_shared, 81), 81)  # the parent's own stream still works
        assert server.rpcs("VerifyPackedStream") - streams == len(children)
        # A bare os.fork() while the parent's stream is open.
        pid = os.fork()
        if pid == 0:
            try:
                verdict = call_numbered(_shared, 2, timeout=20)
                os._exit(0 if verdict.reward == 1.0 else 1)
            except BaseException:
                os._exit(2)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        _shared.close()
        _shared = None


# -- asyncio ------------------------------------------------------------------------


async def test_tasks_share_one_stream(server: TinyVServer) -> None:
    before = {m: server.rpcs(m) for m in ("Verify", "VerifyPackedStream")}
    async with AsyncTinyVClient(server.target, coalesce=True) as client:
        items = numbered(500)
        verdicts = await asyncio.gather(
            *(client.verify(it.ground_truth, it.response, id=it.id) for it in items)
        )
    for i, verdict in enumerate(verdicts):
        check(verdict, i)
    assert server.rpcs("VerifyPackedStream") - before["VerifyPackedStream"] == 1
    assert server.rpcs("Verify") == before["Verify"]


async def test_async_deadline_and_cancellation() -> None:
    faults = Faults(release=threading.Event())
    with FakeServer(faults) as fake:
        async with AsyncTinyVClient(fake.target, coalesce=True) as client:
            with pytest.raises(DeadlineExceededError):
                await client.verify("1", "HOLD \\boxed{1}", timeout=0.2)
            cancelled = asyncio.ensure_future(client.verify("1", "HOLD \\boxed{1}", timeout=30))
            await asyncio.sleep(0.2)
            cancelled.cancel()
            with pytest.raises(asyncio.CancelledError):
                await cancelled
            assert (await client.verify("5", r"\boxed{5}")).reward == 1.0
            faults.release.set()
            assert (await client.verify("6", r"\boxed{6}")).reward == 1.0
        assert fake.servicer.streams == 1


async def test_async_window() -> None:
    faults = Faults(release=threading.Event())
    with FakeServer(faults) as fake:
        async with AsyncTinyVClient(fake.target, coalesce=True, coalesce_window=2) as client:
            calls = [asyncio.ensure_future(client.verify("1", f"HOLD {i} \\boxed{{1}}")) for i in range(6)]
            await asyncio.sleep(0.5)
            assert fake.servicer.stream_requests == 2
            faults.release.set()
            assert [v.reward for v in await asyncio.gather(*calls)] == [1.0] * 6


async def test_async_call_waiting_for_a_slot_keeps_its_deadline() -> None:
    faults = Faults(release=threading.Event())
    with FakeServer(faults) as fake:
        async with AsyncTinyVClient(fake.target, coalesce=True, coalesce_window=1) as client:
            held = asyncio.ensure_future(client.verify("1", "HOLD \\boxed{1}"))
            await asyncio.sleep(0.3)
            with pytest.raises(DeadlineExceededError):
                await client.verify("2", r"\boxed{2}", timeout=0.3)
            faults.release.set()
            assert (await held).reward == 1.0
            assert [(await client.verify(str(i), f"\\boxed{{{i}}}")).reward for i in range(3)] == [1.0] * 3


async def test_async_dropped_stream() -> None:
    faults = Faults(drop_stream_after=40)
    retry = RetryPolicy(max_attempts=5, initial_backoff=0.01, max_backoff=0.05)
    with FakeServer(faults) as fake:
        async with AsyncTinyVClient(fake.target, coalesce=True, retry=retry) as client:
            verdicts = await asyncio.gather(
                *(client.verify(str(i), f"\\boxed{{{i}}}", id=str(i)) for i in range(200))
            )
        assert [v.id for v in verdicts] == [str(i) for i in range(200)]
        assert fake.servicer.streams == 2
        assert max(fake.servicer.stream_ids.count(i) for i in set(fake.servicer.stream_ids)) == 2


@pytest.mark.slow
async def test_tasks_survive_server_restart(restartable_server: TinyVServer) -> None:
    loop = asyncio.get_running_loop()
    async with AsyncTinyVClient(restartable_server.target, coalesce=True, retry=PATIENT) as client:
        items = numbered(2000)
        done = []
        limit = asyncio.Semaphore(128)

        async def one(item: VerifyRequest):
            async with limit:
                verdict = await client.verify(item.ground_truth, item.response, id=item.id, timeout=60)
            done.append(verdict)
            if len(done) == 500:
                await loop.run_in_executor(None, restartable_server.restart, signal.SIGKILL)
            return verdict

        verdicts = await asyncio.gather(*(one(it) for it in items))
    for i, verdict in enumerate(verdicts):
        check(verdict, i)
    assert restartable_server.rpcs("VerifyPackedStream") == 1


def test_threads_and_event_loops_share_the_stream(server: TinyVServer) -> None:
    """asyncio.run twice with one client (a trainer's step loop), and threads too: still one stream."""
    streams = server.rpcs("VerifyPackedStream")
    client = AsyncTinyVClient(server.target, coalesce=True)

    async def once(i: int):
        return await client.verify(str(i), f"\\boxed{{{i}}}")

    assert asyncio.run(once(1)).reward == 1.0
    assert asyncio.run(once(2)).reward == 1.0
    with ThreadPoolExecutor(4) as pool:
        assert [v.reward for v in pool.map(lambda i: asyncio.run(once(i)), range(8))] == [1.0] * 8
    assert server.rpcs("VerifyPackedStream") - streams == 1
    asyncio.run(client.close())
