"""A verifiers (and prime-rl) reward backed by a TinyV server, plugged into any taskset from config.

    [env.taskset.task.rewards]                          # prime-rl: [orchestrator.train.source.env.taskset.task.rewards]
    tinyv = { fn = "tinyv_client.integrations.verifiers:tinyv_reward", weight = 1.0 }

The server address comes from TINYV_URL (TINYV_TOKEN, TINYV_TIMEOUT too); the
task field holding the reference answer from TINYV_ANSWER_FIELD, else the first of
`answer`, `ground_truth`, `solution`, `expected_answer` the task has.

Read from verifiers 0.4.0 (PyPI), verifiers/v1/configs/task.py:

    rewards: dict[str, RewardFunctionConfig]
        "Weighted rewards `(task, trace, runtime) -> float` plugged by name, merged with
         the task's `@vf.reward` methods."          # RewardFunctionConfig: fn, priority, weight

and verifiers/v1/task.py, Task.score: `available = {"task": self.data, "trace":
trace}` (plus "runtime"), `reward_results = await invoke_all(rewards, available)`
(each function gets the parameters it names, all awaited together), then
`trace.record_reward(fn.__name__, result, weight)`; a Mapping result would be
recorded as several weighted rewards, so this returns a float. The question is
`task.prompt_text` (TaskData), the response `trace.last_reply`. The result fields
other than the score go to `trace.metrics` as "tinyv/<field>", and the extracted
answer and who decided to `trace.info["tinyv"]`. prime-rl (v0.8.1.dev67) runs
verifiers' v1 tasksets and reads the same `env.taskset.task.rewards` table. All
rollouts of a process ride its one coalesced stream.
"""

from __future__ import annotations

import os
from typing import Any

from tinyv_client.errors import InvalidRequestError
from tinyv_client.integrations._common import RESULT_KEYS, as_text, get_async_client, result_fields
from tinyv_client.integrations._prompts import question_of

__all__ = ["ANSWER_FIELDS", "tinyv_reward"]

ANSWER_FIELDS = ("answer", "ground_truth", "solution", "expected_answer")


def _answer(task: Any) -> str:
    wanted = os.environ.get("TINYV_ANSWER_FIELD")
    for field in (wanted,) if wanted else ANSWER_FIELDS:
        value = getattr(task, field, None)
        if value is None and isinstance(getattr(task, "model_extra", None), dict):
            value = task.model_extra.get(field)  # WireTaskData keeps unknown fields as extras
        if value is not None:
            return (
                "\n".join(as_text(v) for v in value) if isinstance(value, (list, tuple)) else as_text(value)
            )
    raise InvalidRequestError(
        f"tinyv_reward: the task has no reference answer in {[wanted] if wanted else list(ANSWER_FIELDS)}; "
        "set TINYV_ANSWER_FIELD to the task field that holds it"
    )


def _question(task: Any) -> str:
    text = getattr(task, "prompt_text", None)
    return question_of(text if text is not None else getattr(task, "prompt", ""))


async def tinyv_reward(task: Any, trace: Any) -> float:
    """verifiers' plugged reward `(task, trace) -> float`: 1.0 when TinyV judges the reply right."""
    client = get_async_client()
    verdict = await client.verify(_answer(task), as_text(getattr(trace, "last_reply", "")), _question(task))
    if verdict.error is not None:
        # A bad task (say, an empty answer) must not read as a wrong reply: verifiers records errors.
        raise InvalidRequestError(f"tinyv: {verdict.error.code.name}: {verdict.error.message}")
    fields = result_fields(verdict, verdict.reward)
    record = getattr(trace, "record_metrics", None)
    if callable(record):
        record({f"tinyv/{key}": fields[key] for key in RESULT_KEYS[1:]})
    info = getattr(trace, "info", None)
    if isinstance(info, dict):
        info["tinyv"] = {"answer": verdict.extracted_answer, "decided_by": verdict.decided_by.name}
    return verdict.reward
