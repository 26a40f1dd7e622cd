"""Connection settings shared by the sync and asyncio clients.

Turns what a user writes ("localhost:50051", "grpcs://rm.internal:443",
"dns:///tinyv.svc:50051", "a:1,b:2", or a list) into gRPC targets, credentials,
channel options and per-call metadata.
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple, Union

import grpc

from .errors import DeadlineExceededError, InvalidRequestError

Targets = Union[str, Sequence[str]]

#: gRPC name-resolver schemes whose target may itself contain commas ("ipv4:a:1,b:2").
_GRPC_SCHEMES = ("dns:", "ipv4:", "ipv6:", "unix:", "unix-abstract:", "vsock:", "xds:")
_INSECURE_SCHEMES = ("grpc://", "http://")
_TLS_SCHEMES = ("grpcs://", "https://")

#: Round-robin across every address a name resolves to (dns:/// names with several
#: A records, "ipv4:a,b" lists); the default pick_first would pin one address.
_SERVICE_CONFIG = json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})

_DEFAULT_CHANNEL_OPTIONS: Tuple[Tuple[str, Any], ...] = (
    ("grpc.service_config", _SERVICE_CONFIG),
    # Verdict batches can be large; the server enforces its own limits.
    ("grpc.max_receive_message_length", -1),
    ("grpc.max_send_message_length", -1),
    # gRPC's default reconnect backoff grows to 120 s, so a restarted server would
    # stay unreachable long after it is back. Keep reconnect attempts frequent.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
)


@dataclass(frozen=True)
class Endpoint:
    """One gRPC target and whether it uses TLS (None: follow the client's default)."""

    target: str
    tls: Optional[bool] = None


def parse_targets(targets: Targets) -> List[Endpoint]:
    """Split a comma-separated string or a sequence into endpoints; URL schemes pick TLS."""
    if isinstance(targets, str):
        text = targets.strip()
        pieces = [text] if text.startswith(_GRPC_SCHEMES) else text.split(",")
    else:
        pieces = list(targets)
    endpoints = []
    for piece in pieces:
        if not isinstance(piece, str):
            raise InvalidRequestError(f"target must be a str, got {type(piece).__name__}")
        piece = piece.strip()
        if not piece:
            continue
        tls: Optional[bool] = None
        for prefix, flag in [(p, False) for p in _INSECURE_SCHEMES] + [(p, True) for p in _TLS_SCHEMES]:
            if piece.startswith(prefix):
                piece, tls = piece[len(prefix) :].split("/", 1)[0], flag
                break
        endpoints.append(Endpoint(piece, tls))
    if not endpoints:
        raise InvalidRequestError(f"no server target in {targets!r}")
    return endpoints


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of calls that fail with UNAVAILABLE (server down, restarting, unreachable).

    Verification is idempotent, so a retry is always safe. Backoff grows
    exponentially with +-jitter; `max_attempts` counts the first try. A stream
    resets its count whenever a verdict arrives, so it survives several restarts.
    """

    max_attempts: int = 5
    initial_backoff: float = 0.1
    max_backoff: float = 2.0
    multiplier: float = 2.0
    jitter: float = 0.2

    def backoff(self, failures: int) -> float:
        """Seconds to wait after the given number of consecutive failures (1-based)."""
        base = min(self.max_backoff, self.initial_backoff * self.multiplier ** (failures - 1))
        return max(0.0, base * (1.0 + self.jitter * (2.0 * random.random() - 1.0)))


NO_RETRY = RetryPolicy(max_attempts=1)


class Deadline:
    """An overall deadline across retries; None means no deadline."""

    def __init__(self, timeout: Optional[float]) -> None:
        self.timeout = timeout
        self._end = None if timeout is None else time.monotonic() + timeout

    def remaining(self) -> Optional[float]:
        if self._end is None:
            return None
        return self._end - time.monotonic()

    def left_or_raise(self, target: str) -> Optional[float]:
        left = self.remaining()
        if left is not None and left <= 0:
            raise DeadlineExceededError(
                f"tinyv server {target}: DEADLINE_EXCEEDED: no answer within {self.timeout}s",
                code=grpc.StatusCode.DEADLINE_EXCEEDED,
                target=target,
            )
        return left

    def cap(self, delay: float) -> float:
        left = self.remaining()
        return delay if left is None else max(0.0, min(delay, left))


@dataclass(frozen=True)
class Settings:
    """Everything both clients need to open channels and make calls."""

    endpoints: Tuple[Endpoint, ...]
    tls: bool
    credentials: Optional[grpc.ChannelCredentials]
    channel_options: Tuple[Tuple[str, Any], ...]
    metadata: Tuple[Tuple[str, str], ...]
    timeout: Optional[float]
    retry: RetryPolicy

    @property
    def display(self) -> str:
        return ",".join(e.target for e in self.endpoints)

    def credentials_for(self, endpoint: Endpoint) -> Optional[grpc.ChannelCredentials]:
        """None means an insecure channel."""
        use_tls = self.tls if endpoint.tls is None else endpoint.tls
        if not use_tls:
            return None
        return self.credentials or grpc.ssl_channel_credentials()


def make_settings(
    target: Optional[Targets],
    *,
    token: Optional[str],
    tls: Optional[bool],
    root_certificates: Optional[bytes],
    credentials: Optional[grpc.ChannelCredentials],
    tls_server_name: Optional[str],
    timeout: Optional[float],
    retry: Optional[RetryPolicy],
    channel_options: Optional[Sequence[Tuple[str, Any]]],
    metadata: Optional[Sequence[Tuple[str, str]]],
) -> Settings:
    """Validate the constructor arguments; TINYV_URL, TINYV_TOKEN and TINYV_CA_CERT (a PEM
    file of roots to trust, for a server with a private certificate) fill what is not given."""
    if target is None:
        target = os.environ.get("TINYV_URL") or os.environ.get("TINYV_TARGET")
    if not target:
        raise InvalidRequestError("no server target: pass target=... or set TINYV_URL")
    if token is None:
        token = os.environ.get("TINYV_TOKEN") or None
    if credentials is None and root_certificates is not None:
        credentials = grpc.ssl_channel_credentials(root_certificates=root_certificates)
    want_tls = bool(tls) or (tls is None and (credentials is not None or root_certificates is not None))
    ca_file = os.environ.get("TINYV_CA_CERT")
    if credentials is None and ca_file:
        # Trusted for TLS targets; unlike an explicit argument, it does not turn TLS on.
        with open(ca_file, "rb") as pem:
            credentials = grpc.ssl_channel_credentials(root_certificates=pem.read())
    options = list(_DEFAULT_CHANNEL_OPTIONS)
    if tls_server_name:
        options.append(("grpc.ssl_target_name_override", tls_server_name))
    if channel_options:
        overridden = {name for name, _ in channel_options}
        options = [o for o in options if o[0] not in overridden] + list(channel_options)
    call_metadata = list(metadata or ())
    if token:
        # Plain metadata rather than call credentials: gRPC refuses call
        # credentials on insecure channels, and a token over loopback is common.
        call_metadata.append(("authorization", f"Bearer {token}"))
    if timeout is not None and timeout <= 0:
        raise InvalidRequestError(f"timeout must be > 0, got {timeout}")
    return Settings(
        endpoints=tuple(parse_targets(target)),
        tls=want_tls,
        credentials=credentials,
        channel_options=tuple(options),
        metadata=tuple(call_metadata),
        timeout=timeout,
        retry=retry or RetryPolicy(),
    )
