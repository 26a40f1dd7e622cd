"""Coalescing: concurrent per-sample verify() calls ride one long-lived VerifyStream per target.

Trainers call the reward once per sample with many samples in flight (verl's reward
loop, OpenRLHF, slime, AReaL). A unary call each pays a whole RPC per sample; a
stream pays one message. So a coalescing client sends each call as an item of a
stream it keeps open, and hands each verdict back to its caller by wire id.

The stream is VerifyPackedStream: the items queued at a moment go in one message,
and the server's verdicts come in packs of those ready (Python's gRPC pays about
100 us a message; bench/RESULTS.md). Against a server without it, VerifyStream.

One SyncMux per process serves every caller of a client: threads (they block on a
lock of their own) and asyncio tasks on any event loop (they await a future that
the stream's reader sets through loop.call_soon_threadsafe, one hop per burst of
verdicts, not one per verdict). The stream itself runs on sync gRPC: its request
side on gRPC's thread, its reader on a driver thread per target. On this project's
machine that costs less CPU per item than grpc.aio's stream (bench/RESULTS.md).

Each stream keeps a StreamLedger (_ledger.py): wire ids, what is unanswered,
duplicates dropped. At most `window` calls are in flight per target; more wait for
a slot, in turn. Every call has its own deadline; a caller that gives up (deadline,
cancellation) is forgotten, so it is never resent. When the stream breaks
(UNAVAILABLE, or a server that ends it with items unanswered) a new one is opened
and every unanswered item is sent again, in order; a verdict that comes twice is
dropped. After `retry.max_attempts` failed openings in a row with no verdict in
between, the waiting calls fail with the error and the next call starts afresh. The
stream opens on the first call and stays open; one that breaks while idle is
reopened by the next call.

The client makes its mux per process, so a forked child gets one of its own and
never touches its parent's stream.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import threading
import time
import weakref
from collections import deque
from typing import Any, Deque, Dict, List, Optional, Sequence, Tuple

import grpc

from ._base import Stub, stream_retryable
from ._config import Deadline, Settings
from ._gen import verifier_pb2 as pb
from ._ledger import StreamLedger
from .errors import DeadlineExceededError, ProtocolError, TinyVError, from_rpc_error
from .types import Verdict, VerifyRequest


#: A pack (one VerifyPackedStream message) holds at most this many items, or about this many bytes.
PACK_ITEMS = 512
PACK_BYTES = 4 * 1024 * 1024
#: How long the request side waits for more callers before sending a small pack: 64 threads
#: calling one at a time made packs of about one item without it; waiting made them ~2x faster
#: (bench/RESULTS.md, "Python SDK: per-sample calls").
LINGER_S = 0.001
LINGER_STEP_S = 0.0001

#: "Reopen the stream now, nothing failed" (the server has no VerifyPackedStream).
_REOPEN: Any = TinyVError("reopen")


def _size(message: pb.VerifyRequest) -> int:
    return 64 + len(message.response) + len(message.ground_truth) + len(message.question)


def _deadline_error(target: str, timeout: Optional[float]) -> DeadlineExceededError:
    return DeadlineExceededError(
        f"tinyv server {target}: DEADLINE_EXCEEDED: no verdict within {timeout}s",
        code=grpc.StatusCode.DEADLINE_EXCEEDED,
        target=target,
    )


def _closed_error(target: str) -> TinyVError:
    return TinyVError("client is closed", target=target)


class _Waiter:
    """A blocked thread: it holds a lock until its result (or error) is set."""

    __slots__ = ("lock", "result", "error")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lock.acquire()
        self.result: Any = None
        self.error: Optional[BaseException] = None

    def resolve(self, result: Any = None, error: Optional[BaseException] = None) -> None:
        self.result, self.error = result, error
        self.lock.release()

    def wait(self, timeout: Optional[float]) -> bool:
        return self.lock.acquire(timeout=-1 if timeout is None else max(0.0, timeout))


class _Bridge:
    """One event loop's side: results handed to its futures from other threads, a burst per
    loop wake-up, and its callers' deadlines.

    Deadlines are kept per timeout value in submission order (so each queue is sorted by
    deadline) and swept by one timer: a timer per call would cost a heap push and cancel
    each, at thousands of calls a second.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._ready: List[Tuple["asyncio.Future[Any]", Any, Optional[BaseException]]] = []
        self._deadlines: Dict[float, Deque[Tuple[float, "_Lane", int, "asyncio.Future[Any]"]]] = {}
        self._timer: Optional[asyncio.TimerHandle] = None

    def watch(
        self, timeout: float, left: float, lane: "_Lane", index: int, future: "asyncio.Future[Any]"
    ) -> None:
        """Fail the call (of `timeout`, `left` seconds of it to go) at its deadline if not done. On the loop."""
        queue = self._deadlines.setdefault(timeout, deque())
        while queue and queue[0][3].done():
            queue.popleft()
        at = self.loop.time() + left
        entry = (at, lane, index, future)
        if queue and at < queue[-1][0]:  # it waited for a slot first: a little earlier than the last
            place = len(queue)
            while place > 0 and queue[place - 1][0] > at:
                place -= 1
            queue.insert(place, entry)
        else:
            queue.append(entry)
        if self._timer is None or at < self._timer.when():
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self.loop.call_at(queue[0][0], self._sweep)

    def _sweep(self) -> None:
        self._timer = None
        now, next_at = self.loop.time(), None
        for timeout, queue in self._deadlines.items():
            while queue and (queue[0][3].done() or queue[0][0] <= now):
                _, lane, index, future = queue.popleft()
                if not future.done():
                    lane._expire(index, future, timeout)
            if queue and (next_at is None or queue[0][0] < next_at):
                next_at = queue[0][0]
        if next_at is not None:
            self._timer = self.loop.call_at(next_at, self._sweep)

    def post(self, future: "asyncio.Future[Any]", result: Any, error: Optional[BaseException]) -> None:
        with self._lock:
            self._ready.append((future, result, error))
            if len(self._ready) > 1:
                return  # a flush is already scheduled
        try:
            self.loop.call_soon_threadsafe(self._flush)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    def _flush(self) -> None:
        with self._lock:
            ready, self._ready = self._ready, []
        for future, result, error in ready:
            if not future.done():
                if error is None:
                    future.set_result(result)
                else:
                    future.set_exception(error)


