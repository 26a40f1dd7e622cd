"""TRL reward functions backed by a TinyV server.

    from tinyv_client.integrations.trl import make_reward_func

    trainer = GRPOTrainer(
        model=...,
        reward_funcs=make_reward_func(ground_truth_column="solution"),
        train_dataset=dataset,   # has a "prompt" and a "solution" column
    )

Read from TRL 1.16.0 (PyPI), trl/trainer/grpo_trainer.py, `_calculate_rewards`:

    reward_kwargs = {key: [example[key] for example in inputs] for key in keys}   # every other column
    reward_kwargs["trainer_state"] = self.state
    reward_kwargs["log_extra"] = self._log_completion_extra    # (column, values): the completions table
    reward_kwargs["log_metric"] = self._log_metric             # (name, value): averaged per logging step
    output = reward_func(prompts=prompts, completions=completions,
                         completion_ids=completion_ids_list, **reward_kwargs)
    output = [reward if reward is not None else torch.nan for reward in output]

(an `async def` reward function is awaited instead, with the same arguments; so is
the one make_reward_func(asynchronous=True) returns). Completions are strings
(standard datasets) or lists of messages (conversational datasets). The whole
batch goes over one stream: a GRPO step costs one round trip. Per completion the
function returns the reward (or None, with on_error="none": TRL skips it), adds
the columns `tinyv_answer` (the extracted answer) and `tinyv_decided_by` to the
completions table, and logs the batch's share of each result field as the metrics
`tinyv/acc`, `tinyv/rule_match`, `tinyv/llm_asked`, `tinyv/llm_decided`,
`tinyv/llm_failed` and `tinyv/item_error`.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from tinyv_client.aio import AsyncTinyVClient
from tinyv_client.client import TinyVClient
from tinyv_client.errors import InvalidRequestError
from tinyv_client.integrations._common import (
    RESULT_KEYS,
    as_text,
    check_on_error,
    get_async_client,
    get_client,
    make_options,
    mean_fields,
    result_fields,
    reward_of,
)
from tinyv_client.integrations._prompts import last_message, question_of
from tinyv_client.types import Options, Verdict, VerifyRequest

#: Keyword arguments TRL passes that are not dataset columns.
TRL_KWARGS = ("completion_ids", "trainer_state", "log_extra", "log_metric", "environments")

RewardFunc = Callable[..., List[Optional[float]]]

__all__ = ["make_reward_func", "message_text"]


def message_text(value: Any, role: Optional[str] = None) -> str:
    """Text of a plain string or of a conversation (the last message, or the last with `role`).

    Message content may be a string or a list of parts ({"type": "text", "text": ...}).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return last_message(value, role)
    return last_message([value])


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
    client: Optional[Union[TinyVClient, AsyncTinyVClient]] = None,
    asynchronous: bool = False,
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
        client: an existing client to use instead of the process's cached one (a
            TinyVClient, or an AsyncTinyVClient with asynchronous=True).
        asynchronous: return an `async def` function; TRL awaits it on its own
            event loop, alongside its other async reward functions.
    """
    check_on_error(on_error)
    options = make_options(mode, llm_weight, soft_reward)

    def requests(
        prompts: Sequence[Any], completions: Sequence[Any], kwargs: Dict[str, Any]
    ) -> List[VerifyRequest]:
        return _requests(prompts, completions, kwargs, ground_truth_column, question_column, options, name)

    def finish(verdicts: List[Verdict], kwargs: Dict[str, Any]) -> List[Optional[float]]:
        return _report(verdicts, on_error, kwargs)

    if asynchronous:

        async def async_reward_func(
            prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any
        ) -> List[Optional[float]]:
            batch = requests(prompts, completions, kwargs)
            active = client or get_async_client(url, token, timeout)
            return finish([v async for v in active.stream(batch, timeout=timeout)], kwargs)

        reward_func: Any = async_reward_func
    else:

        def sync_reward_func(
            prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any
        ) -> List[Optional[float]]:
            batch = requests(prompts, completions, kwargs)
            active = client or get_client(url, token, timeout)
            return finish(list(active.stream(batch, timeout=timeout)), kwargs)

        reward_func = sync_reward_func
    reward_func.__name__ = name
    reward_func.__qualname__ = name
    return reward_func


def _requests(
    prompts: Sequence[Any],
    completions: Sequence[Any],
    kwargs: Dict[str, Any],
    ground_truth_column: str,
    question_column: Optional[str],
    options: Optional[Options],
    name: str,
) -> List[VerifyRequest]:
    if ground_truth_column not in kwargs:
        columns = sorted(k for k in kwargs if k not in TRL_KWARGS)
        raise InvalidRequestError(
            f"{name}: dataset has no column {ground_truth_column!r} (columns: {columns}); "
            "pass make_reward_func(ground_truth_column=...)"
        )
    truths = kwargs[ground_truth_column]
    if question_column is not None:
        questions = [as_text(q) for q in kwargs[question_column]]
    else:
        questions = [question_of(p) for p in prompts]
    return [
        VerifyRequest(
            ground_truth=as_text(truths[i]),
            response=message_text(completions[i], role="assistant"),
            question=questions[i] if i < len(questions) else "",
            id=str(i),
            options=options,
        )
        for i in range(len(completions))
    ]


def _report(verdicts: List[Verdict], on_error: str, kwargs: Dict[str, Any]) -> List[Optional[float]]:
    """The rewards; the extracted answers and deciders to log_extra, the field shares to log_metric."""
    rewards = [reward_of(v, on_error) for v in verdicts]
    log_extra, log_metric = kwargs.get("log_extra"), kwargs.get("log_metric")
    if callable(log_extra):
        log_extra("tinyv_answer", [v.extracted_answer for v in verdicts])
        log_extra("tinyv_decided_by", [v.decided_by.name for v in verdicts])
    if callable(log_metric) and verdicts:
        shares = mean_fields([result_fields(v, r) for v, r in zip(verdicts, rewards)])
        for key in RESULT_KEYS[1:]:  # TRL logs the reward itself
            log_metric(f"tinyv/{key}", shares[key])
    return rewards
