"""A NeMo-RL environment backed by a TinyV server.

In the training script, before NeMo-RL sets up its data and environments:

    from tinyv_client.integrations.nemo_rl import register
    register()                      # the environment name "tinyv"

and in the config, route the math data to it and give its settings:

    data.default.env_name: tinyv
    env.tinyv: {url: "localhost:50051"}      # or TINYV_URL; also token, timeout, mode, on_error

Read from NeMo-RL v0.7.0 (NVIDIA-NeMo/RL; not on PyPI). nemo_rl/environments/interfaces.py:

    class EnvironmentInterface(abc.ABC, Generic[MetadataT]):
        def step(self, message_log_batch: list[LLMMessageLogType], metadata: list[MetadataT])
            -> EnvironmentReturn[MetadataT]     # this function is a ray remote
        def global_post_process_and_metrics(self, batch: BatchedDataDict)
            -> tuple[BatchedDataDict, dict]
    class EnvironmentReturn(NamedTuple):  observations, metadata, next_stop_strings,
        rewards (Tensor [B]), terminateds (Tensor), answers (list[str | None] | None)

nemo_rl/environments/utils.py: `register_env(env_name, actor_class_fqn)` adds to
ENV_REGISTRY; `create_env` resolves the FQN with hydra's get_object, asks
`get_actor_python_env(fqn)` (nemo_rl/distributed/ray_actor_environment_registry.py:
ACTOR_ENVIRONMENT_REGISTRY) for the actor's Python, and starts
`actor_class.options(runtime_env=...).remote(env_config)`. register() does both
registrations. As in MathEnvironment (nemo_rl/environments/math_environment.py),
the response is every assistant message of a log joined, the ground truth is
`metadata[i]["ground_truth"]`, and the user message is the chat-templated prompt
(math_hf_data_processor applies the tokenizer's template): the question is taken
out of it. A step of several samples is one stream; single-sample steps (async
GRPO calls the actor concurrently) ride the process's coalesced stream.

global_post_process_and_metrics reports "accuracy" (rewards of properly ended
sequences, as MathEnvironment does) and the share of each result field since the
last call as "tinyv/<field>".
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from tinyv_client.errors import InvalidRequestError
from tinyv_client.integrations._common import (
    RESULT_KEYS,
    as_text,
    check_on_error,
    get_client,
    make_options,
    mapping_get,
    mean_fields,
    result_fields,
    reward_of,
    verify_all,
)
from tinyv_client.integrations._prompts import question_of
from tinyv_client.types import VerifyRequest

FQN = "tinyv_client.integrations.nemo_rl.TinyVEnvironmentActor"

__all__ = ["FQN", "TinyVEnvironment", "register"]


class _EnvironmentReturn(NamedTuple):
    """nemo_rl.environments.interfaces.EnvironmentReturn's fields, for when NeMo-RL is not installed."""

    observations: list
    metadata: list
    next_stop_strings: list
    rewards: Any
    terminateds: Any
    answers: Optional[list]


def _environment_return() -> Any:
    try:
        from nemo_rl.environments.interfaces import EnvironmentReturn

        return EnvironmentReturn
    except ImportError:
        return _EnvironmentReturn


def _split(conversation: Sequence[Any]) -> Tuple[str, str]:
    """(question, response) of one message log."""
    response = "".join(str(m.get("content", "")) for m in conversation if m.get("role") == "assistant")
    users = [m for m in conversation if m.get("role") == "user"]
    return question_of(users[0].get("content", "") if users else ""), response


class TinyVEnvironment:
    """NeMo-RL's EnvironmentInterface (step, global_post_process_and_metrics, shutdown)."""

    def __init__(self, cfg: Optional[Dict[str, Any]] = None) -> None:
        cfg = dict(cfg or {})
        self._on_error = cfg.get("on_error", "zero")
        check_on_error(self._on_error)
        if self._on_error == "none":
            raise InvalidRequestError(
                'NeMo-RL needs a number for every sample: on_error must be "zero" or "raise"'
            )
        timeout = cfg.get("timeout")
        self._client = get_client(
            cfg.get("url"), cfg.get("token"), None if timeout is None else float(timeout)
        )
        self._options = make_options(cfg.get("mode"), cfg.get("llm_weight"), cfg.get("soft_reward"))
        self._lock = threading.Lock()
        self._fields: List[Dict[str, Optional[float]]] = []

    def step(
        self,
        message_log_batch: List[List[Dict[str, Any]]],
        metadata: List[Dict[str, Any]],
        return_extracted_answer: bool = False,
    ) -> Any:
        import torch

        requests = []
        for i, (conversation, meta) in enumerate(zip(message_log_batch, metadata)):
            question, response = _split(conversation)
            truth = as_text(mapping_get(meta, "ground_truth"))
            requests.append(VerifyRequest(truth, response, question, id=str(i), options=self._options))
        verdicts = verify_all(self._client, requests)
        rewards = [reward_of(v, self._on_error) for v in verdicts]
        with self._lock:
            self._fields.extend(result_fields(v, r) for v, r in zip(verdicts, rewards))
        observations = [
            {
                "role": "environment",
                "content": "Environment: correct" if v.correct else "Environment: incorrect",
            }
            for v in verdicts
        ]
        scores = torch.tensor(rewards, dtype=torch.float32).cpu()
        return _environment_return()(
            observations=observations,
            metadata=metadata,
            next_stop_strings=[None] * len(verdicts),
            rewards=scores,
            terminateds=torch.ones_like(scores).cpu(),
            answers=[v.extracted_answer for v in verdicts] if return_extracted_answer else None,
        )

    def global_post_process_and_metrics(self, batch: Any) -> Tuple[Any, Dict[str, float]]:
        rewards = batch["rewards"] if batch["rewards"].ndim == 1 else batch["rewards"][:, 0]
        if "is_end" in batch:
            rewards = rewards * batch["is_end"]  # a sequence that never ended scores 0, as in MathEnvironment
        metrics: Dict[str, float] = {
            "accuracy": float(rewards.float().mean().item()) if len(rewards) else 0.0
        }
        with self._lock:
            fields, self._fields = self._fields, []
        if fields:
            shares = mean_fields(fields)
            metrics.update({f"tinyv/{key}": shares[key] for key in RESULT_KEYS[1:]})
        return batch, metrics

    def shutdown(self) -> None:
        pass  # the client is the process's, shared; it closes at exit


def register(env_name: str = "tinyv") -> None:
    """Register the environment with NeMo-RL's ENV_REGISTRY and its actor Python registry."""
    from nemo_rl.distributed.ray_actor_environment_registry import ACTOR_ENVIRONMENT_REGISTRY
    from nemo_rl.distributed.virtual_cluster import PY_EXECUTABLES
    from nemo_rl.environments.utils import ENV_REGISTRY, register_env

    if env_name not in ENV_REGISTRY:
        register_env(env_name, FQN)
    ACTOR_ENVIRONMENT_REGISTRY.setdefault(FQN, PY_EXECUTABLES.SYSTEM)


def __getattr__(name: str) -> Any:
    # The Ray actor class is made on first use, so that importing this module needs no Ray.
    if name == "TinyVEnvironmentActor":
        import ray

        actor = ray.remote(max_restarts=-1, max_task_retries=-1, max_concurrency=1000)(TinyVEnvironment)
        globals()[name] = actor
        return actor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
