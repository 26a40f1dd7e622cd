from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODE_UNSPECIFIED: _ClassVar[Mode]
    MODE_ADDON: _ClassVar[Mode]
    MODE_LLM_ONLY: _ClassVar[Mode]
    MODE_RULES_ONLY: _ClassVar[Mode]
    MODE_MIXED: _ClassVar[Mode]

class DecidedBy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECIDED_BY_UNSPECIFIED: _ClassVar[DecidedBy]
    DECIDED_BY_RULES: _ClassVar[DecidedBy]
    DECIDED_BY_LLM: _ClassVar[DecidedBy]
    DECIDED_BY_CACHE: _ClassVar[DecidedBy]

class RuleOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RULE_OUTCOME_UNSPECIFIED: _ClassVar[RuleOutcome]
    RULE_OUTCOME_MATCH: _ClassVar[RuleOutcome]
    RULE_OUTCOME_MISMATCH: _ClassVar[RuleOutcome]
    RULE_OUTCOME_NO_ANSWER: _ClassVar[RuleOutcome]
    RULE_OUTCOME_UNPARSEABLE: _ClassVar[RuleOutcome]
    RULE_OUTCOME_OVER_BUDGET: _ClassVar[RuleOutcome]

class LlmOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LLM_OUTCOME_UNSPECIFIED: _ClassVar[LlmOutcome]
    LLM_OUTCOME_NOT_ASKED: _ClassVar[LlmOutcome]
    LLM_OUTCOME_TRUE: _ClassVar[LlmOutcome]
    LLM_OUTCOME_FALSE: _ClassVar[LlmOutcome]
    LLM_OUTCOME_UNPARSEABLE: _ClassVar[LlmOutcome]
    LLM_OUTCOME_ERROR: _ClassVar[LlmOutcome]
    LLM_OUTCOME_TIMEOUT: _ClassVar[LlmOutcome]
    LLM_OUTCOME_NOT_CONFIGURED: _ClassVar[LlmOutcome]

class ErrorCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_CODE_UNSPECIFIED: _ClassVar[ErrorCode]
    ERROR_CODE_INVALID_ARGUMENT: _ClassVar[ErrorCode]
    ERROR_CODE_TOO_LARGE: _ClassVar[ErrorCode]
    ERROR_CODE_LLM_FAILED: _ClassVar[ErrorCode]
    ERROR_CODE_CANCELLED: _ClassVar[ErrorCode]
    ERROR_CODE_INTERNAL: _ClassVar[ErrorCode]
MODE_UNSPECIFIED: Mode
MODE_ADDON: Mode
MODE_LLM_ONLY: Mode
MODE_RULES_ONLY: Mode
MODE_MIXED: Mode
DECIDED_BY_UNSPECIFIED: DecidedBy
DECIDED_BY_RULES: DecidedBy
DECIDED_BY_LLM: DecidedBy
DECIDED_BY_CACHE: DecidedBy
RULE_OUTCOME_UNSPECIFIED: RuleOutcome
RULE_OUTCOME_MATCH: RuleOutcome
RULE_OUTCOME_MISMATCH: RuleOutcome
RULE_OUTCOME_NO_ANSWER: RuleOutcome
RULE_OUTCOME_UNPARSEABLE: RuleOutcome
RULE_OUTCOME_OVER_BUDGET: RuleOutcome
LLM_OUTCOME_UNSPECIFIED: LlmOutcome
LLM_OUTCOME_NOT_ASKED: LlmOutcome
LLM_OUTCOME_TRUE: LlmOutcome
LLM_OUTCOME_FALSE: LlmOutcome
LLM_OUTCOME_UNPARSEABLE: LlmOutcome
LLM_OUTCOME_ERROR: LlmOutcome
LLM_OUTCOME_TIMEOUT: LlmOutcome
LLM_OUTCOME_NOT_CONFIGURED: LlmOutcome
ERROR_CODE_UNSPECIFIED: ErrorCode
ERROR_CODE_INVALID_ARGUMENT: ErrorCode
ERROR_CODE_TOO_LARGE: ErrorCode
ERROR_CODE_LLM_FAILED: ErrorCode
ERROR_CODE_CANCELLED: ErrorCode
ERROR_CODE_INTERNAL: ErrorCode

class VerifyOptions(_message.Message):
    __slots__ = ("mode", "llm_weight", "soft_reward")
    MODE_FIELD_NUMBER: _ClassVar[int]
    LLM_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    SOFT_REWARD_FIELD_NUMBER: _ClassVar[int]
    mode: Mode
    llm_weight: float
    soft_reward: bool
    def __init__(self, mode: _Optional[_Union[Mode, str]] = ..., llm_weight: _Optional[float] = ..., soft_reward: bool = ...) -> None: ...

class VerifyRequest(_message.Message):
    __slots__ = ("id", "question", "ground_truth", "response", "options", "data_source")
    ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    GROUND_TRUTH_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    DATA_SOURCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    question: str
    ground_truth: str
    response: str
    options: VerifyOptions
    data_source: str
    def __init__(self, id: _Optional[str] = ..., question: _Optional[str] = ..., ground_truth: _Optional[str] = ..., response: _Optional[str] = ..., options: _Optional[_Union[VerifyOptions, _Mapping]] = ..., data_source: _Optional[str] = ...) -> None: ...

