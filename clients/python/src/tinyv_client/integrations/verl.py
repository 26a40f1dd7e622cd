"""verl reward functions backed by a TinyV server.

Configure (verl 0.7 and later read `reward.*`; 0.9 reads nothing else):

    reward.custom_reward_function.path=pkg://tinyv_client.integrations.verl
    reward.custom_reward_function.name=compute_score_async      # or compute_score
    +reward.custom_reward_function.reward_kwargs.url=localhost:50051

Read from verl 0.9.1 (PyPI). The interface implemented is the reward loop's
(verl/experimental/reward_loop/reward_manager/naive.py; dapo.py and gdpo.py alike):

    if self.is_async_reward_score:            # inspect.iscoroutinefunction
        result = await self.compute_score(data_source=..., solution_str=..., ground_truth=...,
                                          extra_info=..., **extra_reward_kwargs)
    else:
        result = await self.loop.run_in_executor(None, lambda: self.compute_score(...same...))
    if isinstance(result, dict): score = result["score"]; reward_extra_info = every key of result
    else: score = result; reward_extra_info["acc"] = score

One call per sample, many at once: each RewardLoopWorker (a Ray actor,
`reward.num_workers` of them) runs every sample of its share as a task. So both
functions here coalesce: all the samples in flight in a worker process ride one
VerifyStream. verl then stacks reward_extra_info by the keys of the first sample
(reward_loop.py: `reward_extra_keys = list(reward_extra_infos[0].keys())`), so
every sample returns the same keys: RESULT_KEYS (score, acc, rule_match,
llm_asked, llm_decided, llm_failed, item_error) and `pred`, the extracted
answer (a string; verl's validation uses `pred` for maj@N).

- compute_score: sync. verl's naive/dapo managers run it in the event loop's
  thread pool; `reward.reward_manager.name=remote` runs it in RewardComputeWorker
  Ray actors, which refuse a coroutine. The legacy managers (verl 0.6 and
  earlier: `reward_model.reward_manager=naive|prime`) call it positionally,
  `compute_score(data_source, solution_str, ground_truth, extra_info)`; the Prime
  manager needs a float (`return_dict: false`) and the pkg:// path (it pickles the
  function into a process pool).
- compute_score_async: the same as a coroutine, for naive/dapo (not remote).
- compute_score_batch: kept for the legacy BatchRewardManager only (verl 0.6 and
  earlier, `reward_model.reward_manager=batch`): lists in, a list out, over one
  stream. verl 0.7+ trainers never call it: the reward loop has no batch manager.

The question for the LLM verifier comes from `extra_info["question"]` (verl's
gsm8k preprocessing writes it); `question_key` names another key. Without one,
`extra_info["problem"]` or `extra_info["prompt"]` (text or chat messages) is
used, and failing those the judge sees no question (verl's math preprocessing
keeps none: add it to extra_info). The rules do not need it.

reward_kwargs: url, token, timeout, mode (addon, llm_only, rules_only, mixed),
llm_weight, soft_reward, return_dict (default true), on_error ("zero" or "raise":
what an item the server rejects scores), question_key. verl's own extra keyword
arguments (reward_router_address, ...) are ignored. A server that cannot be
reached raises: silent zero rewards would poison training.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Union

from tinyv_client.errors import InvalidRequestError
from tinyv_client.integrations._common import (
    as_text,
    check_on_error,
    get_async_client,
    get_client,
    make_options,
    mapping_get,
    result_fields,
    reward_of,
)
from tinyv_client.integrations._prompts import question_of
from tinyv_client.types import Verdict, VerifyRequest

Score = Union[float, Dict[str, Any]]

__all__ = ["compute_score", "compute_score_async", "compute_score_batch", "question_from_extra_info"]


def question_from_extra_info(extra_info: Any, question_key: str = "question") -> str:
    """extra_info[question_key], else extra_info["problem"] or ["prompt"], else ""."""
    for key in (question_key, "problem", "prompt"):
        value = mapping_get(extra_info, key)
        if value is not None and not (isinstance(value, str) and not value.strip()):
            return question_of(value)
    return ""


def _request(
    data_source: Any,
    solution_str: Any,
    ground_truth: Any,
    extra_info: Any,
    kwargs: Dict[str, Any],
    index: int = 0,
) -> VerifyRequest:
    return VerifyRequest(
        ground_truth=as_text(ground_truth),
        response=as_text(solution_str),
        question=question_from_extra_info(extra_info, kwargs["question_key"]),
        id=str(index),
        data_source=as_text(data_source),
        options=make_options(kwargs["mode"], kwargs["llm_weight"], kwargs["soft_reward"]),
    )


def _call(request: VerifyRequest) -> Dict[str, Any]:
    """client.verify's arguments for one request."""
    fields = ("ground_truth", "response", "question", "data_source", "options")
    return {name: getattr(request, name) for name in fields}


