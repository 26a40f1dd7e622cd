"""What the sync and asyncio clients share: settings, channels, round-robin, sentinels."""

from __future__ import annotations

import itertools
import os
import threading
import weakref
from typing import TYPE_CHECKING, Any, Generic, Hashable, Iterable, List, Optional, Sequence, Tuple, TypeVar

import grpc

from ._config import Deadline, RetryPolicy, Settings, Targets, make_settings
from ._convert import RequestLike, options_to_proto, request_to_proto, verdict_from_proto
from ._gen import verifier_pb2 as pb
from ._gen import verifier_pb2_grpc as pb_grpc
from .errors import InvalidRequestError, ProtocolError, TinyVError, from_rpc_error, lost_in_transport
from .types import Options, Verdict

if TYPE_CHECKING:
    from ._coalesce import SyncMux

#: Sentinel: "use the client's default timeout" (None means no deadline at all).
DEFAULT: Any = object()

#: Items a stream keeps in flight (sent, or answered and held for ordering) before
#: it stops reading the input; bounds memory when the input is a huge generator.
DEFAULT_WINDOW = 8192

#: Status codes worth a retry: the server is down, restarting or unreachable.
RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE})
STREAM_RETRYABLE = RETRYABLE | {grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN}

#: Calls one coalescing stream keeps in flight before new calls wait (per target).
DEFAULT_COALESCE_WINDOW = 4096

ChannelT = TypeVar("ChannelT")
Stub = Tuple[pb_grpc.VerifierServiceStub, str]

# Channels a forked child inherited: they belong to the parent, so the child
# keeps them referenced (never closed or collected there) and opens its own.
_inherited: List[Any] = []
_clients: "weakref.WeakSet[ClientBase[Any]]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    # A lock held by another thread at fork() would stay held forever in the child.
    for client in list(_clients):
        client._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def open_channels(module: Any, settings: Settings) -> Tuple[List[Any], List[Stub]]:
    """One channel per target, of grpc or grpc.aio, and a stub on each."""
    channels, stubs = [], []
    for endpoint in settings.endpoints:
        creds = settings.credentials_for(endpoint)
        if creds is None:
            channel = module.insecure_channel(endpoint.target, options=settings.channel_options)
        else:
            channel = module.secure_channel(endpoint.target, creds, options=settings.channel_options)
        channels.append(channel)
        stubs.append((pb_grpc.VerifierServiceStub(channel), endpoint.target))
    return channels, stubs


def stream_retryable(failure: TinyVError) -> bool:
    """Whether a broken stream is worth reopening (its unanswered items are resent; verifying is idempotent).

    UNAVAILABLE: the server is down or draining. A stream the server ended with items
    unanswered (ProtocolError): a shutdown can end streams early. One reset with CANCEL
    that this client did not cancel, or ended without a grpc-status (UNKNOWN): that is
    how an L7 proxy (haproxy) passes on a backend that died mid-stream. An INTERNAL that
    gRPC core made up for a broken connection ("Internal error from Core": a GOAWAY
    mid-stream, or a write after the server ended the stream, grpc/grpc#36066). tinyv
    serve words its own faults otherwise, and resends are bounded by the retry policy.
    """
    return (
        failure.code in STREAM_RETRYABLE
        or isinstance(failure, ProtocolError)
        or lost_in_transport(failure.code, failure.message)
    )


def check_window(window: int) -> None:
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise InvalidRequestError(f"window must be a positive int, got {window!r}")


def batch_message(items: Iterable[RequestLike], options: Optional[Options]) -> pb.VerifyBatchRequest:
    message = pb.VerifyBatchRequest(items=[request_to_proto(i) for i in items])
    batch_options = options_to_proto(options)
    if batch_options is not None:
        message.options.CopyFrom(batch_options)
    return message


def batch_verdicts(reply: pb.VerifyBatchResponse, sent: int, target: str) -> List[Verdict]:
    if len(reply.verdicts) != sent:
        raise ProtocolError(f"server returned {len(reply.verdicts)} verdicts for {sent} items", target=target)
    return [verdict_from_proto(v) for v in reply.verdicts]


