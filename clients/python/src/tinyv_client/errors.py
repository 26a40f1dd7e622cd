"""Typed exceptions for failed calls.

A bad *item* is not an exception: it comes back as a Verdict with `error` set.
These are raised when a whole call fails, so trainers can tell "the reward server
is down" (retry later, alert) from "I sent something malformed" (fix the code).
"""

from __future__ import annotations

from typing import Optional

import grpc


class TinyVError(Exception):
    """Base class of every error raised by tinyv_client."""

    def __init__(
        self,
        message: str,
        *,
        code: Optional[grpc.StatusCode] = None,
        target: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.target = target


class UnavailableError(TinyVError, ConnectionError):
    """The server could not be reached (after the configured retries)."""


class DeadlineExceededError(TinyVError, TimeoutError):
    """The call ran past its timeout."""


class AuthenticationError(TinyVError, PermissionError):
    """The server refused the credentials (missing or wrong bearer token)."""


class InvalidRequestError(TinyVError, ValueError):
    """The request is malformed; raised by the client before sending, or by the server."""


class ResourceExhaustedError(TinyVError):
    """The request is over a server limit (message size, batch size) or the server is overloaded."""


class CancelledError(TinyVError):
    """The call was cancelled."""


class ServerError(TinyVError):
    """The server failed the call (INTERNAL, UNKNOWN, UNIMPLEMENTED, ...)."""


class ProtocolError(TinyVError):
    """The server broke the contract, e.g. a stream ended with items unanswered."""


_BY_CODE = {
    grpc.StatusCode.UNAVAILABLE: UnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceededError,
    grpc.StatusCode.UNAUTHENTICATED: AuthenticationError,
    grpc.StatusCode.PERMISSION_DENIED: AuthenticationError,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidRequestError,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    grpc.StatusCode.CANCELLED: CancelledError,
}


#: Details gRPC core gives an INTERNAL status it made up itself when the HTTP/2
#: connection broke under a call (a GOAWAY or RST_STREAM with INTERNAL_ERROR);
#: tinyv serve never words its own INTERNAL faults this way.
_CORE_TRANSPORT_DETAILS = ("Internal error from Core", "Received RST_STREAM", "GOAWAY")


def lost_in_transport(code: Optional[grpc.StatusCode], details: str) -> bool:
    """True when a failure is the connection's, not the server's: safe to resend."""
    return code == grpc.StatusCode.INTERNAL and any(d in details for d in _CORE_TRANSPORT_DETAILS)


def from_rpc_error(error: grpc.RpcError, target: str, attempts: int = 1) -> TinyVError:
    """Turn a grpc.RpcError (sync or aio) into the matching TinyVError."""
    code = error.code() if hasattr(error, "code") else None
    details = (error.details() if hasattr(error, "details") else None) or str(error)
    cls = _BY_CODE.get(code, ServerError) if code is not None else ServerError
    name = code.name if code is not None else "UNKNOWN"
    tried = f" after {attempts} attempts" if attempts > 1 else ""
    message = f"tinyv server {target}: {name}{tried}: {details}"
    return cls(message, code=code, target=target)
