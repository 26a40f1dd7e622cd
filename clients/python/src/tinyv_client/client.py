"""TinyVClient: the blocking client, for trainers and scripts without an event loop."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any, Iterable, Iterator, List, Optional

import grpc

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


class _Attempt:
    """One VerifyStream call; lets its request thread stop or report an input error."""

    def __init__(self, cond: threading.Condition) -> None:
        self.cond = cond
        self.stopped = False
        self.waiting = False
        self.error: Optional[BaseException] = None
        self.call: Optional[grpc.Future] = None

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()

    def fail(self, error: BaseException) -> None:
        with self.cond:
            self.error = error
            self.stopped = True
            call = self.call
            self.cond.notify_all()
        if call is not None:
            call.cancel()


class TinyVClient(ClientBase[grpc.Channel]):
    """Blocking client of tinyv.v1.VerifierService; safe to share between threads.

    See ClientBase for the constructor's arguments. With coalesce=True, verify()
    calls from all threads share one long-lived stream per target.
    """

    # -- lifecycle ---------------------------------------------------------

    def close(self) -> None:
        """Close every channel; calls in flight are cancelled."""
        if not self._closed:
            channels, mux = self._take_for_close()
            if mux is not None:
                mux.close()
            for channel in channels:
                channel.close()

    def __enter__(self) -> "TinyVClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- calls ---------------------------------------------------------------

    def verify(
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

        With coalesce=True the item rides this process's shared stream (as
        fast as a stream when many threads call at once); otherwise it is one
        unary call.
        """
        request = VerifyRequest(ground_truth, response, question, id, data_source, options)
        if self.coalesce:
            return self._coalescer().verify(request, self._timeout(timeout))
        return verdict_from_proto(self._unary("Verify", request_to_proto(request), timeout))

    def verify_batch(
        self,
        items: Iterable[RequestLike],
        *,
        options: Optional[Options] = None,
        timeout: Optional[float] = DEFAULT,
    ) -> List[Verdict]:
        """Verify many items in one call; verdicts come back in input order."""
        message = batch_message(items, options)
        reply = self._unary("VerifyBatch", message, timeout)
        return batch_verdicts(reply, len(message.items), self.target)

    def get_server_info(self, *, timeout: Optional[float] = DEFAULT) -> ServerInfo:
        """The server's version, default mode, LLM backends and limits."""
        return server_info_from_proto(self._unary("GetServerInfo", pb.GetServerInfoRequest(), timeout))

    def stream(
        self,
        items: Iterable[RequestLike],
        *,
        ordered: bool = True,
        options: Optional[Options] = None,
        timeout: Optional[float] = None,
        window: int = DEFAULT_WINDOW,
    ) -> Iterator[Verdict]:
        """Verify an iterable of items over one bidirectional stream.

        Yields verdicts in input order (ordered=True) or as they complete. The
        input is read lazily, at most `window` items ahead of what was yielded.
        If the connection drops, a new stream resends exactly the unanswered
        items: nothing is lost or yielded twice. Each verdict carries its
        item's own `id`. `options` apply to items that have none of their own.
        """
        check_window(window)
        ledger = StreamLedger(ordered=ordered, options=options)
        return self._run_stream(iter(items), ledger, Deadline(timeout), window)

    @staticmethod
    def _peek(source: Iterator[RequestLike]) -> Optional[Iterator[RequestLike]]:
        """None for an empty input (no call is made), else the same items."""
        try:
            first = next(source)
        except StopIteration:
            return None
        return itertools.chain((first,), source)

    # -- internals -----------------------------------------------------------

    def _unary(self, method: str, message: Any, timeout: Optional[float]) -> Any:
        deadline = Deadline(self._timeout(timeout))
        failures = 0
        while True:
            stub, target = self._next_stub()
            try:
                return getattr(stub, method)(
                    message, timeout=deadline.left_or_raise(target), metadata=self._settings.metadata
                )
            except grpc.RpcError as error:
                failures += 1
                pause = self._unary_retry_pause(error, failures, deadline, target)
            time.sleep(pause)

    def _run_stream(
        self,
        source: Iterator[RequestLike],
        ledger: StreamLedger,
        deadline: Deadline,
        window: int,
    ) -> Iterator[Verdict]:
        peeked = self._peek(source)
        if peeked is None:
            return
        source = peeked
        cond = threading.Condition()
        source_lock = threading.Lock()
        failures = 0
        while not ledger.done:
            stub, target = self._next_stub()
            attempt = _Attempt(cond)
            with cond:
                ledger.begin_attempt()
            requests = self._requests(source, source_lock, ledger, attempt, window)
            call = stub.VerifyStream(
                requests, timeout=deadline.left_or_raise(target), metadata=self._settings.metadata
            )
            with cond:
                attempt.call = call
                failed_early = attempt.error is not None
            if failed_early:
                call.cancel()
            failure: Optional[TinyVError] = None
            try:
                for reply in call:
                    with cond:
                        ready = ledger.on_verdict(reply)
                        if attempt.waiting:
                            cond.notify()
                    failures = 0
                    for verdict in ready:
                        yield verdict
                    if ledger.done:
                        break  # every item answered: no need to wait for the server's end of stream
                if attempt.error is None and not ledger.done:
                    # The server closed the stream cleanly with items unanswered
                    # (e.g. a shutdown): resend them like after a dropped connection.
                    failure = ProtocolError(
                        f"stream ended with {ledger.unanswered} items unanswered", target=target
                    )
            except grpc.RpcError as error:
                if attempt.error is None:
                    failure = from_rpc_error(error, target, failures + 1)
            finally:
                attempt.stop()
                call.cancel()
            if attempt.error is not None:
                raise attempt.error
            if failure is None:
                continue
            failures += 1
            time.sleep(self._stream_retry_pause(failure, failures, deadline))

    def _requests(
        self,
        source: Iterator[RequestLike],
        source_lock: threading.Lock,
        ledger: StreamLedger,
        attempt: _Attempt,
        window: int,
    ) -> Iterator[pb.VerifyRequest]:
        """Request side of one stream; runs on a gRPC thread."""
        cond = attempt.cond
        while True:
            with cond:
                if attempt.stopped:
                    return
                message = ledger.next_resend()
                if message is None:
                    if ledger.exhausted:
                        return  # half-close: the server ends the stream after the last verdict
                    while ledger.outstanding >= window and not attempt.stopped:
                        attempt.waiting = True
                        cond.wait()
                    attempt.waiting = False
                    if attempt.stopped:
                        return
            if message is None:
                with source_lock:
                    if attempt.stopped:
                        return
                    try:
                        item = next(source)
                    except StopIteration:
                        with cond:
                            ledger.exhausted = True
                        continue
                    except BaseException as error:  # the caller's iterator failed
                        attempt.fail(error)
                        return
                    failure: Optional[Exception] = None
                    with cond:
                        try:
                            message = ledger.register(item)
                        except Exception as error:  # a malformed item
                            failure = error
                        else:
                            if attempt.stopped:
                                ledger.requeue(message)
                                return
                    if failure is not None:
                        attempt.fail(failure)
                        return
            if message is not None:
                yield message