class ClientBase(Generic[ChannelT]):
    """Opens one channel per target and hands out stubs round-robin.

    Args:
        target: "host:port", "grpc://host:port", "grpcs://host:port" (TLS),
            "dns:///name:port", a comma-separated list or a sequence of those.
            Calls rotate round-robin over the targets, and within one target over
            every address its name resolves to. Defaults to $TINYV_URL.
        token: bearer token sent as `authorization: Bearer ...`; defaults to $TINYV_TOKEN.
        tls: use TLS for targets without a scheme (grpcs:// and grpc:// decide for themselves).
        root_certificates: PEM roots to trust (a private CA); implies TLS. Defaults to
            the contents of the file named by $TINYV_CA_CERT, if set.
        credentials: full grpc.ChannelCredentials (e.g. mutual TLS); implies TLS.
        tls_server_name: the name to check the server certificate against, when it
            differs from the target host.
        timeout: default deadline in seconds of verify, verify_batch and
            get_server_info, across retries; None for none. Streams have no
            deadline unless one is passed to stream().
        retry: backoff policy for UNAVAILABLE; RetryPolicy(max_attempts=1) disables it.
        channel_options: extra gRPC channel arguments, e.g. keepalive settings.
        metadata: extra metadata sent with every call.
        coalesce: send verify() calls over one long-lived VerifyStream per target,
            shared by every thread and task (on any event loop) of the process,
            instead of one unary call each: many concurrent per-sample calls then
            get a stream's throughput. See _coalesce.py.
        coalesce_window: calls in flight per coalescing stream; more wait their turn.

    Channels are opened on first use, and again in a forked child (a child never
    uses its parent's connections), so a client may be made before a fork.
    """

    #: grpc or grpc.aio: the module whose channel functions open the channels.
    _grpc_module: Any = grpc

    def __init__(
        self,
        target: Optional[Targets] = None,
        *,
        token: Optional[str] = None,
        tls: Optional[bool] = None,
        root_certificates: Optional[bytes] = None,
        credentials: Optional[grpc.ChannelCredentials] = None,
        tls_server_name: Optional[str] = None,
        timeout: Optional[float] = 30.0,
        retry: Optional[RetryPolicy] = None,
        channel_options: Optional[Sequence[Tuple[str, Any]]] = None,
        metadata: Optional[Sequence[Tuple[str, str]]] = None,
        coalesce: bool = False,
        coalesce_window: int = DEFAULT_COALESCE_WINDOW,
    ) -> None:
        check_window(coalesce_window)
        self._settings: Settings = make_settings(
            target,
            token=token,
            tls=tls,
            root_certificates=root_certificates,
            credentials=credentials,
            tls_server_name=tls_server_name,
            timeout=timeout,
            retry=retry,
            channel_options=channel_options,
            metadata=metadata,
        )
        self.coalesce = bool(coalesce)
        self._coalesce_window = coalesce_window
        self._lock = threading.Lock()
        self._scope: Optional[Hashable] = None  # what the open channels belong to
        self._channels: List[ChannelT] = []
        self._stubs: List[Stub] = []
        self._mux: Optional[SyncMux] = None  # the coalescer of process self._mux_pid
        self._mux_pid: Optional[int] = None
        self._turn = itertools.count()
        self._closed = False
        _clients.add(self)

    @property
    def target(self) -> str:
        """The targets, comma-separated, as given."""
        return self._settings.display

    def _current_scope(self) -> Hashable:
        """Channels serve one process (and, for grpc.aio, one event loop)."""
        return os.getpid()

    def _live_stubs(self) -> List[Stub]:
        """The stubs of this process's channels, opened on first use or after a fork."""
        if self._closed:
            raise TinyVError("client is closed", target=self.target)
        scope = self._current_scope()
        if scope != self._scope:
            with self._lock:
                if scope != self._scope:
                    self._open_channels(scope)
        return self._stubs

    def _open_channels(self, scope: Hashable) -> None:
        if self._scope is not None:
            _inherited.extend(self._channels)
        self._channels, self._stubs = open_channels(self._grpc_module, self._settings)
        self._scope = scope

    def _next_stub(self) -> Stub:
        stubs = self._live_stubs()
        return stubs[next(self._turn) % len(stubs)]

    def _coalescer(self) -> SyncMux:
        """This process's coalescer (on sync channels of its own), made on first use or after a fork."""
        if self._closed:
            raise TinyVError("client is closed", target=self.target)
        pid = os.getpid()
        if self._mux_pid != pid:
            with self._lock:
                if self._mux_pid != pid:
                    if self._mux is not None:
                        _inherited.append(self._mux)  # the parent's stream: never touched here
                    from ._coalesce import SyncMux  # imports this module

                    channels, stubs = open_channels(grpc, self._settings)
                    self._mux = SyncMux(stubs, channels, self._settings, self._coalesce_window)
                    self._mux_pid = pid
        assert self._mux is not None
        return self._mux

    def _take_for_close(self) -> Tuple[List[ChannelT], Optional[SyncMux]]:
        """Mark closed; return this scope's channels and this process's coalescer (none of a parent's)."""
        with self._lock:
            self._closed = True
            channels = self._channels if self._scope == self._current_scope() else []
            mux = self._mux if self._mux_pid == os.getpid() else None
            self._channels, self._stubs, self._mux = [], [], None
        return channels, mux

    def _timeout(self, timeout: Optional[float]) -> Optional[float]:
        return self._settings.timeout if timeout is DEFAULT else timeout

    def _unary_retry_pause(
        self, error: grpc.RpcError, failures: int, deadline: Deadline, target: str
    ) -> float:
        """Seconds to wait before retrying a failed unary call; raises when it should not be retried."""
        retryable = error.code() in RETRYABLE or lost_in_transport(error.code(), error.details() or "")
        if retryable and failures < self._settings.retry.max_attempts:
            pause = deadline.cap(self._settings.retry.backoff(failures))
            left = deadline.remaining()
            if left is None or left > pause:
                return pause
        raise from_rpc_error(error, target, failures) from None

    def _stream_retry_pause(self, failure: TinyVError, failures: int, deadline: Deadline) -> float:
        """Seconds to wait before reopening a broken stream; raises when it should not be reopened."""
        if not stream_retryable(failure) or failures >= self._settings.retry.max_attempts:
            raise failure
        return deadline.cap(self._settings.retry.backoff(failures))
