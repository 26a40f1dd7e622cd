"""slime's remote reward model (`--rm-type remote_rm`) against a real `tinyv serve`, on slime's wire shape.

slime is not on PyPI, so its code cannot be installed here; this test makes the calls its published source
makes, read from THUDM/slime v0.3.1 (commit a6272da0d4f3d0a08520c99a2f3b4f6c887960dc):

- slime/rollout/rm_hub/__init__.py, `remote_rm(args, sample)`: one shared aiohttp.ClientSession
  (TCPConnector(limit=64), ClientTimeout(total=120)); `session.post(args.rm_url, json={"prompt":
  sample.prompt, "response": sample.response, "label": sample.label})`; `resp.raise_for_status()`;
  `return await resp.json()`; any exception is retried, 10 tries, backoff min(2**attempt, 30) + random().
  `batched_async_rm` gathers one such call per sample.
- slime/utils/types.py: `Sample.prompt: str | list[dict]`, `label`, `reward: float | dict`, and
  `get_reward_value(args)`: `reward if not args.reward_key else reward[args.reward_key]`.
- slime/ray/rollout.py, `_compute_reward_cat_metrics`: with `--log-reward-category KEY`, the share of
  samples per `reward[KEY]`, logged as `error_cat/<value>`.
- slime/utils/arguments.py: `--rm-type`, `--rm-url`, `--reward-key`, `--log-reward-category`, all str.
"""

from __future__ import annotations

import argparse
import asyncio
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any, Optional

import aiohttp

from tinyv_http import readme_flags

CHATML = "<|im_start|>system\nPlease reason step by step.<|im_end|>\n<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n"


@dataclass
class Sample:
    """The fields of slime's Sample that remote_rm reads and writes."""

    prompt: Any
    response: str
    label: Any
    reward: Optional[Any] = None


def slime_args(argv: list) -> argparse.Namespace:
    """The four reward-model flags as slime's parser defines them (type str, default None)."""
    parser = argparse.ArgumentParser()
    for flag in ("--rm-type", "--rm-url", "--reward-key", "--log-reward-category"):
        parser.add_argument(flag, type=str, default=None)
    args, _ = parser.parse_known_args(argv)
    return args


def readme_args(server) -> argparse.Namespace:
    argv = [a.replace("http://127.0.0.1:8080", server.url) for a in readme_flags("--rm-type remote_rm")]
    return slime_args(argv)


async def remote_rm(session: aiohttp.ClientSession, args, sample: Sample, max_retries: int = 10):
    payload = {"prompt": sample.prompt, "response": sample.response, "label": sample.label}
    for attempt in range(max_retries):
        try:
            async with session.post(args.rm_url, json=payload) as resp:
                resp.raise_for_status()
                return await resp.json()
        except Exception:
            if attempt + 1 >= max_retries:
                raise
            await asyncio.sleep(min(2**attempt, 30) + random.random())


def rollout(args, samples: list) -> None:
    """batched_async_rm: one remote_rm per sample, all in flight on the shared session."""

    async def run():
        connector = aiohttp.TCPConnector(limit=64, enable_cleanup_closed=True)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:
            rewards = await asyncio.gather(*(remote_rm(session, args, s) for s in samples))
        for s, r in zip(samples, rewards):
            s.reward = r

    asyncio.run(run())


def get_reward_value(args, sample: Sample):
    return sample.reward if not args.reward_key else sample.reward[args.reward_key]


def group(prompt, label, right: str, wrong: str, n: int = 4) -> list:
    """A GRPO group: n samples of one prompt, right and wrong in turn."""
    return [Sample(prompt, right if i % 2 == 0 else wrong, label) for i in range(n)]


def test_readme_flags():
    args = slime_args(readme_flags("--rm-type remote_rm"))
    assert (args.rm_type, args.rm_url, args.reward_key) == ("remote_rm", "http://127.0.0.1:8080/slime", "score")


def test_groups_of_every_prompt_and_label_form(server):
    args = readme_args(server)
    messages = [{"role": "user", "content": "Half of one?"}]
    groups = [
        group(CHATML.format("What is 1 + 2?"), "3", "The answer is \\boxed{3}.<|im_end|>", "\\boxed{4}<|im_end|>"),
        group(CHATML.format("What is 10 - 4?"), 6, "So it is \\boxed{6}", "\\boxed{5}"),
        group(messages, 0.5, "\\boxed{\\frac{1}{2}}", "\\boxed{2}"),
        group("Is 7 prime? Answer True or False.", True, "\\boxed{True}", "\\boxed{False}"),
        group([{"role": "user", "content": [{"type": "text", "text": "3*4?"}]}], {"answer": "12"}, "12", "13"),
    ]
    samples = [s for g in groups for s in g]
    before = server.calls("Slime")
    rollout(args, samples)
    assert server.calls("Slime") - before == len(samples)  # one POST per sample, none retried
    values = [get_reward_value(args, s) for s in samples]
    assert values == [1, 0, 1, 0] * len(groups)
    for s in samples:
        assert isinstance(s.reward, dict) and s.reward["item_error"] == 0
        assert {"score", "acc", "rule_match", "llm_asked", "llm_decided", "llm_failed"} <= set(s.reward)


def test_a_sample_without_a_label_gets_0_and_an_error_not_ten_retries(server):
    args = readme_args(server)
    samples = group(CHATML.format("What is 1 + 2?"), None, "\\boxed{3}", "\\boxed{4}", n=2)
    samples += group(CHATML.format("What is 1 + 2?"), "3", "\\boxed{3}", "\\boxed{4}", n=2)
    before = server.calls("Slime")
    rollout(args, samples)
    assert server.calls("Slime") - before == 4
    assert [get_reward_value(args, s) for s in samples] == [0, 0, 1, 0]
    assert [s.reward["item_error"] for s in samples] == [1, 1, 0, 0]
    assert "label is null" in samples[0].reward["error"]


def test_log_reward_category_decided_by(server):
    """`--log-reward-category decided_by` logs the share of samples the rules (or the LLM) decided."""
    args = slime_args([*readme_flags("--rm-type remote_rm"), "--log-reward-category", "decided_by"])
    args.rm_url = args.rm_url.replace("http://127.0.0.1:8080", server.url)
    samples = group("1+1?", "2", "\\boxed{2}", "\\boxed{3}") + [Sample("1+1?", "\\boxed{2}", None)]
    rollout(args, samples)
    counts = Counter(s.reward[args.log_reward_category] for s in samples)
    metrics = {f"error_cat/{k}": v / len(samples) for k, v in counts.items()}
    assert metrics == {"error_cat/rules": 0.8, "error_cat/error": 0.2}