class _FutureWaiter:
    """A waiting task: its future is set on its own loop."""

    __slots__ = ("bridge", "future")

    def __init__(self, bridge: _Bridge, future: "asyncio.Future[Any]") -> None:
        self.bridge, self.future = bridge, future

    def resolve(self, result: Any = None, error: Optional[BaseException] = None) -> None:
        self.bridge.post(self.future, result, error)


class _Lane:
    """One long-lived stream to one target, shared by every caller of the process."""

    def __init__(self, stub: Any, target: str, settings: Settings, window: int) -> None:
        self.stub = stub
        self.target = target
        self.settings = settings
        self.window = window
        self.ledger = StreamLedger(ordered=False)
        self.waiters: Dict[int, Any] = {}  # wire index -> _Waiter or _FutureWaiter
        self.failures = 0  # failed stream openings in a row, with no verdict in between
        self.closed = False
        self._cond = threading.Condition(threading.Lock())
        self._in_flight = 0
        self._queued: Deque[Any] = deque()  # callers waiting for a slot, in turn
        self._driver: Optional[threading.Thread] = None
        self._call: Optional[Any] = None
        self._attempt = 0  # which stream the request side belongs to
        self.packed = True  # VerifyPackedStream until the server says it has none

    @property
    def healthy(self) -> bool:
        return self.failures == 0

    # -- slots and calls (each method marked "under the lock" expects self._cond held) ---

    def _enter(self, request: VerifyRequest, waiter: Any, make_ticket: Any) -> Tuple[Optional[int], Any]:
        """Take a slot and queue the item (index, None), or queue a ticket for the next free slot
        (None, ticket). Under the lock."""
        if self.closed:
            raise _closed_error(self.target)
        if self._in_flight < self.window:
            self._in_flight += 1
            return self._submit(request, waiter), None
        ticket = make_ticket()
        self._queued.append(ticket)
        return None, ticket

    def _submit(self, request: VerifyRequest, waiter: Any) -> int:
        """Queue the item of a caller holding a slot; start the driver on first use. Under the lock."""
        if self.closed:
            self._free_slot()
            raise _closed_error(self.target)
        try:
            index, message = self.ledger.register_indexed(request)
        except BaseException:
            self._free_slot()  # a malformed item
            raise
        self.waiters[index] = waiter
        self.ledger.requeue(message)
        if self._driver is None:
            self._driver = threading.Thread(
                target=self._drive, name=f"tinyv-stream {self.target}", daemon=True
            )
            self._driver.start()
        self._cond.notify_all()
        return index

    def _free_slot(self) -> None:
        """A call is over (answered, failed, given up): its slot passes to the next queued caller. Under the lock."""
        if self._queued:
            self._queued.popleft().resolve(True)
        else:
            self._in_flight -= 1

    def _pop(self, index: int) -> Any:
        """The waiter of an item, now done with (its slot freed); None if it was already. Under the lock."""
        waiter = self.waiters.pop(index, None)
        if waiter is not None:
            self._free_slot()
        return waiter

    def _drop(self, index: int) -> bool:
        """A caller gives up: forget its item; False if its verdict came meanwhile. Under the lock."""
        self.ledger.forget(index)
        return self._pop(index) is not None

    def _abandon(self, ticket: Any) -> None:
        """A queued caller gives up; a slot handed to it meanwhile passes on. Under the lock."""
        try:
            self._queued.remove(ticket)
        except ValueError:
            self._free_slot()

    def verify(self, request: VerifyRequest, timeout: Optional[float]) -> Verdict:
        deadline = Deadline(timeout)
        waiter = _Waiter()
        with self._cond:
            index, ticket = self._enter(request, waiter, _Waiter)
        if ticket is not None:
            if not ticket.wait(timeout):
                with self._cond:
                    self._abandon(ticket)
                raise _deadline_error(self.target, timeout)
            if ticket.error is not None:  # closed while waiting
                raise ticket.error
            with self._cond:
                index = self._submit(request, waiter)
        if not waiter.wait(deadline.remaining()):
            with self._cond:
                gave_up = self._drop(index)
            if gave_up:
                raise _deadline_error(self.target, timeout)
            waiter.wait(None)  # resolved at this very moment: take the verdict
        if waiter.error is not None:
            raise waiter.error
        return waiter.result

    async def averify(self, request: VerifyRequest, timeout: Optional[float], bridge: _Bridge) -> Verdict:
        deadline = Deadline(timeout)
        loop = bridge.loop
        future = loop.create_future()
        with self._cond:
            index, ticket = self._enter(
                request, _FutureWaiter(bridge, future), lambda: _FutureWaiter(bridge, loop.create_future())
            )
        if ticket is not None:
            try:
                await asyncio.wait_for(asyncio.shield(ticket.future), timeout)
            except (asyncio.TimeoutError, asyncio.CancelledError) as error:
                with self._cond:
                    self._abandon(ticket)
                if isinstance(error, asyncio.CancelledError):
                    raise
                raise _deadline_error(self.target, timeout) from None
            with self._cond:
                index = self._submit(request, _FutureWaiter(bridge, future))
        left = deadline.remaining()
        if timeout is not None and left is not None:
            bridge.watch(timeout, max(0.0, left), self, index, future)
        try:
            return await future
        except asyncio.CancelledError:
            with self._cond:
                self._drop(index)
            raise

    def _expire(self, index: int, future: "asyncio.Future[Verdict]", timeout: Optional[float]) -> None:
        with self._cond:
            gave_up = self._drop(index)
        if gave_up and not future.done():
            future.set_exception(_deadline_error(self.target, timeout))

    def close(self) -> None:
        with self._cond:
            self.closed = True
            waiters = list(self.waiters.values()) + list(self._queued)
            self.waiters.clear()
            self._queued.clear()
            self._cond.notify_all()
            call = self._call
        if call is not None:
            call.cancel()
        for waiter in waiters:
            waiter.resolve(error=_closed_error(self.target))

    # -- the stream -------------------------------------------------------------------

    def _requests(self, attempt: int) -> Any:
        """The request side of one stream; gRPC runs it on a thread of its own.

        On VerifyPackedStream every item queued at the moment goes in one message
        (up to PACK_ITEMS items or about PACK_BYTES bytes): Python's gRPC spends about
        100 us on each message, so a burst of calls costs one message, not one each.
        """
        while True:
            with self._cond:
                while True:
                    if self._attempt != attempt or self.closed:
                        return
                    message = self.ledger.next_resend()
                    if message is not None:
                        break
                    self._cond.wait()
                packed = self.packed  # read once: the reader may turn it off meanwhile
                if packed:
                    items = [message]
                    size = self._fill(items, _size(message))
                    # Callers in flight will submit again in a moment (threads one at a time, as
                    # each wakes): a short wait for them makes one pack of what would be many.
                    linger = len(items) < PACK_ITEMS // 8 and self._in_flight > 2 * len(items)
            if not packed:
                yield message
                continue
            if linger:
                self._linger(items, size)
            yield pb.VerifyPack(items=items)

    def _linger(self, items: List[pb.VerifyRequest], size: int) -> None:
        """Add items as callers submit them, while they keep coming (a pause of LINGER_STEP_S
        ends it) and for at most LINGER_S: callers that wait on an LLM verdict are not kept."""
        until = time.monotonic() + LINGER_S
        while len(items) < PACK_ITEMS and size < PACK_BYTES and time.monotonic() < until:
            time.sleep(LINGER_STEP_S)
            had = len(items)
            with self._cond:
                size = self._fill(items, size)
            if len(items) == had:
                return

    def _fill(self, items: List[pb.VerifyRequest], size: int) -> int:
        """Add queued items to a pack, up to its bounds; the pack's size. Under the lock."""
        while len(items) < PACK_ITEMS and size < PACK_BYTES:
            more = self.ledger.next_resend()
            if more is None:
                break
            items.append(more)
            size += _size(more)
        return size

    def _drive(self) -> None:
        while True:
            with self._cond:
                while not self.closed and not self.ledger.unanswered:
                    self._cond.wait()
                if self.closed:
                    return
                self.ledger.begin_attempt()
                self._attempt += 1
                attempt = self._attempt
            method = self.stub.VerifyPackedStream if self.packed else self.stub.VerifyStream
            call = method(self._requests(attempt), metadata=self.settings.metadata)
            with self._cond:
                self._call = call
                closed = self.closed
            failure = None if closed else self._read(call)
            with self._cond:
                self._attempt += 1  # stops the request side
                self._call = None
                self._cond.notify_all()
            call.cancel()
            with self._cond:
                if failure is _REOPEN:
                    continue
                if failure is None:
                    failure = self._unanswered_error()
                if failure is None or self.closed:
                    continue
                pause, failed = self._after_failure(failure)
            for waiter in failed:
                waiter.resolve(error=failure)
            if pause:
                with self._cond:
                    if not self.closed:
                        self._cond.wait(pause)

    def _read(self, call: Any) -> Optional[TinyVError]:
        try:
            for reply in call:
                if not self.packed:
                    with self._cond:
                        waiter, verdict = self._take(reply)
                    if waiter is not None:
                        waiter.resolve(verdict)
                    continue
                with self._cond:
                    done = [self._take(v) for v in reply.verdicts]
                for waiter, verdict in done:
                    if waiter is not None:
                        waiter.resolve(verdict)
        except grpc.RpcError as error:
            if self.packed and error.code() == grpc.StatusCode.UNIMPLEMENTED:
                # A server older than VerifyPackedStream: the same items, one to a message.
                self.packed = False
                return _REOPEN
            return from_rpc_error(error, self.target, self.failures + 1)
        except ProtocolError as error:  # a verdict for an id never sent
            return error
        return None

    def _take(self, reply: pb.Verdict) -> Tuple[Any, Optional[Verdict]]:
        """The waiter of a reply and its verdict; (None, None) for a duplicate or a forgotten call."""
        taken = self.ledger.take(reply)
        if taken is None:
            return None, None
        self.failures = 0
        return self._pop(taken[0]), taken[1]

    def _unanswered_error(self) -> Optional[ProtocolError]:
        if not self.ledger.unanswered:
            return None
        count = self.ledger.unanswered
        return ProtocolError(f"stream ended with {count} items unanswered", target=self.target)

    def _after_failure(self, failure: TinyVError) -> Tuple[float, List[Any]]:
        """(seconds to wait before reopening, []) or (0, the waiters that now fail). Under the lock."""
        if not self.ledger.unanswered:
            return 0.0, []  # an idle stream broke (a restart): the next call reopens it
        self.failures += 1
        retry = self.settings.retry
        if stream_retryable(failure) and self.failures < retry.max_attempts:
            return retry.backoff(self.failures), []
        self.failures = 0
        return 0.0, [w for w in map(self._pop, self.ledger.forget_all()) if w is not None]


