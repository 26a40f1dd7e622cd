"""tinyv_client.integrations.nemo_rl run as NeMo-RL v0.7.0 (NVIDIA-NeMo/RL) runs an environment,
against a real `tinyv serve`. NeMo-RL cannot be installed here (PyPI's nemo-rl is a placeholder;
vLLM and Megatron need CUDA), so its calls are restated from its source:

nemo_rl/environments/utils.py, create_env(env_name, env_config):
    actor_class = get_object(ENV_REGISTRY[env_name]["actor_class_fqn"])      # hydra.utils.get_object
    env = actor_class.options(runtime_env={"py_executable": ..., "env_vars": {**dict(os.environ)}}).remote(env_config)
nemo_rl/experience/rollouts.py (calculate_rewards): env.step.remote(message_logs, metadata), ray.get
nemo_rl/algorithms/grpo.py: env.global_post_process_and_metrics.remote(batch) on the rollout batch
nemo_rl/data/processors.py, math_hf_data_processor: the user message's content is the prompt
    after tokenizer.apply_chat_template(..., add_generation_prompt=True); metadata {"ground_truth"}.
"""

from __future__ import annotations

import importlib
import os
import sys

import pytest
import ray
import torch

from tinyv_client.integrations import nemo_rl as adapter

CHATML = "<|im_start|>system\nSolve it.<|im_end|>\n<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n"
CASES = [("Half of one?", r"\frac12", r"So \boxed{0.5}.", 1.0), ("Two plus two?", "4", r"\boxed{5}", 0.0)]


def get_object(fqn: str):
    """hydra.utils.get_object for a module attribute."""
    module, _, name = fqn.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def create_env(env_config: dict):
    actor_class = get_object(adapter.FQN)
    runtime_env = {"py_executable": sys.executable, "env_vars": {**dict(os.environ)}}
    return actor_class.options(runtime_env=runtime_env).remote(env_config)


def logs(cases=CASES):
    message_logs = [
        [{"role": "user", "content": CHATML.format(q=q)}, {"role": "assistant", "content": r}]
        for q, _, r, _ in cases
    ]
    return message_logs, [{"ground_truth": g, "extracted_answer": None} for _, g, _, _ in cases]


def test_step_and_metrics_through_the_actor(tinyv, cluster) -> None:
    env = create_env({"url": tinyv.target})
    message_logs, metadata = logs()
    out = ray.get(env.step.remote(message_logs, metadata))
    assert out.rewards.tolist() == [c[3] for c in CASES] and isinstance(out.rewards, torch.Tensor)
    assert out.terminateds.tolist() == [1.0, 1.0]
    assert [o["content"] for o in out.observations] == ["Environment: correct", "Environment: incorrect"]
    assert out.next_stop_strings == [None, None] and out.answers is None and out.metadata == metadata
    batch = {"rewards": out.rewards, "is_end": torch.tensor([True, False])}
    _, metrics = ray.get(env.global_post_process_and_metrics.remote(batch))
    assert metrics["accuracy"] == 0.5
    assert metrics["tinyv/rule_match"] == 0.5 and metrics["tinyv/item_error"] == 0.0


def test_concurrent_single_sample_steps(tinyv, cluster) -> None:
    """Async GRPO calls step per sample, concurrently (the actor allows 1000 at once)."""
    env = create_env({"url": tinyv.target})
    streams = tinyv.rpcs("VerifyPackedStream")
    message_logs, metadata = logs(CASES * 8)
    outs = ray.get([env.step.remote([m], [d], True) for m, d in zip(message_logs, metadata)])
    assert [o.rewards.item() for o in outs] == [c[3] for c in CASES * 8]
    assert [o.answers[0] for o in outs][:2] == ["0.5", "5"]
    assert tinyv.rpcs("VerifyPackedStream") - streams == 1  # all on the actor process's one stream


def test_with_the_llm_verifier(tinyv_llm, cluster) -> None:
    env = create_env({"url": tinyv_llm.target})
    message_logs, metadata = logs([("Seven?", "7", r"\boxed{right}", 1.0)])
    assert ray.get(env.step.remote(message_logs, metadata)).rewards.tolist() == [1.0]


def test_bad_config_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="on_error"):
        adapter.TinyVEnvironment({"url": "localhost:1", "on_error": "none"})
