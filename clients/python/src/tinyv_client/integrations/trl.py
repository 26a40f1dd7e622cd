"""TRL reward functions backed by a TinyV server.

    from tinyv_client.integrations.trl import make_reward_func

    trainer = GRPOTrainer(
        model=...,
        reward_funcs=make_reward_func(ground_truth_column="solution"),
        train_dataset=dataset,   # has a "prompt" and a "solution" column
    )

GRPOTrainer calls a reward function as `f(prompts=..., completions=..., **columns)`
where every other dataset column arrives as a keyword list, one entry per
completion. Completions are strings (standard datasets) or lists of messages
(conversational datasets); both are accepted. The whole batch goes over one
stream, so a GRPO step costs one round trip, not one per completion.
"""

from __future__ import annotations

from typing import Any, Callable, List, Optional, Sequence

from tinyv_client.client import TinyVClient
from tinyv_client.errors import InvalidRequestError
from tinyv_client.integrations._common import (
    as_text,
    check_on_error,
    get_client,
    make_options,
    reward_of,
)
from tinyv_client.types import VerifyRequest

RewardFunc = Callable[..., List[Optional[float]]]

__all__ = ["make_reward_func", "message_text"]


def message_text(value: Any, role: Optional[str] = None) -> str:
    """Text of a plain string or of a conversation (the last message, or the last with `role`).

    Message content may be a string or a list of parts ({"type": "text", "text": ...}).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        content = value.get("content", "")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
        return as_text(content)
    if isinstance(value, (list, tuple)):
        messages = [m for m in value if not role or (isinstance(m, dict) and m.get("role") == role)]
        return message_text(messages[-1]) if messages else ""
    return as_text(value)


def make_reward_func(
    ground_truth_column: str = "solution",
    *,
    question_column: Optional[str] = None,
    url: Optional[str] = None,
    token: Optional[str] = None,
    timeout: Optional[float] = None,
    mode: Any = None,
    llm_weight: Optional[float] = None,
    soft_reward: Optional[bool] = None,
    on_error: str = "zero",
    name: str = "tinyv_reward",
    client: Optional[TinyVClient] = None,
) -> RewardFunc:
    """Build a reward function for `GRPOTrainer(reward_funcs=...)`.

    Args:
        ground_truth_column: the dataset column holding the reference answer.
        question_column: a column holding the question; by default the prompt
            (its last user message, for conversational prompts).
        url, token, timeout: the server; default to TINYV_URL / TINYV_TOKEN.
        mode, llm_weight, soft_reward: per-request overrides of the server defaults.
        on_error: what an item the server could not verify scores: "zero",
            "none" (TRL ignores None rewards) or "raise".
        name: the function's __name__, which TRL uses to label its reward logs.
        client: an existing TinyVClient to use instead of a cached one.
    """
    check_on_error(on_error)
    options = make_options(mode, llm_weight, soft_reward)

    def reward_func(
        prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any
    ) -> List[Optional[float]]:
        if ground_truth_column not in kwargs:
            columns = sorted(k for k in kwargs if k not in ("completion_ids", "trainer_state"))
            raise InvalidRequestError(
                f"{name}: dataset has no column {ground_truth_column!r} (columns: {columns}); "
                "pass make_reward_func(ground_truth_column=...)"
            )
        truths = kwargs[ground_truth_column]
        if question_column is not None:
            questions = [as_text(q) for q in kwargs[question_column]]
        else:
            questions = [message_text(p, role="user") for p in prompts]
        requests = [
            VerifyRequest(
                ground_truth=as_text(truths[i]),
                response=message_text(completions[i], role="assistant"),
                question=questions[i] if i < len(questions) else "",
                id=str(i),
                options=options,
            )
            for i in range(len(completions))
        ]
        active = client or get_client(url, token, timeout)
        return [reward_of(v, on_error) for v in active.stream(requests, timeout=timeout)]

    reward_func.__name__ = name
    reward_func.__qualname__ = name
    return reward_func
