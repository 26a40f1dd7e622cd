"""tinyv_client.integrations.slime called exactly as slime v0.3.1 (THUDM/slime) calls a
--custom-rm-path function, against a real `tinyv serve`. slime cannot be installed here (not on
PyPI; Megatron-LM and SGLang need CUDA), so its calls are restated from its source:

slime/utils/misc.py, load_function(path):
    module_path, _, attr = path.rpartition("."); module = importlib.import_module(module_path)
    return getattr(module, attr)
slime/rollout/rm_hub/__init__.py:
    async_rm(args, sample):            return await load_function(args.custom_rm_path)(args, sample, **kwargs)
    batched_async_rm(args, samples):   return await load_function(args.custom_rm_path)(args, samples, **kwargs)
slime/rollout/sglang_rollout.py: per sample `sample.reward = await async_rm(args, sample)`, many
    at once; with --group-rm, per group `rewards = await batched_async_rm(args, group)`.
slime/utils/types.py, Sample: prompt: str | list[dict[str, str]], response: str,
    label: str | None, reward: float | dict | None, metadata: dict; the trainer reads
    `self.reward if not args.reward_key else self.reward[args.reward_key]` (get_reward_value).
slime/utils/arguments.py: every key of --custom-config-path's YAML is set on args.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
from dataclasses import dataclass, field
from typing import Any, Optional

import pytest
import yaml
from readme import block

CHATML = (
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n"
)


@dataclass
class Sample:
    """The fields of slime v0.3.1's Sample that a reward function reads."""

    index: Optional[int] = None
    prompt: Any = ""
    response: str = ""
    label: Optional[str] = None
    reward: Any = None
    metadata: dict = field(default_factory=dict)


def load_function(path: str):
    module_path, _, attr = path.rpartition(".")
    return getattr(importlib.import_module(module_path), attr)


def make_args(
    url: str, custom_rm_path: str, reward_key: Optional[str] = None, group_rm: bool = False, **yaml_keys
):
    args = argparse.Namespace(
        custom_rm_path=custom_rm_path, reward_key=reward_key, group_rm=group_rm, rm_type=None
    )
    # --custom-config-path: every key of the YAML becomes an attribute of args
    for key, value in yaml.safe_load(yaml.safe_dump({"tinyv_url": url, **yaml_keys})).items():
        setattr(args, key, value)
    return args


async def async_rm(args, sample):
    return await load_function(args.custom_rm_path)(args, sample)


async def batched_async_rm(args, samples):
    return await load_function(args.custom_rm_path)(args, samples)


def get_reward_value(args, sample):
    return sample.reward if not args.reward_key else sample.reward[args.reward_key]


def readme_paths() -> list:
    """The --custom-rm-path values the README gives."""
    return [line.split()[1] for line in block("slime").splitlines() if line.startswith("--custom-rm-path")]


def test_the_readme_paths_are_these() -> None:
    assert readme_paths() == [
        "tinyv_client.integrations.slime.custom_rm",
        "tinyv_client.integrations.slime.batched_custom_rm",
    ]


def samples():
    return [
        Sample(0, CHATML.format(q="Half of one?"), r"So \boxed{0.5}.<|im_end|>", r"\frac12"),
        Sample(1, [{"role": "user", "content": "Two plus two?"}], r"\boxed{5}", "4"),
        Sample(2, "Seven?", r"\boxed{right}", "7", metadata={"question": "What is seven?"}),
    ]


async def test_custom_rm_per_sample(tinyv) -> None:
    args = make_args(tinyv.target, "tinyv_client.integrations.slime.custom_rm")
    group = samples()
    streams = tinyv.rpcs("VerifyPackedStream")
    for sample, reward in zip(group, await asyncio.gather(*(async_rm(args, s) for s in group))):
        sample.reward = reward
    assert [get_reward_value(args, s) for s in group] == [1.0, 0.0, 0.0]
    assert tinyv.rpcs("VerifyPackedStream") - streams <= 1 and tinyv.rpcs("Verify") == 0


async def test_batched_with_group_rm_and_the_llm(tinyv_llm) -> None:
    args = make_args(tinyv_llm.target, "tinyv_client.integrations.slime.batched_custom_rm", group_rm=True)
    group = samples()
    rewards = await batched_async_rm(args, group)
    assert rewards == [1.0, 0.0, 1.0]  # the third only by the LLM verifier


async def test_fields_with_reward_key(tinyv_llm) -> None:
    args = make_args(tinyv_llm.target, "tinyv_client.integrations.slime.custom_rm_fields", reward_key="score")
    group = samples()
    for sample in group:
        sample.reward = await async_rm(args, sample)
    assert [get_reward_value(args, s) for s in group] == [1.0, 0.0, 1.0]
    assert [s.reward["llm_decided"] for s in group] == [0.0, 1.0, 1.0]
    assert all(sorted(s.reward) == sorted(["score", "acc", "rule_match", "llm_asked", "llm_decided",
                                           "llm_failed", "item_error"]) for s in group)  # fmt: skip
    batched = make_args(tinyv_llm.target, "tinyv_client.integrations.slime.batched_custom_rm_fields", "score")
    assert [r["score"] for r in await batched_async_rm(batched, samples())] == [1.0, 0.0, 1.0]


async def test_bad_settings_and_items(tinyv) -> None:
    args = make_args(tinyv.target, "tinyv_client.integrations.slime.custom_rm", tinyv_on_error="none")
    with pytest.raises(ValueError, match="zero"):
        await async_rm(args, samples()[0])
    ok = make_args(tinyv.target, "tinyv_client.integrations.slime.custom_rm")
    assert await async_rm(ok, Sample(0, "q", r"\boxed{1}", None)) == 0.0  # no label: an item error, scored 0
