"""Coalescing: concurrent per-sample verify() calls ride one long-lived VerifyStream per target.

Trainers call the reward once per sample with many samples in flight (verl's reward
loop, OpenRLHF, slime, AReaL). A unary call each pays a whole RPC per sample; a
stream pays one message. So a coalescing client sends each call as an item of a
stream it keeps open, and hands each verdict back to its caller by wire id.

- SyncMux serves threads: callers block on a lock of their own; one driver thread
  per target reads the stream, gRPC's own thread writes it.
- AsyncMux serves the tasks of one event loop (grpc.aio): callers await a future;
  one driver task per target reads the stream.

Both keep a StreamLedger per stream (_ledger.py): the wire ids, what is unanswered,
duplicates dropped. At most `window` calls are in flight per target; more wait for a
slot. Every call has its own deadline; a caller that gives up is forgotten, so it is
never resent. When the stream breaks (UNAVAILABLE, or a server that ends it with
items unanswered) a new one is opened and every unanswered item is sent again, in
order; a verdict that arrives twice is dropped. After `retry.max_attempts` failed
openings in a row with no verdict in between, the waiting calls fail with the error
and the next call starts afresh. The stream is opened on the first call and stays
open; one that breaks while idle is reopened by the next call.

The client opens channels per process (and event loop), so a forked child gets a
coalescer of its own and never touches its parent's stream.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import threading
import weakref
from typing import Any, Dict, List, Optional, Sequence, Tuple

import grpc

from ._base import stream_retryable
from ._config import Deadline, Settings
from ._gen import verifier_pb2 as pb
from ._gen import verifier_pb2_grpc as pb_grpc
from ._ledger import StreamLedger
from .errors import DeadlineExceededError, ProtocolError, TinyVError, from_rpc_error
from .types import Verdict, VerifyRequest

Stub = Tuple[pb_grpc.VerifierServiceStub, str]


def _deadline_error(target: str, timeout: Optional[float]) -> DeadlineExceededError:
    return DeadlineExceededError(
        f"tinyv server {target}: DEADLINE_EXCEEDED: no verdict within {timeout}s",
        code=grpc.StatusCode.DEADLINE_EXCEEDED,
        target=target,
    )


class _LaneState:
    """What the sync and async lanes share: the ledger, the waiters, the retry count."""

    def __init__(self, stub: pb_grpc.VerifierServiceStub, target: str, settings: Settings) -> None:
        self.stub = stub
        self.target = target
        self.settings = settings
        self.ledger = StreamLedger(ordered=False)
        self.waiters: Dict[int, Any] = {}
        self.failures = 0  # failed stream openings in a row, with no verdict in between
        self.closed = False

    @property
    def healthy(self) -> bool:
        return self.failures == 0

    def add(self, request: VerifyRequest, waiter: Any) -> int:
        index, message = self.ledger.register_indexed(request)
        self.waiters[index] = waiter
        self.ledger.requeue(message)
        return index

    def take(self, reply: pb.Verdict) -> Tuple[Any, Optional[Verdict]]:
        """The waiter of a reply and its verdict; (None, None) for a duplicate or a forgotten call."""
        taken = self.ledger.take(reply)
        if taken is None:
            return None, None
        self.failures = 0
        return self.waiters.pop(taken[0], None), taken[1]

    def drop(self, index: int) -> Any:
        """A caller gave up: forget its item; its waiter, or None if already resolved."""
        self.ledger.forget(index)
        return self.waiters.pop(index, None)

    def after_failure(self, failure: TinyVError) -> Tuple[Optional[float], List[Any]]:
        """(seconds to wait before reopening, []) or (None, the waiters that now fail)."""
        if not self.ledger.unanswered:
            return 0.0, []  # an idle stream broke (a restart): the next call reopens it
        self.failures += 1
        retry = self.settings.retry
        if stream_retryable(failure) and self.failures < retry.max_attempts:
            return retry.backoff(self.failures), []
        self.failures = 0
        failed = [self.waiters.pop(i) for i in self.ledger.forget_all() if i in self.waiters]
        return None, failed

    def unanswered_error(self) -> Optional[ProtocolError]:
        if not self.ledger.unanswered:
            return None
        return ProtocolError(
            f"stream ended with {self.ledger.unanswered} items unanswered", target=self.target
        )


class _Mux:
    """One lane (a long-lived stream) per target; calls go round-robin over them."""

    lane_class: Any = None

    def __init__(self, stubs: Sequence[Stub], settings: Settings, window: int) -> None:
        self._lanes = [self.lane_class(stub, target, settings, window) for stub, target in stubs]
        self._turn = itertools.count()

    def _lane(self) -> Any:
        """The next target's lane, skipping those whose stream is failing while another's is not."""
        start = next(self._turn)
        for step in range(len(self._lanes)):
            lane = self._lanes[(start + step) % len(self._lanes)]
            if lane.state.healthy:
                return lane
        return self._lanes[start % len(self._lanes)]


# -- threads ------------------------------------------------------------------


class _Waiter:
    """One blocked caller: a lock it holds until its verdict (or error) is set."""

    __slots__ = ("lock", "verdict", "error")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lock.acquire()
        self.verdict: Optional[Verdict] = None
        self.error: Optional[BaseException] = None

    def resolve(self, verdict: Optional[Verdict] = None, error: Optional[BaseException] = None) -> None:
        self.verdict, self.error = verdict, error
        self.lock.release()


class _SyncLane:
    def __init__(
        self, stub: pb_grpc.VerifierServiceStub, target: str, settings: Settings, window: int
    ) -> None:
        self.state = _LaneState(stub, target, settings)
        self._cond = threading.Condition(threading.Lock())
        self._slots = threading.BoundedSemaphore(window)
        self._driver: Optional[threading.Thread] = None
        self._call: Optional[Any] = None
        self._attempt = 0  # which stream the request side belongs to

    def verify(self, request: VerifyRequest, timeout: Optional[float]) -> Verdict:
        state = self.state
        deadline = Deadline(timeout)
        if not self._slots.acquire(timeout=-1 if timeout is None else timeout):
            raise _deadline_error(state.target, timeout)
        try:
            waiter = _Waiter()
            with self._cond:
                if state.closed:
                    raise TinyVError("client is closed", target=state.target)
                index = state.add(request, waiter)
                if self._driver is None:
                    self._driver = threading.Thread(target=self._drive, name="tinyv-coalesce", daemon=True)
                    self._driver.start()
                self._cond.notify_all()
            left = deadline.remaining()
            if not waiter.lock.acquire(timeout=-1 if left is None else max(0.0, left)):
                with self._cond:
                    mine = state.drop(index) is not None
                if mine:
                    raise _deadline_error(state.target, timeout)
                waiter.lock.acquire()  # resolved at this very moment: take the verdict
        finally:
            self._slots.release()
        if waiter.error is not None:
            raise waiter.error
        assert waiter.verdict is not None
        return waiter.verdict

    def close(self) -> None:
        with self._cond:
            self.state.closed = True
            waiters = list(self.state.waiters.values())
            self.state.waiters.clear()
            self._cond.notify_all()
            call = self._call
        if call is not None:
            call.cancel()
        for waiter in waiters:
            waiter.resolve(error=TinyVError("client is closed", target=self.state.target))

    def _requests(self, attempt: int) -> Any:
        """The request side of one stream; gRPC runs it on a thread of its own."""
        ledger = self.state.ledger
        while True:
            with self._cond:
                while True:
                    if self._attempt != attempt or self.state.closed:
                        return
                    message = ledger.next_resend()
                    if message is not None:
                        break
                    self._cond.wait()
            yield message

    def _drive(self) -> None:
        state = self.state
        while True:
            with self._cond:
                while not state.closed and not state.ledger.unanswered:
                    self._cond.wait()
                if state.closed:
                    return
                state.ledger.begin_attempt()
                self._attempt += 1
                attempt = self._attempt
            call = state.stub.VerifyStream(self._requests(attempt), metadata=state.settings.metadata)
            with self._cond:
                self._call = call
                closed = state.closed
            failure = None if closed else self._read(call)
            with self._cond:
                self._attempt += 1  # stops the request side
                self._call = None
                self._cond.notify_all()
            call.cancel()
            with self._cond:
                if failure is None:
                    failure = state.unanswered_error()
                if failure is None or state.closed:
                    continue
                pause, failed = state.after_failure(failure)
            for waiter in failed:
                waiter.resolve(error=failure)
            if pause:
                with self._cond:
                    if not state.closed:
                        self._cond.wait(pause)

    def _read(self, call: Any) -> Optional[TinyVError]:
        state = self.state
        try:
            for reply in call:
                with self._cond:
                    waiter, verdict = state.take(reply)
                if waiter is not None:
                    waiter.resolve(verdict)
        except grpc.RpcError as error:
            return from_rpc_error(error, state.target, state.failures + 1)
        except ProtocolError as error:  # a verdict for an id we never sent
            return error
        return None


class SyncMux(_Mux):
    """Coalesces TinyVClient.verify calls from any number of threads (see the module docstring)."""

    lane_class = _SyncLane

    def __init__(self, stubs: Sequence[Stub], settings: Settings, window: int) -> None:
        super().__init__(stubs, settings, window)
        _open_muxes.add(self)

    def verify(self, request: VerifyRequest, timeout: Optional[float]) -> Verdict:
        return self._lane().verify(request, timeout)

    def close(self) -> None:
        for lane in self._lanes:
            lane.close()


_open_muxes: "weakref.WeakSet[SyncMux]" = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    # Cancel open streams so that no gRPC thread is mid-call while the interpreter exits.
    for mux in list(_open_muxes):
        mux.close()


# -- asyncio --------------------------------------------------------------------


class _AsyncLane:
    def __init__(
        self, stub: pb_grpc.VerifierServiceStub, target: str, settings: Settings, window: int
    ) -> None:
        self.state = _LaneState(stub, target, settings)
        self._loop = asyncio.get_running_loop()
        self._slots = asyncio.Semaphore(window)
        self._work = asyncio.Event()  # something to send, or a reason to look again
        self._driver: Optional["asyncio.Task[None]"] = None
        self._call: Optional[Any] = None
        self._attempt = 0

    async def verify(self, request: VerifyRequest, timeout: Optional[float]) -> Verdict:
        state = self.state
        deadline = Deadline(timeout)
        if self._slots.locked():
            try:
                await asyncio.wait_for(self._slots.acquire(), timeout)
            except asyncio.TimeoutError:
                raise _deadline_error(state.target, timeout) from None
        else:
            await self._slots.acquire()  # free: returns at once
        try:
            if state.closed:
                raise TinyVError("client is closed", target=state.target)
            future = self._loop.create_future()
            index = state.add(request, future)
            self._work.set()
            if self._driver is None or self._driver.done():
                self._driver = self._loop.create_task(self._drive())
            left = deadline.remaining()
            timer = (
                None if left is None else self._loop.call_later(max(0.0, left), self._expire, index, timeout)
            )
            try:
                return await future
            except asyncio.CancelledError:
                state.drop(index)
                raise
            finally:
                if timer is not None:
                    timer.cancel()
        finally:
            self._slots.release()

    def _expire(self, index: int, timeout: Optional[float]) -> None:
        future = self.state.drop(index)
        if future is not None and not future.done():
            future.set_exception(_deadline_error(self.state.target, timeout))

    async def close(self) -> None:
        state = self.state
        state.closed = True
        self._work.set()
        if self._call is not None:
            self._call.cancel()
        error = TinyVError("client is closed", target=state.target)
        for future in state.waiters.values():
            if not future.done():
                future.set_exception(error)
        state.waiters.clear()
        if self._driver is not None and self._driver is not asyncio.current_task():
            self._driver.cancel()
            await asyncio.gather(self._driver, return_exceptions=True)

    async def _requests(self, attempt: int) -> Any:
        ledger = self.state.ledger
        while self._attempt == attempt and not self.state.closed:
            message = ledger.next_resend()
            if message is None:
                self._work.clear()
                await self._work.wait()
                continue
            yield message

    async def _drive(self) -> None:
        state = self.state
        try:
            while not state.closed:
                if not state.ledger.unanswered:
                    self._work.clear()
                    await self._work.wait()
                    continue
                state.ledger.begin_attempt()
                self._attempt += 1
                call = state.stub.VerifyStream(
                    self._requests(self._attempt), metadata=state.settings.metadata
                )
                self._call = call
                try:
                    failure = await self._read(call)
                finally:
                    self._attempt += 1  # stops the request side
                    self._call = None
                    self._work.set()
                    call.cancel()
                if failure is None:
                    failure = state.unanswered_error()
                if failure is None or state.closed:
                    continue
                pause, failed = state.after_failure(failure)
                for future in failed:
                    if not future.done():
                        future.set_exception(failure)
                if pause:
                    await asyncio.sleep(pause)
        except asyncio.CancelledError:
            pass  # the loop is shutting down or the client closed

    async def _read(self, call: Any) -> Optional[TinyVError]:
        state = self.state
        try:
            async for reply in call:
                future, verdict = state.take(reply)
                if future is not None and not future.done():
                    future.set_result(verdict)
        except grpc.RpcError as error:
            return from_rpc_error(error, state.target, state.failures + 1)
        except ProtocolError as error:
            return error
        return None


class AsyncMux(_Mux):
    """Coalesces AsyncTinyVClient.verify calls from the tasks of one event loop."""

    lane_class = _AsyncLane

    async def verify(self, request: VerifyRequest, timeout: Optional[float]) -> Verdict:
        return await self._lane().verify(request, timeout)

    async def close(self) -> None:
        await asyncio.gather(*(lane.close() for lane in self._lanes))
