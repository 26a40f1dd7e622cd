"""Conversions between the public dataclasses and the generated protobuf messages."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Union

from ._gen import verifier_pb2 as pb
from .errors import InvalidRequestError
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
    to_mode,
)

RequestLike = Union[VerifyRequest, Mapping[str, Any]]

_REQUEST_FIELDS = ("ground_truth", "response", "question", "id", "data_source", "options")
_TEXT_FIELDS = ("ground_truth", "response", "question", "id", "data_source")


def options_to_proto(options: Optional[Options]) -> Optional[pb.VerifyOptions]:
    """None stays None so the server's (or the batch's) defaults apply."""
    if options is None:
        return None
    if isinstance(options, Mapping):
        try:
            options = Options(**options)
        except TypeError as exc:
            raise InvalidRequestError(f"bad options {options!r}: {exc}") from None
    if not isinstance(options, Options):
        raise InvalidRequestError(f"options must be an Options or a mapping, got {type(options).__name__}")
    message = pb.VerifyOptions()
    if options.mode is not None:
        try:
            message.mode = to_mode(options.mode).value  # type: ignore[assignment]
        except ValueError as exc:
            raise InvalidRequestError(str(exc)) from None
    if options.llm_weight is not None:
        try:
            message.llm_weight = float(options.llm_weight)
        except (TypeError, ValueError):
            raise InvalidRequestError(f"llm_weight must be a number, got {options.llm_weight!r}") from None
    if options.soft_reward is not None:
        message.soft_reward = bool(options.soft_reward)
    return message


def coerce_request(item: RequestLike) -> VerifyRequest:
    """Accept a VerifyRequest or a mapping with the same keys; reject anything else early."""
    if isinstance(item, VerifyRequest):
        request = item
    elif isinstance(item, Mapping):
        unknown = sorted(set(item) - set(_REQUEST_FIELDS))
        if unknown:
            raise InvalidRequestError(
                f"unknown request field(s) {unknown}; expected some of {list(_REQUEST_FIELDS)}"
            )
        missing = [k for k in ("ground_truth", "response") if k not in item]
        if missing:
            raise InvalidRequestError(f"request is missing {missing}")
        request = VerifyRequest(**item)
    else:
        raise InvalidRequestError(f"expected a VerifyRequest or a mapping, got {type(item).__name__}")
    for name in _TEXT_FIELDS:
        value = getattr(request, name)
        if not isinstance(value, str):
            raise InvalidRequestError(f"request field {name!r} must be a str, got {type(value).__name__}")
    return request


def request_to_proto(item: RequestLike, wire_id: Optional[str] = None) -> pb.VerifyRequest:
    """Build the wire message; wire_id replaces the caller's id (streams use their own ids)."""
    return coerced_to_proto(coerce_request(item), wire_id)


def coerced_to_proto(request: VerifyRequest, wire_id: Optional[str] = None) -> pb.VerifyRequest:
    """request_to_proto for a request coerce_request has already checked."""
    message = pb.VerifyRequest(
        id=request.id if wire_id is None else wire_id,
        question=request.question,
        ground_truth=request.ground_truth,
        response=request.response,
        data_source=request.data_source,
    )
    options = options_to_proto(request.options)
    if options is not None:
        message.options.CopyFrom(options)
    return message


def _members(cls: Any) -> Any:
    """number -> member; unknown numbers (a newer server) map to UNSPECIFIED instead of failing."""
    table = {int(m): m for m in cls}
    fallback = cls(0)
    return lambda value: table.get(value, fallback)


_enum_of = {cls: _members(cls) for cls in (Mode, DecidedBy, RuleOutcome, LlmOutcome, ErrorCode)}
_mode, _decided_by, _rule, _llm, _error_code = (
    _enum_of[c] for c in (Mode, DecidedBy, RuleOutcome, LlmOutcome, ErrorCode)
)


def _enum(cls: Any, value: int) -> Any:
    return _enum_of[cls](value) if cls in _enum_of else cls(value)


def verdict_from_proto(message: pb.Verdict, id_override: Optional[str] = None) -> Verdict:
    # A stream turns thousands of these a second: plain table lookups, no enum calls.
    error = None
    if message.HasField("error") and message.error.code != 0:
        error = ItemError(code=_error_code(message.error.code), message=message.error.message)
    timings = message.timings
    return Verdict(
        message.id if id_override is None else id_override,
        message.reward,
        message.correct,
        _decided_by(message.decided_by),
        message.extracted_answer,
        _rule(message.rule_outcome),
        _llm(message.llm_outcome),
        message.p_true if message.HasField("p_true") else None,
        Timings(timings.rules_ms, timings.llm_ms, timings.total_ms),
        error,
        _mode(message.mode),
        message.llm_detail,
    )


def server_info_from_proto(message: pb.ServerInfo) -> ServerInfo:
    limits = message.limits
    return ServerInfo(
        version=message.version,
        default_mode=_enum(Mode, message.default_mode),
        default_llm_weight=message.default_llm_weight,
        llm_backends=tuple(
            LlmBackend(url=b.url, healthy=b.healthy, in_flight=b.in_flight) for b in message.llm_backends
        ),
        llm_model=message.llm_model,
        limits=Limits(
            max_message_bytes=limits.max_message_bytes,
            max_item_bytes=limits.max_item_bytes,
            max_batch_items=limits.max_batch_items,
            rule_budget_ms=limits.rule_budget_ms,
            llm_timeout_ms=limits.llm_timeout_ms,
        ),
        rule_workers=message.rule_workers,
    )
