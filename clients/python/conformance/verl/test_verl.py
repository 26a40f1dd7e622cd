"""verl 0.9.1's own reward code driving tinyv_client.integrations.verl against a real `tinyv serve`.

The config is composed by Hydra from verl's own ppo_trainer.yaml with the overrides the README
gives (read back from clients/python/README.md), as `python -m verl.trainer.main_ppo` does. Then:
RewardLoopWorker (the reward loop's worker, run here in-process) with the naive manager and both
functions; RewardLoopManager with its Ray actors; the remote manager's RewardComputeWorker actors;
and the legacy BatchRewardManager and PrimeRewardManager classes verl still ships.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import List

import numpy as np
import pytest
import torch
import verl
from readme import overrides
from verl.protocol import DataProto
from verl.utils.ray_utils import get_event_loop

VERL_KEYS = ["score", "acc", "rule_match", "llm_asked", "llm_decided", "llm_failed", "item_error", "pred"]
PROMPT_LEN, RESPONSE_LEN = 48, 40

# (question, gold, response, expected reward). The third is right only by the LLM stand-in.
SAMPLES = [
    ("Half of one?", r"\frac12", r"So the answer is \boxed{0.5}.", 1.0),
    ("Two plus two?", "4", r"It is \boxed{5}.", 0.0),
    ("Seven?", "7", r"\boxed{right}", 0.0),
    ("Ten?", "10", r"#### 10", 1.0),
]


def compose(url: str, *extra: str, name: str = "compute_score_async"):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    config_dir = str(Path(verl.__file__).parent / "trainer" / "config")
    readme = overrides("verl", **{"localhost:50051": url, "compute_score_async": name})
    assert any("reward.custom_reward_function.path=pkg://" in o for o in readme)
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        return hydra_compose(config_name="ppo_trainer", overrides=[*readme, *extra])


def batch(tokenizer, samples=SAMPLES) -> DataProto:
    """What the rollout hands the reward loop: left-padded prompts, right-padded responses."""
    prompts, responses, masks = [], [], []
    for question, _, response, _ in samples:
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": question}], tokenize=False, add_generation_prompt=True
        )
        p = tokenizer(text, add_special_tokens=False)["input_ids"][-PROMPT_LEN:]
        r = tokenizer(response + tokenizer.eos_token, add_special_tokens=False)["input_ids"][:RESPONSE_LEN]
        pad = tokenizer.pad_token_id
        prompts.append([pad] * (PROMPT_LEN - len(p)) + p)
        responses.append(r + [pad] * (RESPONSE_LEN - len(r)))
        masks.append([0] * (PROMPT_LEN - len(p)) + [1] * (len(p) + len(r)) + [0] * (RESPONSE_LEN - len(r)))
    return DataProto.from_dict(
        tensors={
            "prompts": torch.tensor(prompts),
            "responses": torch.tensor(responses),
            "input_ids": torch.cat([torch.tensor(prompts), torch.tensor(responses)], dim=1),
            "attention_mask": torch.tensor(masks),
        },
        non_tensors={
            "data_source": np.array(["lighteval/MATH"] * len(samples), dtype=object),
            "reward_model": np.array(
                [{"ground_truth": s[1], "style": "rule"} for s in samples], dtype=object
            ),
            "extra_info": np.array(
                [{"question": s[0], "index": i} for i, s in enumerate(samples)], dtype=object
            ),
        },
    )


def expected(samples=SAMPLES) -> List[float]:
    return [s[3] for s in samples]


@pytest.fixture(scope="module")
def tokenizer(tiny_tokenizer: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_tokenizer)


@pytest.fixture(scope="session", autouse=True)
def ray_cluster():
    """Ray first, before this process has threads of its own: ray.init forks its GCS and raylet
    with a preexec_fn, which a process running other threads may crash in."""
    import ray

    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def run_worker(config) -> list:
    from verl.experimental.reward_loop import RewardLoopWorker

    loop = get_event_loop()  # the reward manager binds the loop it was made on, as in a Ray actor
    worker = RewardLoopWorker(config)
    return loop.run_until_complete(worker.compute_score_batch(batch(worker.input_tokenizer)))


@pytest.mark.parametrize("name", ["compute_score_async", "compute_score"])
def test_reward_loop_worker_naive(tinyv, tiny_tokenizer: str, name: str) -> None:
    """The default manager (naive) awaits the coroutine, or runs the sync function in its thread pool."""
    config = compose(tinyv.target, f"actor_rollout_ref.model.path={tiny_tokenizer}", name=name)
    assert config.reward.reward_manager.name == "naive"
    streams, unary = tinyv.rpcs("VerifyPackedStream"), tinyv.rpcs("Verify")
    outputs = run_worker(config)
    assert [o["reward_score"] for o in outputs] == expected()
    assert all(list(o["reward_extra_info"]) == VERL_KEYS for o in outputs)
    assert [o["reward_extra_info"]["pred"] for o in outputs] == ["0.5", "5", "right", "10"]
    # Every sample of the worker rode one stream (or none new, when this process's is still open).
    assert tinyv.rpcs("VerifyPackedStream") - streams <= 1 and tinyv.rpcs("Verify") == unary


def test_reward_loop_worker_with_the_llm(tinyv_llm, tiny_tokenizer: str) -> None:
    config = compose(tinyv_llm.target, f"actor_rollout_ref.model.path={tiny_tokenizer}")
    outputs = run_worker(config)
    assert [o["reward_score"] for o in outputs] == [1.0, 0.0, 1.0, 1.0]
    infos = [o["reward_extra_info"] for o in outputs]
    assert [i["llm_decided"] for i in infos] == [0.0, 1.0, 1.0, 0.0]


def test_reward_loop_manager(tinyv, tiny_tokenizer: str, ray_cluster, tokenizer) -> None:
    """RewardLoopManager: reward.num_workers Ray actors, each with its own process and stream."""
    from verl.experimental.reward_loop import RewardLoopManager

    config = compose(tinyv.target, f"actor_rollout_ref.model.path={tiny_tokenizer}", "reward.num_workers=2")
    streams = tinyv.rpcs("VerifyPackedStream")
    manager = RewardLoopManager(config)
    samples = SAMPLES * 4
    out = manager.compute_rm_score(batch(tokenizer, samples))
    scores = out.batch["rm_scores"].sum(dim=1).tolist()
    assert scores == expected(samples)
    assert out.meta_info["reward_extra_keys"] == VERL_KEYS
    assert out.non_tensor_batch["llm_asked"].tolist() == [0.0] * len(samples)
    assert tinyv.rpcs("VerifyPackedStream") - streams == 2  # one per worker process


def test_remote_manager(tinyv, tiny_tokenizer: str, ray_cluster) -> None:
    """reward.reward_manager.name=remote refuses coroutines: the sync compute_score in its actors."""
    config = compose(
        tinyv.target,
        f"actor_rollout_ref.model.path={tiny_tokenizer}",
        "reward.reward_manager.name=remote",
        "reward.num_workers=1",
        name="compute_score",
    )
    outputs = run_worker(config)
    assert [o["reward_score"] for o in outputs] == expected()
    assert all(list(o["reward_extra_info"]) == VERL_KEYS for o in outputs)


def legacy_fn(name: str, url: str, **kwargs):
    """What verl's get_custom_reward_fn makes of pkg://tinyv_client.integrations.verl and reward_kwargs."""
    from verl.trainer.ppo.reward import _call_with_kwargs
    from verl.utils.import_utils import load_extern_object

    raw = load_extern_object(module_path="pkg://tinyv_client.integrations.verl", object_name=name)
    return partial(_call_with_kwargs, raw, {"url": url, **kwargs})


