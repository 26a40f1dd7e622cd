"""verl reward functions backed by a TinyV server.

verl loads a custom reward function from a file path, so point it at this file:

    custom_reward_function:
      path: /path/to/site-packages/tinyv_client/integrations/verl.py
      name: compute_score            # or compute_score_batch / compute_score_async
      reward_kwargs: {url: "localhost:50051"}   # or set TINYV_URL

verl executes the file as a fresh module (`custom_module`), so this file uses
absolute imports only.

- compute_score: one item per call, for the naive reward manager.
- compute_score_batch: lists in, list out, for `reward_model.reward_manager=batch`;
  the whole batch goes over one stream.
- compute_score_async: a coroutine, for verl's async reward loop.

Keyword arguments (from reward_kwargs): url, token, timeout, mode, llm_weight,
soft_reward, return_dict (a dict with score/acc/pred instead of a float, which
verl logs as reward_extra_info), on_error ("zero", "none" or "raise"; what a
per-item error scores). Unknown keyword arguments that verl adds are ignored.
A server that cannot be reached raises: silent zero rewards would poison training.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Union

from tinyv_client.integrations._common import (
    as_text,
    check_on_error,
    get_async_client,
    get_client,
    make_options,
    mapping_get,
    reward_of,
)
from tinyv_client.types import Verdict, VerifyRequest

Score = Union[float, Dict[str, Any], None]

__all__ = ["compute_score", "compute_score_async", "compute_score_batch"]


def _request(
    data_source: Any, solution_str: Any, ground_truth: Any, extra_info: Any, options: Any, index: int = 0
) -> VerifyRequest:
    return VerifyRequest(
        ground_truth=as_text(ground_truth),
        response=as_text(solution_str),
        question=as_text(mapping_get(extra_info, "question")),
        id=str(index),
        data_source=as_text(data_source),
        options=options,
    )


def _verify_kwargs(
    data_source: Any,
    solution_str: Any,
    ground_truth: Any,
    extra_info: Any,
    mode: Any,
    llm_weight: Any,
    soft_reward: Any,
) -> Dict[str, Any]:
    """Arguments of client.verify for one verl item."""
    request = _request(
        data_source, solution_str, ground_truth, extra_info, make_options(mode, llm_weight, soft_reward)
    )
    return {
        "ground_truth": request.ground_truth,
        "response": request.response,
        "question": request.question,
        "data_source": request.data_source,
        "options": request.options,
    }


def _score(verdict: Verdict, return_dict: bool, on_error: str) -> Score:
    reward = reward_of(verdict, on_error)
    if not return_dict:
        return reward
    return {
        "score": reward,
        "acc": bool(verdict.correct),
        "pred": verdict.extracted_answer,
    }


def compute_score(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Optional[Dict[str, Any]] = None,
    *,
    url: Optional[str] = None,
    token: Optional[str] = None,
    timeout: Optional[float] = None,
    mode: Any = None,
    llm_weight: Optional[float] = None,
    soft_reward: Optional[bool] = None,
    return_dict: bool = False,
    on_error: str = "zero",
    **_ignored: Any,
) -> Score:
    """verl `custom_reward_function` for one item; the question comes from extra_info["question"]."""
    check_on_error(on_error)
    call = _verify_kwargs(data_source, solution_str, ground_truth, extra_info, mode, llm_weight, soft_reward)
    verdict = get_client(url, token, timeout).verify(**call)
    return _score(verdict, return_dict, on_error)


def compute_score_batch(
    data_sources: Sequence[Any],
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any],
    extra_infos: Optional[Sequence[Optional[Dict[str, Any]]]] = None,
    *,
    url: Optional[str] = None,
    token: Optional[str] = None,
    timeout: Optional[float] = None,
    mode: Any = None,
    llm_weight: Optional[float] = None,
    soft_reward: Optional[bool] = None,
    return_dict: bool = False,
    on_error: str = "zero",
    **_ignored: Any,
) -> List[Score]:
    """verl batch reward manager function: lists (or numpy arrays) in, one score per item out."""
    check_on_error(on_error)
    count = len(solution_strs)
    if len(data_sources) != count or len(ground_truths) != count:
        raise ValueError(
            f"compute_score_batch: {len(data_sources)} data_sources, {count} solution_strs, "
            f"{len(ground_truths)} ground_truths; they must have the same length"
        )
    extras: Sequence[Any] = [None] * count if extra_infos is None else extra_infos
    options = make_options(mode, llm_weight, soft_reward)
    requests = [
        _request(data_sources[i], solution_strs[i], ground_truths[i], extras[i], options, i)
        for i in range(count)
    ]
    client = get_client(url, token, timeout)
    # A stream has no batch-size limit and reconnects on its own; ordered keeps
    # scores aligned with the inputs.
    return [_score(v, return_dict, on_error) for v in client.stream(requests, timeout=timeout)]


async def compute_score_async(
    data_source: Any,
    solution_str: str,
    ground_truth: Any,
    extra_info: Optional[Dict[str, Any]] = None,
    *,
    url: Optional[str] = None,
    token: Optional[str] = None,
    timeout: Optional[float] = None,
    mode: Any = None,
    llm_weight: Optional[float] = None,
    soft_reward: Optional[bool] = None,
    return_dict: bool = False,
    on_error: str = "zero",
    **_ignored: Any,
) -> Score:
    """Coroutine version of compute_score, for verl's async reward loop."""
    check_on_error(on_error)
    call = _verify_kwargs(data_source, solution_str, ground_truth, extra_info, mode, llm_weight, soft_reward)
    verdict = await get_async_client(url, token, timeout).verify(**call)
    return _score(verdict, return_dict, on_error)
