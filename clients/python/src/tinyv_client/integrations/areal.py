"""An AReaL reward function backed by a TinyV server.

    from tinyv_client.integrations.areal import reward_fn
    workflow = RLVRWorkflow(reward_fn=reward_fn, gconfig=..., tokenizer=...)
    # or, where a config names the function: "tinyv_client.integrations.areal.reward_fn"

The server address comes from TINYV_URL (set it before AReaL starts: its reward
processes inherit the environment); TINYV_TOKEN, TINYV_TIMEOUT likewise. For other
settings, `make_reward_fn(url=..., answer_key=..., mode=...)` returns a picklable
reward function.

Read from AReaL v1.0.4 (PyPI `areal`), areal/api/reward_api.py:

    def reward_fn(prompt: str, completions: str, prompt_ids: list[int],
                  completion_ids: list[int], **kwargs)   # kwargs: the dataset row's other fields
    class AsyncRewardWrapper:   # timeout_seconds=15, max_retries=3
        "The reward function and its arguments must be picklable since they are
         dispatched to worker processes via ProcessPoolExecutor."
        future = loop.run_in_executor(executor, partial(self.reward_fn, *args, **kwargs))
        return await asyncio.wait_for(future, timeout=self.timeout_seconds)   # 0 on a timeout

and areal/workflow/rlvr.py: `completions_str = self.tokenizer.decode(resp.output_tokens)`
(special tokens included), `await self.async_reward_fn(prompt_str, completions_str,
resp.input_tokens, resp.output_tokens, **task_data)` with `prompt_str` the decoded,
chat-templated prompt. So: the ground truth is kwargs["answer"] (AReaL's gsm8k
reward reads `answer`; `solution` and `ground_truth` are tried next), special tokens
are stripped from the completion, and the question is the last user message of
kwargs["messages"], else recovered from the templated prompt. Each pool process
opens its own channel on first use (the pool forks; a child never uses its
parent's), and a call's deadline stays under AReaL's 15 s.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

from tinyv_client.errors import InvalidRequestError
from tinyv_client.integrations._common import as_text, check_on_error, get_client, make_options, reward_of
from tinyv_client.integrations._prompts import question_of, strip_special_tokens

__all__ = ["AnswerKeys", "make_reward_fn", "reward_fn"]

#: Where the ground truth may be in a dataset row, in order.
AnswerKeys = ("answer", "solution", "ground_truth")

#: Under AReaL's 15 s wait (AsyncRewardWrapper), so a slow call fails here, clearly, first.
DEFAULT_TIMEOUT = 12.0


class _RewardFn:
    """A picklable reward function (a module-level class: pickled by reference, settings by value)."""

    def __init__(
        self,
        url: Optional[str],
        token: Optional[str],
        timeout: Optional[float],
        answer_keys: Sequence[str],
        options: Any,
        on_error: str,
    ) -> None:
        self.url, self.token, self.timeout = url, token, timeout
        self.answer_keys, self.options, self.on_error = tuple(answer_keys), options, on_error

    def __call__(
        self, prompt: Any, completions: Any, prompt_ids: Any = None, completion_ids: Any = None, **kwargs: Any
    ) -> float:
        key = next((k for k in self.answer_keys if kwargs.get(k) is not None), None)
        if key is None:
            raise InvalidRequestError(
                f"tinyv reward_fn: the dataset row has none of {list(self.answer_keys)} "
                f"(fields: {sorted(kwargs)}); pass make_reward_fn(answer_key=...)"
            )
        messages = kwargs.get("messages")
        question = question_of(messages if messages else prompt)
        timeout = self.timeout if self.timeout is not None else DEFAULT_TIMEOUT
        client = get_client(self.url, self.token, timeout)
        verdict = client.verify(
            as_text(kwargs[key]),
            strip_special_tokens(as_text(completions)),
            question,
            options=self.options,
        )
        score = reward_of(verdict, self.on_error)
        return 0.0 if score is None else score


def make_reward_fn(
    *,
    url: Optional[str] = None,
    token: Optional[str] = None,
    timeout: Optional[float] = None,
    answer_key: Optional[str] = None,
    mode: Any = None,
    llm_weight: Optional[float] = None,
    soft_reward: Optional[bool] = None,
    on_error: str = "zero",
) -> Callable[..., float]:
    """A picklable AReaL reward function with these settings (answer_key: the ground truth's field)."""
    check_on_error(on_error)
    keys = (answer_key,) if answer_key else AnswerKeys
    return _RewardFn(url, token, timeout, keys, make_options(mode, llm_weight, soft_reward), on_error)


#: The reward function with the settings from the environment (TINYV_URL, ...).
reward_fn = make_reward_fn()