def test_legacy_batch_manager(tinyv, tokenizer) -> None:
    """verl.workers.reward_manager.batch (reward_model.reward_manager=batch in verl <= 0.6)."""
    from verl.workers.reward_manager.batch import BatchRewardManager

    manager = BatchRewardManager(tokenizer, 0, legacy_fn("compute_score_batch", tinyv.target))
    result = manager(batch(tokenizer), return_dict=True)
    assert result["reward_tensor"].sum(dim=1).tolist() == expected()
    assert list(result["reward_extra_info"]) == VERL_KEYS


def _prime_in_a_fresh_process(url: str, tokenizer_dir: str, out) -> None:
    from transformers import AutoTokenizer

    from verl.workers.reward_manager.prime import PrimeRewardManager

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    fn = legacy_fn("compute_score", url, return_dict=False)
    first = fn("math", r"\boxed{1}", "1", {})  # the parent's own stream is open when the pool forks
    reward = PrimeRewardManager(tokenizer, 0, fn)(batch(tokenizer))
    out.put([first, reward.sum(dim=1).tolist()])


def test_legacy_prime_manager_forks(tinyv, tiny_tokenizer: str) -> None:
    """verl.workers.reward_manager.prime: compute_score in its forked 64-process pool, after the
    parent has used its own stream; a child that rode the parent's stream would hang or fail.
    (In a process of its own: this one runs Ray's threads, which a fork does not carry.)"""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    streams = tinyv.rpcs("VerifyPackedStream")
    proc = ctx.Process(target=_prime_in_a_fresh_process, args=(tinyv.target, tiny_tokenizer, out))
    proc.start()
    first, rewards = out.get(timeout=600)
    proc.join(60)
    assert (first, rewards) == (1.0, expected())
    assert tinyv.rpcs("VerifyPackedStream") - streams >= 2  # the parent's, and the children's own
