"""A ROLL reward worker backed by a TinyV server.

    rewards:
      math_rule:
        worker_cls: tinyv_client.integrations.roll.TinyVRewardWorker
        model_args: {model_name_or_path: ${reward_pretrain}}   # the tokenizer that decodes prompts and responses
        tag_included: [deepmath_103k, aime]
        world_size: 1

The server address comes from TINYV_URL (TINYV_TOKEN, TINYV_TIMEOUT too) in the
workers' environment.

Read from ROLL v0.3.0 (alibaba/ROLL; not on PyPI: the PyPI `roll` is another
project). roll/pipeline/rlvr/rewards/math_rule_reward_worker.py:

    class MathRuleRewardWorker(Worker):
        def __init__(self, worker_config: WorkerConfig):
            super().__init__(worker_config=worker_config)
            self.rank_info.dp_rank = self.rank_info.rank; self.rank_info.dp_size = self.rank_info.world_size
            self.tokenizer = default_tokenizer_provider(model_args=self.worker_config.model_args)
        @register(dispatch_mode=Dispatch.ONE_TO_ALL)
        def initialize(self, pipeline_config): pass
        @register(dispatch_mode=Dispatch.DP_MP_COMPUTE, clear_cache=False)
        def compute_rewards(self, data: DataProto):
            response_text_list = self.tokenizer.batch_decode(data.batch["responses"], skip_special_tokens=False)
            prompt_text_list = self.tokenizer.batch_decode(data.batch["prompts"], skip_special_tokens=False)
            ... data.non_tensor_batch["ground_truth"] ...
            return DataProto.from_dict(tensors={"token_level_rewards": zeros_like(responses),
                                                "response_level_rewards": ..., "scores": ...})

and roll/distributed/scheduler/reward_scheduler.py concatenates every domain's
output ("each reward's output schema must be the same"), so this returns exactly
those three tensors. compute_rewards() below is the work; TinyVRewardWorker (made
on first use from ROLL's own Worker, so importing this module needs no ROLL) is the
class ROLL instantiates. The question is recovered from the decoded, chat-templated
prompt; special tokens and padding are stripped from both.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from tinyv_client.client import TinyVClient
from tinyv_client.integrations._common import as_text, get_client, reward_of, verify_all
from tinyv_client.integrations._prompts import question_of, strip_special_tokens
from tinyv_client.types import VerifyRequest

__all__ = ["TinyVRewardWorker", "compute_rewards"]  # noqa: F822 (made on first use, PEP 562)


def compute_rewards(data: Any, tokenizer: Any, client: Optional[TinyVClient] = None) -> Dict[str, Any]:
    """ROLL's reward tensors for one DataProto batch: token_level_rewards, response_level_rewards, scores."""
    import torch

    responses = tokenizer.batch_decode(data.batch["responses"], skip_special_tokens=True)
    prompts = tokenizer.batch_decode(data.batch["prompts"], skip_special_tokens=False)
    truths = data.non_tensor_batch["ground_truth"]
    requests = [
        VerifyRequest(
            as_text(truths[i]), strip_special_tokens(responses[i]), question_of(prompts[i]), id=str(i)
        )
        for i in range(len(responses))
    ]
    verdicts = verify_all(client or get_client(), requests)
    rewards = [reward_of(v, "zero") for v in verdicts]
    # ROLL's math worker keeps its rewards in float16 and puts none on the tokens.
    return {
        "token_level_rewards": torch.zeros_like(data.batch["responses"], dtype=torch.float16),
        "response_level_rewards": torch.tensor(rewards, dtype=torch.float16),
        "scores": torch.tensor(rewards, dtype=torch.float16),
    }


def _make_worker_class() -> Any:
    from roll.distributed.executor.worker import Worker
    from roll.distributed.scheduler.decorator import Dispatch, register
    from roll.distributed.scheduler.protocol import DataProto
    from roll.models.model_providers import default_tokenizer_provider

    class TinyVRewardWorker(Worker):
        """A ROLL reward worker that asks TinyV (see the module docstring)."""

        def __init__(self, worker_config: Any) -> None:
            super().__init__(worker_config=worker_config)
            self.rank_info.dp_rank = self.rank_info.rank
            self.rank_info.dp_size = self.rank_info.world_size
            self.tokenizer = default_tokenizer_provider(model_args=self.worker_config.model_args)

        @register(dispatch_mode=Dispatch.ONE_TO_ALL)
        def initialize(self, pipeline_config: Any) -> None:
            pass

        @register(dispatch_mode=Dispatch.DP_MP_COMPUTE, clear_cache=False)
        def compute_rewards(self, data: Any) -> Any:
            return DataProto.from_dict(tensors=compute_rewards(data, self.tokenizer))

    TinyVRewardWorker.__module__ = __name__
    return TinyVRewardWorker


def __getattr__(name: str) -> Any:
    if name == "TinyVRewardWorker":
        cls = _make_worker_class()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
