"""AsyncTinyVClient against a real `tinyv serve`."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
from conftest import AUTH_TOKEN, TinyVServer, free_port
from test_client import HALF, assert_numbered, numbered

from tinyv_client import (
    AsyncTinyVClient,
    AuthenticationError,
    DeadlineExceededError,
    ErrorCode,
    InvalidRequestError,
    Mode,
    Options,
    RetryPolicy,
    RuleOutcome,
    TinyVError,
    UnavailableError,
)


@pytest.fixture
async def aclient(server: TinyVServer):
    async with AsyncTinyVClient(server.target) as c:
        yield c


async def test_verify_and_info(aclient: AsyncTinyVClient) -> None:
    info = await aclient.get_server_info()
    assert info.default_mode == Mode.RULES_ONLY
    right = await aclient.verify(HALF, r"\boxed{0.5}", "Half?", id="a")
    wrong = await aclient.verify("2", r"\boxed{3}")
    assert (right.id, right.reward, right.rule_outcome) == ("a", 1.0, RuleOutcome.MATCH)
    assert (wrong.reward, wrong.rule_outcome) == (0.0, RuleOutcome.MISMATCH)


async def test_item_error(aclient: AsyncTinyVClient) -> None:
    verdict = await aclient.verify("", "1")
    assert verdict.error is not None and verdict.error.code == ErrorCode.INVALID_ARGUMENT


async def test_concurrent_verifies(aclient: AsyncTinyVClient) -> None:
    items = numbered(200)
    verdicts = await asyncio.gather(*(aclient.verify(i.ground_truth, i.response, id=i.id) for i in items))
    assert_numbered(list(verdicts), 200)


async def test_verify_batch(aclient: AsyncTinyVClient) -> None:
    verdicts = await aclient.verify_batch(numbered(100), options=Options(mode="rules_only"))
    assert_numbered(verdicts, 100)


@pytest.mark.parametrize("ordered", [True, False])
async def test_stream_sync_and_async_input(aclient: AsyncTinyVClient, ordered: bool) -> None:
    async def source():
        for item in numbered(500):
            yield item

    for items in (numbered(500), source()):
        verdicts = [v async for v in aclient.stream(items, ordered=ordered, window=100)]
        verdicts.sort(key=lambda v: int(v.id.split("-")[1]))
        assert_numbered(verdicts, 500)


async def test_stream_empty(aclient: AsyncTinyVClient) -> None:
    assert [v async for v in aclient.stream([])] == []


@pytest.mark.slow
async def test_stream_10000_items(aclient: AsyncTinyVClient) -> None:
    start = time.monotonic()
    verdicts = [v async for v in aclient.stream(numbered(10_000))]
    assert_numbered(verdicts, 10_000)
    print(f"\nasync 10,000-item stream: {10_000 / (time.monotonic() - start):,.0f} verdicts/s")


async def test_stream_input_error_propagates(aclient: AsyncTinyVClient) -> None:
    async def source():
        for item in numbered(3):
            yield item
        raise RuntimeError("reader broke")

    with pytest.raises(RuntimeError, match="reader broke"):
        [v async for v in aclient.stream(source())]
    with pytest.raises(InvalidRequestError):
        [v async for v in aclient.stream([{"ground_truth": "1"}])]
    assert (await aclient.verify("1", "1")).ok


async def test_stream_deadline(aclient: AsyncTinyVClient) -> None:
    async def slow():
        for item in numbered(2):
            yield item
        await asyncio.sleep(3)

    with pytest.raises(DeadlineExceededError):
        [v async for v in aclient.stream(slow(), timeout=0.5)]


async def test_closed(server: TinyVServer) -> None:
    async with AsyncTinyVClient(server.target) as c:
        assert (await c.verify("1", "1")).ok
    with pytest.raises(TinyVError, match="closed"):
        await c.verify("1", "1")


async def test_auth(auth_server: TinyVServer) -> None:
    async with AsyncTinyVClient(auth_server.target, token=AUTH_TOKEN) as c:
        assert (await c.verify("1", "1")).ok
    async with AsyncTinyVClient(auth_server.target) as c:
        with pytest.raises(AuthenticationError):
            await c.verify("1", "1")


async def test_tls(tls_server: TinyVServer, tls_files: tuple) -> None:
    async with AsyncTinyVClient(f"grpcs://localhost:{tls_server.port}", root_certificates=tls_files[2]) as c:
        assert (await c.verify(HALF, "0.5")).reward == 1.0


async def test_dead_server() -> None:
    async with AsyncTinyVClient(f"127.0.0.1:{free_port()}", retry=RetryPolicy(max_attempts=2)) as c:
        start = time.monotonic()
        with pytest.raises(UnavailableError):
            await c.verify("1", "1")
        with pytest.raises(UnavailableError):
            [v async for v in c.stream(numbered(5))]
        assert time.monotonic() - start < 10


@pytest.mark.slow
async def test_server_restart_mid_stream(restartable_server: TinyVServer) -> None:
    policy = RetryPolicy(max_attempts=30, initial_backoff=0.05, max_backoff=0.5)
    async with AsyncTinyVClient(restartable_server.target, retry=policy) as c:
        verdicts = []
        async for verdict in c.stream(numbered(3000), window=256):
            verdicts.append(verdict)
            if len(verdicts) == 800:
                await asyncio.get_running_loop().run_in_executor(
                    None, restartable_server.restart, signal.SIGKILL
                )
        assert_numbered(verdicts, 3000)
