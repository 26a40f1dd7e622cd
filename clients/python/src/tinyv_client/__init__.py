"""Python client for TinyV Server, a gRPC reward service for RL on reasoning models.

    from tinyv_client import TinyVClient

    with TinyVClient("localhost:50051") as client:
        verdict = client.verify(ground_truth="\\frac12", response="\\boxed{0.5}")
        print(verdict.reward, verdict.decided_by)

AsyncTinyVClient offers the same calls for asyncio. Adapters for verl and TRL
live in tinyv_client.integrations.
"""

from ._config import RetryPolicy
from .aio import AsyncTinyVClient
from .client import TinyVClient
from .errors import (
    AuthenticationError,
    CancelledError,
    DeadlineExceededError,
    InvalidRequestError,
    ProtocolError,
    ResourceExhaustedError,
    ServerError,
    TinyVError,
    UnavailableError,
)
from .types import (
    DecidedBy,
    ErrorCode,
    ItemError,
    Limits,
    LlmBackend,
    LlmOutcome,
    Mode,
    Options,
    RuleOutcome,
    ServerInfo,
    Timings,
    Verdict,
    VerifyRequest,
)

__version__ = "0.1.0"

__all__ = [
    "AsyncTinyVClient",
    "AuthenticationError",
    "CancelledError",
    "DeadlineExceededError",
    "DecidedBy",
    "ErrorCode",
    "InvalidRequestError",
    "ItemError",
    "Limits",
    "LlmBackend",
    "LlmOutcome",
    "Mode",
    "Options",
    "ProtocolError",
    "ResourceExhaustedError",
    "RetryPolicy",
    "RuleOutcome",
    "ServerError",
    "ServerInfo",
    "Timings",
    "TinyVClient",
    "TinyVError",
    "UnavailableError",
    "Verdict",
    "VerifyRequest",
]
