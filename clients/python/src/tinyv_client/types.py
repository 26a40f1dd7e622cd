"""Plain Python values for the messages of tinyv.v1.

Callers get small frozen dataclasses and IntEnums instead of protobuf messages:
they print well, compare by value, pickle across processes (Ray, multiprocessing)
and type-check. The enum values equal the proto's numbers, and a test checks the
two stay in step.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Optional, Tuple, Union


class Mode(enum.IntEnum):
    """How the reward is formed from the rule verifier and the LLM verifier."""

    UNSPECIFIED = 0
    ADDON = 1
    LLM_ONLY = 2
    RULES_ONLY = 3
    MIXED = 4


class DecidedBy(enum.IntEnum):
    """Which stage settled the reward."""

    UNSPECIFIED = 0
    RULES = 1
    LLM = 2
    CACHE = 3


class RuleOutcome(enum.IntEnum):
    """What the rule verifier concluded."""

    UNSPECIFIED = 0
    MATCH = 1
    MISMATCH = 2
    NO_ANSWER = 3
    UNPARSEABLE = 4
    OVER_BUDGET = 5


class LlmOutcome(enum.IntEnum):
    """What the LLM verifier concluded."""

    UNSPECIFIED = 0
    NOT_ASKED = 1
    TRUE = 2
    FALSE = 3
    UNPARSEABLE = 4
    ERROR = 5
    TIMEOUT = 6
    NOT_CONFIGURED = 7


class ErrorCode(enum.IntEnum):
    """Why an item could not be verified."""

    UNSPECIFIED = 0
    INVALID_ARGUMENT = 1
    TOO_LARGE = 2
    LLM_FAILED = 3
    CANCELLED = 4
    INTERNAL = 5


ModeLike = Union[Mode, int, str]


def to_mode(value: ModeLike) -> Mode:
    """Accept Mode.ADDON, 1, "addon", "ADDON" or "MODE_ADDON"; config files carry strings."""
    if isinstance(value, Mode):
        return value
    if isinstance(value, bool):
        raise ValueError(f"not a mode: {value!r}")
    if isinstance(value, int):
        return Mode(value)
    name = str(value).strip().upper().replace("-", "_")
    if name.startswith("MODE_"):
        name = name[len("MODE_") :]
    try:
        return Mode[name]
    except KeyError:
        choices = ", ".join(m.name.lower() for m in Mode if m)
        raise ValueError(f"unknown mode {value!r}; expected one of {choices}") from None


@dataclass(frozen=True)
class Options:
    """Per-request overrides of the server's defaults; None keeps the default."""

    mode: Optional[ModeLike] = None
    llm_weight: Optional[float] = None
    soft_reward: Optional[bool] = None


@dataclass(frozen=True)
class VerifyRequest:
    """One item to verify. Only ground_truth and response are required."""

    ground_truth: str
    response: str
    question: str = ""
    id: str = ""
    data_source: str = ""
    options: Optional[Options] = None


@dataclass(frozen=True)
class Timings:
    """Where the time went on the server, in milliseconds."""

    rules_ms: float = 0.0
    llm_ms: float = 0.0
    total_ms: float = 0.0


@dataclass(frozen=True)
class ItemError:
    """Why one item was not verified (the call itself succeeded)."""

    code: ErrorCode
    message: str


@dataclass(frozen=True)
class Verdict:
    """The result for one item; `error` is set when the item itself was bad."""

    id: str
    reward: float
    correct: bool
    decided_by: DecidedBy = DecidedBy.UNSPECIFIED
    extracted_answer: str = ""
    rule_outcome: RuleOutcome = RuleOutcome.UNSPECIFIED
    llm_outcome: LlmOutcome = LlmOutcome.UNSPECIFIED
    p_true: Optional[float] = None
    timings: Timings = field(default_factory=Timings)
    error: Optional[ItemError] = None
    mode: Mode = Mode.UNSPECIFIED
    llm_detail: str = ""

    @property
    def ok(self) -> bool:
        """True when the item was verified (whatever the reward)."""
        return self.error is None


@dataclass(frozen=True)
class LlmBackend:
    """One LLM backend of the server."""

    url: str
    healthy: bool
    in_flight: int


@dataclass(frozen=True)
class Limits:
    """The server's limits (bytes, items, milliseconds)."""

    max_message_bytes: int = 0
    max_item_bytes: int = 0
    max_batch_items: int = 0
    rule_budget_ms: float = 0.0
    llm_timeout_ms: float = 0.0


@dataclass(frozen=True)
class ServerInfo:
    """What the server is and how it is set up."""

    version: str
    default_mode: Mode
    default_llm_weight: float
    llm_backends: Tuple[LlmBackend, ...]
    llm_model: str
    limits: Limits
    rule_workers: int