class SyncMux:
    """This process's coalescer for one client: a lane per target, calls round-robin over them."""

    def __init__(self, stubs: Sequence[Stub], channels: List[Any], settings: Settings, window: int) -> None:
        self._lanes = [_Lane(stub, target, settings, window) for stub, target in stubs]
        self._channels = channels
        self._turn = itertools.count()
        self._bridges: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Bridge]" = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        _open_muxes.add(self)

    def _lane(self) -> _Lane:
        """The next target's lane, skipping those whose stream is failing while another's is not."""
        start = next(self._turn)
        for step in range(len(self._lanes)):
            lane = self._lanes[(start + step) % len(self._lanes)]
            if lane.healthy:
                return lane
        return self._lanes[start % len(self._lanes)]

    def verify(self, request: VerifyRequest, timeout: Optional[float]) -> Verdict:
        return self._lane().verify(request, timeout)

    async def averify(self, request: VerifyRequest, timeout: Optional[float]) -> Verdict:
        loop = asyncio.get_running_loop()
        bridge = self._bridges.get(loop)
        if bridge is None:
            with self._lock:
                bridge = self._bridges.setdefault(loop, _Bridge(loop))
        return await self._lane().averify(request, timeout, bridge)

    def close(self) -> None:
        for lane in self._lanes:
            lane.close()
        for channel in self._channels:
            channel.close()
        _open_muxes.discard(self)


_open_muxes: "weakref.WeakSet[SyncMux]" = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    # Cancel open streams so that no gRPC thread is mid-call while the interpreter exits.
    for mux in list(_open_muxes):
        mux.close()
