"""AsyncTinyVClient: the asyncio client (grpc.aio), for async trainers and reward loops."""

from __future__ import annotations

import asyncio
import os
from typing import Any, AsyncIterable, AsyncIterator, Iterable, List, Optional, Union

import grpc
import grpc.aio

from ._base import (
    DEFAULT,
    DEFAULT_WINDOW,
    ClientBase,
    batch_message,
    batch_verdicts,
    check_window,
)
from ._config import Deadline
from ._convert import RequestLike, request_to_proto, server_info_from_proto, verdict_from_proto
from ._gen import verifier_pb2 as pb
from ._ledger import StreamLedger
from .errors import ProtocolError, TinyVError, from_rpc_error
from .types import Options, ServerInfo, Verdict, VerifyRequest

AnyIterable = Union[Iterable[RequestLike], AsyncIterable[RequestLike]]


class _AsyncAttempt:
    """One VerifyStream call; lets its request task stop or report an input error."""

    def __init__(self) -> None:
        self.stopped = False
        self.error: Optional[BaseException] = None
        self.call: Optional[Any] = None
        self.wakeup = asyncio.Event()

    def stop(self) -> None:
        self.stopped = True
        self.wakeup.set()

    def fail(self, error: BaseException) -> None:
        self.error = error
        self.stop()
        if self.call is not None:
            self.call.cancel()


class _Source:
    """Reads a sync or async iterable, one item at a time, from one reader at a time."""

    def __init__(self, items: AnyIterable) -> None:
        self._lock = asyncio.Lock()
        self._first: List[Any] = []
        if hasattr(items, "__aiter__"):
            self._aiter: Optional[AsyncIterator[RequestLike]] = items.__aiter__()  # type: ignore[union-attr]
            self._iter = None
        else:
            self._aiter = None
            self._iter = iter(items)  # type: ignore[arg-type]

    @property
    def lock(self) -> asyncio.Lock:
        return self._lock

    async def empty(self) -> bool:
        """Whether the input has no items at all; the first one is kept for next()."""
        try:
            self._first = [await self.next()]
        except StopAsyncIteration:
            return True
        return False

    async def next(self) -> Any:
        """The next item, or StopAsyncIteration."""
        if self._first:
            return self._first.pop()
        if self._aiter is not None:
            return await self._aiter.__anext__()
        try:
            return next(self._iter)  # type: ignore[arg-type]
        except StopIteration:
            raise StopAsyncIteration from None


