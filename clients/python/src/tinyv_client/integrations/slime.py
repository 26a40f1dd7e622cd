"""slime custom reward functions backed by a TinyV server.

    --custom-rm-path tinyv_client.integrations.slime.custom_rm                      # one sample a call
    --custom-rm-path tinyv_client.integrations.slime.batched_custom_rm --group-rm   # a group a call

The server address: `tinyv_url: localhost:50051` in the --custom-config-path YAML
(slime sets every key of it on `args`), or TINYV_URL in the rollout workers'
environment. `tinyv_token`, `tinyv_timeout`, `tinyv_mode`, `tinyv_on_error` work
the same way. slime's HTTP route (--rm-type remote_rm) needs no Python: the server
answers it at POST /slime.

Read from slime v0.3.1 (THUDM/slime), slime/rollout/rm_hub/__init__.py:

    async def async_rm(args, sample: Sample, **kwargs):
        if args.custom_rm_path is not None:
            rm_function = load_function(args.custom_rm_path)
            return await rm_function(args, sample, **kwargs)
    async def batched_async_rm(args, samples: list[Sample], **kwargs) -> list[int | float]:
        if args.custom_rm_path is not None:
            rm_function = load_function(args.custom_rm_path)
            return await rm_function(args, samples, **kwargs)

and slime/rollout/sglang_rollout.py: each generated sample gets
`sample.reward = await async_rm(args, sample)`, many samples at once; with
--group-rm, each group gets `rewards = await batched_async_rm(args, group)`. A
reward may be a dict, read with --reward-key. Sample (slime/utils/types.py):
`prompt: str | list[dict[str, str]]` (a chat-templated string with
--apply-chat-template), `response: str`, `label: str | None`, `metadata: dict`.

Every call rides the process's one coalesced stream. custom_rm and
batched_custom_rm return floats; custom_rm_fields and batched_custom_rm_fields
return the result fields (RESULT_KEYS) for `--reward-key score`. The question is
`sample.metadata["question"]` when present, else recovered from the prompt.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional, Sequence

from tinyv_client.errors import InvalidRequestError
from tinyv_client.integrations._common import (
    as_text,
    check_on_error,
    get_async_client,
    make_options,
    mapping_get,
    result_fields,
    reward_of,
)
from tinyv_client.integrations._prompts import question_of, strip_special_tokens
from tinyv_client.types import Verdict

__all__ = ["batched_custom_rm", "batched_custom_rm_fields", "custom_rm", "custom_rm_fields"]


def _arg(args: Any, name: str) -> Any:
    return getattr(args, f"tinyv_{name}", None)


async def _verdicts(args: Any, samples: Sequence[Any]) -> List[Verdict]:
    _on_error(args)  # a bad setting fails before anything is sent
    timeout = _arg(args, "timeout")
    client = get_async_client(
        _arg(args, "url"), _arg(args, "token"), None if timeout is None else float(timeout)
    )
    options = make_options(_arg(args, "mode"))
    calls = []
    for sample in samples:
        question = mapping_get(getattr(sample, "metadata", None), "question")
        calls.append(
            client.verify(
                as_text(getattr(sample, "label", None)),
                strip_special_tokens(as_text(getattr(sample, "response", ""))),
                question_of(question if question else getattr(sample, "prompt", "")),
                id=as_text(getattr(sample, "index", "")),
                options=options,
            )
        )
    return list(await asyncio.gather(*calls))


def _on_error(args: Any) -> str:
    on_error = _arg(args, "on_error") or "zero"
    check_on_error(on_error)
    if on_error == "none":
        raise InvalidRequestError(
            'slime needs a number for every sample: tinyv_on_error must be "zero" or "raise"'
        )
    return on_error


def _score(args: Any, verdict: Verdict) -> float:
    score = reward_of(verdict, _on_error(args))
    assert score is not None
    return score


def _fields(args: Any, verdict: Verdict) -> Dict[str, Optional[float]]:
    return result_fields(verdict, _score(args, verdict))


async def custom_rm(args: Any, sample: Any, **kwargs: Any) -> float:
    """slime's --custom-rm-path function for one sample: the reward."""
    (verdict,) = await _verdicts(args, [sample])
    return _score(args, verdict)


async def custom_rm_fields(args: Any, sample: Any, **kwargs: Any) -> Dict[str, Optional[float]]:
    """One sample: the result fields; read the reward with --reward-key score."""
    (verdict,) = await _verdicts(args, [sample])
    return _fields(args, verdict)


async def batched_custom_rm(args: Any, samples: Sequence[Any], **kwargs: Any) -> List[float]:
    """slime's --custom-rm-path function with --group-rm: one reward per sample of the group, in order."""
    return [_score(args, v) for v in await _verdicts(args, samples)]


async def batched_custom_rm_fields(args: Any, samples: Sequence[Any], **kwargs: Any) -> List[Dict[str, Any]]:
    """With --group-rm: the result fields per sample; read the reward with --reward-key score."""
    return [_fields(args, v) for v in await _verdicts(args, samples)]
