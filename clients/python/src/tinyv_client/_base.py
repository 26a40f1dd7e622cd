"""What the sync and asyncio clients share: settings, channels, round-robin, sentinels."""

from __future__ import annotations

import itertools
from typing import Any, Generic, Iterable, List, Optional, Sequence, Tuple, TypeVar

import grpc

from ._config import Deadline, RetryPolicy, Settings, Targets, make_settings
from ._convert import RequestLike, options_to_proto, request_to_proto, verdict_from_proto
from ._gen import verifier_pb2 as pb
from ._gen import verifier_pb2_grpc as pb_grpc
from .errors import InvalidRequestError, ProtocolError, TinyVError, from_rpc_error, lost_in_transport
from .types import Options, Verdict

#: Sentinel: "use the client's default timeout" (None means no deadline at all).
DEFAULT: Any = object()

#: Items a stream keeps in flight (sent, or answered and held for ordering) before
#: it stops reading the input; bounds memory when the input is a huge generator.
DEFAULT_WINDOW = 8192

#: Status codes worth a retry: the server is down, restarting or unreachable.
RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE})
STREAM_RETRYABLE = RETRYABLE | {grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN}

ChannelT = TypeVar("ChannelT")


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
    ) -> None:
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
        module = self._grpc_module
        self._channels: List[ChannelT] = []
        self._stubs: List[Tuple[pb_grpc.VerifierServiceStub, str]] = []
        for endpoint in self._settings.endpoints:
            creds = self._settings.credentials_for(endpoint)
            options = self._settings.channel_options
            if creds is None:
                channel = module.insecure_channel(endpoint.target, options=options)
            else:
                channel = module.secure_channel(endpoint.target, creds, options=options)
            self._channels.append(channel)
            self._stubs.append((pb_grpc.VerifierServiceStub(channel), endpoint.target))
        self._turn = itertools.count()
        self._closed = False

    @property
    def target(self) -> str:
        """The targets, comma-separated, as given."""
        return self._settings.display

    def _next_stub(self) -> Tuple[pb_grpc.VerifierServiceStub, str]:
        if self._closed:
            raise TinyVError("client is closed", target=self.target)
        return self._stubs[next(self._turn) % len(self._stubs)]

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
        """Seconds to wait before reopening a broken stream; raises when it should not be reopened.

        A stream the server closed with items unanswered (ProtocolError) is
        reopened too: the resend is safe, and a shutdown can end streams early.
        So is one reset with CANCEL that this client did not cancel, or ended
        without a grpc-status (UNKNOWN): that is how an L7 proxy (haproxy) passes
        on a backend that died mid-stream. tinyv serve reports its own faults as
        INTERNAL, and resends are bounded by the retry policy; an INTERNAL that
        gRPC core made up for a broken connection (a GOAWAY mid-stream) is resent.
        """
        retryable = (
            failure.code in STREAM_RETRYABLE
            or isinstance(failure, ProtocolError)
            or lost_in_transport(failure.code, failure.message)
        )
        if not retryable or failures >= self._settings.retry.max_attempts:
            raise failure
        return deadline.cap(self._settings.retry.backoff(failures))