class Timings(_message.Message):
    __slots__ = ("rules_ms", "llm_ms", "total_ms")
    RULES_MS_FIELD_NUMBER: _ClassVar[int]
    LLM_MS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MS_FIELD_NUMBER: _ClassVar[int]
    rules_ms: float
    llm_ms: float
    total_ms: float
    def __init__(self, rules_ms: _Optional[float] = ..., llm_ms: _Optional[float] = ..., total_ms: _Optional[float] = ...) -> None: ...

class ItemError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: ErrorCode
    message: str
    def __init__(self, code: _Optional[_Union[ErrorCode, str]] = ..., message: _Optional[str] = ...) -> None: ...

class Verdict(_message.Message):
    __slots__ = ("id", "reward", "correct", "decided_by", "extracted_answer", "rule_outcome", "llm_outcome", "p_true", "timings", "error", "mode", "llm_detail")
    ID_FIELD_NUMBER: _ClassVar[int]
    REWARD_FIELD_NUMBER: _ClassVar[int]
    CORRECT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    EXTRACTED_ANSWER_FIELD_NUMBER: _ClassVar[int]
    RULE_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    LLM_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    P_TRUE_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    LLM_DETAIL_FIELD_NUMBER: _ClassVar[int]
    id: str
    reward: float
    correct: bool
    decided_by: DecidedBy
    extracted_answer: str
    rule_outcome: RuleOutcome
    llm_outcome: LlmOutcome
    p_true: float
    timings: Timings
    error: ItemError
    mode: Mode
    llm_detail: str
    def __init__(self, id: _Optional[str] = ..., reward: _Optional[float] = ..., correct: bool = ..., decided_by: _Optional[_Union[DecidedBy, str]] = ..., extracted_answer: _Optional[str] = ..., rule_outcome: _Optional[_Union[RuleOutcome, str]] = ..., llm_outcome: _Optional[_Union[LlmOutcome, str]] = ..., p_true: _Optional[float] = ..., timings: _Optional[_Union[Timings, _Mapping]] = ..., error: _Optional[_Union[ItemError, _Mapping]] = ..., mode: _Optional[_Union[Mode, str]] = ..., llm_detail: _Optional[str] = ...) -> None: ...

class VerifyBatchRequest(_message.Message):
    __slots__ = ("items", "options")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[VerifyRequest]
    options: VerifyOptions
    def __init__(self, items: _Optional[_Iterable[_Union[VerifyRequest, _Mapping]]] = ..., options: _Optional[_Union[VerifyOptions, _Mapping]] = ...) -> None: ...

class VerifyBatchResponse(_message.Message):
    __slots__ = ("verdicts",)
    VERDICTS_FIELD_NUMBER: _ClassVar[int]
    verdicts: _containers.RepeatedCompositeFieldContainer[Verdict]
    def __init__(self, verdicts: _Optional[_Iterable[_Union[Verdict, _Mapping]]] = ...) -> None: ...

class VerifyPack(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[VerifyRequest]
    def __init__(self, items: _Optional[_Iterable[_Union[VerifyRequest, _Mapping]]] = ...) -> None: ...

class VerdictPack(_message.Message):
    __slots__ = ("verdicts",)
    VERDICTS_FIELD_NUMBER: _ClassVar[int]
    verdicts: _containers.RepeatedCompositeFieldContainer[Verdict]
    def __init__(self, verdicts: _Optional[_Iterable[_Union[Verdict, _Mapping]]] = ...) -> None: ...

class GetServerInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LlmBackend(_message.Message):
    __slots__ = ("url", "healthy", "in_flight")
    URL_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    IN_FLIGHT_FIELD_NUMBER: _ClassVar[int]
    url: str
    healthy: bool
    in_flight: int
    def __init__(self, url: _Optional[str] = ..., healthy: bool = ..., in_flight: _Optional[int] = ...) -> None: ...

class Limits(_message.Message):
    __slots__ = ("max_message_bytes", "max_item_bytes", "max_batch_items", "rule_budget_ms", "llm_timeout_ms")
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEM_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_ITEMS_FIELD_NUMBER: _ClassVar[int]
    RULE_BUDGET_MS_FIELD_NUMBER: _ClassVar[int]
    LLM_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    max_message_bytes: int
    max_item_bytes: int
    max_batch_items: int
    rule_budget_ms: float
    llm_timeout_ms: float
    def __init__(self, max_message_bytes: _Optional[int] = ..., max_item_bytes: _Optional[int] = ..., max_batch_items: _Optional[int] = ..., rule_budget_ms: _Optional[float] = ..., llm_timeout_ms: _Optional[float] = ...) -> None: ...

class ServerInfo(_message.Message):
    __slots__ = ("version", "default_mode", "default_llm_weight", "llm_backends", "llm_model", "limits", "rule_workers")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_MODE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_LLM_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    LLM_BACKENDS_FIELD_NUMBER: _ClassVar[int]
    LLM_MODEL_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    RULE_WORKERS_FIELD_NUMBER: _ClassVar[int]
    version: str
    default_mode: Mode
    default_llm_weight: float
    llm_backends: _containers.RepeatedCompositeFieldContainer[LlmBackend]
    llm_model: str
    limits: Limits
    rule_workers: int
    def __init__(self, version: _Optional[str] = ..., default_mode: _Optional[_Union[Mode, str]] = ..., default_llm_weight: _Optional[float] = ..., llm_backends: _Optional[_Iterable[_Union[LlmBackend, _Mapping]]] = ..., llm_model: _Optional[str] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ..., rule_workers: _Optional[int] = ...) -> None: ...
