"""Helpers the framework adapters share: cached clients, the result shape, text coercion, error policy.

Frameworks call reward functions thousands of times, from worker processes
(Ray, accelerate, multiprocessing) and sometimes from several event loops. The
cached clients coalesce per-sample calls onto one stream per process (a client
opens its channels again after a fork, so one made before a fork is safe).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .._config import RetryPolicy
from ..aio import AsyncTinyVClient
from ..client import TinyVClient
from ..errors import InvalidRequestError, TinyVError
from ..types import DecidedBy, LlmOutcome, Options, RuleOutcome, Verdict

log = logging.getLogger("tinyv_client")

ON_ERROR_CHOICES = ("zero", "none", "raise")

#: The numeric result fields every adapter reports per sample, always all of them
#: (clients/python/README.md, "Result fields"). The HTTP routes of the server use the same.
RESULT_KEYS = ("score", "acc", "rule_match", "llm_asked", "llm_decided", "llm_failed", "item_error")

_NOT_ASKED = frozenset({LlmOutcome.UNSPECIFIED, LlmOutcome.NOT_ASKED, LlmOutcome.NOT_CONFIGURED})
_LLM_FAILED = frozenset({LlmOutcome.ERROR, LlmOutcome.TIMEOUT, LlmOutcome.UNPARSEABLE})
_BY_LLM = frozenset({DecidedBy.LLM, DecidedBy.CACHE})

#: Adapters ride out a server restart of some seconds (the call's deadline still bounds it).
ADAPTER_RETRY = RetryPolicy(max_attempts=12, initial_backoff=0.1, max_backoff=2.0)

_ClientKey = Tuple[Any, ...]
_lock = threading.Lock()
_sync_clients: Dict[_ClientKey, TinyVClient] = {}
_async_clients: Dict[_ClientKey, AsyncTinyVClient] = {}
_warned: Dict[str, int] = {}


class ItemFailedError(TinyVError):
    """An item came back with `error` set and on_error="raise" was asked for."""

    def __init__(self, verdict: Verdict) -> None:
        assert verdict.error is not None
        super().__init__(
            f"item {verdict.id!r} not verified: {verdict.error.code.name}: {verdict.error.message}"
        )
        self.verdict = verdict


def client_config(
    url: Optional[str] = None,
    token: Optional[str] = None,
    timeout: Optional[float] = None,
) -> _ClientKey:
    """What identifies a client: explicit arguments, else TINYV_URL / TINYV_TOKEN / TINYV_TIMEOUT."""
    url = url or os.environ.get("TINYV_URL")
    if not url:
        raise InvalidRequestError(
            "no TinyV server address: set TINYV_URL (e.g. localhost:50051) or pass url=..."
        )
    token = token if token is not None else os.environ.get("TINYV_TOKEN") or None
    if timeout is None and os.environ.get("TINYV_TIMEOUT"):
        timeout = float(os.environ["TINYV_TIMEOUT"])
    return (url, token, 60.0 if timeout is None else float(timeout))


def get_client(
    url: Optional[str] = None, token: Optional[str] = None, timeout: Optional[float] = None
) -> TinyVClient:
    """The process's coalescing TinyVClient for this configuration, created on first use.

    Its verify() rides one stream shared by every thread; stream() and verify_batch()
    work as usual. Made before a fork, it opens its own channels in the child.
    """
    return _cached(TinyVClient, _sync_clients, client_config(url, token, timeout))


def get_async_client(
    url: Optional[str] = None, token: Optional[str] = None, timeout: Optional[float] = None
) -> AsyncTinyVClient:
    """The process's coalescing AsyncTinyVClient: its verify() rides the same kind of shared
    stream, from any event loop; its stream() and verify_batch() use the running loop."""
    return _cached(AsyncTinyVClient, _async_clients, client_config(url, token, timeout))


def _cached(cls: Any, store: Dict[_ClientKey, Any], config: _ClientKey) -> Any:
    with _lock:
        client = store.get(config)
        if client is None:
            client = cls(config[0], token=config[1], timeout=config[2], retry=ADAPTER_RETRY, coalesce=True)
            store[config] = client
        return client


def verify_all(
    client: TinyVClient, requests: Sequence[Any], timeout: Optional[float] = None
) -> List[Verdict]:
    """Verdicts in order: one sample rides the coalesced stream, a batch gets a stream of its own."""
    if len(requests) == 1:
        r = requests[0]
        return [client.verify(r.ground_truth, r.response, r.question, id=r.id, options=r.options)]
    return list(client.stream(requests, timeout=timeout))


def as_text(value: Any) -> str:
    """Datasets hold answers as str, numbers, numpy scalars or one-element lists."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if hasattr(value, "tolist"):  # numpy arrays and scalars, without importing numpy
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return as_text(value[0]) if len(value) == 1 else ", ".join(as_text(v) for v in value)
    return str(value)


def make_options(mode: Any = None, llm_weight: Any = None, soft_reward: Any = None) -> Optional[Options]:
    if mode is None and llm_weight is None and soft_reward is None:
        return None
    return Options(mode=mode, llm_weight=llm_weight, soft_reward=soft_reward)


def check_on_error(on_error: str) -> str:
    if on_error not in ON_ERROR_CHOICES:
        raise InvalidRequestError(f"on_error must be one of {ON_ERROR_CHOICES}, got {on_error!r}")
    return on_error


def reward_of(verdict: Verdict, on_error: str) -> Optional[float]:
    """The reward, or what on_error says for an item the server could not verify."""
    if verdict.error is None:
        return verdict.reward
    if on_error == "raise":
        raise ItemFailedError(verdict)
    code = verdict.error.code.name
    with _lock:
        seen = _warned.get(code, 0)
        _warned[code] = seen + 1
    if seen == 0 or (seen + 1) % 1000 == 0:
        log.warning(
            "tinyv: item not verified (%s: %s); scored as %s [%d such so far]",
            code,
            verdict.error.message,
            "0.0" if on_error == "zero" else "None",
            seen + 1,
        )
    return 0.0 if on_error == "zero" else None


def mapping_get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def result_fields(verdict: Verdict, score: Optional[float]) -> Dict[str, Optional[float]]:
    """The fixed result shape (RESULT_KEYS): `score` is the reward after the on_error policy."""
    outcome = verdict.llm_outcome
    asked = outcome not in _NOT_ASKED
    return {
        "score": score,
        "acc": 1.0 if verdict.correct else 0.0,
        "rule_match": 1.0 if verdict.rule_outcome == RuleOutcome.MATCH else 0.0,
        "llm_asked": 1.0 if asked else 0.0,
        "llm_decided": 1.0 if verdict.decided_by in _BY_LLM else 0.0,
        "llm_failed": 1.0 if asked and outcome in _LLM_FAILED else 0.0,
        "item_error": 0.0 if verdict.error is None else 1.0,
    }


def mean_fields(rows: Sequence[Mapping[str, Optional[float]]]) -> Dict[str, float]:
    """The share of samples per result field (score: its mean over the samples that have one)."""
    out = {}
    for key in RESULT_KEYS:
        values = [r[key] for r in rows if r[key] is not None]
        out[key] = sum(values) / len(values) if values else 0.0
    return out
