"""Helpers the framework adapters share: cached clients, text coercion, error policy.

Frameworks call reward functions thousands of times, from worker processes
(Ray, accelerate, multiprocessing) and sometimes from several event loops, so
clients are cached per process and per event loop, never shared across a fork.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any, Dict, Mapping, Optional, Tuple

from ..aio import AsyncTinyVClient
from ..client import TinyVClient
from ..errors import InvalidRequestError, TinyVError
from ..types import Options, Verdict

log = logging.getLogger("tinyv_client")

ON_ERROR_CHOICES = ("zero", "none", "raise")

_ClientKey = Tuple[Any, ...]
_lock = threading.Lock()
_sync_clients: Dict[_ClientKey, TinyVClient] = {}
_async_clients: Dict[_ClientKey, Tuple[asyncio.AbstractEventLoop, AsyncTinyVClient]] = {}
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
    """A TinyVClient for this process and configuration, created on first use."""
    config = client_config(url, token, timeout)
    key = (os.getpid(),) + config
    with _lock:
        client = _sync_clients.get(key)
        if client is None:
            client = TinyVClient(config[0], token=config[1], timeout=config[2])
            _sync_clients[key] = client
        return client


def get_async_client(
    url: Optional[str] = None, token: Optional[str] = None, timeout: Optional[float] = None
) -> AsyncTinyVClient:
    """An AsyncTinyVClient for the running event loop (grpc.aio channels are bound to one loop)."""
    config = client_config(url, token, timeout)
    loop = asyncio.get_running_loop()
    key = (os.getpid(), id(loop)) + config
    with _lock:
        for stale in [k for k, (l, _) in _async_clients.items() if l.is_closed()]:
            del _async_clients[stale]
        entry = _async_clients.get(key)
        if entry is None or entry[0] is not loop:
            entry = (loop, AsyncTinyVClient(config[0], token=config[1], timeout=config[2]))
            _async_clients[key] = entry
        return entry[1]


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