class AsyncTinyVClient(ClientBase[grpc.aio.Channel]):
    """asyncio client of tinyv.v1.VerifierService; use it from one event loop.

    Same constructor and calls as TinyVClient, as coroutines; stream() takes a
    sync or async iterable and is an async iterator. With coalesce=True, verify()
    calls from all tasks (on any event loop) share one long-lived stream per target.
    """

    _grpc_module = grpc.aio

    def _current_scope(self) -> Any:
        # grpc.aio channels work on the event loop that made them.
        return (os.getpid(), asyncio.get_running_loop())

    async def close(self) -> None:
        """Close every channel; calls in flight are cancelled."""
        if not self._closed:
            channels, mux = self._take_for_close()
            if mux is not None:
                mux.close()
            await asyncio.gather(*(channel.close() for channel in channels))

    async def __aenter__(self) -> "AsyncTinyVClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def verify(
        self,
        ground_truth: str,
        response: str,
        question: str = "",
        *,
        id: str = "",
        data_source: str = "",
        options: Optional[Options] = None,
        timeout: Optional[float] = DEFAULT,
    ) -> Verdict:
        """Verify one item. A bad item returns a Verdict with `error` set.

        With coalesce=True the item rides the process's shared stream;
        otherwise it is one unary call.
        """
        request = VerifyRequest(ground_truth, response, question, id, data_source, options)
        if self.coalesce:
            return await self._coalescer().averify(request, self._timeout(timeout))
        return verdict_from_proto(await self._unary("Verify", request_to_proto(request), timeout))

    async def verify_batch(
        self,
        items: Iterable[RequestLike],
        *,
        options: Optional[Options] = None,
        timeout: Optional[float] = DEFAULT,
    ) -> List[Verdict]:
        """Verify many items in one call; verdicts come back in input order."""
        message = batch_message(items, options)
        reply = await self._unary("VerifyBatch", message, timeout)
        return batch_verdicts(reply, len(message.items), self.target)

    async def get_server_info(self, *, timeout: Optional[float] = DEFAULT) -> ServerInfo:
        """The server's version, default mode, LLM backends and limits."""
        reply = await self._unary("GetServerInfo", pb.GetServerInfoRequest(), timeout)
        return server_info_from_proto(reply)

    def stream(
        self,
        items: AnyIterable,
        *,
        ordered: bool = True,
        options: Optional[Options] = None,
        timeout: Optional[float] = None,
        window: int = DEFAULT_WINDOW,
    ) -> AsyncIterator[Verdict]:
        """Verify items over one bidirectional stream; see TinyVClient.stream.

        A sync iterable is read on the event loop, so it must not block; pass an
        async iterable for a slow source.
        """
        check_window(window)
        ledger = StreamLedger(ordered=ordered, options=options)
        return self._run_stream(_Source(items), ledger, Deadline(timeout), window)

    async def _unary(self, method: str, message: Any, timeout: Optional[float]) -> Any:
        deadline = Deadline(self._timeout(timeout))
        failures = 0
        while True:
            stub, target = self._next_stub()
            try:
                return await getattr(stub, method)(
                    message, timeout=deadline.left_or_raise(target), metadata=self._settings.metadata
                )
            except grpc.RpcError as error:
                failures += 1
                pause = self._unary_retry_pause(error, failures, deadline, target)
            await asyncio.sleep(pause)

    async def _run_stream(
        self,
        source: _Source,
        ledger: StreamLedger,
        deadline: Deadline,
        window: int,
    ) -> AsyncIterator[Verdict]:
        if await source.empty():
            return  # no call for no items
        failures = 0
        while not ledger.done:
            stub, target = self._next_stub()
            attempt = _AsyncAttempt()
            ledger.begin_attempt()
            call = stub.VerifyStream(
                self._requests(source, ledger, attempt, window),
                timeout=deadline.left_or_raise(target),
                metadata=self._settings.metadata,
            )
            attempt.call = call
            failure: Optional[TinyVError] = None
            try:
                async for reply in call:
                    ready = ledger.on_verdict(reply)
                    attempt.wakeup.set()
                    failures = 0
                    for verdict in ready:
                        yield verdict
                    if ledger.done:
                        break  # every item answered: no need to wait for the server's end of stream
                if attempt.error is None and not ledger.done:
                    failure = ProtocolError(
                        f"stream ended with {ledger.unanswered} items unanswered", target=target
                    )
            except grpc.RpcError as error:
                if attempt.error is None:
                    failure = from_rpc_error(error, target, failures + 1)
            except asyncio.CancelledError:
                if attempt.error is None:
                    raise  # our caller was cancelled, not the call by an input error
            finally:
                attempt.stop()
                call.cancel()
            if attempt.error is not None:
                raise attempt.error
            if failure is None:
                continue
            failures += 1
            await asyncio.sleep(self._stream_retry_pause(failure, failures, deadline))

    async def _requests(
        self,
        source: _Source,
        ledger: StreamLedger,
        attempt: _AsyncAttempt,
        window: int,
    ) -> AsyncIterator[pb.VerifyRequest]:
        """Request side of one stream; grpc.aio consumes it in its own task."""
        while not attempt.stopped:
            message = ledger.next_resend()
            if message is None:
                if ledger.exhausted:
                    return  # half-close: the server ends the stream after the last verdict
                while ledger.outstanding >= window and not attempt.stopped:
                    attempt.wakeup.clear()
                    await attempt.wakeup.wait()
                async with source.lock:
                    if attempt.stopped:
                        return
                    try:
                        item = await source.next()
                    except StopAsyncIteration:
                        ledger.exhausted = True
                        continue
                    except Exception as error:  # the caller's iterable failed
                        attempt.fail(error)
                        return
                    try:
                        message = ledger.register(item)
                    except Exception as error:  # a malformed item
                        attempt.fail(error)
                        return
                    if attempt.stopped:
                        ledger.requeue(message)
                        return
            yield message