def _settings(
    url: Optional[str] = None,
    token: Optional[str] = None,
    timeout: Optional[float] = None,
    mode: Any = None,
    llm_weight: Optional[float] = None,
    soft_reward: Optional[bool] = None,
    return_dict: bool = True,
    on_error: str = "zero",
    question_key: str = "question",
    **_ignored: Any,
) -> Dict[str, Any]:
    """reward_kwargs, checked; verl's own extra keyword arguments fall into _ignored."""
    check_on_error(on_error)
    if on_error == "none":
        raise InvalidRequestError('verl needs a number for every sample: on_error must be "zero" or "raise"')
    return dict(locals(), return_dict=bool(return_dict))


def _score(verdict: Verdict, kwargs: Dict[str, Any]) -> Score:
    reward = reward_of(verdict, kwargs["on_error"])
    assert reward is not None
    if not kwargs["return_dict"]:
        return reward
    return {**result_fields(verdict, reward), "pred": verdict.extracted_answer}


def compute_score(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Optional[Dict[str, Any]] = None,
    **reward_kwargs: Any,
) -> Score:
    """One sample, sync: the reward loop's thread pool, the remote manager's actors, legacy managers."""
    kwargs = _settings(**reward_kwargs)
    request = _request(data_source, solution_str, ground_truth, extra_info, kwargs)
    client = get_client(kwargs["url"], kwargs["token"], kwargs["timeout"])
    return _score(client.verify(**_call(request)), kwargs)


async def compute_score_async(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Optional[Dict[str, Any]] = None,
    **reward_kwargs: Any,
) -> Score:
    """One sample, as a coroutine: what the reward loop's naive and dapo managers await."""
    kwargs = _settings(**reward_kwargs)
    request = _request(data_source, solution_str, ground_truth, extra_info, kwargs)
    client = get_async_client(kwargs["url"], kwargs["token"], kwargs["timeout"])
    return _score(await client.verify(**_call(request)), kwargs)


def compute_score_batch(
    data_sources: Sequence[Any],
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any],
    extra_infos: Optional[Sequence[Optional[Dict[str, Any]]]] = None,
    **reward_kwargs: Any,
) -> List[Score]:
    """The legacy BatchRewardManager's function (verl 0.6 and earlier): lists in, one score each out."""
    kwargs = _settings(**reward_kwargs)
    count = len(solution_strs)
    if len(data_sources) != count or len(ground_truths) != count:
        raise ValueError(
            f"compute_score_batch: {len(data_sources)} data_sources, {count} solution_strs, "
            f"{len(ground_truths)} ground_truths; they must have the same length"
        )
    extras: Sequence[Any] = [None] * count if extra_infos is None else extra_infos
    requests = [
        _request(data_sources[i], solution_strs[i], ground_truths[i], extras[i], kwargs, i)
        for i in range(count)
    ]
    client = get_client(kwargs["url"], kwargs["token"], kwargs["timeout"])
    # One stream for the whole batch, in order, whatever its size.
    return [_score(v, kwargs) for v in client.stream(requests, timeout=kwargs["timeout"])]
