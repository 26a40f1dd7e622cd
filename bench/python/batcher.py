"""A prototype for comparison only, not part of the SDK: concurrent per-sample awaits gathered into
VerifyBatch calls (whatever is waiting when the loop comes round, up to 256 items, at most 4 calls in
flight). It shows what the per-message cost of a gRPC stream in Python leaves on the table: see the
"Python SDK: per-sample calls" section of bench/RESULTS.md. It has no deadlines, retries or window of its
own, and a batch answers only when its slowest item does (an item waiting on the LLM holds the rest).
"""

from __future__ import annotations

import asyncio
from typing import Any, List, Optional, Tuple

from tinyv_client import AsyncTinyVClient, Verdict, VerifyRequest


class Batcher:
    def __init__(self, target: str, max_batch: int = 256, max_calls: int = 4) -> None:
        self.client = AsyncTinyVClient(target, timeout=600)
        self.max_batch, self.max_calls = max_batch, max_calls
        self.pending: List[Tuple[VerifyRequest, "asyncio.Future[Verdict]"]] = []
        self.wake: Optional[asyncio.Event] = None
        self.calls: Optional[asyncio.Semaphore] = None
        self.task: Optional["asyncio.Task[Any]"] = None

    async def verify(self, request: VerifyRequest) -> Verdict:
        loop = asyncio.get_running_loop()
        if self.task is None:
            self.wake, self.calls = asyncio.Event(), asyncio.Semaphore(self.max_calls)
            self.task = loop.create_task(self._run())
        assert self.wake is not None
        future = loop.create_future()
        self.pending.append((request, future))
        self.wake.set()
        return await future

    async def _run(self) -> None:
        assert self.wake is not None and self.calls is not None
        while True:
            await self.wake.wait()
            self.wake.clear()
            await asyncio.sleep(0)  # let the other callers that are ready add theirs
            while self.pending:
                batch, self.pending = self.pending[: self.max_batch], self.pending[self.max_batch :]
                await self.calls.acquire()
                asyncio.get_running_loop().create_task(self._send(batch))

    async def _send(self, batch: List[Tuple[VerifyRequest, "asyncio.Future[Verdict]"]]) -> None:
        assert self.calls is not None
        try:
            verdicts = await self.client.verify_batch([r for r, _ in batch])
            for (_, future), verdict in zip(batch, verdicts):
                future.set_result(verdict)
        except BaseException as error:
            for _, future in batch:
                future.set_exception(error)
        finally:
            self.calls.release()
