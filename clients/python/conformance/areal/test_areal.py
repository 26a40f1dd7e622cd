"""AReaL 1.0.4's own reward path driving tinyv_client.integrations.areal against a real `tinyv serve`.

AsyncRewardWrapper (areal/api/reward_api.py) runs the reward function in its ProcessPoolExecutor,
with its 15 s timeout, and RLVRWorkflow (areal/workflow/rlvr.py) runs whole episodes: the chat
template, the decoded prompt and completion (special tokens included), the reward. Only the
inference engine, the GPU part, is a scripted stand-in that returns a fixed completion.
"""

from __future__ import annotations

import asyncio
import pickle

import pytest

from tinyv_client.integrations import areal as adapter

SAMPLES = [  # (question, answer, completion, reward)
    ("Half of one?", r"\frac12", r"So \boxed{0.5}.", 1.0),
    ("Two plus two?", "4", r"It is \boxed{5}.", 0.0),
    ("Ten?", "10", "#### 10", 1.0),
]


@pytest.fixture
def tinyv_env(tinyv, monkeypatch: pytest.MonkeyPatch):
    """TINYV_URL set before the pool forks, as a user sets it before starting AReaL."""
    monkeypatch.setenv("TINYV_URL", tinyv.target)
    return tinyv


def test_the_reward_fn_pickles() -> None:
    """AReaL: "The reward function and its arguments must be picklable"."""
    assert pickle.loads(pickle.dumps(adapter.reward_fn)).answer_keys == adapter.AnswerKeys
    assert pickle.loads(pickle.dumps(adapter.make_reward_fn(answer_key="gold", mode="rules_only")))


async def test_async_reward_wrapper_in_its_process_pool(tinyv_env, tiny_tokenizer: str) -> None:
    from areal.api.reward_api import AsyncRewardWrapper
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer)
    adapter.reward_fn(
        "q", r"\boxed{1}", [], [], answer="1"
    )  # the parent's own stream is open before the fork
    streams = tinyv_env.rpcs("VerifyPackedStream")
    wrapper = AsyncRewardWrapper(adapter.reward_fn, max_workers=2)
    calls = []
    for question, answer, completion, _ in SAMPLES * 4:
        messages = [{"role": "user", "content": question}]
        prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        completion = completion + tokenizer.eos_token  # AReaL decodes with the special tokens
        calls.append(
            wrapper(prompt, completion, tokenizer(prompt)["input_ids"], [], answer=answer, messages=messages)
        )
    rewards = await asyncio.gather(*calls)
    assert rewards == [s[3] for s in SAMPLES * 4]
    assert 1 <= tinyv_env.rpcs("VerifyPackedStream") - streams <= 2  # each pool process opened its own


class ScriptedEngine:
    """The inference engine's agenerate: a fixed completion per prompt (the policy is not under test)."""

    def __init__(self, tokenizer, completions: dict) -> None:
        self.tokenizer, self.completions = tokenizer, completions

    async def agenerate(self, req):
        from areal.api import ModelResponse

        prompt = self.tokenizer.decode(req.input_ids)
        text = next(c for q, c in self.completions.items() if q in prompt) + self.tokenizer.eos_token
        out = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        return ModelResponse(
            input_tokens=list(req.input_ids), output_tokens=out, output_logprobs=[0.0] * len(out),
            output_versions=[0] * len(out), tokenizer=self.tokenizer,
        )  # fmt: skip


async def test_rlvr_workflow_episodes(tinyv_env, tiny_tokenizer: str) -> None:
    from areal.api.cli_args import GenerationHyperparameters
    from areal.workflow.rlvr import RLVRWorkflow
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer)
    workflow = RLVRWorkflow(
        reward_fn="tinyv_client.integrations.areal.reward_fn",  # as an AReaL config names it
        gconfig=GenerationHyperparameters(max_new_tokens=32),
        tokenizer=tokenizer,
    )
    engine = ScriptedEngine(tokenizer, {q: c for q, _, c, _ in SAMPLES})
    episodes = await asyncio.gather(
        *(
            workflow.arun_episode(engine, {"messages": [{"role": "user", "content": q}], "answer": a})
            for q, a, _, _ in SAMPLES
        )
    )
    assert [float(e["rewards"][0]) for e in episodes] == [s[3] for s in SAMPLES]


def test_missing_answer_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="none of"):
        adapter.reward_fn("q", "c", [], [], solution_text="1")
